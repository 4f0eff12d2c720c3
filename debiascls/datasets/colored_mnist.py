"""Colored MNIST (LfF / DisEnt / BiasEnsemble): the digit strokes are coloured,
one of 10 colours per class for the bias-aligned samples.

The data lives in the DisEnt/BiasEnsemble folder layout (see
:mod:`debiascls.datasets.bias_folder`) and is generated from MNIST IDX files
on first use (or with ``tools/data/prepare_data.py cmnist``), under one of
two protocols (:data:`PROTOCOLS`):

- ``'disent'``: the DisEnt/BiasEnsemble release that IE, CosFairNet and BE
  use: 55,000 training digits (the other 5,000 of MNIST's training set are
  ``valid``, as biased as train) with the release's conflicting counts
  (:data:`~debiascls.datasets.color_bias.RELEASE_CONFLICTING`), and the
  10,000 MNIST test digits, colours balanced within each class, as
  ``test``;
- ``'lff'``: LfF's own generator (``make_dataset.py``): all 60,000 training
  digits with LfF's deterministic, order-based colour assignment, and the
  MNIST test digits with 10 % of each colour per class (LfF's "valid"
  folder, its only evaluation split, our ``test``); no ``valid`` split.
"""
import os
import zlib
from typing import Dict, Iterable, Optional, Sequence

import numpy as np

from debiascls.registry import DATASETS
from debiascls.utils.fileio import atomic_dir
from .base_dataset import DatasetError
from .bias_folder import BiasFolderDataset, format_name, split_dirs
from .color_bias import (LFF_COLOR_NAMES, LFF_COLOR_STD, SEVERITY_RATIOS,
                         assign_bias_total, assign_uniform_bias,
                         colorize_foreground, lff_bias_labels,
                         release_conflicting)
from .generation import check_meta, run_on_rank0, write_meta, write_pngs
from .mnist_source import (DEFAULT_SPLIT_FRACTIONS, DEFAULT_VALID_SIZE,
                           DigitSplit, load_mnist_splits, source_kind)

DIGIT_CLASSES = tuple(str(i) for i in range(10))
#: LfF's published setting (severity 4).
DEFAULT_COLOR_STD = LFF_COLOR_STD[4]
#: Generation protocols (see the module docstring).
PROTOCOLS = ('disent', 'lff')
#: Share of each class's colours in LfF's evaluation split (its "valid",
#: ``bias_aligned_ratio = 0.1``: uniform over the 10 colours).
LFF_TEST_ALIGNED_RATIO = 0.1


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def severity_key(severity: str) -> int:
    """A stable integer naming a severity in seed sequences."""
    return zlib.crc32(severity.encode())


def write_split_folder(folder: str, images: np.ndarray, targets: np.ndarray,
                       biases: np.ndarray, layout: str) -> None:
    """Write coloured images into ``folder`` as ``{i:05d}_{t}_{b}.png``.

    Args:
        layout: 'classes' (``folder/<t>/``), 'flat' (``folder/``) or
            'align_conflict' (``folder/align/<t>/`` and
            ``folder/conflict/<t>/``, by ``t == b``).
    """
    width = max(5, len(str(len(targets) - 1)))
    paths = []
    for i, (t, b) in enumerate(zip(targets.tolist(), biases.tolist())):
        if layout == 'flat':
            sub = folder
        elif layout == 'classes':
            sub = os.path.join(folder, str(t))
        else:
            sub = os.path.join(folder, 'align' if t == b else 'conflict',
                               str(t))
        paths.append(os.path.join(sub, format_name(i, t, b, width)))
    for sub in {os.path.dirname(p) for p in paths}:
        os.makedirs(sub, exist_ok=True)
    if layout == 'align_conflict':  # both exist even when one is empty
        for kind in ('align', 'conflict'):
            os.makedirs(os.path.join(folder, kind), exist_ok=True)
    write_pngs(paths, images)


def split_counts(targets: np.ndarray, biases: np.ndarray) -> Dict[str, int]:
    """Sample, aligned and conflicting counts (for records and reports)."""
    aligned = int((targets == biases).sum())
    return dict(
        num_samples=int(len(targets)),
        num_aligned=aligned,
        num_conflicting=int(len(targets)) - aligned)


def _write_colored(folder: str, split: DigitSplit, bias: np.ndarray,
                   color_std: float, rng: np.random.Generator,
                   layout: str) -> Dict[str, int]:
    # LfF's make_dataset.py truncates the float image (np.uint8); the
    # DisEnt/BE release's generator is not public, we do the same there.
    images = colorize_foreground(split.images, bias, color_std, rng,
                                 rounding='floor')
    write_split_folder(folder, images, split.labels, bias, layout)
    return split_counts(split.labels, bias)


def colored_mnist_params(seed: int, color_std: float, source: Optional[str],
                         valid_size: int,
                         split_fractions: Sequence[float],
                         protocol: Optional[str] = None) -> dict:
    """The generation parameters recorded in (and checked against) the
    ``meta.json`` of each generated folder (``protocol`` only for Colored
    MNIST; Biased MNIST shares the other keys)."""
    params = dict(seed=int(seed), color_std=float(color_std))
    if protocol is not None:
        params['protocol'] = protocol
    if source is not None:
        params['source'] = source
    if source in (None, 'train+t10k') and protocol != 'lff':
        params['valid_size'] = int(valid_size)
    if source in (None, 't10k'):
        params['split_fractions'] = [float(f) for f in split_fractions]
    return params


def check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f'Colored MNIST: protocol="{protocol}" is not one of '
                         f'{PROTOCOLS} (DisEnt/BiasEnsemble release, LfF).')


def train_bias(protocol: str, severity: str, labels: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Bias labels of a biased (train or valid) split of a protocol."""
    if protocol == 'lff':
        return lff_bias_labels(labels, 1 - SEVERITY_RATIOS[severity])
    return assign_bias_total(labels, release_conflicting(severity,
                                                         len(labels)), 10,
                             rng)


def generate_colored_mnist(
        data_root: str,
        mnist_root: Optional[str],
        severities: Iterable[str] = tuple(SEVERITY_RATIOS),
        seed: int = 0,
        color_std: float = DEFAULT_COLOR_STD,
        valid_size: int = DEFAULT_VALID_SIZE,
        split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
        download: bool = False,
        with_test: bool = True,
        needed_by: str = 'ColoredMNIST',
        protocol: str = 'disent') -> Dict[str, dict]:
    """Write the missing ``{severity}/`` folders (and ``test/``) of a Colored
    MNIST layout under ``data_root``; existing folders are kept (after
    checking they were generated with the same parameters).

    ``protocol='disent'`` (the DisEnt/BiasEnsemble release): train and valid
    hold exactly the release's share of conflicting samples
    (:func:`~debiascls.datasets.color_bias.release_conflicting`: 249 / 491
    / 986 / 2,449 of 55,000 training images), allotted to the classes by
    size and chosen at random, their colour balanced over the 9 other
    colours; test colours are balanced over all 10 within each class.
    ``protocol='lff'``: LfF's order-based assignment on every training digit
    (no valid folder) and on the test digits with 10 % of each colour.
    Each folder is written to a temporary directory and renamed when
    complete.

    Returns:
        ``{folder: meta}`` of the folders written now.
    """
    check_protocol(protocol)
    severities = list(severities)
    for sev in severities:
        if sev not in SEVERITY_RATIOS:
            raise ValueError(f'Unknown Colored MNIST severity "{sev}"; use '
                             f'{tuple(SEVERITY_RATIOS)}.')
    todo = [s for s in severities
            if not os.path.isdir(os.path.join(data_root, s))]
    test_dir = os.path.join(data_root, 'test')
    need_test = with_test and not os.path.isdir(test_dir)
    kept = [os.path.join(data_root, s) for s in severities if s not in todo
            ] + ([test_dir] if with_test and not need_test else [])
    pools = None
    if todo or need_test:
        pools = load_mnist_splits(mnist_root, seed,
                                  0 if protocol == 'lff' else valid_size,
                                  split_fractions, download, needed_by)
    params = colored_mnist_params(seed, color_std, source_kind(mnist_root),
                                  valid_size, split_fractions, protocol)
    for existing in kept:  # refuse folders generated otherwise
        check_meta(existing, params, needed_by, required=('protocol', ))
    if pools is None:
        return {}
    written = {}
    for sev in todo:
        rng = _rng(seed, 1, severity_key(sev))
        final = os.path.join(data_root, sev)
        with atomic_dir(final) as tmp:
            meta = dict(params, generator='ColoredMNIST', severity=sev,
                        conflict_ratio=SEVERITY_RATIOS[sev])
            splits = [('train', 'align_conflict')]
            if protocol == 'disent':
                splits.append(('valid', 'flat'))
            for name, layout in splits:
                bias = train_bias(protocol, sev, pools[name].labels, rng)
                out = tmp if name == 'train' else os.path.join(tmp, 'valid')
                meta[name] = _write_colored(out, pools[name], bias, color_std,
                                            rng, layout)
            write_meta(tmp, meta)
        written[final] = meta
    if need_test:
        rng = _rng(seed, 2)
        with atomic_dir(test_dir) as tmp:
            labels = pools['test'].labels
            bias = (lff_bias_labels(labels, LFF_TEST_ALIGNED_RATIO)
                    if protocol == 'lff' else assign_uniform_bias(
                        labels, 10, rng))
            meta = dict(params, generator='ColoredMNIST')
            meta['test'] = _write_colored(tmp, pools['test'], bias, color_std,
                                          rng, 'classes')
            write_meta(tmp, meta)
        written[test_dir] = meta
    return written


@DATASETS.register_module()
class ColoredMNIST(BiasFolderDataset):
    """Colored MNIST with foreground colours (LfF, DisEnt, BiasEnsemble).

    Reads ``{data_root}/{severity}/{align,conflict}/<c>/`` (train),
    ``{data_root}/{severity}/valid/`` and ``{data_root}/test/<c>/``; a
    missing folder is generated from the MNIST IDX files in ``mnist_root``
    (on rank 0 only, atomically). An existing layout (generated, or the
    DisEnt/BiasEnsemble release) needs no ``mnist_root``.

    Args:
        data_root: Root of the layout, e.g. ``'data/cmnist'``.
        severity: Conflicting ratio of train and valid: '0.5pct', '1pct',
            '2pct' or '5pct'.
        split: 'train', 'valid' (biased like train) or 'test' (unbiased).
        mnist_root: Folder with the MNIST IDX files (full MNIST, or only the
            ``t10k`` files, then split by ``seed``); only needed to generate.
        download: Fetch MNIST with torchvision into ``mnist_root`` if missing
            (needs internet).
        seed: Seed of the generation (valid hold-out, bias assignment,
            colour jitter).
        color_std: Std of the per-sample colour jitter (LfF severity 4:
            0.005).
        valid_size: MNIST training digits held out as valid (full MNIST,
            ``protocol='disent'``).
        split_fractions: Train/valid/test fractions of a t10k-only source
            (the valid part is unused under ``protocol='lff'``).
        protocol: ``'disent'`` (the DisEnt/BiasEnsemble release, default)
            or ``'lff'`` (LfF's generator: no valid split); see
            :data:`PROTOCOLS` and the module docstring.
        **kwargs: Passed to :class:`BiasFolderDataset`.
    """

    SEVERITIES = tuple(SEVERITY_RATIOS)
    METAINFO = dict(
        classes=DIGIT_CLASSES,
        bias_attribute='color',
        bias_classes=LFF_COLOR_NAMES,
        aligned_bias=tuple(range(10)))

    def __init__(self,
                 data_root: str = 'data/cmnist',
                 severity: str = '1pct',
                 split: str = 'train',
                 mnist_root: Optional[str] = None,
                 download: bool = False,
                 seed: int = 0,
                 color_std: float = DEFAULT_COLOR_STD,
                 valid_size: int = DEFAULT_VALID_SIZE,
                 split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
                 protocol: str = 'disent',
                 **kwargs) -> None:
        check_protocol(protocol)
        if protocol == 'lff' and split == 'valid':
            raise DatasetError(
                'ColoredMNIST(protocol="lff"): LfF\'s protocol has no '
                'validation split (it evaluates on the MNIST test digits '
                'only, our "test"); evaluate split="test" only (configs/'
                '_base_/datasets/cmnist_lff.py does) or use '
                'protocol="disent".')
        self.protocol = protocol
        self.mnist_root = mnist_root
        self.download = download
        self.seed = seed
        self.color_std = color_std
        self.valid_size = valid_size
        self.split_fractions = tuple(split_fractions)
        super().__init__(
            data_root=data_root, severity=severity, split=split, **kwargs)

    def generate_hint(self) -> str:
        mnist = self.mnist_root or 'data/mnist'
        return ('Generate it with: python tools/data/prepare_data.py cmnist '
                f'--mnist-root {mnist} --out {self.layout_root} --severities '
                f'{self.severity or "1pct"} --seed {self.seed} --protocol '
                f'{self.protocol} (see docs/data_preparation.md), or pass '
                'mnist_root to '
                f'{type(self).__name__} to generate it on first use.')

    def _folder(self) -> str:
        if self.split == 'test':
            return os.path.join(self.layout_root, 'test')
        return os.path.join(self.layout_root, self.severity)

    def prepare_layout(self) -> None:
        source = source_kind(self.mnist_root) if self.mnist_root else None
        params = colored_mnist_params(self.seed, self.color_std, source,
                                      self.valid_size, self.split_fractions,
                                      self.protocol)
        if not self.split_ready():
            missing = next(d for d, _ in split_dirs(
                self.layout_root, self.split, self.severity)
                           if not os.path.isdir(d))
            if os.path.isdir(self._folder()):
                raise DatasetError(
                    f'{self._where()}: "{self._folder()}" exists but has no '
                    f'"{os.path.relpath(missing, self._folder())}" folder: it '
                    'is incomplete or not a Colored MNIST layout. Delete it '
                    'to regenerate it. ' + self.generate_hint())
            needed_by = (f'{self._where()}: "{missing}" does not exist; '
                         'generating it')

            def generate() -> None:
                generate_colored_mnist(
                    self.layout_root,
                    self.mnist_root,
                    [] if self.split == 'test' else [self.severity],
                    seed=self.seed,
                    color_std=self.color_std,
                    valid_size=self.valid_size,
                    split_fractions=self.split_fractions,
                    download=self.download,
                    needed_by=needed_by,
                    protocol=self.protocol)

            def missing_error() -> DatasetError:
                return DatasetError(
                    f'{self._where()}: directory "{missing}" does not exist '
                    f'after rank 0 generated the data (is {self.layout_root} '
                    f'on a shared file system?). {self.generate_hint()}')

            run_on_rank0(self.split_ready, generate, missing_error)
        check_meta(self._folder(), params, type(self).__name__,
                   required=('protocol', ))
