"""Replacing the training set's pipeline mid-run (PGD: raw images for f_b,
augmented ones for f_d), with and without persistent loader workers."""
from types import SimpleNamespace

import pytest
from torch.utils.data import DataLoader, Dataset

from debiascls.datasets import ResumableInfiniteSampler
from debiascls.engine.runner.loops import DebiasIterBasedTrainLoop


class Tag:
    """A pipeline that marks each sample with its name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, index: int) -> str:
        return f'{self.name}{index}'


class Tagged(Dataset):

    def __init__(self, n: int) -> None:
        self.n = n
        self.pipeline = Tag('raw')

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> str:
        return self.pipeline(index)


def _loop(workers: int) -> DebiasIterBasedTrainLoop:
    dataset = Tagged(12)
    loader = DataLoader(
        dataset,
        batch_size=4,
        sampler=ResumableInfiniteSampler(dataset, shuffle=False, seed=0),
        num_workers=workers,
        persistent_workers=workers > 0,
        collate_fn=list)
    runner = SimpleNamespace(visualizer=SimpleNamespace(dataset_meta=None))
    return DebiasIterBasedTrainLoop(runner, loader, max_iters=6)


@pytest.mark.parametrize('workers', [0, 1])
def test_pipeline_switch_reaches_the_workers(workers):
    loop = _loop(workers)
    loop._start_data_stream()
    assert next(loop.dataloader_iterator) == ['raw0', 'raw1', 'raw2', 'raw3']
    old = loop.set_train_pipeline(Tag('aug'))
    assert isinstance(old, Tag) and old.name == 'raw'
    loop.restart_data_stream(1)
    # The stream goes on where it was, through the new pipeline (a
    # persistent worker would otherwise keep its copy of the old one).
    assert next(loop.dataloader_iterator) == ['aug4', 'aug5', 'aug6', 'aug7']
    assert next(loop.dataloader_iterator) == ['aug8', 'aug9', 'aug10', 'aug11']


def test_before_the_stream_starts():
    loop = _loop(1)
    loop.set_train_pipeline(Tag('aug'))
    loop._start_data_stream()
    assert next(loop.dataloader_iterator) == ['aug0', 'aug1', 'aug2', 'aug3']


def test_a_data_set_without_pipeline():
    loop = _loop(0)
    loop.dataloader = DataLoader(list(range(4)), batch_size=2)
    with pytest.raises(TypeError, match='no pipeline attribute'):
        loop.set_train_pipeline(Tag('aug'))
