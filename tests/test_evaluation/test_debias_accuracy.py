"""DebiasAccuracy against values computed by hand."""
import os
import socket

import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from debiascls.evaluation import DebiasAccuracy, group_accuracies

# (gt, bias, prediction of 'debiased', prediction of 'biased');
# 2 classes x 2 bias values, bias b aligned with class b, -1 unknown.
SAMPLES = [
    (0, 0, 0, 0),  # aligned, right
    (0, 0, 0, 0),  # aligned, right
    (0, 1, 1, 1),  # conflicting, wrong
    (1, 1, 1, 1),  # aligned, right
    (1, 0, 0, 0),  # conflicting, wrong
    (1, 0, 1, 0),  # conflicting, right
    (1, -1, 1, 1),  # unknown bias, right
]
META = dict(classes=('a', 'b'), bias_classes=('x', 'y'))


def _predictions(samples=SAMPLES, start=0):
    return [
        dict(sample_idx=start + i, gt_label=g, bias_label=b,
             main_model='debiased',
             pred_label=dict(debiased=pd, biased=pb))
        for i, (g, b, pd, pb) in enumerate(samples)
    ]


def _metric(**kwargs):
    metric = DebiasAccuracy(**kwargs)
    metric.dataset_meta = META
    return metric


def test_group_accuracies_by_hand():
    gt, bias, pred, _ = zip(*SAMPLES)
    out = group_accuracies(pred, gt, bias, 2, 2)
    assert out['acc'] == pytest.approx(100 * 5 / 7)
    # class 0: 2/3 right, class 1: 3/4 right
    assert out['balanced_acc'] == pytest.approx(100 * (2 / 3 + 3 / 4) / 2)
    assert out['aligned_acc'] == pytest.approx(100.0)
    assert out['conflicting_acc'] == pytest.approx(100 / 3)
    # cells (0,0) 2/2, (0,1) 0/1, (1,0) 1/2, (1,1) 1/1
    assert out['cell_acc'] == [[100.0, 0.0], [50.0, 100.0]]
    assert out['cell_count'] == [[2, 1], [2, 1]]
    assert out['unbiased_acc'] == pytest.approx(62.5)
    assert out['worst_group_acc'] == pytest.approx(0.0)
    assert out['aligned_cell_acc'] == pytest.approx(100.0)
    assert out['conflicting_cell_acc'] == pytest.approx(25.0)


def test_empty_groups_are_omitted_not_zero():
    # Only aligned samples, and cell (1, 0) empty.
    out = group_accuracies([0, 1, 0], [0, 1, 1], [0, 1, 1], 2, 2)
    assert 'conflicting_acc' not in out
    assert 'conflicting_cell_acc' not in out
    assert out['cell_acc'] == [[100.0, None], [None, 50.0]]
    assert out['unbiased_acc'] == pytest.approx(75.0)
    assert out['worst_group_acc'] == pytest.approx(50.0)
    # No known bias at all: only the bias-free metrics.
    out = group_accuracies([0, 1], [0, 0], [-1, -1], 2, 2)
    assert set(out) == {'acc', 'balanced_acc'}
    assert out['acc'] == 50.0


def test_aligned_bias_table_is_respected():
    # Class 0 is aligned with bias 1 and class 1 with bias 0.
    out = group_accuracies([0, 1], [0, 1], [1, 1], 2, 2, aligned_bias=(1, 0))
    assert out['aligned_acc'] == 100.0 and out['conflicting_acc'] == 100.0
    out = group_accuracies([1, 1], [0, 1], [1, 1], 2, 2, aligned_bias=(1, 0))
    assert out['aligned_acc'] == 0.0 and out['conflicting_acc'] == 100.0


def test_metric_reports_every_model_main_unprefixed():
    metric = _metric()
    metric.process({}, _predictions())
    out = metric.evaluate(len(SAMPLES))
    assert out['conflicting_acc'] == pytest.approx(100 / 3)
    # The biased model predicts the bias: perfect on aligned, 0 on conflicting.
    assert out['biased/aligned_acc'] == 100.0
    assert out['biased/conflicting_acc'] == 0.0
    assert out['biased/cell_acc'] == [[100.0, 0.0], [0.0, 100.0]]
    only = _metric(models=['biased'])
    only.process({}, _predictions())
    assert set(k.split('/')[0] for k in only.evaluate(7)) == {'biased'}


def test_duplicates_are_counted_once():
    metric = _metric()
    # The last two entries repeat samples 0 and 2 (a distributed sampler's
    # padding), with different predictions that must be ignored.
    metric.process({}, _predictions())
    metric.process({}, _predictions([(0, 0, 1, 1), (0, 1, 0, 0)]))
    out = metric.evaluate(len(SAMPLES))
    assert out['acc'] == pytest.approx(100 * 5 / 7)
    assert out['cell_count'] == [[2, 1], [2, 1]]


def test_unknown_model_and_bad_predictions_are_named():
    metric = _metric(models=['nope'])
    metric.process({}, _predictions())
    with pytest.raises(KeyError, match='nope'):
        metric.evaluate(7)
    with pytest.raises(KeyError, match='sample_idx'):
        _metric().process({}, [dict(gt_label=0, pred_label={'m': 0})])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _rank_worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    preds = _predictions()
    # DefaultSampler order: rank r gets r, r+2, ...; 7 samples are padded to
    # 8 with sample 0 again on rank 1.
    mine = preds[rank::2] + ([preds[0]] if rank == 1 else [])
    metric = _metric()
    metric.process({}, mine)
    out = metric.evaluate(len(SAMPLES))
    with open(os.path.join(out_dir, f'rank{rank}.txt'), 'w') as f:
        f.write(repr(sorted(out.items())))
    dist.destroy_process_group()


def test_two_ranks_give_the_metrics_of_the_whole_split(tmp_path):
    mp.spawn(_rank_worker, args=(_free_port(), str(tmp_path)), nprocs=2)
    single = _metric()
    single.process({}, _predictions())
    expected = repr(sorted(single.evaluate(len(SAMPLES)).items()))
    for rank in range(2):
        assert (tmp_path / f'rank{rank}.txt').read_text() == expected
