"""The train loop's budget in iterations or in epochs of its loader."""
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from debiascls.engine.runner.loops import DebiasIterBasedTrainLoop


def _loop(**kwargs):
    runner = SimpleNamespace(visualizer=SimpleNamespace(dataset_meta=None))
    # 10 samples in batches of 4: an epoch is 3 iterations
    loader = DataLoader(TensorDataset(torch.zeros(10)), batch_size=4)
    return DebiasIterBasedTrainLoop(runner, loader, **kwargs)


def test_epochs_become_iterations_of_the_loader():
    loop = _loop(max_epochs=5, val_interval_epochs=2)
    assert loop.epoch_length == 3
    assert loop.max_iters == 15 and loop.val_interval == 6


def test_explicit_iterations_take_precedence():
    loop = _loop(max_iters=7, max_epochs=5, val_interval=2,
                 val_interval_epochs=2)
    assert loop.max_iters == 7 and loop.val_interval == 2
    assert _loop(max_iters=7).val_interval == 1000


@pytest.mark.parametrize('kwargs,match', [
    (dict(), 'max_iters or max_epochs'),
    (dict(max_epochs=0), 'max_epochs'),
    (dict(max_epochs=1.5), 'max_epochs'),
    (dict(max_iters=-1), 'max_iters'),
])
def test_bad_budgets(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _loop(**kwargs)
