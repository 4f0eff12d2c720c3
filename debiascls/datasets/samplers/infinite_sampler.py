"""An infinite, seeded, distributed sampler that can start mid-stream,
restrict itself to a subset and switch to weighted sampling."""
import itertools
import zlib
from typing import Iterator, Optional, Sequence, Sized

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from debiascls.registry import DATA_SAMPLERS

#: How a weighted segment draws samples.
WEIGHTED_MODES = ('rejection', 'multinomial')


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(Sampler):
    """Yields dataset indices forever, epoch after epoch.

    **Uniform epochs** (the default): epoch ``e`` is a permutation of the
    pool (the whole dataset, or the subset of :meth:`set_subset`) drawn from
    ``seed + e`` (or the pool in order with ``shuffle=False``), padded to a
    multiple of the world size and split between ranks by striding, like
    mmengine's ``DefaultSampler``.

    **Weighted epochs** (after :meth:`set_weights`): from a given position of
    the stream on, every epoch is ``len(pool)`` draws (padded as above)
    following per-sample probabilities ``p``:

    - ``'rejection'``: PGD's uniform sampler (its Algorithm 1): draw ``i``
      uniformly from the pool and ``u ~ U(0, 1)``, keep ``i`` if
      ``u <= p(i)``, until the epoch is full;
    - ``'multinomial'``: i.i.d. draws with replacement in proportion to
      ``p`` (the official PGD code's sampler).

    Every epoch of either kind is drawn from a generator seeded by ``(seed,
    epoch, a digest of p and the pool)``: all ranks draw the same global
    sequence and take disjoint, strided parts of it, and the stream of each
    rank is a pure function of ``(seed, rank, world size, p, pool)``.
    :meth:`set_start` therefore jumps to any position in O(1) (one epoch is
    drawn), and an iteration-based run resumed at iteration ``k`` draws
    exactly the batches of the uninterrupted run.

    Args:
        dataset: The dataset to sample from.
        shuffle: Whether uniform epochs are random permutations.
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
        self.pool: Optional[torch.Tensor] = None
        self.weights: Optional[torch.Tensor] = None
        self.weights_begin = 0
        self.weights_mode = 'rejection'
        self._key = 0
        self.num_samples = self._per_rank(len(dataset))
        self.start = 0

    def _per_rank(self, n: int) -> int:
        return -(-n // self.world_size)

    # ------------------------------------------------------------------ #
    # Configuration
    # ------------------------------------------------------------------ #
    def set_start(self, num_consumed: int) -> None:
        """Begin the stream of this rank after ``num_consumed`` indices."""
        self.start = int(num_consumed)

    def set_subset(self, indices: Optional[Sequence[int]]) -> None:
        """Sample only from ``indices`` (e.g. the samples a de-noising step
        kept); ``None`` restores the whole dataset. Applies to the whole
        stream, so set it before the stream starts (it changes positions)."""
        if indices is None:
            self.pool = None
        else:
            pool = torch.as_tensor(np.asarray(indices), dtype=torch.int64)
            if pool.numel() == 0:
                raise ValueError('ResumableInfiniteSampler: the subset is '
                                 'empty.')
            self.pool = pool
        self.num_samples = self._per_rank(self._pool_size())
        self._update_key()

    def set_weights(self, probs: Optional[Sequence[float]], begin: int = 0,
                    mode: str = 'rejection') -> None:
        """From position ``begin`` of this rank's stream on, draw epochs
        following ``probs`` (one value per dataset sample, in [0, 1] for
        ``'rejection'``, non-negative for ``'multinomial'``). ``None``
        returns to uniform epochs."""
        if probs is None:
            self.weights = None
            self._update_key()
            return
        if mode not in WEIGHTED_MODES:
            raise ValueError(f'ResumableInfiniteSampler: mode="{mode}" is '
                             f'not one of {WEIGHTED_MODES}.')
        weights = torch.as_tensor(
            np.asarray(probs, dtype=np.float64), dtype=torch.float64)
        if weights.numel() != len(self.dataset):
            raise ValueError(
                f'ResumableInfiniteSampler: {weights.numel()} weights for '
                f'{len(self.dataset)} samples.')
        if bool((weights < 0).any()) or (mode == 'rejection'
                                         and bool((weights > 1).any())):
            raise ValueError('ResumableInfiniteSampler: weights must lie in '
                             '[0, 1] for rejection sampling (>= 0 for '
                             'multinomial).')
        if float(self._pooled(weights).max()) <= 0:
            raise ValueError('ResumableInfiniteSampler: every sample of the '
                             'pool has weight 0.')
        self.weights = weights
        self.weights_begin = int(begin)
        self.weights_mode = mode
        self._update_key()

    def _update_key(self) -> None:
        digest = zlib.crc32(b'pool')
        if self.pool is not None:
            digest = zlib.crc32(self.pool.numpy().tobytes(), digest)
        if self.weights is not None:
            digest = zlib.crc32(self.weights.numpy().tobytes(), digest)
            digest = zlib.crc32(self.weights_mode.encode(), digest)
        self._key = digest

    def _pool_size(self) -> int:
        return len(self.dataset) if self.pool is None else self.pool.numel()

    def _pooled(self, values: torch.Tensor) -> torch.Tensor:
        return values if self.pool is None else values[self.pool]

    def _from_pool(self, positions: torch.Tensor) -> torch.Tensor:
        return positions if self.pool is None else self.pool[positions]

    # ------------------------------------------------------------------ #
    # Drawing
    # ------------------------------------------------------------------ #
    def _generator(self, *keys: int) -> torch.Generator:
        words = np.random.SeedSequence([self.seed, *keys]).generate_state(2)
        g = torch.Generator()
        g.manual_seed(int(words[0]) << 32 | int(words[1]))
        return g

    def _split(self, indices: torch.Tensor) -> torch.Tensor:
        total = self.num_samples * self.world_size
        if total > indices.numel():
            reps = -(-total // indices.numel())
            indices = indices.repeat(reps)[:total]
        return indices[self.rank:total:self.world_size]

    def _uniform_epoch(self, epoch: int) -> torch.Tensor:
        n = self._pool_size()
        if self.shuffle:
            if self.pool is None:  # keep the stream of earlier versions
                g = torch.Generator()
                g.manual_seed(self.seed + epoch)
            else:
                g = self._generator(0, epoch, self._key)
            positions = torch.randperm(n, generator=g)
        else:
            positions = torch.arange(n)
        return self._split(self._from_pool(positions))

    def _weighted_epoch(self, epoch: int) -> torch.Tensor:
        g = self._generator(1, epoch, self._key)
        total = self.num_samples * self.world_size
        probs = self._pooled(self.weights)
        if self.weights_mode == 'multinomial':
            positions = torch.multinomial(
                probs / probs.sum(), total, replacement=True, generator=g)
            return self._from_pool(positions)[self.rank::self.world_size]
        accepted = []
        count = 0
        rate = max(float(probs.mean()), 1e-6)
        while count < total:
            # Candidates for the draws still missing at the expected
            # acceptance rate, 5 % more, in chunks of at most 4M (the
            # epoch's cost is the candidates drawn: at PGD's typical
            # acceptance of 1e-3 that is 1,000 per sample).
            chunk = int(min(max(1.05 * (total - count) / rate, 1024),
                            1 << 22))
            cand = torch.randint(probs.numel(), (chunk, ), generator=g)
            keep = cand[torch.rand(chunk, generator=g, dtype=torch.float64)
                        <= probs[cand]]
            accepted.append(keep)
            count += keep.numel()
        positions = torch.cat(accepted)[:total]
        return self._from_pool(positions)[self.rank::self.world_size]

    def __iter__(self) -> Iterator[int]:
        start = self.start
        per_epoch = self.num_samples
        if self.weights is not None and start >= self.weights_begin:
            epoch, offset = divmod(start - self.weights_begin, per_epoch)
            for e in itertools.count(epoch):
                yield from self._weighted_epoch(e).tolist()[offset:]
                offset = 0
        epoch, offset = divmod(start, per_epoch)
        position = start
        for e in itertools.count(epoch):
            indices = self._uniform_epoch(e).tolist()[offset:]
            offset = 0
            if self.weights is not None:
                remaining = self.weights_begin - position
                if remaining <= len(indices):
                    yield from indices[:remaining]
                    for w in itertools.count(0):
                        yield from self._weighted_epoch(w).tolist()
            yield from indices
            position += len(indices)

    def __len__(self) -> int:
        return self.num_samples
