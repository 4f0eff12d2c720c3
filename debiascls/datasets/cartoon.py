"""Cartoon Set (Royer et al. 2020; Google's ``cartoonset10k`` /
``cartoonset100k``) as PGD's controlled biased benchmark (Ahn et al.,
ICLR'22 submission, Section 6.1.1 and Appendix B.1): target = hair colour,
bias = face colour, each merged into 4 classes.

Layout of the release (images and attribute files side by side; the 100k
set is split into sub-folders ``0/`` .. ``9/``, both are read)::

    {data_root}/cs<hash>.png        500x500 RGBA cartoon
    {data_root}/cs<hash>.csv        one line per attribute:
                                    "attribute", variant index, num variants
    {data_root}/<k>/cs<hash>.png    (cartoonset100k)

The 18 attributes include ``hair_color`` (10 variants) and ``face_color``
(11 variants). PGD: "the size of each label is reduced from 9 to 4 and 10 to
4 by mapping 2 classes (similar colors) into 1 class (e.g., original classes
1, 2 are mapped to the new class 1)". The exact map is not given (nor the
palette); we merge consecutive variant indices pairwise: new class ``k`` =
variants ``2k`` and ``2k + 1`` for k = 0..3, and drop the other variants
(hair 8, 9; face 8, 9, 10) and the cartoons that have them. ``target_map``
/ ``bias_map`` (variant index -> new class, -1 = drop) change this. PNGs are
read with OpenCV, which drops the alpha channel (as PIL's ``convert('RGB')``
would).

Splits (PGD: "the major set whose two attributes are bonded was
subsampled ... set m are sampled among images following c_target !=
c_bias"; valid = 10 % of the biased training set; the test set holds both
M and m). Deterministically from ``data_seed``:

1. the kept cartoons, sorted by path, are shuffled; the first
   ``test_fraction`` (0.2) are the test split, unsubsampled (Cartoon Set's
   attributes are drawn independently, so about 1/4 of them are aligned);
2. in the rest, every aligned cartoon (new hair class == new face class) is
   kept and, per class ``c``, ``round(r * n_aligned_c / (1 - r))``
   conflicting cartoons of class ``c`` are drawn at random, so that they are
   a fraction ``r`` of the class (r = 0.005 / 0.01 / 0.05 for PGD's 99.5 /
   99 / 95 % settings);
3. those are shuffled and 10 % of them are the valid split, the rest train.

Only the loader: cartoons cannot be rendered here.
"""
import csv
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from debiascls.registry import DATASETS
from .base_dataset import BaseBiasDataset, DatasetError
from .transforms.loading import quick_file_check
from .waterbirds import conflicting_count, severity_ratio

#: PGD's minority ratios (bias ratios 99.5 / 99 / 95 %, and 90 %).
CARTOON_SEVERITIES = ('0.5pct', '1pct', '5pct', '10pct')
#: Variants of the two colour attributes in Cartoon Set v1.0.
HAIR_VARIANTS = 10
FACE_VARIANTS = 11
#: Default merge: consecutive pairs -> 4 classes, the rest dropped (-1).
DEFAULT_TARGET_MAP = (0, 0, 1, 1, 2, 2, 3, 3, -1, -1)
DEFAULT_BIAS_MAP = (0, 0, 1, 1, 2, 2, 3, 3, -1, -1, -1)
DEFAULT_TEST_FRACTION = 0.2
#: Valid share of the subsampled training set (PGD: 10 %).
VALID_FRACTION = 0.1
SPLITS = ('train', 'valid', 'test')
RELEASE_URL = 'https://google.github.io/cartoonset/download.html'


def read_cartoon_attributes(path: str) -> Dict[str, Tuple[int, int]]:
    """``{attribute: (variant, num_variants)}`` of a Cartoon Set csv file.

    Raises:
        DatasetError: A line is not ``"name", int, int`` with
            ``0 <= variant < num_variants``; names the file and line.
    """
    out = {}
    with open(path, newline='', encoding='utf-8') as f:
        for line, row in enumerate(csv.reader(f, skipinitialspace=True),
                                   start=1):
            if not row or not ''.join(row).strip():
                continue
            try:
                name, variant, total = row[0].strip(), int(row[1]), int(row[2])
                if len(row) != 3 or not 0 <= variant < total:
                    raise ValueError
            except (ValueError, IndexError):
                raise DatasetError(
                    f'Line {line} of "{path}" is {",".join(row)!r}; Cartoon '
                    'Set attribute files hold lines "attribute", variant, '
                    'number of variants (e.g. "hair_color", 3, 10). Restore '
                    'the file.') from None
            out[name] = (variant, total)
    return out


def _check_map(mapping, name: str, owner: str) -> Tuple[int, ...]:
    mapping = tuple(int(v) for v in mapping)
    used = sorted(set(v for v in mapping if v >= 0))
    if not used or used != list(range(len(used))) or min(mapping) < -1:
        raise ValueError(f'{owner}: {name}={mapping} must map each variant '
                         'index to a class 0..K-1 (every class used) or -1 '
                         '(dropped).')
    return mapping


@DATASETS.register_module()
class CartoonSet(BaseBiasDataset):
    """Cartoon Set with PGD's hair-colour / face-colour bias (see the module
    docstring for the layout, the class merge and the splits).

    Args:
        data_root: The unpacked ``cartoonset100k`` (or ``cartoonset10k``)
            folder.
        severity: ``'0.5pct'``, ``'1pct'``, ``'5pct'`` or ``'10pct'``
            (share of bias-conflicting cartoons of train and valid).
        split: ``'train'``, ``'valid'`` or ``'test'``.
        data_seed: Seed of the splits and of the subsampling.
        test_fraction: Share of the kept cartoons held out as test.
        target_attr / bias_attr: Attribute names (``'hair_color'`` /
            ``'face_color'``).
        target_map / bias_map: Variant index -> new class (-1 drops it).
        verify_files: Check every listed image file when built.
        **kwargs: Passed to :class:`BaseBiasDataset`.

    Attributes:
        split_counts: ``kept`` (cartoons with both labels kept), ``test``,
            ``aligned`` and ``conflicting`` (of train + valid), ``train``,
            ``valid``.
    """

    METAINFO = dict(
        classes=('hair 0-1', 'hair 2-3', 'hair 4-5', 'hair 6-7'),
        bias_attribute='face_color',
        bias_classes=('face 0-1', 'face 2-3', 'face 4-5', 'face 6-7'),
        aligned_bias=(0, 1, 2, 3))
    SEVERITIES = CARTOON_SEVERITIES

    def __init__(self,
                 data_root: str = 'data/cartoonset100k',
                 severity: str = '1pct',
                 split: str = 'train',
                 data_seed: int = 0,
                 test_fraction: float = DEFAULT_TEST_FRACTION,
                 target_attr: str = 'hair_color',
                 bias_attr: str = 'face_color',
                 target_map: Sequence[int] = DEFAULT_TARGET_MAP,
                 bias_map: Sequence[int] = DEFAULT_BIAS_MAP,
                 verify_files: bool = True,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        if split not in SPLITS:
            raise ValueError(f'{name}: split="{split}" is not one of '
                             f'{SPLITS}.')
        if severity not in self.SEVERITIES:
            raise ValueError(f'{name}: severity="{severity}" is not one of '
                             f'{self.SEVERITIES}.')
        if isinstance(data_seed, bool) or not isinstance(
                data_seed, (int, np.integer)) or data_seed < 0:
            raise ValueError(f'{name}: data_seed={data_seed!r} must be a '
                             'non-negative integer.')
        if not 0 < test_fraction < 1:
            raise ValueError(f'{name}: test_fraction={test_fraction} must be '
                             'in (0, 1).')
        self.severity = severity
        self.data_seed = int(data_seed)
        self.test_fraction = float(test_fraction)
        self.target_attr, self.bias_attr = target_attr, bias_attr
        self.target_map = _check_map(target_map, 'target_map', name)
        self.bias_map = _check_map(bias_map, 'bias_map', name)
        self.verify_files = verify_files
        self.split_counts: Optional[Dict[str, int]] = None
        if metainfo is None and (self.target_map != DEFAULT_TARGET_MAP
                                 or self.bias_map != DEFAULT_BIAS_MAP
                                 or target_attr != 'hair_color'
                                 or bias_attr != 'face_color'):
            metainfo = self._generic_metainfo()
        super().__init__(
            data_root=data_root, split=split, metainfo=metainfo, **kwargs)

    def _generic_metainfo(self) -> dict:
        def names(attr, mapping):
            groups = {}
            for variant, cls in enumerate(mapping):
                if cls >= 0:
                    groups.setdefault(cls, []).append(str(variant))
            return tuple(f'{attr} ' + '/'.join(groups[c])
                         for c in sorted(groups))

        num_classes = max(self.target_map) + 1
        if max(self.bias_map) + 1 < num_classes:
            raise ValueError(
                f'{type(self).__name__}: bias_map={self.bias_map} has fewer '
                f'classes than target_map={self.target_map}; class c is '
                'aligned with bias class c, so it needs at least as many.')
        return dict(classes=names(self.target_attr, self.target_map),
                    bias_attribute=self.bias_attr,
                    bias_classes=names(self.bias_attr, self.bias_map),
                    aligned_bias=tuple(range(num_classes)))

    # ------------------------------------------------------------------ #
    def _where(self) -> str:
        sev = f', severity "{self.severity}"' if self.split != 'test' else ''
        return f'{type(self).__name__} ({self.split} split{sev})'

    def generate_hint(self) -> str:
        return ('Download cartoonset100k.tgz (or cartoonset10k.tgz) from '
                f'{RELEASE_URL} and unpack it so that "{self.data_root}" '
                'holds the cs*.png images with their cs*.csv attribute files '
                '(directly or in sub-folders 0/ .. 9/); see '
                'docs/data_preparation.md, Cartoon Set.')

    def _list_pairs(self) -> List[Tuple[str, str]]:
        """``(png, csv)`` of every cartoon, sorted by path."""
        folders = [self.data_root]
        with os.scandir(self.data_root) as entries:
            folders += sorted(e.path for e in entries if e.is_dir())
        pairs = []
        for folder in folders:
            with os.scandir(folder) as entries:
                names = {e.name for e in entries if e.is_file()}
            for name in names:
                stem, ext = os.path.splitext(name)
                if ext.lower() == '.png' and name.startswith('cs'):
                    csv_name = stem + '.csv'
                    if csv_name not in names:
                        raise DatasetError(
                            f'{self._where()}: "{os.path.join(folder, name)}"'
                            f' has no attribute file "{csv_name}" next to it.'
                            ' Restore it. ' + self.generate_hint())
                    pairs.append((os.path.join(folder, name),
                                  os.path.join(folder, csv_name)))
        return sorted(pairs)

    def _labels_of(self, csv_path: str) -> Tuple[int, int]:
        attrs = read_cartoon_attributes(csv_path)
        labels = []
        for attr, mapping in ((self.target_attr, self.target_map),
                              (self.bias_attr, self.bias_map)):
            if attr not in attrs:
                raise DatasetError(
                    f'{self._where()}: "{csv_path}" has no "{attr}" line '
                    f'(attributes: {", ".join(sorted(attrs))}).')
            variant, total = attrs[attr]
            if total != len(mapping):
                raise DatasetError(
                    f'{self._where()}: "{attr}" has {total} variants in '
                    f'"{csv_path}" but the map has {len(mapping)} entries '
                    f'({mapping}); pass a map with one entry per variant.')
            labels.append(mapping[variant])
        return labels[0], labels[1]

    def load_data_list(self) -> List[dict]:
        if not os.path.isdir(self.data_root):
            raise DatasetError(f'{self._where()}: data_root '
                               f'"{self.data_root}" does not exist. '
                               + self.generate_hint())
        pairs = self._list_pairs()
        if not pairs:
            raise DatasetError(f'{self._where()}: no cs*.png cartoons under '
                               f'"{self.data_root}". ' + self.generate_hint())
        samples = []
        for png, csv_path in pairs:
            target, bias = self._labels_of(csv_path)
            if target >= 0 and bias >= 0:
                samples.append((png, target, bias))
        data_list = [dict(img_path=p, gt_label=t, bias_label=b)
                     for p, t, b in self._select(samples)]
        if self.verify_files:
            for info in data_list:
                problem = quick_file_check(info['img_path'])
                if problem is not None:
                    raise DatasetError(
                        f'{self._where()}: image file "{info["img_path"]}" '
                        f'is {problem}. Restore it. ' + self.generate_hint())
        return data_list

    def _select(self, samples: List[Tuple[str, int, int]]
                ) -> List[Tuple[str, int, int]]:
        """The samples of this split (see the module docstring)."""
        n = len(samples)
        rng = np.random.default_rng(
            np.random.SeedSequence([self.data_seed, 0x43415254]))
        order = rng.permutation(n)
        n_test = int(np.floor(self.test_fraction * n + 0.5))
        test, pool = order[:n_test], order[n_test:]
        aligned_of = np.asarray(self.metainfo['aligned_bias'])
        targets = np.array([s[1] for s in samples], dtype=np.int64)
        biases = np.array([s[2] for s in samples], dtype=np.int64)
        aligned = biases == aligned_of[targets]
        ratio = severity_ratio(self.severity)
        keep = [i for i in pool if aligned[i]]
        n_conflicting = 0
        for c in range(len(self.metainfo['classes'])):
            n_aligned = int(sum(1 for i in pool
                                if aligned[i] and targets[i] == c))
            wanted = conflicting_count(n_aligned, ratio)
            candidates = np.array(
                [i for i in pool if not aligned[i] and targets[i] == c],
                dtype=np.int64)
            if wanted > len(candidates):
                raise DatasetError(
                    f'{self._where()}: class {c} needs {wanted} '
                    f'bias-conflicting cartoons next to its {n_aligned} '
                    f'aligned ones but "{self.data_root}" has only '
                    f'{len(candidates)} outside the test split. Use a lower '
                    'severity or more cartoons (cartoonset100k).')
            keep.extend(rng.choice(candidates, size=wanted,
                                   replace=False).tolist())
            n_conflicting += wanted
        keep = rng.permutation(np.array(sorted(keep), dtype=np.int64))
        n_valid = int(np.floor(VALID_FRACTION * len(keep) + 0.5))
        chosen = dict(test=test, valid=keep[:n_valid],
                      train=keep[n_valid:])[self.split]
        self.split_counts = dict(
            kept=n, test=int(n_test), aligned=int(len(keep) - n_conflicting),
            conflicting=int(n_conflicting), train=int(len(keep) - n_valid),
            valid=int(n_valid))
        return [samples[i] for i in np.sort(chosen)]
