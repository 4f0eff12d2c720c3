"""Colored MNIST (LfF / DisEnt / BiasEnsemble): the digit strokes are coloured,
one of 10 colours per class for the bias-aligned samples.

The data lives in the DisEnt/BiasEnsemble folder layout (see
:mod:`debiascls.datasets.bias_folder`) and is generated from MNIST IDX files
on first use (or with ``tools/data/prepare_data.py cmnist``).
"""
import os
import zlib
from typing import Dict, Iterable, Optional, Sequence

import numpy as np

from debiascls.registry import DATASETS
from .base_dataset import DatasetError
from .bias_folder import BiasFolderDataset, format_name, split_dirs
from .color_bias import (LFF_COLOR_NAMES, LFF_COLOR_STD, SEVERITY_RATIOS,
                         assign_bias, assign_uniform_bias, colorize_foreground)
from .generation import (atomic_dir, check_meta, run_on_rank0, write_meta,
                         write_pngs)
from .mnist_source import (DEFAULT_SPLIT_FRACTIONS, DEFAULT_VALID_SIZE,
                           DigitSplit, load_mnist_splits, source_kind)

DIGIT_CLASSES = tuple(str(i) for i in range(10))
#: LfF's published setting (severity 4).
DEFAULT_COLOR_STD = LFF_COLOR_STD[4]


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
    images = colorize_foreground(split.images, bias, color_std, rng)
    write_split_folder(folder, images, split.labels, bias, layout)
    return split_counts(split.labels, bias)


def colored_mnist_params(seed: int, color_std: float, source: Optional[str],
                         valid_size: int,
                         split_fractions: Sequence[float]) -> dict:
    """The generation parameters recorded in (and checked against) the
    ``meta.json`` of each generated folder."""
    params = dict(seed=int(seed), color_std=float(color_std))
    if source is not None:
        params['source'] = source
    if source in (None, 'train+t10k'):
        params['valid_size'] = int(valid_size)
    if source in (None, 't10k'):
        params['split_fractions'] = [float(f) for f in split_fractions]
    return params


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
        needed_by: str = 'ColoredMNIST') -> Dict[str, dict]:
    """Write the missing ``{severity}/`` folders (and ``test/``) of a Colored
    MNIST layout under ``data_root``; existing folders are kept (after
    checking they were generated with the same parameters).

    Train and valid use the severity's conflicting ratio (exactly
    ``round(ratio * n_c)`` conflicting samples per class, their colour
    balanced over the 9 other colours); test colours are balanced over all
    10 colours within each class. Each folder is written to a temporary
    directory and renamed when complete.

    Returns:
        ``{folder: meta}`` of the folders written now.
    """
    severities = list(severities)
    for sev in severities:
        if sev not in SEVERITY_RATIOS:
            raise ValueError(f'Unknown Colored MNIST severity "{sev}"; use '
                             f'{tuple(SEVERITY_RATIOS)}.')
    todo = [s for s in severities
            if not os.path.isdir(os.path.join(data_root, s))]
    test_dir = os.path.join(data_root, 'test')
    need_test = with_test and not os.path.isdir(test_dir)
    if not todo and not need_test:
        # nothing to write, but still refuse folders generated otherwise
        params = colored_mnist_params(seed, color_std, source_kind(mnist_root),
                                      valid_size, split_fractions)
        for existing in [os.path.join(data_root, s) for s in severities
                         ] + [test_dir]:
            check_meta(existing, params, needed_by)
        return {}
    pools = load_mnist_splits(mnist_root, seed, valid_size, split_fractions,
                              download, needed_by)
    source = source_kind(mnist_root)
    params = colored_mnist_params(seed, color_std, source, valid_size,
                                  split_fractions)
    for existing in [os.path.join(data_root, s) for s in severities
                     if s not in todo] + ([] if need_test else [test_dir]):
        check_meta(existing, params, needed_by)
    written = {}
    for sev in todo:
        ratio = SEVERITY_RATIOS[sev]
        rng = _rng(seed, 1, severity_key(sev))
        final = os.path.join(data_root, sev)
        with atomic_dir(final) as tmp:
            meta = dict(params, generator='ColoredMNIST', severity=sev,
                        conflict_ratio=ratio)
            for name, layout in (('train', 'align_conflict'),
                                 ('valid', 'flat')):
                bias = assign_bias(pools[name].labels, ratio, 10, rng)
                out = tmp if name == 'train' else os.path.join(tmp, 'valid')
                meta[name] = _write_colored(out, pools[name], bias, color_std,
                                            rng, layout)
            write_meta(tmp, meta)
        written[final] = meta
    if need_test:
        rng = _rng(seed, 2)
        with atomic_dir(test_dir) as tmp:
            bias = assign_uniform_bias(pools['test'].labels, 10, rng)
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
        valid_size: MNIST training digits held out as valid (full MNIST).
        split_fractions: Train/valid/test fractions of a t10k-only source.
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
                 **kwargs) -> None:
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
                f'{self.severity or "1pct"} --seed {self.seed} (see '
                'docs/data_preparation.md), or pass mnist_root to '
                f'{type(self).__name__} to generate it on first use.')

    def _folder(self) -> str:
        if self.split == 'test':
            return os.path.join(self.layout_root, 'test')
        return os.path.join(self.layout_root, self.severity)

    def prepare_layout(self) -> None:
        source = source_kind(self.mnist_root) if self.mnist_root else None
        params = colored_mnist_params(self.seed, self.color_std, source,
                                      self.valid_size, self.split_fractions)
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
                    needed_by=needed_by)

            def missing_error() -> DatasetError:
                return DatasetError(
                    f'{self._where()}: directory "{missing}" does not exist '
                    f'after rank 0 generated the data (is {self.layout_root} '
                    f'on a shared file system?). {self.generate_hint()}')

            run_on_rank0(self.split_ready, generate, missing_error)
        check_meta(self._folder(), params, type(self).__name__)
