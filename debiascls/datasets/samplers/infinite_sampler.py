"""An infinite, seeded, distributed sampler that can start mid-stream."""
import itertools
from typing import Iterator, Optional, Sized

import torch
from mmengine.dist import sync_random_seed
from mmengine.dist import get_dist_info
from torch.utils.data import Sampler

from debiascls.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(Sampler):
    """Yields dataset indices forever, epoch after epoch.

    Epoch ``e`` is a permutation drawn from ``seed + e`` (or ``0..N-1`` when
    ``shuffle=False``), padded to a multiple of the world size and split
    between ranks by striding, like mmengine's ``DefaultSampler``. The stream
    of each rank is therefore a pure function of ``(seed, rank, world_size)``
    and :meth:`set_start` jumps to any position of it in O(1): an
    iteration-based run resumed at iteration ``k`` draws exactly the batches
    the uninterrupted run draws, without loading the ``k`` batches it skips.

    Args:
        dataset: The dataset to sample from.
        shuffle: Whether each epoch is a random permutation.
        seed: Base seed; synchronised across ranks when ``None``.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        rank, world_size = get_dist_info()
        self.rank = rank
        self.world_size = world_size
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.num_samples = -(-len(dataset) // world_size)  # per rank, per epoch
        self.start = 0

    def set_start(self, num_consumed: int) -> None:
        """Begin the stream of this rank after ``num_consumed`` indices."""
        self.start = int(num_consumed)

    def _epoch_indices(self, epoch: int) -> torch.Tensor:
        n = len(self.dataset)
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + epoch)
            indices = torch.randperm(n, generator=g)
        else:
            indices = torch.arange(n)
        total = self.num_samples * self.world_size
        if total > n:
            indices = torch.cat([indices, indices[:total - n]])
        return indices[self.rank:total:self.world_size]

    def __iter__(self) -> Iterator[int]:
        epoch, offset = divmod(self.start, self.num_samples)
        for e in itertools.count(epoch):
            indices = self._epoch_indices(e).tolist()
            yield from indices[offset:]
            offset = 0

    def __len__(self) -> int:
        return self.num_samples
