"""Colored MNIST of PGD (Ahn et al., "Mitigating dataset bias by using
per-sample gradient"; generator ``datagen/data/colored_mnist.py`` of
sumyeongahn/PGD), in the DisEnt/BiasEnsemble folder layout.

How it differs from LfF's Colored MNIST (:mod:`.colored_mnist`):

- colours: PGD's 10 colours (:data:`PGD_COLORS`), not LfF's;
- colouring: ``clip(gray / 255 * (colour[b] + dev), 0, 1)`` with one
  deviation 3-vector ``dev ~ N(0, color_noise^2)`` per sample (clamped after
  the product, as PGD);
- bias assignment is random, not balanced: each sample is bias-conflicting
  with probability ``p`` (the minority ratio of the severity) and then takes
  a uniformly random *other* colour, so the number of conflicting samples
  per class is binomial;
- splits: PGD colours the 60,000 MNIST training digits once per ratio and
  cuts them in MNIST order: the first 90 % are train, the last 10 % valid
  (biased like train); test = the 10,000 t10k digits coloured with ``p`` =
  0.9 (colours near-uniform).

``color_noise`` is the *standard deviation* of the deviation, as PGD's code
(``torch.normal(0, 1e-4)`` takes a std; default 1e-4). The paper calls it the
difficulty α in N(C_y, αI), which reads as a variance, with α in {1e-4,
5e-4}: PGD's code was run with std 1e-4; for the paper's second setting
pass ``color_noise=5e-4`` (std, as the code would do) or
``sqrt(5e-4) ≈ 0.0224`` (if α is a variance). Both are far below one grey
level of the 8-bit PNGs stored here (1/255 ≈ 0.0039), so with std 1e-4 the
stored colour of almost every sample equals the undeviated one; PGD keeps
float tensors, where the deviation survives (it is still negligible for
training).

Sources: the full MNIST (train = first 90 % of the training digits, valid =
last 10 %, test = t10k) or only the t10k files (split by ``seed`` into
train/valid/test with ``split_fractions``, default (0.72, 0.08, 0.2): valid
is 10 % of train + valid, as in PGD). Layout::

    {data_root}/{severity}/align/<c>/{i:05d}_{c}_{c}.png     train
    {data_root}/{severity}/conflict/<c>/{i:05d}_{c}_{b}.png  train
    {data_root}/{severity}/valid/{i:05d}_{t}_{b}.png         valid (flat)
    {data_root}/test/<c>/{i:05d}_{c}_{b}.png                 test (shared)

Each folder has a ``meta.json`` with the generation parameters.
"""
import os
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import numpy as np

from debiascls.registry import DATASETS
from debiascls.utils.fileio import atomic_dir
from .base_dataset import DatasetError
from .bias_folder import BiasFolderDataset, split_dirs
from .colored_mnist import (DIGIT_CLASSES, severity_key, split_counts,
                            write_split_folder)
from .generation import check_meta, run_on_rank0, write_meta
from .mnist_source import (DigitSplit, available_mnist_parts, download_mnist,
                           load_mnist_part, load_mnist_splits, source_kind)

#: PGD's colours (``color_set`` of ``datagen/data/colored_mnist.py``), RGB in
#: [0, 1]; colour ``b`` is aligned with class ``b``.
PGD_COLORS = np.array([
    [0.8627451, 0.07843137, 0.23529412],
    [0.0, 0.50196078, 0.50196078],
    [0.99215686, 0.91372549, 0.0627451],
    [0.0, 0.58431373, 0.71372549],
    [0.929411765, 0.568627451, 0.129411765],
    [0.568627451, 0.117647059, 0.737254902],
    [0.274509804, 0.941176471, 0.941176471],
    [0.980392157, 0.77254902, 0.733333333],
    [0.823529412, 0.960784314, 0.235294118],
    [0.501960784, 0.0, 0.0],
], dtype=np.float64)
PGD_COLOR_NAMES = ('crimson', 'teal', 'yellow', 'cerulean', 'orange',
                   'purple', 'cyan', 'pink', 'lime', 'maroon')

#: Minority (bias-conflicting) probability of train and valid per setting:
#: PGD's bias ratios 99.5 / 99 / 95 % (Table 1; ``gen.sh``) and 90 % (the
#: noisy-label figures of its appendix).
PGD_SEVERITIES: Dict[str, float] = {
    '0.5pct': 0.005,
    '1pct': 0.01,
    '5pct': 0.05,
    '10pct': 0.1,
}
#: Minority probability of the test split (PGD: ``biasing(test, 0.9)``).
PGD_TEST_CONFLICT = 0.9
#: PGD's std of the per-sample colour deviation.
PGD_COLOR_NOISE = 1e-4
#: Train share of the MNIST training digits (PGD: ``train_valid_split``).
PGD_TRAIN_FRACTION = 0.9
#: Train/valid/test fractions of a t10k-only source (valid = 10 % of
#: train + valid, as PGD's split).
PGD_SPLIT_FRACTIONS = (0.72, 0.08, 0.2)


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def assign_bias_random(labels: np.ndarray, conflict_prob: float,
                       num_bias: int,
                       rng: np.random.Generator) -> np.ndarray:
    """PGD's bias assignment: each sample is conflicting with probability
    ``conflict_prob`` and then takes a uniformly random value other than its
    label; otherwise its bias equals its label."""
    labels = np.asarray(labels, dtype=np.int64)
    if not 0 <= conflict_prob <= 1:
        raise ValueError(f'conflict_prob={conflict_prob} must be in [0, 1].')
    conflicting = rng.random(len(labels)) < conflict_prob
    shift = rng.integers(1, num_bias, size=len(labels))
    return np.where(conflicting, (labels + shift) % num_bias, labels)


def colorize_pgd(digits: np.ndarray, bias: np.ndarray, color_noise: float,
                 rng: np.random.Generator,
                 colors: np.ndarray = PGD_COLORS) -> np.ndarray:
    """PGD's colouring: ``clip(gray / 255 * (colors[b] + dev), 0, 1)`` with
    ``dev ~ N(0, color_noise^2)`` per sample (3-vector), stored as uint8
    (rounded).

    Returns:
        (N, H, W, 3) uint8 RGB.
    """
    bias = np.asarray(bias)
    dev = rng.normal(0.0, color_noise, size=(len(bias), 3))
    rgb = colors[bias] + dev
    out = (digits[..., None].astype(np.float64) / 255.0) * rgb[:, None,
                                                                None, :]
    return np.rint(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)


def load_pgd_mnist(mnist_root: Optional[str], seed: int,
                   split_fractions: Sequence[float] = PGD_SPLIT_FRACTIONS,
                   download: bool = False,
                   needed_by: str = 'the generator') -> Dict[str, DigitSplit]:
    """PGD's digit splits: full MNIST -> train = first 90 % of the training
    digits, valid = the last 10 % (MNIST order), test = t10k; t10k only ->
    split by ``seed`` with ``split_fractions``
    (:func:`~debiascls.datasets.mnist_source.load_mnist_splits`)."""
    if download and source_kind(mnist_root) != 'train+t10k':
        if not mnist_root:
            raise DatasetError(f'{needed_by}: download=True needs mnist_root '
                               '(the folder to download MNIST into).')
        download_mnist(mnist_root)
    if source_kind(mnist_root) != 'train+t10k':
        # t10k only, or nothing (then this raises, saying what to put where)
        return load_mnist_splits(mnist_root, seed,
                                 split_fractions=split_fractions,
                                 needed_by=needed_by)
    parts = available_mnist_parts(mnist_root)
    train = load_mnist_part(*parts['train'])
    cut = int(len(train) * PGD_TRAIN_FRACTION)
    return dict(
        train=DigitSplit(train.images[:cut], train.labels[:cut]),
        valid=DigitSplit(train.images[cut:], train.labels[cut:]),
        test=load_mnist_part(*parts['test']))


def pgd_cmnist_params(seed: int, color_noise: float, source: Optional[str],
                      split_fractions: Sequence[float]) -> dict:
    """The parameters recorded in (and checked against) ``meta.json``."""
    params = dict(seed=int(seed), color_noise=float(color_noise))
    if source is not None:
        params['source'] = source
    if source in (None, 't10k'):
        params['split_fractions'] = [float(f) for f in split_fractions]
    return params


def generate_pgd_layout(
        data_root: str, severities: Iterable[str], params: dict,
        load_pools: Callable[[], dict],
        render: Callable[[dict, str, np.ndarray, np.random.Generator],
                         np.ndarray],
        generator: str, with_test: bool = True,
        needed_by: Optional[str] = None) -> Dict[str, dict]:
    """Write the missing ``{severity}/`` folders (and ``test/``) of a PGD
    digit data set; existing ones are kept after checking their
    ``meta.json`` against ``params``.

    Args:
        load_pools: Returns the source pools; called only if something is
            missing (its ``'train'``, ``'valid'``, ``'test'`` entries are
            :class:`DigitSplit`).
        render: ``render(pools, split, bias, rng)`` -> (N, H, W, 3) uint8.
        generator: Name recorded in ``meta.json``.

    Returns:
        ``{folder: meta}`` of the folders written now.
    """
    needed_by = needed_by or generator
    severities = list(severities)
    for sev in severities:
        if sev not in PGD_SEVERITIES:
            raise ValueError(f'Unknown {generator} severity "{sev}"; use '
                             f'{tuple(PGD_SEVERITIES)}.')
    todo = [s for s in severities
            if not os.path.isdir(os.path.join(data_root, s))]
    test_dir = os.path.join(data_root, 'test')
    need_test = with_test and not os.path.isdir(test_dir)
    existing = [os.path.join(data_root, s) for s in severities
                if s not in todo] + ([] if need_test else [test_dir])
    if not todo and not need_test:
        for folder in existing:
            check_meta(folder, params, needed_by)
        return {}
    pools = load_pools()
    for folder in existing:
        check_meta(folder, params, needed_by)
    seed = params['seed']
    written = {}

    def write(folder, split, conflict_prob, rng, layout, meta):
        pool = pools[split]
        bias = assign_bias_random(pool.labels, conflict_prob, 10, rng)
        images = render(pools, split, bias, rng)
        write_split_folder(folder, images, pool.labels, bias, layout)
        meta[split] = split_counts(pool.labels, bias)

    for sev in todo:
        ratio = PGD_SEVERITIES[sev]
        final = os.path.join(data_root, sev)
        rng = _rng(seed, 1, severity_key(sev))
        with atomic_dir(final) as tmp:
            meta = dict(params, generator=generator, severity=sev,
                        conflict_ratio=ratio)
            write(tmp, 'train', ratio, rng, 'align_conflict', meta)
            write(os.path.join(tmp, 'valid'), 'valid', ratio, rng, 'flat',
                  meta)
            write_meta(tmp, meta)
        written[final] = meta
    if need_test:
        with atomic_dir(test_dir) as tmp:
            meta = dict(params, generator=generator,
                        conflict_ratio=PGD_TEST_CONFLICT)
            write(tmp, 'test', PGD_TEST_CONFLICT, _rng(seed, 2), 'classes',
                  meta)
            write_meta(tmp, meta)
        written[test_dir] = meta
    return written


def generate_pgd_colored_mnist(
        data_root: str,
        mnist_root: Optional[str],
        severities: Iterable[str] = tuple(PGD_SEVERITIES),
        seed: int = 0,
        color_noise: float = PGD_COLOR_NOISE,
        split_fractions: Sequence[float] = PGD_SPLIT_FRACTIONS,
        download: bool = False,
        with_test: bool = True,
        needed_by: str = 'PGDColoredMNIST') -> Dict[str, dict]:
    """Write the missing folders of a PGD Colored MNIST layout (see the
    module docstring); returns ``{folder: meta}`` of those written."""
    if color_noise < 0:
        raise ValueError(f'color_noise={color_noise} must be >= 0 (a std).')
    params = pgd_cmnist_params(seed, color_noise, source_kind(mnist_root),
                               split_fractions)

    def render(pools, split, bias, rng):
        return colorize_pgd(pools[split].images, bias, color_noise, rng)

    return generate_pgd_layout(
        data_root, severities, params,
        lambda: load_pgd_mnist(mnist_root, seed, split_fractions, download,
                               needed_by),
        render, 'PGDColoredMNIST', with_test, needed_by)


class PGDDigitsDataset(BiasFolderDataset):
    """Shared machinery of the PGD digit sets (Colored and Watermarked
    MNIST): a generated DisEnt-style layout, created on first use on rank 0
    only. Subclasses implement :meth:`generation_params`, :meth:`generate`
    and :meth:`generate_hint`."""

    SEVERITIES = tuple(PGD_SEVERITIES)

    def generation_params(self) -> dict:
        raise NotImplementedError

    def generate(self, severities: List[str], needed_by: str) -> None:
        raise NotImplementedError

    def _folder(self) -> str:
        if self.split == 'test':
            return os.path.join(self.layout_root, 'test')
        return os.path.join(self.layout_root, self.severity)

    def prepare_layout(self) -> None:
        params = self.generation_params()
        if not self.split_ready():
            missing = next(d for d, _ in split_dirs(
                self.layout_root, self.split, self.severity)
                           if not os.path.isdir(d))
            if os.path.isdir(self._folder()):
                raise DatasetError(
                    f'{self._where()}: "{self._folder()}" exists but has no '
                    f'"{os.path.relpath(missing, self._folder())}" folder: it '
                    f'is incomplete or not a {type(self).__name__} layout. '
                    'Delete it to regenerate it. ' + self.generate_hint())
            needed_by = (f'{self._where()}: "{missing}" does not exist; '
                         'generating it')

            def missing_error() -> DatasetError:
                return DatasetError(
                    f'{self._where()}: directory "{missing}" does not exist '
                    f'after rank 0 generated the data (is {self.layout_root} '
                    f'on a shared file system?). {self.generate_hint()}')

            run_on_rank0(
                self.split_ready,
                lambda: self.generate(
                    [] if self.split == 'test' else [self.severity],
                    needed_by), missing_error)
        check_meta(self._folder(), params, type(self).__name__)


@DATASETS.register_module()
class PGDColoredMNIST(PGDDigitsDataset):
    """PGD's Colored MNIST (see the module docstring), generated from the
    MNIST IDX files on first use; an existing layout needs no
    ``mnist_root``.

    Args:
        data_root: Root of the layout, e.g. ``'data/pgd_cmnist'``.
        severity: Minority ratio of train and valid: ``'0.5pct'``,
            ``'1pct'``, ``'5pct'`` (PGD's bias ratios 99.5 / 99 / 95 %) or
            ``'10pct'`` (90 %). This is the "ratio" of the paper under the
            name of the framework's shared ``severity`` key.
        split: ``'train'``, ``'valid'`` (biased like train) or ``'test'``
            (minority probability 0.9).
        mnist_root: Folder with the MNIST IDX files (full, or only the t10k
            files); only needed to generate.
        download: Fetch MNIST with torchvision first (needs internet).
        seed: Seed of the generation (bias assignment, colour deviation,
            and the split of a t10k-only source).
        color_noise: Std of the per-sample colour deviation (PGD's code:
            1e-4; see the module docstring for the paper's α).
        split_fractions: Train/valid/test fractions of a t10k-only source.
        **kwargs: Passed to :class:`BiasFolderDataset` (``pipeline``,
            ``label_noise``, ...).
    """

    METAINFO = dict(
        classes=DIGIT_CLASSES,
        bias_attribute='color',
        bias_classes=PGD_COLOR_NAMES,
        aligned_bias=tuple(range(10)))

    def __init__(self,
                 data_root: str = 'data/pgd_cmnist',
                 severity: str = '1pct',
                 split: str = 'train',
                 mnist_root: Optional[str] = None,
                 download: bool = False,
                 seed: int = 0,
                 color_noise: float = PGD_COLOR_NOISE,
                 split_fractions: Sequence[float] = PGD_SPLIT_FRACTIONS,
                 **kwargs) -> None:
        if color_noise < 0:
            raise ValueError(f'{type(self).__name__}: color_noise='
                             f'{color_noise} must be >= 0 (a std).')
        self.mnist_root = mnist_root
        self.download = download
        self.seed = seed
        self.color_noise = color_noise
        self.split_fractions = tuple(split_fractions)
        super().__init__(
            data_root=data_root, severity=severity, split=split, **kwargs)

    def generation_params(self) -> dict:
        source = source_kind(self.mnist_root) if self.mnist_root else None
        return pgd_cmnist_params(self.seed, self.color_noise, source,
                                 self.split_fractions)

    def generate(self, severities: List[str], needed_by: str) -> None:
        generate_pgd_colored_mnist(
            self.layout_root, self.mnist_root, severities, seed=self.seed,
            color_noise=self.color_noise,
            split_fractions=self.split_fractions, download=self.download,
            needed_by=needed_by)

    def generate_hint(self) -> str:
        mnist = self.mnist_root or 'data/mnist'
        return ('Generate it with: python tools/data/prepare_data.py '
                f'pgd_cmnist --mnist-root {mnist} --out {self.layout_root} '
                f'--severities {self.severity or "1pct"} --seed {self.seed} '
                f'--color-noise {self.color_noise:g} (see '
                'docs/data_preparation.md), or pass mnist_root to '
                f'{type(self).__name__} to generate it on first use.')
