"""Watermarked MNIST of PGD (Ahn et al., ICLR'22 submission, Appendix B.1):
an MNIST digit with a Fashion-MNIST object as a class-correlated watermark
at the top-left corner. PGD's code has no generator for it (its ``datagen``
builds Colored MNIST only), so we follow the appendix:

- "all images from MNIST are size-up scaled from 28x28 to 56x56": the digit
  is enlarged to the 56x56 canvas (bilinear, OpenCV);
- the watermark is a 28x28 Fashion-MNIST image of class ``b`` (the bias
  label), drawn at random among the images of that class, put "δ pixels far
  from top and [left] of the canvas" with ``δ ~ U(0, α)``: we draw one
  integer δ uniformly in {0, ..., α} per sample and use it for both
  distances (the text's "top and bottom" cannot both hold for a top-left
  mark; one δ for both is our reading), α = ``max_offset`` in {8, 16};
- the two are combined by the pixel-wise maximum (the appendix does not say
  how; the maximum keeps both the strokes and the object visible), and
  stored as a grey image replicated over the 3 channels;
- bias assignment, minority ratios and splits are those of PGD's Colored
  MNIST (:mod:`.pgd_colored_mnist`): each sample is conflicting with
  probability ``p`` and then gets a uniformly random other Fashion class;
  train = first 90 % of the MNIST training digits, valid = last 10 %,
  test = t10k with ``p`` = 0.9. Watermarks of train and valid come from the
  Fashion-MNIST training images, those of test from its t10k images (so no
  watermark image is shared by train and test).

Sources: MNIST IDX files under ``mnist_root`` and Fashion-MNIST IDX files
(same file names as MNIST's) under ``fashion_mnist_root`` (or
``fashion_mnist_root/FashionMNIST/raw``, where torchvision puts them). Either
may be a t10k-only copy: t10k digits are split by ``seed`` as for PGD's
Colored MNIST; t10k Fashion images are split by ``seed``, class by class,
into a train+valid pool and a test pool (``split_fractions[2]`` of each
class, at least one image).

Layout: as :class:`~debiascls.datasets.PGDColoredMNIST` (56x56 PNGs).
"""
import os
from typing import Dict, Iterable, List, Optional, Sequence

import cv2
import numpy as np

from debiascls.registry import DATASETS
from .base_dataset import DatasetError
from .colored_mnist import DIGIT_CLASSES
from .mnist_source import (DigitSplit, available_mnist_parts, load_mnist_part,
                           source_kind, split_sizes)
from .pgd_colored_mnist import (PGD_SEVERITIES, PGD_SPLIT_FRACTIONS,
                                PGDDigitsDataset, generate_pgd_layout,
                                load_pgd_mnist)

FASHION_CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                   'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
#: PGD's two offset ranges α.
WATERMARK_OFFSETS = (8, 16)
CANVAS_SIZE = 56


def fashion_help(root: Optional[str]) -> str:
    where = (f'"{root}"' if root else
             'a folder (e.g. data/fashion_mnist) passed as fashion_mnist_root')
    return (f'Put the Fashion-MNIST IDX files in {where}: '
            'train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, '
            't10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (the '
            'same names as MNIST\'s; from https://github.com/zalandoresearch/'
            'fashion-mnist), or only the two t10k files (then split by the '
            'seed); the names may also be given without .gz. With internet '
            'access, pass download=True (or --download to '
            'tools/data/prepare_data.py) to fetch them with '
            'torchvision.datasets.FashionMNIST.')


def fashion_dir(root: Optional[str]) -> Optional[str]:
    """The folder holding the Fashion-MNIST files: ``root`` or
    ``root/FashionMNIST/raw`` (torchvision's), whichever has them."""
    if not root:
        return root
    raw = os.path.join(root, 'FashionMNIST', 'raw')
    if source_kind(root) is None and source_kind(raw) is not None:
        return raw
    return root


def fashion_source_kind(root: Optional[str]) -> Optional[str]:
    return source_kind(fashion_dir(root)) if root else None


def load_fashion_pools(root: Optional[str], seed: int,
                       split_fractions: Sequence[float] = PGD_SPLIT_FRACTIONS,
                       download: bool = False,
                       needed_by: str = 'the generator'
                       ) -> Dict[str, DigitSplit]:
    """Fashion-MNIST images to draw watermarks from: ``'train'`` (for the
    train and valid splits) and ``'test'``."""
    if download and fashion_source_kind(root) != 'train+t10k':
        if not root:
            raise DatasetError(f'{needed_by}: download=True needs '
                               'fashion_mnist_root (the folder to download '
                               'Fashion-MNIST into).')
        try:
            from torchvision.datasets import FashionMNIST
            for train in (True, False):
                FashionMNIST(root=root, train=train, download=True)
        except Exception as e:  # network errors have many types
            raise DatasetError(f'Downloading Fashion-MNIST into "{root}" '
                               f'failed ({e}). ' + fashion_help(root)) from e
    kind = fashion_source_kind(root)
    if kind is None:
        state = ('no fashion_mnist_root was given' if not root else
                 f'fashion_mnist_root="{root}" does not exist'
                 if not os.path.isdir(root) else
                 f'fashion_mnist_root="{root}" has no IDX image+label pair')
        raise DatasetError(f'{needed_by} needs Fashion-MNIST images but '
                           f'{state}. ' + fashion_help(root))
    parts = available_mnist_parts(fashion_dir(root))
    test = load_mnist_part(*parts['test'])
    if kind == 'train+t10k':
        return dict(train=load_mnist_part(*parts['train']), test=test)
    # split each class by the test fraction, so that both pools hold every
    # class (at least one image each where the class has two)
    split_sizes(len(test), split_fractions)  # validates the fractions
    test_fraction = float(split_fractions[2])
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x464D]))
    held = []
    for c in range(10):
        members = rng.permutation(np.flatnonzero(test.labels == c))
        n_test = int(np.floor(test_fraction * len(members) + 0.5))
        if len(members) >= 2:
            n_test = min(max(n_test, 1), len(members) - 1)
        held.append(members[:n_test])
    held = np.sort(np.concatenate(held))
    rest = np.setdiff1d(np.arange(len(test)), held)
    return dict(train=DigitSplit(test.images[rest], test.labels[rest]),
                test=DigitSplit(test.images[held], test.labels[held]))


def watermark(digits: np.ndarray, bias: np.ndarray, fashion: DigitSplit,
              max_offset: int, rng: np.random.Generator) -> np.ndarray:
    """Watermarked digits: each digit enlarged to 56x56, a random
    Fashion-MNIST image of class ``bias[i]`` put at offset (δ, δ) from the
    top-left corner, δ uniform in {0, ..., max_offset}, pixel-wise maximum.

    Returns:
        (N, 56, 56, 3) uint8 (grey replicated over RGB).
    """
    bias = np.asarray(bias)
    n = len(bias)
    members = {c: np.flatnonzero(fashion.labels == c) for c in range(10)}
    empty = [c for c in np.unique(bias) if members[int(c)].size == 0]
    if empty:
        raise DatasetError(
            f'The Fashion-MNIST pool has no image of class {int(empty[0])} '
            f'({FASHION_CLASSES[int(empty[0])]}), needed as a watermark. Use '
            'the full Fashion-MNIST or a larger t10k copy.')
    pick = np.empty(n, dtype=np.int64)
    for c in np.unique(bias):
        where = np.flatnonzero(bias == c)
        pick[where] = rng.choice(members[int(c)], size=len(where))
    offsets = rng.integers(0, max_offset + 1, size=n)
    out = np.empty((n, CANVAS_SIZE, CANVAS_SIZE), np.uint8)
    side = fashion.images.shape[1]
    for i in range(n):
        canvas = cv2.resize(digits[i], (CANVAS_SIZE, CANVAS_SIZE),
                            interpolation=cv2.INTER_LINEAR)
        d = int(offsets[i])
        patch = fashion.images[pick[i]][:CANVAS_SIZE - d, :CANVAS_SIZE - d]
        region = canvas[d:d + side, d:d + side]
        np.maximum(region, patch[:region.shape[0], :region.shape[1]],
                   out=region)
        out[i] = canvas
    return np.repeat(out[..., None], 3, axis=3)


def watermarked_mnist_params(seed: int, max_offset: int,
                             source: Optional[str],
                             fashion_source: Optional[str],
                             split_fractions: Sequence[float]) -> dict:
    params = dict(seed=int(seed), max_offset=int(max_offset))
    if source is not None:
        params['source'] = source
    if fashion_source is not None:
        params['fashion_source'] = fashion_source
    if 't10k' in (source, fashion_source) or None in (source,
                                                       fashion_source):
        params['split_fractions'] = [float(f) for f in split_fractions]
    return params


def _check_offset(max_offset, name: str) -> int:
    if (isinstance(max_offset, bool)
            or not isinstance(max_offset, (int, np.integer))
            or not 0 <= max_offset <= CANVAS_SIZE - 28):
        raise ValueError(f'{name}: max_offset={max_offset!r} must be an '
                         f'integer in [0, {CANVAS_SIZE - 28}] (PGD: 8 or '
                         '16).')
    return int(max_offset)


def generate_watermarked_mnist(
        data_root: str,
        mnist_root: Optional[str],
        fashion_mnist_root: Optional[str],
        severities: Iterable[str] = tuple(PGD_SEVERITIES),
        seed: int = 0,
        max_offset: int = 8,
        split_fractions: Sequence[float] = PGD_SPLIT_FRACTIONS,
        download: bool = False,
        with_test: bool = True,
        needed_by: str = 'WatermarkedMNIST') -> Dict[str, dict]:
    """Write the missing folders of a Watermarked MNIST layout (see the
    module docstring); returns ``{folder: meta}`` of those written."""
    max_offset = _check_offset(max_offset, 'generate_watermarked_mnist')
    params = watermarked_mnist_params(seed, max_offset,
                                      source_kind(mnist_root),
                                      fashion_source_kind(fashion_mnist_root),
                                      split_fractions)

    def load():
        pools = load_pgd_mnist(mnist_root, seed, split_fractions, download,
                               needed_by)
        fashion = load_fashion_pools(fashion_mnist_root, seed,
                                     split_fractions, download, needed_by)
        pools['fashion'] = dict(train=fashion['train'],
                                valid=fashion['train'], test=fashion['test'])
        return pools

    def render(pools, split, bias, rng):
        return watermark(pools[split].images, bias, pools['fashion'][split],
                         max_offset, rng)

    return generate_pgd_layout(data_root, severities, params, load, render,
                               'WatermarkedMNIST', with_test, needed_by)


@DATASETS.register_module()
class WatermarkedMNIST(PGDDigitsDataset):
    """PGD's Watermarked MNIST (see the module docstring): 56x56 digits with
    a Fashion-MNIST watermark whose class is the bias; generated on first
    use from ``mnist_root`` and ``fashion_mnist_root``.

    Args:
        data_root: Root of the layout, e.g. ``'data/watermarked_mnist'``.
        severity: ``'0.5pct'``, ``'1pct'``, ``'5pct'`` or ``'10pct'`` (bias
            ratios 99.5 / 99 / 95 / 90 %).
        split: ``'train'``, ``'valid'`` or ``'test'``.
        mnist_root: MNIST IDX files (full or t10k only).
        fashion_mnist_root: Fashion-MNIST IDX files (full or t10k only).
        download: Fetch both with torchvision first (needs internet).
        seed: Seed of the generation.
        max_offset: α, the largest watermark offset in pixels (8 or 16).
        split_fractions: Fractions of a t10k-only source.
        **kwargs: Passed to :class:`BiasFolderDataset`.
    """

    METAINFO = dict(
        classes=DIGIT_CLASSES,
        bias_attribute='watermark',
        bias_classes=FASHION_CLASSES,
        aligned_bias=tuple(range(10)))

    def __init__(self,
                 data_root: str = 'data/watermarked_mnist',
                 severity: str = '1pct',
                 split: str = 'train',
                 mnist_root: Optional[str] = None,
                 fashion_mnist_root: Optional[str] = None,
                 download: bool = False,
                 seed: int = 0,
                 max_offset: int = 8,
                 split_fractions: Sequence[float] = PGD_SPLIT_FRACTIONS,
                 **kwargs) -> None:
        self.max_offset = _check_offset(max_offset, type(self).__name__)
        self.mnist_root = mnist_root
        self.fashion_mnist_root = fashion_mnist_root
        self.download = download
        self.seed = seed
        self.split_fractions = tuple(split_fractions)
        super().__init__(
            data_root=data_root, severity=severity, split=split, **kwargs)

    def generation_params(self) -> dict:
        source = source_kind(self.mnist_root) if self.mnist_root else None
        return watermarked_mnist_params(
            self.seed, self.max_offset, source,
            fashion_source_kind(self.fashion_mnist_root),
            self.split_fractions)

    def generate(self, severities: List[str], needed_by: str) -> None:
        generate_watermarked_mnist(
            self.layout_root, self.mnist_root, self.fashion_mnist_root,
            severities, seed=self.seed, max_offset=self.max_offset,
            split_fractions=self.split_fractions, download=self.download,
            needed_by=needed_by)

    def generate_hint(self) -> str:
        mnist = self.mnist_root or 'data/mnist'
        fashion = self.fashion_mnist_root or 'data/fashion_mnist'
        return ('Generate it with: python tools/data/prepare_data.py '
                f'watermarked_mnist --mnist-root {mnist} --fashion-mnist-root '
                f'{fashion} --out {self.layout_root} --severities '
                f'{self.severity or "1pct"} --seed {self.seed} --max-offset '
                f'{self.max_offset} (see docs/data_preparation.md), or pass '
                f'mnist_root and fashion_mnist_root to {type(self).__name__} '
                'to generate it on first use.')
