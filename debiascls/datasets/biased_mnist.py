"""Biased MNIST (ReBias): white digits on a background colour that is
correlated with the class with strength ``rho``.

Generated arrays are cached as ``{data_root}/rho{rho}_seed{seed}/{split}.npz``
(written atomically, on rank 0 only); samples are in-memory ``img`` arrays.
"""
import os
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from debiascls.registry import DATASETS
from debiascls.utils.fileio import atomic_dir
from .base_dataset import BaseBiasDataset, DatasetError
from .color_bias import balanced_choice
from .colored_mnist import DIGIT_CLASSES, colored_mnist_params, split_counts
from .generation import check_meta, run_on_rank0, write_meta
from .mnist_source import (DEFAULT_SPLIT_FRACTIONS, DEFAULT_VALID_SIZE,
                           load_mnist_splits, source_kind)

#: ReBias's ``COLOUR_MAP`` (RGB); colour ``b`` is aligned with class ``b``.
REBIAS_COLORS = np.array(
    [[255, 0, 0], [0, 255, 0], [0, 0, 255], [225, 225, 0], [225, 0, 225],
     [0, 255, 255], [255, 128, 0], [255, 0, 128], [128, 0, 255],
     [128, 128, 128]],
    dtype=np.uint8)
REBIAS_COLOR_NAMES = ('red', 'green', 'blue', 'yellow', 'magenta', 'cyan',
                      'orange', 'rose', 'violet', 'gray')

#: The training correlations of the ReBias paper.
TRAIN_RHOS = (0.99, 0.995, 0.997, 0.999)
#: Correlation of each evaluation split (ReBias: biased rho=1, unbiased 0.1).
EVAL_RHOS = {'test_biased': 1.0, 'test_unbiased': 0.1}
SPLITS = ('train', 'valid', 'test_biased', 'test_unbiased')


def num_aligned(n: int, rho: float) -> int:
    """``int(n * rho)`` as ReBias, robust to float error (0.997 * 1000 is
    997, not 996)."""
    return int(np.floor(n * rho + 1e-9))


def assign_background_bias(labels: np.ndarray, rho: float,
                           rng: np.random.Generator) -> np.ndarray:
    """Per class, :func:`num_aligned` ``(n, rho)`` random samples take the
    class colour; the rest are spread evenly over the 9 other colours."""
    labels = np.asarray(labels)
    bias = labels.copy()
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        rest = members[num_aligned(len(members), rho):]
        others = [b for b in range(len(REBIAS_COLORS)) if b != c]
        bias[np.sort(rest)] = balanced_choice(len(rest), others, rng)
    return bias


def colorize_background(digits: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Binarise digits to white (pixels != 0 -> 255) on the bias colour.

    Returns:
        (N, H, W, 3) uint8 RGB images.
    """
    colors = REBIAS_COLORS[np.asarray(bias)][:, None, None, :]
    return np.where(digits[..., None] != 0, np.uint8(255), colors).astype(
        np.uint8)


def biased_mnist_dir(data_root: str, rho: float, seed: int) -> str:
    """The cache folder of one (rho, seed), e.g. ``rho0.997_seed0``."""
    return os.path.join(data_root, f'rho{rho:g}_seed{seed}')


def generate_biased_mnist(
        data_root: str,
        mnist_root: Optional[str],
        rho: float,
        seed: int = 0,
        valid_size: int = DEFAULT_VALID_SIZE,
        split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
        download: bool = False,
        needed_by: str = 'BiasedMNIST') -> Dict[str, Dict[str, int]]:
    """Write the four splits of one (rho, seed) under ``data_root`` unless the
    folder exists. 'train'/'valid' use ``rho``; 'test_biased' (rho=1) and
    'test_unbiased' (rho=0.1) colour the same test digits.

    Returns:
        ``{split: counts}`` of the splits written now (empty if cached).
    """
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f'rho={rho} must be in [0, 1] (ReBias trains with '
                         f'{TRAIN_RHOS}).')
    final = biased_mnist_dir(data_root, rho, seed)
    if os.path.isdir(final):
        return {}
    pools = load_mnist_splits(mnist_root, seed, valid_size, split_fractions,
                              download, needed_by)
    params = colored_mnist_params(seed, 0.0, source_kind(mnist_root),
                                  valid_size, split_fractions)
    params.pop('color_std')
    meta = dict(params, generator='BiasedMNIST', rho=float(rho))
    with atomic_dir(final) as tmp:
        for i, split in enumerate(SPLITS):
            pool = pools['test' if split.startswith('test') else split]
            rng = np.random.default_rng(np.random.SeedSequence([seed, 3, i]))
            bias = assign_background_bias(pool.labels,
                                          EVAL_RHOS.get(split, rho), rng)
            np.savez(
                os.path.join(tmp, f'{split}.npz'),
                images=colorize_background(pool.images, bias),
                targets=pool.labels.astype(np.int64),
                biases=bias.astype(np.int64))
            meta[split] = split_counts(pool.labels, bias)
        write_meta(tmp, meta)
    return {s: meta[s] for s in SPLITS}


@DATASETS.register_module()
class BiasedMNIST(BaseBiasDataset):
    """Biased MNIST of ReBias: background colour correlated with the digit.

    Args:
        data_root: Cache root, e.g. ``'data/biased_mnist'``; the arrays are
            in ``{data_root}/rho{rho}_seed{seed}/{split}.npz``.
        rho: Colour-label correlation of 'train' and 'valid' (ReBias: 0.99,
            0.995, 0.997, 0.999).
        split: 'train', 'valid' (held-out training digits, same rho),
            'test_biased' (rho=1) or 'test_unbiased' (rho=0.1, uniform).
        mnist_root: Folder with the MNIST IDX files (full MNIST, or only the
            ``t10k`` files, then split by ``seed``); only needed to generate.
        download: Fetch MNIST with torchvision into ``mnist_root`` if missing.
        seed: Seed of the generation (ReBias itself is unseeded).
        valid_size: MNIST training digits held out as valid (full MNIST).
        split_fractions: Train/valid/test fractions of a t10k-only source.
        **kwargs: Passed to :class:`BaseBiasDataset` (``pipeline``, ...).
    """

    SPLITS = SPLITS
    METAINFO = dict(
        classes=DIGIT_CLASSES,
        bias_attribute='background_color',
        bias_classes=REBIAS_COLOR_NAMES,
        aligned_bias=tuple(range(10)))

    def __init__(self,
                 data_root: str = 'data/biased_mnist',
                 rho: float = 0.997,
                 split: str = 'train',
                 mnist_root: Optional[str] = None,
                 download: bool = False,
                 seed: int = 0,
                 valid_size: int = DEFAULT_VALID_SIZE,
                 split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'BiasedMNIST: split="{split}" is not one of '
                             f'{SPLITS}.')
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f'BiasedMNIST: rho={rho} must be in [0, 1] '
                             f'(ReBias trains with {TRAIN_RHOS}).')
        self.rho = rho
        self.mnist_root = mnist_root
        self.download = download
        self.seed = seed
        self.valid_size = valid_size
        self.split_fractions = tuple(split_fractions)
        self._images: Optional[np.ndarray] = None
        super().__init__(
            data_root=data_root, split=split, pipeline=pipeline, **kwargs)

    @property
    def cache_dir(self) -> str:
        return biased_mnist_dir(self.data_root, self.rho, self.seed)

    def generate_hint(self) -> str:
        mnist = self.mnist_root or 'data/mnist'
        return ('Generate it with: python tools/data/prepare_data.py '
                f'biased_mnist --mnist-root {mnist} --out {self.data_root} '
                f'--rho {self.rho:g} --seed {self.seed} (see '
                'docs/data_preparation.md), or pass mnist_root to BiasedMNIST '
                'to generate it on first use.')

    def _prepare_cache(self) -> str:
        folder = self.cache_dir
        path = os.path.join(folder, f'{self.split}.npz')
        where = f'BiasedMNIST ({self.split} split, rho={self.rho:g})'

        def generate() -> None:
            generate_biased_mnist(
                self.data_root,
                self.mnist_root,
                self.rho,
                seed=self.seed,
                valid_size=self.valid_size,
                split_fractions=self.split_fractions,
                download=self.download,
                needed_by=f'{where}: "{folder}" does not exist; generating it')

        def missing_error() -> DatasetError:
            return DatasetError(
                f'{where}: "{path}" does not exist after rank 0 generated the '
                f'data (is {self.data_root} on a shared file system?). '
                + self.generate_hint())

        if os.path.isdir(folder) and not os.path.isfile(path):
            raise DatasetError(
                f'{where}: "{path}" is missing from "{folder}"; the cache is '
                'incomplete. Delete the folder to regenerate it. '
                + self.generate_hint())
        run_on_rank0(lambda: os.path.isfile(path), generate, missing_error)
        source = source_kind(self.mnist_root) if self.mnist_root else None
        params = colored_mnist_params(self.seed, 0.0, source, self.valid_size,
                                      self.split_fractions)
        params.pop('color_std')
        check_meta(folder, params, 'BiasedMNIST')
        return path

    def load_data_list(self) -> List[dict]:
        path = self._prepare_cache()
        fix = ('the cache is corrupt: delete "' + os.path.dirname(path) +
               '" to regenerate it.')
        try:
            with np.load(path) as npz:
                images, targets, biases = (npz['images'], npz['targets'],
                                           npz['biases'])
        except Exception as e:  # zipfile/pickle/key errors
            raise DatasetError(f'Cannot read "{path}" ({e}); {fix}') from e
        if (images.ndim != 4 or images.shape[-1] != 3
                or images.dtype != np.uint8
                or not len(images) == len(targets) == len(biases)):
            raise DatasetError(
                f'"{path}" holds images {images.shape} {images.dtype}, '
                f'{len(targets)} targets and {len(biases)} biases (expected '
                f'(N, H, W, 3) uint8 and N of each); {fix}')
        self._images = images
        return [
            dict(gt_label=int(t), bias_label=int(b), img_index=i)
            for i, (t, b) in enumerate(zip(targets.tolist(), biases.tolist()))
        ]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['img'] = self._images[info.pop('img_index')].copy()
        return info
