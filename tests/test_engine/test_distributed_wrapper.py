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
