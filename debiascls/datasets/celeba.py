"""CelebA (Liu et al. 2015) with one attribute as the target and another as
the bias (LfF: Blond_Hair vs Male; PGD: Heavy_Makeup vs Male), in
torchvision's folder layout::

    {data_root}/img_align_celeba/000001.jpg ...   aligned, cropped faces
    {data_root}/list_attr_celeba.txt              count; 40 names; rows
                                                  "<file> -1 1 ..." (-1/1)
    {data_root}/list_eval_partition.txt           "<file> 0|1|2"

``data_root`` is the ``celeba`` folder (torchvision's ``root/celeba``); a
``data_root`` holding that ``celeba`` folder also works. The official
partition gives the splits: 0 = train (162,770), 1 = valid (19,867),
2 = test (19,962).

Labels: ``gt_label`` = the target attribute (0 = absent, 1 = present),
``bias_label`` = the bias attribute. Which bias value a class is *aligned*
with is the majority bias value of that class **in the train partition**
(ties: 0), computed from the attribute file, the same for all splits
(``metainfo['aligned_bias']``; ``aligned_bias=`` overrides it). For PGD's
Heavy_Makeup / Male this gives (made-up: female, not made-up: male); PGD
reports M / m = 130,410 / 32,360 train images, which sum to the train
partition and fit this rule (not checked against the files here). For
LfF's Blond_Hair / Male both classes are majority female (in the train
partition about 72k non-blond women against 67k non-blond men), so the
default makes every man conflicting. LfF's code instead calls a (target,
bias) cell aligned when the two values are equal (non-blond women and
blond men): ``aligned_bias=(0, 1)`` reproduces its aligned / "skewed"
split. LfF's headline CelebA number, the mean accuracy over the four
(target, bias) cells, is ``DebiasAccuracy``'s ``unbiased_acc`` whatever the
convention.
"""
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from debiascls.registry import DATASETS
from .base_dataset import BaseBiasDataset, DatasetError
from .transforms.loading import quick_file_check

PARTITIONS = {'train': 0, 'valid': 1, 'test': 2}
ATTR_FILE = 'list_attr_celeba.txt'
PARTITION_FILE = 'list_eval_partition.txt'
IMAGE_DIR = 'img_align_celeba'
#: Presets of the papers: (target_attr, bias_attr).
PGD_ATTRS = ('Heavy_Makeup', 'Male')
LFF_ATTRS = ('Blond_Hair', 'Male')
RELEASE_URL = 'https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html'


def read_attributes(path: str) -> Tuple[List[str], List[str], np.ndarray]:
    """``(attribute names, file names, values (N, A) in {0, 1})`` of
    ``list_attr_celeba.txt`` (-1 becomes 0).

    Raises:
        DatasetError: The file is malformed; names the line.
    """
    fix = 'Restore the file from the CelebA release.'
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    if len(lines) < 2:
        raise DatasetError(f'"{path}" is too short: a CelebA attribute file '
                           'starts with the number of images and the line of '
                           f'attribute names. {fix}')
    names = lines[1].split()
    files, rows = [], []
    for number, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(names) + 1 or any(
                v not in ('1', '-1') for v in parts[1:]):
            raise DatasetError(
                f'Line {number} of "{path}" is {line[:80]!r}: expected a file '
                f'name and {len(names)} values -1 or 1. {fix}')
        files.append(parts[0])
        rows.append([v == '1' for v in parts[1:]])
    try:
        declared = int(lines[0].split()[0])
    except (ValueError, IndexError):
        declared = None
    if declared is not None and declared != len(files):
        raise DatasetError(f'"{path}" declares {declared} images on its first '
                           f'line but lists {len(files)}: the file is '
                           f'truncated. {fix}')
    values = np.asarray(rows, dtype=np.int64).reshape(len(files), len(names))
    return names, files, values


def read_partition(path: str) -> Dict[str, int]:
    """``{file name: 0 | 1 | 2}`` of ``list_eval_partition.txt``."""
    out = {}
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in ('0', '1', '2'):
                raise DatasetError(
                    f'Line {number} of "{path}" is {line.strip()[:80]!r}: '
                    'expected "<file> 0|1|2". Restore the file from the '
                    'CelebA release.')
            out[parts[0]] = int(parts[1])
    return out


@DATASETS.register_module()
class CelebABias(BaseBiasDataset):
    """CelebA with a target and a bias attribute (see the module docstring).

    Args:
        data_root: The ``celeba`` folder of torchvision's layout (or its
            parent).
        split: ``'train'``, ``'valid'`` or ``'test'`` (official partition).
        target_attr: Target attribute name (PGD: ``'Heavy_Makeup'``; LfF:
            ``'Blond_Hair'``).
        bias_attr: Bias attribute name (both: ``'Male'``).
        aligned_bias: Bias value each class is aligned with; None: the
            majority value of the class in the train partition.
        verify_files: Check that every image of the split exists (and is not
            empty) when the dataset is built.
        **kwargs: Passed to :class:`BaseBiasDataset`.
    """

    def __init__(self,
                 data_root: str = 'data/celeba',
                 split: str = 'train',
                 target_attr: str = PGD_ATTRS[0],
                 bias_attr: str = PGD_ATTRS[1],
                 aligned_bias: Optional[Sequence[int]] = None,
                 verify_files: bool = True,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        if split not in PARTITIONS:
            raise ValueError(f'{name}: split="{split}" is not one of '
                             f'{tuple(PARTITIONS)}.')
        if target_attr == bias_attr:
            raise ValueError(f'{name}: target_attr and bias_attr are both '
                             f'"{target_attr}".')
        if aligned_bias is not None:
            aligned_bias = tuple(int(v) for v in aligned_bias)
            if len(aligned_bias) != 2 or not set(aligned_bias) <= {0, 1}:
                raise ValueError(f'{name}: aligned_bias={aligned_bias} must '
                                 'be two values in {0, 1} (one per class).')
        self.target_attr, self.bias_attr = target_attr, bias_attr
        self.aligned_bias = aligned_bias
        self.verify_files = verify_files
        base = dict(classes=(f'not {target_attr}', target_attr),
                    bias_attribute=bias_attr,
                    bias_classes=(f'not {bias_attr}', bias_attr))
        super().__init__(
            data_root=data_root, split=split,
            metainfo=dict(base, **(metainfo or {})), **kwargs)

    # ------------------------------------------------------------------ #
    def _where(self) -> str:
        return f'{type(self).__name__} ({self.split} split)'

    @property
    def celeba_dir(self) -> str:
        """The folder holding the attribute files (``data_root`` or
        ``data_root/celeba``)."""
        nested = os.path.join(self.data_root, 'celeba')
        if not os.path.isfile(os.path.join(self.data_root, ATTR_FILE)) \
                and os.path.isfile(os.path.join(nested, ATTR_FILE)):
            return nested
        return self.data_root

    def generate_hint(self) -> str:
        root = self.celeba_dir
        return (f'Download CelebA ({RELEASE_URL}: img_align_celeba.zip, '
                f'{ATTR_FILE}, {PARTITION_FILE}) and unpack it so that '
                f'"{os.path.join(root, IMAGE_DIR)}/000001.jpg", '
                f'"{os.path.join(root, ATTR_FILE)}" and '
                f'"{os.path.join(root, PARTITION_FILE)}" exist '
                "(torchvision's CelebA layout; see docs/data_preparation.md, "
                'CelebA).')

    def load_data_list(self) -> List[dict]:
        if not os.path.isdir(self.data_root):
            raise DatasetError(f'{self._where()}: data_root '
                               f'"{self.data_root}" does not exist. '
                               + self.generate_hint())
        root = self.celeba_dir
        for name in (ATTR_FILE, PARTITION_FILE):
            if not os.path.isfile(os.path.join(root, name)):
                raise DatasetError(f'{self._where()}: '
                                   f'"{os.path.join(root, name)}" does not '
                                   'exist. ' + self.generate_hint())
        names, files, values = read_attributes(os.path.join(root, ATTR_FILE))
        for attr in (self.target_attr, self.bias_attr):
            if attr not in names:
                raise ValueError(
                    f'{type(self).__name__}: attribute "{attr}" is not in '
                    f'{os.path.join(root, ATTR_FILE)}; use one of '
                    f'{", ".join(names)}.')
        partition = read_partition(os.path.join(root, PARTITION_FILE))
        unlisted = [f for f in files if f not in partition]
        if unlisted:
            raise DatasetError(
                f'{self._where()}: "{unlisted[0]}" (and {len(unlisted) - 1} '
                f'more) of {ATTR_FILE} has no line in {PARTITION_FILE}: the '
                'two files do not belong together. ' + self.generate_hint())
        part = np.array([partition[f] for f in files])
        target = values[:, names.index(self.target_attr)]
        bias = values[:, names.index(self.bias_attr)]
        self._metainfo['aligned_bias'] = self._aligned_bias(
            target[part == 0], bias[part == 0])
        wanted = np.flatnonzero(part == PARTITIONS[self.split])
        image_dir = os.path.join(root, IMAGE_DIR)
        data_list = [
            dict(img_path=os.path.join(image_dir, files[i]),
                 gt_label=int(target[i]), bias_label=int(bias[i]))
            for i in wanted
        ]
        data_list.sort(key=lambda d: d['img_path'])
        if self.verify_files and data_list:
            if not os.path.isdir(image_dir):
                raise DatasetError(f'{self._where()}: "{image_dir}" does not '
                                   'exist. ' + self.generate_hint())
            for info in data_list:
                problem = quick_file_check(info['img_path'])
                if problem is not None:
                    raise DatasetError(
                        f'{self._where()}: image file "{info["img_path"]}" '
                        f'is {problem}. Restore it. ' + self.generate_hint())
        return data_list

    def _aligned_bias(self, target: np.ndarray,
                      bias: np.ndarray) -> Tuple[int, int]:
        if self.aligned_bias is not None:
            return self.aligned_bias
        if not len(target):
            raise DatasetError(f'{self._where()}: {PARTITION_FILE} has no '
                               'train image (partition 0), so the aligned '
                               'bias of each class cannot be computed; pass '
                               'aligned_bias.')
        out = []
        for c in (0, 1):
            values = bias[target == c]
            # majority bias value of the class in the train partition
            out.append(int(values.sum() * 2 > len(values)))
        return tuple(out)
