"""DebiasDataParallel on two CPU processes (gloo)."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.optim import OptimWrapper, OptimWrapperDict

from debiascls.engine.model_wrappers import DebiasDataParallel
from debiascls.models import Vanilla


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _build(seed: int) -> Vanilla:
    torch.manual_seed(seed)
    return Vanilla(
        dict(
            type='ImageClassifier',
            backbone=dict(type='MLP', in_size=2, hidden_dims=(5, )),
            head=dict(type='GAPLinearHead', num_classes=3)))


def _batch(rows: slice):
    g = torch.Generator().manual_seed(0)
    inputs = torch.randint(0, 255, (8, 3, 2, 2), generator=g)
    labels = torch.randint(0, 3, (8, ), generator=g)
    return dict(
        inputs=inputs[rows],
        data_samples=dict(gt_label=labels[rows],
                          sample_idx=torch.arange(8)[rows]))


def _optim(model):
    return OptimWrapperDict(
        classifier=OptimWrapper(
            torch.optim.SGD(model.models['classifier'].parameters(), lr=0.5)))


def _worker(rank, world_size, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    # Different seeds per rank: the wrapper must broadcast rank 0's weights.
    model = DebiasDataParallel(_build(seed=rank))
    optim = _optim(model.module)
    for _ in range(3):
        model.train_step(_batch(slice(rank * 4, rank * 4 + 4)), optim)
    torch.save(model.module.state_dict(), f'{out_dir}/rank{rank}.pth')
    dist.destroy_process_group()


def test_two_ranks_match_one_process_on_the_whole_batch(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2)
    rank0 = torch.load(tmp_path / 'rank0.pth', weights_only=True)
    rank1 = torch.load(tmp_path / 'rank1.pth', weights_only=True)
    reference = _build(seed=0)
    optim = _optim(reference)
    for _ in range(3):
        reference.train_step(_batch(slice(0, 8)), optim)
    for key, value in reference.state_dict().items():
        assert torch.allclose(rank0[key], rank1[key]), key
        assert torch.allclose(rank0[key], value, atol=1e-6), key


def _subset_worker(rank, port, out_dir):
    from debiascls.engine.model_wrappers.distributed import \
        _all_reduce_mean_grads
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    a, b, c = (torch.nn.Parameter(torch.zeros(2)) for _ in range(3))
    a.grad = torch.full((2, ), 2.0 + rank)  # on both ranks
    if rank == 0:
        b.grad = torch.full((2, ), 4.0)  # on rank 0 only
    _all_reduce_mean_grads([a, b, c])  # c: on no rank
    torch.save(dict(a=a.grad, b=b.grad, c_none=c.grad is None),
               f'{out_dir}/subset{rank}.pth')
    dist.destroy_process_group()


def test_gradients_are_averaged_only_where_some_rank_has_one(tmp_path):
    mp.spawn(_subset_worker, args=(_free_port(), str(tmp_path)), nprocs=2)
    for rank in (0, 1):
        out = torch.load(tmp_path / f'subset{rank}.pth', weights_only=True)
        assert out['a'].tolist() == [2.5, 2.5]  # (2 + 3) / 2
        assert out['b'].tolist() == [2.0, 2.0]  # (4 + 0) / 2
        assert out['c_none']  # stays None: the optimizer skips it
