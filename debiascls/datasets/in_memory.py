"""A split decoded once into tensors, and a data loader that forms every
batch by indexing them (no per-sample Python, no file decoding per step, no
worker processes).

Selected per data loader in a config::

    train_dataloader = dict(
        batch_size=256,
        in_memory=dict(max_mb=1024),   # decode the split if it fits
        sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
        dataset=dict(...))

The sampler is the one the file path would use, built with the same seed,
so the sample order (and an exact resume through its ``set_start``) is the
same as with a ``torch.utils.data.DataLoader``; only the pipeline has to be
deterministic (every transform with ``deterministic = True``), since each
sample passes it once.
"""
import itertools
import time
from typing import Dict, Iterable, Iterator, Optional, Sized

import torch
from mmengine.dataset import default_collate
from mmengine.logging import print_log

from debiascls.utils import ConfigError
from .base_dataset import UNKNOWN_BIAS
from .transforms.loading import LoadImageFromFile

#: Keys of ``data_samples`` kept in memory (what ``PackInputs`` returns).
SAMPLE_KEYS = ('gt_label', 'bias_label', 'sample_idx')


def nondeterministic_transforms(dataset) -> list:
    """Names of the pipeline steps of ``dataset`` that are random (or not
    known to be deterministic): the split cannot be decoded once then."""
    transforms = getattr(getattr(dataset, 'pipeline', None), 'transforms',
                         None)
    if transforms is None:
        return [f'the pipeline of {type(dataset).__name__}']
    return [
        type(t).__name__ for t in transforms
        if not getattr(t, 'deterministic', False)
    ]


class InMemoryStore:
    """The packed samples of a dataset as tensors: ``inputs`` (N, C, H, W)
    uint8 and ``gt_label`` / ``bias_label`` / ``sample_idx`` (N,) int64, in
    dataset order (row ``i`` is ``dataset[i]``).

    Args:
        inputs: (N, ...) uint8 images.
        samples: ``{key: (N,) int64 tensor}`` for :data:`SAMPLE_KEYS`.
    """

    def __init__(self, inputs: torch.Tensor,
                 samples: Dict[str, torch.Tensor]) -> None:
        self.inputs = inputs
        self.samples = samples

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def nbytes(self) -> int:
        return self.inputs.numel() * self.inputs.element_size() + sum(
            t.numel() * t.element_size() for t in self.samples.values())

    @classmethod
    def from_dataset(cls, dataset,
                     name: Optional[str] = None) -> 'InMemoryStore':
        """Run every sample of ``dataset`` through its pipeline once.

        Raises:
            ConfigError: A pipeline step is random (see
                :func:`nondeterministic_transforms`).
        """
        name = name or str(getattr(dataset, 'split', type(dataset).__name__))
        random = nondeterministic_transforms(dataset)
        if random:
            raise ConfigError(
                f'in_memory: the {name} pipeline has random steps '
                f'({", ".join(random)}), so its samples cannot be decoded '
                'once; remove in_memory from this data loader (or make the '
                'pipeline deterministic).')
        n = len(dataset)
        start = time.perf_counter()
        first = dataset[0]
        inputs = torch.empty((n, ) + tuple(first['inputs'].shape),
                             dtype=first['inputs'].dtype)
        samples = {k: torch.empty(n, dtype=torch.int64) for k in SAMPLE_KEYS}
        for i in range(n):
            packed = first if i == 0 else dataset[i]
            inputs[i] = packed['inputs']
            info = packed['data_samples']
            for key in SAMPLE_KEYS:
                samples[key][i] = int(info.get(key, UNKNOWN_BIAS))
        store = cls(inputs, samples)
        for step in dataset.pipeline.transforms:
            if isinstance(step, LoadImageFromFile):
                step.clear_cache()  # the store holds the images now
        print_log(
            f'in_memory: decoded the {name} split ({n} samples, '
            f'{store.nbytes / 2**20:.1f} MiB) in '
            f'{time.perf_counter() - start:.1f} s; batches are formed by '
            'indexing it.',
            logger='current')
        return store

    def batch(self, indices: torch.Tensor) -> dict:
        """The batch of dataset indices ``indices`` as ``default_collate``
        of the packed samples would give it."""
        return {
            'inputs': self.inputs.index_select(0, indices),
            'data_samples': {
                k: v.index_select(0, indices)
                for k, v in self.samples.items()
            }
        }


def estimate_nbytes(dataset) -> int:
    """Bytes a store of ``dataset`` would take (from its first sample)."""
    first = dataset[0]['inputs']
    per_sample = first.numel() * first.element_size() + 8 * len(SAMPLE_KEYS)
    return per_sample * len(dataset)


class InMemoryDataLoader:
    """Batches of a :class:`InMemoryStore` in the order of ``sampler``.

    It offers what the train and evaluation loops use of a
    ``torch.utils.data.DataLoader`` (``dataset``, ``sampler``,
    ``batch_size``, ``len``, iteration) and nothing else: no workers, no
    collate function, no pinned memory.

    Args:
        dataset: The dataset (kept for its labels and metainfo).
        store: Its decoded samples.
        sampler: Any iterable of dataset indices (e.g. a
            :class:`~debiascls.datasets.ResumableInfiniteSampler`).
        batch_size: Samples per batch.
        drop_last: Drop a last incomplete batch.
    """

    def __init__(self, dataset: Sized, store: InMemoryStore,
                 sampler: Iterable[int], batch_size: int,
                 drop_last: bool = False) -> None:
        if len(store) != len(dataset):
            raise ValueError(f'InMemoryDataLoader: the store holds '
                             f'{len(store)} samples, the dataset '
                             f'{len(dataset)}.')
        if batch_size < 1:
            raise ValueError(f'InMemoryDataLoader: batch_size={batch_size} '
                             'must be positive.')
        self.dataset = dataset
        self.store = store
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        #: How the batches are collated: for code that builds a loader of
        #: its own over ``dataset`` (the store is already collated).
        self.collate_fn = default_collate

    def __iter__(self) -> Iterator[dict]:
        indices = iter(self.sampler)
        while True:
            chunk = list(itertools.islice(indices, self.batch_size))
            if not chunk or (self.drop_last and len(chunk) < self.batch_size):
                return
            yield self.store.batch(torch.tensor(chunk, dtype=torch.int64))

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(
            -n // self.batch_size)


def in_memory_loader(dataset, sampler: Iterable[int], batch_size: int,
                     max_mb: float, name: Optional[str] = None,
                     drop_last: bool = False
                     ) -> Optional[InMemoryDataLoader]:
    """An :class:`InMemoryDataLoader` of ``dataset`` if its decoded samples
    fit in ``max_mb`` MiB, else None (with a log line saying why)."""
    name = name or str(getattr(dataset, 'split', type(dataset).__name__))
    need = estimate_nbytes(dataset)
    if need > max_mb * 2**20:
        print_log(
            f'in_memory: the {name} split needs {need / 2**20:.0f} MiB, '
            f'more than max_mb={max_mb:g}; loading it from files.',
            logger='current')
        return None
    store = InMemoryStore.from_dataset(dataset, name)
    return InMemoryDataLoader(dataset, store, sampler, batch_size, drop_last)
