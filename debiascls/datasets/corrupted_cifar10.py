"""Corrupted CIFAR-10 (LfF protocol; used by LfF, DisEnt and CosFairNet):
the CIFAR-10 object is the target, the corruption (one of ten) the bias.

Read from the DisEnt folder layout, so an unpacked DisEnt ``cifar10c``
release is a valid ``data_root``::

    {data_root}/{severity}/align/<c>/*_{target}_{bias}.png      train
    {data_root}/{severity}/conflict/<c>/*_{target}_{bias}.png   train
    {data_root}/{severity}/valid/*/*_{target}_{bias}.png        valid (nested)
    {data_root}/test/<c>/*_{target}_{bias}.png                  test

A missing folder is generated from the CIFAR-10 python batches
(:mod:`.cifar_source`) with the corruptions of :mod:`.corruptions`:

- corruption lists (bias label b = position in the list): type 0 = Snow,
  Frost, Fog, Brightness, Contrast, Spatter, Elastic, JPEG, Pixelate,
  Saturate; type 1 = Gaussian Noise, Shot Noise, Impulse Noise, Speckle
  Noise, Gaussian Blur, Defocus Blur, Glass Blur, Motion Blur, Zoom Blur,
  Original (LfF ``make_dataset.py``); any 10 names of
  :data:`~debiascls.datasets.corruptions.CORRUPTIONS` may be given instead;
- ``level``: Hendrycks' level 1..5; default 5, which is what LfF's published
  ``Severity4`` folders use (LfF calls level ``s + 1`` for ``Severity{s}``);
- splits: LfF has only train (the 50,000 training images) and an unbiased
  evaluation split (the 10,000 test images). The DisEnt layout needs a valid
  split per severity, so we hold out ``valid_size`` (5,000) training images
  chosen by ``seed``; train = the other 45,000. Both are biased with the
  severity's conflicting ratio ``r`` (0.5/1/2/5 %); test = the CIFAR-10 test
  images with LfF's evaluation assignment (aligned ratio 0.1, i.e. each
  class spread evenly over the ten corruptions);
- bias assignment: LfF's deterministic, order-based ``make_attr_labels``
  (:func:`lff_bias_labels`): within each class, in the order of the pool, the
  first samples take corruptions ``0 .. c-1``, then an aligned block, then
  ``c+1 .. 9``, with counts rounded from cumulative sums (aligned ratio
  ``1 - r``, ``r / 9`` for each other corruption);
- randomness: the corruption of image ``i`` (index in the CIFAR-10 train or
  test batches) with corruption ``b`` draws from its own generator seeded by
  ``(seed, part, i, b)``, so an image gets the same pixels whichever
  severity or split it lands in.

Images are written as ``{i:05d}_{target}_{bias}.png`` (``i`` = position in
the split); ``valid/`` holds class sub-folders ``valid/<c>/`` (read like
DisEnt's ``valid/*/*``). Each generated folder has a ``meta.json``.
"""
import os
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np

from debiascls.registry import DATASETS
from debiascls.utils.fileio import atomic_dir
from .base_dataset import DatasetError
from .bias_folder import BiasFolderDataset, split_dirs
from .cifar_source import CIFAR10_CLASSES, ImageSplit, load_cifar10
from .color_bias import SEVERITY_RATIOS, lff_bias_labels
from .colored_mnist import split_counts, write_split_folder
from .corruptions import CORRUPTION_TYPES, CORRUPTIONS, LEVELS, corrupt
from .generation import check_meta, run_on_rank0, write_meta

#: The severities of the DisEnt release (conflicting ratio of train/valid).
CIFAR10C_SEVERITIES = tuple(SEVERITY_RATIOS)
#: LfF's published setting: folder ``Severity4`` = corruption level 5.
DEFAULT_LEVEL = 5
#: CIFAR-10 training images held out as the valid split.
DEFAULT_VALID_SIZE = 5000
#: LfF's aligned ratio of its evaluation split (uniform over corruptions).
TEST_ALIGNED_RATIO = 0.1
#: Version tag of the procedural frost textures (recorded in meta.json).
FROST_TEXTURES = 'procedural-v1'

CorruptionType = Union[int, Sequence[str]]


def corruption_names(corruption_type: CorruptionType) -> Tuple[str, ...]:
    """The 10 corruption names of ``corruption_type`` (0, 1 or a list)."""
    if isinstance(corruption_type, (int, np.integer)) and not isinstance(
            corruption_type, bool):
        if int(corruption_type) not in CORRUPTION_TYPES:
            raise ValueError(f'corruption_type={corruption_type} must be 0, 1 '
                             'or a list of 10 corruption names.')
        return CORRUPTION_TYPES[int(corruption_type)]
    if isinstance(corruption_type, str):
        raise ValueError(f'corruption_type="{corruption_type}" must be 0, 1 '
                         'or a list of 10 corruption names.')
    names = tuple(corruption_type)
    unknown = [n for n in names if n not in CORRUPTIONS]
    if len(names) != 10 or len(set(names)) != 10 or unknown:
        raise ValueError(
            f'corruption_type={list(names)} must be 10 distinct names of '
            f'{tuple(CORRUPTIONS)}' +
            (f' (unknown: {unknown})' if unknown else '') + '.')
    return names


def cifar10c_params(seed: int, names: Sequence[str], level: int,
                    valid_size: int) -> dict:
    """The generation parameters recorded in (and checked against)
    ``meta.json``."""
    return dict(seed=int(seed), corruptions=list(names), level=int(level),
                valid_size=int(valid_size), frost=FROST_TEXTURES)


def _check_level(level, name: str) -> int:
    if isinstance(level, bool) or level not in LEVELS:
        raise ValueError(f'{name}: level={level!r} must be one of {LEVELS} '
                         "(LfF's Severity{s} folders use level s + 1; its "
                         'published Severity4 is level 5).')
    return int(level)


def corrupt_split(images: np.ndarray, sources: np.ndarray, biases: np.ndarray,
                  names: Sequence[str], level: int, seed: int,
                  part: int) -> np.ndarray:
    """Corrupt ``images[k]`` with ``names[biases[k]]``; the randomness of
    each comes from ``(seed, part, sources[k], biases[k])``."""
    out = np.empty_like(images)
    for k in range(len(images)):
        b = int(biases[k])
        rng = np.random.default_rng(
            np.random.SeedSequence([seed, part, int(sources[k]), b]))
        out[k] = corrupt(images[k], names[b], level, rng)
    return out


def _holdout(n: int, valid_size: int, seed: int) -> Tuple[np.ndarray,
                                                         np.ndarray]:
    if not 0 <= valid_size < n:
        raise ValueError(f'valid_size={valid_size} must be in [0, {n}) (the '
                         'CIFAR-10 training images).')
    order = np.random.default_rng(np.random.SeedSequence(
        [seed, 0x43494641])).permutation(n)
    return np.sort(order[valid_size:]), np.sort(order[:valid_size])


def generate_corrupted_cifar10(
        data_root: str,
        cifar_root: Optional[str],
        severities: Iterable[str] = CIFAR10C_SEVERITIES,
        corruption_type: CorruptionType = 0,
        level: int = DEFAULT_LEVEL,
        seed: int = 0,
        valid_size: int = DEFAULT_VALID_SIZE,
        download: bool = False,
        with_test: bool = True,
        needed_by: str = 'CorruptedCIFAR10') -> Dict[str, dict]:
    """Write the missing ``{severity}/`` folders (and ``test/``) of a
    Corrupted CIFAR-10 layout under ``data_root`` (see the module
    docstring); existing folders are kept after checking their
    ``meta.json``. Each folder is written atomically.

    Returns:
        ``{folder: meta}`` of the folders written now.
    """
    names = corruption_names(corruption_type)
    level = _check_level(level, 'generate_corrupted_cifar10')
    severities = list(severities)
    for sev in severities:
        if sev not in SEVERITY_RATIOS:
            raise ValueError(f'Unknown Corrupted CIFAR-10 severity "{sev}"; '
                             f'use {CIFAR10C_SEVERITIES}.')
    params = cifar10c_params(seed, names, level, valid_size)
    todo = [s for s in severities
            if not os.path.isdir(os.path.join(data_root, s))]
    test_dir = os.path.join(data_root, 'test')
    need_test = with_test and not os.path.isdir(test_dir)
    existing = [os.path.join(data_root, s) for s in severities
                if s not in todo] + ([] if need_test else [test_dir])
    for folder in existing:
        check_meta(folder, params, needed_by)
    if not todo and not need_test:
        return {}
    cifar = load_cifar10(cifar_root, download, needed_by)
    train_idx, valid_idx = _holdout(len(cifar['train']), valid_size, seed)
    pools: Dict[str, Tuple[ImageSplit, np.ndarray, int]] = {
        'train': (cifar['train'], train_idx, 0),
        'valid': (cifar['train'], valid_idx, 0),
        'test': (cifar['test'], np.arange(len(cifar['test'])), 1),
    }
    written = {}

    def write(folder, split, aligned_ratio, layout, meta):
        source, idx, part = pools[split]
        labels = source.labels[idx]
        bias = lff_bias_labels(labels, aligned_ratio)
        images = corrupt_split(source.images[idx], idx, bias, names, level,
                               seed, part)
        write_split_folder(folder, images, labels, bias, layout)
        meta[split] = split_counts(labels, bias)

    for sev in todo:
        ratio = SEVERITY_RATIOS[sev]
        final = os.path.join(data_root, sev)
        with atomic_dir(final) as tmp:
            meta = dict(params, generator='CorruptedCIFAR10', severity=sev,
                        conflict_ratio=ratio)
            write(tmp, 'train', 1 - ratio, 'align_conflict', meta)
            write(os.path.join(tmp, 'valid'), 'valid', 1 - ratio, 'classes',
                  meta)
            write_meta(tmp, meta)
        written[final] = meta
    if need_test:
        with atomic_dir(test_dir) as tmp:
            # the test images do not depend on the valid hold-out
            meta = {k: v for k, v in params.items() if k != 'valid_size'}
            meta.update(generator='CorruptedCIFAR10',
                        aligned_ratio=TEST_ALIGNED_RATIO)
            write(tmp, 'test', TEST_ALIGNED_RATIO, 'classes', meta)
            write_meta(tmp, meta)
        written[test_dir] = meta
    return written


@DATASETS.register_module()
class CorruptedCIFAR10(BiasFolderDataset):
    """Corrupted CIFAR-10 in the DisEnt folder layout (see the module
    docstring), generated from the CIFAR-10 python batches in ``cifar_root``
    on first use (rank 0 only, atomically). An existing layout, generated or
    DisEnt's release, needs no ``cifar_root``.

    Args:
        data_root: Root of the layout, e.g. ``'data/cifar10c'``.
        severity: Conflicting ratio of train and valid: ``'0.5pct'``,
            ``'1pct'``, ``'2pct'`` or ``'5pct'``.
        split: ``'train'``, ``'valid'`` (biased like train) or ``'test'``
            (corruptions uniform within each class).
        corruption_type: 0 or 1 (LfF's two lists), or 10 corruption names.
        cifar_root: Folder holding ``cifar-10-batches-py/`` (or that folder);
            only needed to generate.
        level: Corruption level 1..5 (default 5 = LfF's ``Severity4``).
        seed: Seed of the valid hold-out and of the corruptions.
        valid_size: CIFAR-10 training images held out as valid.
        download: Fetch CIFAR-10 with torchvision first (needs internet).
        **kwargs: Passed to :class:`BiasFolderDataset` (``pipeline``,
            ``metainfo``, ``label_noise``, ...).
    """

    SEVERITIES = CIFAR10C_SEVERITIES
    METAINFO = dict(
        classes=CIFAR10_CLASSES,
        bias_attribute='corruption',
        bias_classes=CORRUPTION_TYPES[0],
        aligned_bias=tuple(range(10)))

    def __init__(self,
                 data_root: str = 'data/cifar10c',
                 severity: str = '1pct',
                 split: str = 'train',
                 corruption_type: CorruptionType = 0,
                 cifar_root: Optional[str] = None,
                 level: int = DEFAULT_LEVEL,
                 seed: int = 0,
                 valid_size: int = DEFAULT_VALID_SIZE,
                 download: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        try:
            self.corruptions = corruption_names(corruption_type)
        except ValueError as e:
            raise ValueError(f'{name}: {e}') from None
        self.corruption_type = corruption_type
        self.level = _check_level(level, name)
        self.cifar_root = cifar_root
        self.seed = seed
        self.valid_size = valid_size
        self.download = download
        metainfo = dict(dict(bias_classes=self.corruptions), **(metainfo or
                                                                {}))
        super().__init__(
            data_root=data_root, severity=severity, split=split,
            metainfo=metainfo, **kwargs)

    def generate_hint(self) -> str:
        cifar = self.cifar_root or 'data/cifar10'
        kind = (f'--type {self.corruption_type}' if isinstance(
            self.corruption_type, (int, np.integer)) else
                '--corruptions ' + ' '.join(
                    f'"{n}"' for n in self.corruptions))
        return ('Generate it with: python tools/data/prepare_data.py cifar10c '
                f'--cifar-root {cifar} --out {self.layout_root} --severities '
                f'{self.severity or "1pct"} {kind} --level {self.level} '
                f'--seed {self.seed} (see docs/data_preparation.md), or pass '
                f'cifar_root to {type(self).__name__} to generate it on first '
                'use; or unpack the DisEnt cifar10c release there.')

    def _folder(self) -> str:
        if self.split == 'test':
            return os.path.join(self.layout_root, 'test')
        return os.path.join(self.layout_root, self.severity)

    def prepare_layout(self) -> None:
        params = cifar10c_params(self.seed, self.corruptions, self.level,
                                 self.valid_size)
        if not self.split_ready():
            missing = next(d for d, _ in split_dirs(
                self.layout_root, self.split, self.severity)
                           if not os.path.isdir(d))
            if os.path.isdir(self._folder()):
                raise DatasetError(
                    f'{self._where()}: "{self._folder()}" exists but has no '
                    f'"{os.path.relpath(missing, self._folder())}" folder: it '
                    'is incomplete or not a Corrupted CIFAR-10 layout. Delete '
                    'it to regenerate it. ' + self.generate_hint())
            needed_by = (f'{self._where()}: "{missing}" does not exist; '
                         'generating it')

            def generate() -> None:
                generate_corrupted_cifar10(
                    self.layout_root, self.cifar_root,
                    [] if self.split == 'test' else [self.severity],
                    corruption_type=self.corruptions, level=self.level,
                    seed=self.seed, valid_size=self.valid_size,
                    download=self.download, needed_by=needed_by)

            def missing_error() -> DatasetError:
                return DatasetError(
                    f'{self._where()}: directory "{missing}" does not exist '
                    f'after rank 0 generated the data (is {self.layout_root} '
                    f'on a shared file system?). {self.generate_hint()}')

            run_on_rank0(self.split_ready, generate, missing_error)
        check_meta(self._folder(), params, type(self).__name__)
