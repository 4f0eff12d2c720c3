"""MNIST digits as the source of the Colored / Biased MNIST generators.

Two source layouts are supported:

- the full MNIST (``train-*`` and ``t10k-*`` IDX files): train and valid come
  from the 60,000 training digits (valid = a seeded held-out subset), test
  from the 10,000 ``t10k`` digits;
- only the ``t10k-*`` files (e.g. a test-only copy such as
  ``../shared/data/mnist``): the 10,000 digits are split by a seed into
  train/valid/test with the given fractions.

Files are looked up in ``mnist_root`` and in ``mnist_root/MNIST/raw`` (where
``torchvision.datasets.MNIST(download=True)`` puts them), uncompressed or
``.gz``.
"""
import os
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .base_dataset import DatasetError
from .idx import read_idx

MNIST_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}

#: Default train/valid/test fractions of a test-only (t10k) source.
DEFAULT_SPLIT_FRACTIONS = (0.7, 0.1, 0.2)
#: Default number of held-out training digits (55,000 remain, as in the
#: DisEnt/BiasEnsemble Colored MNIST release).
DEFAULT_VALID_SIZE = 5000


@dataclass
class DigitSplit:
    """Grayscale digits (N, 28, 28) uint8 and their labels (N,) int64."""
    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def mnist_help(mnist_root: Optional[str]) -> str:
    """How to provide the MNIST IDX files (for error messages)."""
    where = (f'"{mnist_root}"' if mnist_root else
             'a folder (e.g. data/mnist) passed as mnist_root')
    return (
        f'Put the MNIST IDX files in {where}: train-images-idx3-ubyte.gz, '
        'train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and '
        't10k-labels-idx1-ubyte.gz (or only the two t10k files, which are '
        'then split into train/valid/test by the seed); the names may also '
        'be given without .gz. With internet access, pass download=True (or '
        '--download to tools/data/prepare_data.py) to fetch them with '
        'torchvision.datasets.MNIST.')


def find_mnist_file(mnist_root: str, name: str) -> Optional[str]:
    """The path of MNIST file ``name`` (plain or .gz) under ``mnist_root`` or
    ``mnist_root/MNIST/raw``, or None."""
    for folder in (mnist_root, os.path.join(mnist_root, 'MNIST', 'raw')):
        for suffix in ('', '.gz'):
            path = os.path.join(folder, name + suffix)
            if os.path.isfile(path):
                return path
    return None


def available_mnist_parts(mnist_root: Optional[str]) -> Dict[str, Tuple[str,
                                                                      str]]:
    """The parts ('train', 'test') whose image and label files both exist."""
    parts = {}
    if not mnist_root or not os.path.isdir(mnist_root):
        return parts
    for part, names in MNIST_FILES.items():
        paths = [find_mnist_file(mnist_root, n) for n in names]
        if all(paths):
            parts[part] = (paths[0], paths[1])
    return parts


def download_mnist(mnist_root: str) -> None:
    """Fetch the MNIST IDX files with torchvision (needs internet); they land
    in ``mnist_root/MNIST/raw``."""
    try:
        from torchvision.datasets import MNIST
    except ImportError as e:  # pragma: no cover - torchvision is a dependency
        raise DatasetError('download=True needs torchvision; '
                           + mnist_help(mnist_root)) from e
    try:
        for train in (True, False):
            MNIST(root=mnist_root, train=train, download=True)
    except Exception as e:  # network errors have many types
        raise DatasetError(
            f'Downloading MNIST into "{mnist_root}" failed ({e}). '
            + mnist_help(mnist_root)) from e


def load_mnist_part(image_path: str, label_path: str) -> DigitSplit:
    """Read and cross-check one images/labels pair of IDX files."""
    images = read_idx(image_path, ndim=3)
    labels = read_idx(label_path, ndim=1).astype(np.int64)
    if images.dtype != np.uint8:
        raise DatasetError(f'"{image_path}" holds {images.dtype} pixels; '
                           'MNIST images are uint8 (type code 0x08).')
    if len(images) != len(labels):
        raise DatasetError(
            f'"{image_path}" has {len(images)} images but "{label_path}" has '
            f'{len(labels)} labels; use files of the same MNIST part.')
    bad = np.flatnonzero((labels < 0) | (labels > 9))
    if bad.size:
        raise DatasetError(f'"{label_path}": label {labels[bad[0]]} of digit '
                           f'{bad[0]} is not in 0..9.')
    return DigitSplit(np.ascontiguousarray(images), labels)


def _check_fractions(fractions: Sequence[float]) -> Tuple[float, float,
                                                          float]:
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) -
                                                        1) > 1e-6:
        raise ValueError(f'split_fractions={tuple(fractions)} must be three '
                         'non-negative train/valid/test fractions summing '
                         'to 1.')
    return tuple(float(f) for f in fractions)  # type: ignore[return-value]


def split_sizes(n: int, fractions: Sequence[float]) -> Tuple[int, int, int]:
    """Sizes of a train/valid/test split of ``n`` items by ``fractions``."""
    f_train, f_valid, _ = _check_fractions(fractions)
    n_train = int(round(n * f_train))
    n_valid = int(round(n * f_valid))
    return n_train, n_valid, n - n_train - n_valid


def source_kind(mnist_root: Optional[str]) -> Optional[str]:
    """'train+t10k', 't10k' or None (no usable files)."""
    parts = available_mnist_parts(mnist_root)
    if 'train' in parts and 'test' in parts:
        return 'train+t10k'
    if 'test' in parts:
        return 't10k'
    return None


def load_mnist_splits(
    mnist_root: Optional[str],
    seed: int,
    valid_size: int = DEFAULT_VALID_SIZE,
    split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
    download: bool = False,
    needed_by: str = 'the generator',
) -> Dict[str, DigitSplit]:
    """Digits for the 'train', 'valid' and 'test' splits of a generator.

    Args:
        mnist_root: Folder with the MNIST IDX files.
        seed: Seed of the held-out valid subset (or of the t10k split).
        valid_size: Training digits held out as 'valid' (full MNIST only).
        split_fractions: Train/valid/test fractions (t10k-only source).
        download: Fetch the files with torchvision first if missing.
        needed_by: What needs them (named in the error message).

    Raises:
        DatasetError: No usable IDX files, saying which files to put where.
    """
    if download and source_kind(mnist_root) != 'train+t10k':
        if not mnist_root:
            raise DatasetError(f'{needed_by}: download=True needs mnist_root '
                               '(the folder to download MNIST into).')
        download_mnist(mnist_root)
    kind = source_kind(mnist_root)
    if kind is None:
        state = ('no mnist_root was given' if not mnist_root else
                 f'mnist_root="{mnist_root}" does not exist'
                 if not os.path.isdir(mnist_root) else
                 f'mnist_root="{mnist_root}" has no MNIST IDX image+label '
                 'pair')
        raise DatasetError(f'{needed_by} needs MNIST digits but {state}. '
                           + mnist_help(mnist_root))
    parts = available_mnist_parts(mnist_root)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x4D4E]))
    test = load_mnist_part(*parts['test'])
    if kind == 'train+t10k':
        train = load_mnist_part(*parts['train'])
        if not 0 <= valid_size < len(train):
            raise ValueError(f'valid_size={valid_size} must be in [0, '
                             f'{len(train)}) (the MNIST training digits).')
        order = rng.permutation(len(train))
        valid_idx, train_idx = np.sort(order[:valid_size]), np.sort(
            order[valid_size:])
        return dict(
            train=DigitSplit(train.images[train_idx], train.labels[train_idx]),
            valid=DigitSplit(train.images[valid_idx], train.labels[valid_idx]),
            test=test)
    n_train, n_valid, _ = split_sizes(len(test), split_fractions)
    order = rng.permutation(len(test))
    bounds = {
        'train': order[:n_train],
        'valid': order[n_train:n_train + n_valid],
        'test': order[n_train + n_valid:]
    }
    return {
        name: DigitSplit(test.images[np.sort(idx)], test.labels[np.sort(idx)])
        for name, idx in bounds.items()
    }
