"""Waterbirds (Sagawa et al., ICLR 2020): CUB birds pasted on Places
backgrounds; target = bird type, bias = background.

Two layouts (``layout=``):

``'metadata'`` (default), the standard release
``waterbird_complete95_forest2water2`` (Group DRO)::

    {data_root}/metadata.csv   img_id,img_filename,y,split,place,place_filename
    {data_root}/<species dir>/<file>.jpg       (img_filename, relative)

  ``y``: 0 landbird, 1 waterbird; ``place``: 0 land, 1 water; ``split``: 0
  train, 1 val (our 'valid'), 2 test. A sample is bias-aligned when
  ``y == place`` (JTT calls the others "spurious"/minority).

``'folder'``, a BiasEnsemble-style image folder, if you have one::

    {data_root}/{severity}/align/<c>/*_{target}_{bias}.{ext}
    {data_root}/{severity}/conflict/<c>/*_{target}_{bias}.{ext}
    {data_root}/{severity}/valid/*_{target}_{bias}.{ext}
    {data_root}/test/<c>/*_{target}_{bias}.{ext}

Bias severities (IE, CVPR 2024). IE trains on Waterbirds with 0.5/1/2/5 %
bias-conflicting train samples, but its variant is not public (likely from
Lee et al. 2022, "Improving Evaluation of Debiasing in Image
Classification"; unverified). With the metadata layout we build it
ourselves, *deterministically* from the standard train split: all aligned
train samples are kept and the conflicting ones are subsampled to

    n_conflict = round(r * n_aligned / (1 - r))      (halves rounded up)

so that they are a fraction ``r`` of the new train set (IE's definition of
bias severity: "a ratio of BC samples to the total training samples"). The
kept conflicting samples are split over the two classes in proportion to
their counts in the standard split (largest remainder; ties to the lower
class) and drawn within each class with ``numpy.random.default_rng(
data_seed)``. The valid and test splits are never subsampled.

With the standard release (train: 3,498 landbirds on land, 184 on water,
56 waterbirds on land, 1,057 on water; 4,555 aligned and 240 conflicting,
i.e. already 5.0 %) this gives

=========  ==========  ========================  =====
severity   conflicting  (landbird on water,      train
                        waterbird on land)
=========  ==========  ========================  =====
0.5pct     23           (18, 5)                  4,578
1pct       46           (35, 11)                 4,601
2pct       93           (71, 22)                 4,648
5pct       240          (184, 56) = all          4,795
=========  ==========  ========================  =====

``severity=None`` reads the standard train split unchanged. The standard
test split (5,794 images: 4,510 landbirds, 1,284 waterbirds, balanced over
places within each class) differs from the class counts IE reports
(4,600 / 1,194); IE's metric, the mean of the per-class accuracies
(``balanced_acc``), is insensitive to the class counts.
"""
import csv
import math
import os
from fractions import Fraction
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from debiascls.registry import DATASETS
from .base_dataset import BaseBiasDataset, DatasetError
from .bias_folder import BiasFolderDataset

#: IE's bias severities (share of conflicting samples in the train split).
WATERBIRDS_SEVERITIES = ('0.5pct', '1pct', '2pct', '5pct')
#: The ``split`` column of ``metadata.csv``.
METADATA_SPLITS = {'train': 0, 'valid': 1, 'test': 2}
#: Columns of ``metadata.csv`` that are read.
METADATA_COLUMNS = ('img_filename', 'y', 'split', 'place')
LAYOUTS = ('metadata', 'folder')
RELEASE_URL = ('https://nlp.stanford.edu/data/dro/'
               'waterbird_complete95_forest2water2.tar.gz')


def severity_ratio(severity: str) -> Fraction:
    """``'0.5pct'`` -> 1/200, exactly."""
    return Fraction(severity[:-len('pct')]) / 100


def conflicting_count(n_aligned: int, ratio: Fraction) -> int:
    """The number of conflicting samples that, with ``n_aligned`` aligned
    ones, make a fraction ``ratio`` of the set: ``round(r * n_a / (1 - r))``
    with halves rounded up (exact arithmetic)."""
    ratio = Fraction(ratio)
    if not 0 <= ratio < 1:
        raise ValueError(f'ratio={ratio} must be in [0, 1).')
    n = Fraction(n_aligned) * ratio / (1 - ratio)
    return math.floor(n + Fraction(1, 2))


def allocate(total: int, available: Sequence[int]) -> List[int]:
    """Split ``total`` over groups in proportion to ``available`` (largest
    remainder; ties go to the lower index). Never exceeds ``available``."""
    pool = sum(available)
    if total > pool:
        raise ValueError(f'cannot take {total} of {pool}.')
    if pool == 0:
        return [0] * len(available)
    quotas = [Fraction(total * a, pool) for a in available]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(available)),
                   key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[:total - sum(counts)]:
        counts[i] += 1
    return counts


@DATASETS.register_module()
class Waterbirds(BiasFolderDataset):
    """Waterbirds, from the standard ``metadata.csv`` release or a
    BiasEnsemble-style folder, with IE's bias severities (see the module
    docstring for both layouts and the subsampling).

    Args:
        data_root: ``'data/waterbird_complete95_forest2water2'`` (metadata
            layout) or the folder root (folder layout).
        severity: ``'0.5pct'``, ``'1pct'``, ``'2pct'`` or ``'5pct'``. With
            the metadata layout it subsamples the train split (valid and test
            ignore it) and None means the standard train split; the folder
            layout needs it for train and valid, like
            :class:`BiasFolderDataset`.
        split: ``'train'``, ``'valid'`` or ``'test'``.
        layout: ``'metadata'`` or ``'folder'``.
        data_seed: Seed of the subsampling of the conflicting train samples
            (metadata layout with a severity); the result depends on nothing
            else.
        metainfo: Overrides :attr:`METAINFO`.
        verify_files: Check every image file (missing, empty, truncated PNG)
            when the dataset is built.
        **kwargs: Passed to :class:`BaseBiasDataset`.

    Attributes:
        subsample_counts: With the metadata layout and a severity, on the
            train split: ``aligned``, ``conflicting_available``,
            ``conflicting`` and ``conflicting_per_class``; else None.
    """

    METAINFO = dict(
        classes=('landbird', 'waterbird'),
        bias_attribute='place',
        bias_classes=('land', 'water'),
        aligned_bias=(0, 1))
    SEVERITIES = WATERBIRDS_SEVERITIES

    def __init__(self,
                 data_root: str = '',
                 severity: Optional[str] = None,
                 split: str = 'train',
                 layout: str = 'metadata',
                 data_seed: int = 0,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 verify_files: bool = True,
                 **kwargs) -> None:
        name = type(self).__name__
        if layout not in LAYOUTS:
            raise ValueError(f'{name}: layout="{layout}" is not one of '
                             f'{LAYOUTS}.')
        if isinstance(data_seed, bool) or not isinstance(
                data_seed, (int, np.integer)) or data_seed < 0:
            raise ValueError(f'{name}: data_seed={data_seed!r} must be a '
                             'non-negative integer.')
        self.layout = layout
        self.data_seed = int(data_seed)
        self.subsample_counts: Optional[Dict[str, object]] = None
        if layout == 'folder':
            super().__init__(
                data_root=data_root,
                severity=severity,
                split=split,
                metainfo=metainfo,
                pipeline=pipeline,
                verify_files=verify_files,
                **kwargs)
            return
        if split not in self.SPLITS:
            raise ValueError(f'{name}: split="{split}" is not one of '
                             f'{self.SPLITS}.')
        if severity is not None and severity not in self.SEVERITIES:
            raise ValueError(f'{name}: severity="{severity}" is not one of '
                             f'{self.SEVERITIES} (or None: the standard '
                             'train split).')
        self.severity = severity
        self.verify_files = verify_files
        BaseBiasDataset.__init__(
            self,
            data_root=data_root,
            split=split,
            metainfo=metainfo,
            pipeline=pipeline,
            **kwargs)

    # ------------------------------------------------------------------ #
    def _where(self) -> str:
        sev = ''
        if self.severity is not None and (self.split == 'train'
                                          or self.layout == 'folder'):
            sev = f', severity "{self.severity}"'
        return (f'{type(self).__name__} ({self.split} split{sev}, '
                f'{self.layout} layout)')

    def generate_hint(self) -> str:
        root = self.data_root
        if self.layout == 'metadata':
            return (f'Download {RELEASE_URL} (the standard Waterbirds '
                    'release of kohpangwei/group_DRO) and unpack it so that '
                    f'"{os.path.join(root, "metadata.csv")}" and the '
                    'species folders it lists (e.g. '
                    f'"{os.path.join(root, "001.Black_footed_Albatross")}/") '
                    'exist, or set data_root to the unpacked '
                    'waterbird_complete95_forest2water2 folder (see '
                    'docs/data_preparation.md, Waterbirds).')
        sev = self.severity or '1pct'
        return ('Put a BiasEnsemble-style Waterbirds folder so that '
                f'"{os.path.join(root, sev, "align")}/<c>/", '
                f'"{os.path.join(root, sev, "conflict")}/<c>/", '
                f'"{os.path.join(root, sev, "valid")}/" and '
                f'"{os.path.join(root, "test")}/<c>/" hold the images, or '
                "use layout='metadata' with the standard release (see "
                'docs/data_preparation.md, Waterbirds).')

    def split_ready(self) -> bool:
        if self.layout == 'folder':
            return super().split_ready()
        return os.path.isfile(os.path.join(self.data_root, 'metadata.csv'))

    # ------------------------------------------------------------------ #
    def load_data_list(self) -> List[dict]:
        if self.layout == 'folder':
            return super().load_data_list()
        if not os.path.isdir(self.data_root):
            raise DatasetError(f'{self._where()}: data_root '
                               f'"{self.data_root}" does not exist. '
                               f'{self.generate_hint()}')
        rows = self._read_metadata()
        wanted = METADATA_SPLITS[self.split]
        data_list = [
            dict(
                img_path=os.path.join(self.data_root, filename),
                gt_label=y,
                bias_label=place) for filename, y, split, place in rows
            if split == wanted
        ]
        data_list.sort(key=lambda d: d['img_path'])
        if self.split == 'train' and self.severity is not None:
            data_list = self._subsample(data_list)
        if self.verify_files:
            self._verify([d['img_path'] for d in data_list])
        return data_list

    def _read_metadata(self) -> List[Tuple[str, int, int, int]]:
        """``(img_filename, y, split, place)`` of every row, checked."""
        path = os.path.join(self.data_root, 'metadata.csv')
        if not os.path.isfile(path):
            raise DatasetError(f'{self._where()}: "{path}" does not exist. '
                               f'{self.generate_hint()}')
        with open(path, newline='') as f:
            reader = csv.DictReader(f)
            missing = [c for c in METADATA_COLUMNS
                       if c not in (reader.fieldnames or ())]
            if missing:
                raise DatasetError(
                    f'{self._where()}: "{path}" has no column(s) '
                    f'{", ".join(missing)}; the header must be '
                    'img_id,img_filename,y,split,place,place_filename (the '
                    'standard release). Restore the file. '
                    f'{self.generate_hint()}')
            allowed = dict(y=(0, 1), split=tuple(METADATA_SPLITS.values()),
                           place=(0, 1))
            rows = []
            for line, row in enumerate(reader, start=2):
                values = {}
                for key, ok in allowed.items():
                    raw = (row.get(key) or '').strip()
                    try:
                        value = int(float(raw))
                        if value != float(raw):
                            raise ValueError
                    except ValueError:
                        value = None
                    if value not in ok:
                        raise DatasetError(
                            f'{self._where()}: line {line} of "{path}" has '
                            f'{key}={raw!r}, which is not one of {ok}. Fix '
                            'or restore the file.')
                    values[key] = value
                filename = (row.get('img_filename') or '').strip()
                if not filename:
                    raise DatasetError(
                        f'{self._where()}: line {line} of "{path}" has no '
                        'img_filename. Fix or restore the file.')
                rows.append((filename, values['y'], values['split'],
                             values['place']))
        return rows

    def _subsample(self, data_list: List[dict]) -> List[dict]:
        """Keep every aligned sample and ``conflicting_count(n_aligned, r)``
        conflicting ones, stratified by class and drawn with ``data_seed``.
        """
        aligned_of = np.asarray(self.metainfo['aligned_bias'])
        conflicting = [
            i for i, d in enumerate(data_list)
            if d['bias_label'] != aligned_of[d['gt_label']]
        ]
        n_aligned = len(data_list) - len(conflicting)
        ratio = severity_ratio(self.severity)
        wanted = conflicting_count(n_aligned, ratio)
        if wanted > len(conflicting):
            raise DatasetError(
                f'{self._where()}: severity "{self.severity}" needs {wanted} '
                f'bias-conflicting train samples next to the {n_aligned} '
                f'aligned ones, but "{self.data_root}/metadata.csv" has only '
                f'{len(conflicting)} (y != place). Use a lower severity or '
                'the standard split (severity=None).')
        num_classes = len(self.metainfo['classes'])
        groups = [[i for i in conflicting if data_list[i]['gt_label'] == c]
                  for c in range(num_classes)]
        counts = allocate(wanted, [len(g) for g in groups])
        rng = np.random.default_rng(self.data_seed)
        keep = set(i for i, d in enumerate(data_list)
                   if d['bias_label'] == aligned_of[d['gt_label']])
        for group, count in zip(groups, counts):
            picked = rng.choice(len(group), size=count, replace=False)
            keep.update(group[j] for j in picked)
        self.subsample_counts = dict(
            aligned=n_aligned,
            conflicting_available=len(conflicting),
            conflicting=wanted,
            conflicting_per_class=tuple(counts))
        return [d for i, d in enumerate(data_list) if i in keep]
