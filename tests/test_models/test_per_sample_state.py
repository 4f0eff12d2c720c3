"""PerSampleState: EMA updates, class maxima, resizing on load, and rank
synchronisation (2 gloo processes)."""
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from debiascls.models.utils import (PerSampleState, all_gather_rows,
                                    first_occurrence)


def _state(labels=(0, 0, 1, 1, 2)):
    state = PerSampleState(dict(loss='float', member='bool'))
    state.setup(labels)
    return state


def test_ema_first_visit_stores_the_raw_value_then_averages():
    state = _state()
    idx = torch.tensor([0, 2])
    # first visit: t = 0.7 * 0 + (1 - 0.7 * 0) * v = v
    out = state.ema_update('loss', idx, torch.tensor([2.0, 4.0]), 0.7)
    assert torch.allclose(out, torch.tensor([2.0, 4.0]))
    # second visit of 0: 0.7 * 2 + 0.3 * 1 = 1.7; first visit of 1: 3
    out = state.ema_update('loss', torch.tensor([0, 1]),
                           torch.tensor([1.0, 3.0]), 0.7)
    assert torch.allclose(out, torch.tensor([1.7, 3.0]))
    assert torch.allclose(state.get('loss'),
                          torch.tensor([1.7, 3.0, 4.0, 0.0, 0.0]))
    assert state.seen('loss').tolist() == [True, True, True, False, False]


def test_class_max_is_over_all_samples_of_the_class():
    state = _state()
    state.assign('loss', torch.arange(5), torch.tensor([1., 3., 2., 0.5,
                                                        0.]))
    assert state.class_max('loss').tolist() == [3.0, 2.0, 0.0]


def test_setup_sizes_tables_and_resume_keeps_and_checks_them():
    state = _state()
    state.assign('loss', torch.tensor([1]), torch.tensor([5.0]))
    state.fill('member', torch.tensor([True, False, True, False, False]))
    saved = state.state_dict()
    assert saved['loss'].shape == (5, ) and saved['gt_label'].tolist() == [
        0, 0, 1, 1, 2
    ]

    fresh = PerSampleState(dict(loss='float', member='bool'))
    assert fresh.num_samples == 0
    fresh.load_state_dict(saved)  # empty tables take the saved size
    fresh.setup([0, 0, 1, 1, 2])  # same data: kept as loaded
    assert fresh.get('loss').tolist() == [0, 5, 0, 0, 0]
    assert fresh.get('member').tolist() == [True, False, True, False, False]
    with pytest.raises(RuntimeError, match='other labels'):
        fresh.setup([0, 1, 1, 1, 2])


def test_unready_state_and_unknown_table_are_clear_errors():
    state = PerSampleState(dict(loss='float'))
    with pytest.raises(RuntimeError, match='not set up'):
        state.get('loss')
    state.setup([0, 1])
    with pytest.raises(KeyError, match='no table "score"'):
        state.get('score')
    with pytest.raises(ValueError, match='dtype'):
        state.add_table('x', 'half')


def test_first_occurrence_keeps_the_lowest_position_of_each_index():
    idx = torch.tensor([5, 3, 5, 7, 3])
    assert first_occurrence(idx).tolist() == [True, True, False, True,
                                              False]


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        state = _state()
        # Rank 0 sees samples 0, 1, 4 and rank 1 sees 2, 3 and, as padding,
        # 4 again with another value: every rank applies both, and the
        # lowest rank's observation of sample 4 wins.
        idx = [torch.tensor([0, 1, 4]), torch.tensor([2, 3, 4])][rank]
        loss = [torch.tensor([1., 2., 3.]), torch.tensor([4., 5., 9.])][rank]
        g_idx, g_loss = state.gather(idx, loss)
        state.ema_update('loss', g_idx, g_loss, 0.7)
        rows = all_gather_rows(torch.tensor([[rank, rank]]))[0]
        torch.save(
            dict(loss=state.get('loss'), rows=rows),
            os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def test_two_ranks_hold_identical_tables(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2)
    r0 = torch.load(tmp_path / 'rank0.pt')
    r1 = torch.load(tmp_path / 'rank1.pt')
    want = torch.tensor([1., 2., 4., 5., 3.])
    assert torch.equal(r0['loss'], want) and torch.equal(r1['loss'], want)
    assert r0['rows'].tolist() == [[0, 0], [1, 1]]


def test_collectives_of_cpu_data_go_through_the_backends_device(monkeypatch):
    """NCCL refuses CPU tensors: hooks gathering CPU scores or masks must
    move them to the current CUDA device under NCCL (no GPU here: the
    device is only named, not used)."""
    from debiascls.utils.dist import collective_device
    assert collective_device() == torch.device('cpu')  # no process group
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)
    monkeypatch.setattr(dist, 'get_backend', lambda *a: 'gloo')
    assert collective_device() == torch.device('cpu')
    monkeypatch.setattr(dist, 'get_backend', lambda *a: 'nccl')
    monkeypatch.setattr(torch.cuda, 'current_device', lambda: 1)
    assert collective_device() == torch.device('cuda', 1)
