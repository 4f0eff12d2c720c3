"""The in-memory path: a split decoded once, batches formed by indexing, in
the order the file path's DataLoader gives them."""
import pytest
import torch
from mmengine.dataset import default_collate

from debiascls.datasets import ResumableInfiniteSampler, SynthDigits
from debiascls.datasets.in_memory import (InMemoryDataLoader, InMemoryStore,
                                          estimate_nbytes, in_memory_loader,
                                          nondeterministic_transforms)
from debiascls.utils import ConfigError

PIPELINE = [dict(type='LoadImageFromFile', cache_mb=1),
            dict(type='PackInputs')]
SIZES = dict(train_size=40, valid_size=100, test_per_cell=1)


@pytest.fixture(scope='module')
def train_set(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth')
    return SynthDigits(str(root), severity='5pct', split='train',
                       pipeline=PIPELINE, **SIZES)


def _equal(a, b):
    assert torch.equal(a['inputs'], b['inputs'])
    assert a['data_samples'].keys() == b['data_samples'].keys()
    for key in a['data_samples']:
        assert torch.equal(a['data_samples'][key], b['data_samples'][key])


def test_store_rows_are_the_packed_samples(train_set):
    store = InMemoryStore.from_dataset(train_set)
    # the loader's decoded-image cache is dropped: the store holds them
    load = train_set.pipeline.transforms[0]
    assert load._cached_bytes == 0 and not load._cache
    assert len(store) == len(train_set) == 40
    assert store.inputs.dtype == torch.uint8
    assert store.nbytes == estimate_nbytes(train_set) == 40 * (
        3 * 28 * 28 + 3 * 8)
    idx = [5, 0, 39, 5]
    _equal(store.batch(torch.tensor(idx)),
           default_collate([train_set[i] for i in idx]))


def test_batches_follow_the_sampler_as_a_dataloader_does(train_set):
    store = InMemoryStore.from_dataset(train_set)
    mem = InMemoryDataLoader(train_set, store,
                             ResumableInfiniteSampler(train_set, seed=3), 16)
    files = torch.utils.data.DataLoader(
        train_set, batch_size=16, collate_fn=default_collate,
        sampler=ResumableInfiniteSampler(train_set, seed=3))
    for _, a, b in zip(range(7), mem, files):  # across 3 epochs of 40
        _equal(a, b)
    assert len(mem) == len(files) == 3
    # a resumed stream starts where the sampler is told to
    sampler = ResumableInfiniteSampler(train_set, seed=3)
    sampler.set_start(5 * 16)
    resumed = next(iter(InMemoryDataLoader(train_set, store, sampler, 16)))
    _equal(resumed, [b for _, b in zip(range(6), mem)][-1])


def test_finite_samplers_and_drop_last(train_set):
    store = InMemoryStore.from_dataset(train_set)
    loader = InMemoryDataLoader(train_set, store, range(40), 16)
    sizes = [len(b['inputs']) for b in loader]
    assert sizes == [16, 16, 8] and len(loader) == 3
    loader = InMemoryDataLoader(train_set, store, range(40), 16,
                                drop_last=True)
    assert [len(b['inputs']) for b in loader] == [16, 16]
    assert len(loader) == 2
    with pytest.raises(ValueError, match='batch_size=0'):
        InMemoryDataLoader(train_set, store, range(40), 0)


def test_random_pipelines_are_refused(tmp_path):
    dataset = SynthDigits(str(tmp_path), severity='5pct', split='train',
                          pipeline=[dict(type='LoadImageFromFile'),
                                    dict(type='RandomFlip', prob=0.5),
                                    dict(type='PackInputs')], **SIZES)
    assert nondeterministic_transforms(dataset) == ['RandomFlip']
    with pytest.raises(ConfigError, match=r'random steps \(RandomFlip\)'):
        InMemoryStore.from_dataset(dataset, 'train')


def test_a_split_over_the_budget_is_read_from_files(train_set):
    assert in_memory_loader(train_set, range(40), 8, max_mb=0.01) is None
    loader = in_memory_loader(train_set, range(40), 8, max_mb=1)
    assert isinstance(loader, InMemoryDataLoader)
