"""Image folders in the DisEnt / BiasEnsemble layout.

::

    {data_root}/{severity}/align/<c>/*_{target}_{bias}.png     train
    {data_root}/{severity}/conflict/<c>/*_{target}_{bias}.png  train
    {data_root}/{severity}/valid/*_{target}_{bias}.png         valid (flat)
    {data_root}/test/<c>/*_{target}_{bias}.png                 test

Labels come from the file names only (as in the official loaders); paths are
sorted so that the sample order, hence ``sample_idx``, is deterministic.
"""
import os
import re
from typing import Callable, List, Optional, Sequence, Tuple, Union

from debiascls.registry import DATASETS
from .base_dataset import BaseBiasDataset, DatasetError
from .transforms.loading import quick_file_check

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')
_LABELS_RE = re.compile(r'_(\d+)_(\d+)\.[A-Za-z0-9]+$')


def parse_labels(path: str) -> Tuple[int, int]:
    """``(target, bias)`` of a file named ``<anything>_<target>_<bias>.<ext>``.

    Raises:
        DatasetError: The name does not end with ``_<int>_<int>.<ext>``.
    """
    match = _LABELS_RE.search(os.path.basename(path))
    if match is None:
        raise DatasetError(
            f'Cannot parse target and bias labels from the file name "{path}":'
            ' bias-folder images must be named <anything>_<target>_<bias>.<ext>'
            ' with integer labels (e.g. 00012_3_3.png). Rename or remove the '
            'file.')
    return int(match.group(1)), int(match.group(2))


def format_name(index: int, target: int, bias: int, width: int = 5,
                ext: str = 'png') -> str:
    """The file name of sample ``index``: ``{index:0{width}d}_{t}_{b}.{ext}``.
    """
    return f'{index:0{width}d}_{target}_{bias}.{ext}'


def split_dirs(root: str, split: str,
               severity: Optional[str]) -> List[Tuple[str, bool]]:
    """The directories of a split and whether each holds class sub-folders
    (``<dir>/<c>/*``) or images directly (valid: ``<dir>/*``)."""
    if split == 'train':
        return [(os.path.join(root, severity, 'align'), True),
                (os.path.join(root, severity, 'conflict'), True)]
    if split == 'valid':
        return [(os.path.join(root, severity, 'valid'), False)]
    return [(os.path.join(root, 'test'), True)]


def _list_images(folder: str, nested: bool) -> List[str]:
    """Image files of ``folder`` (one level of sub-folders when ``nested``;
    a flat folder may also hold sub-folders, as DisEnt's cifar10c valid)."""
    paths = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                with os.scandir(entry.path) as sub:
                    paths.extend(e.path for e in sub if e.is_file()
                                 and e.name.lower().endswith(IMG_EXTENSIONS))
            elif not nested and entry.name.lower().endswith(IMG_EXTENSIONS):
                paths.append(entry.path)
    return paths


@DATASETS.register_module()
class BiasFolderDataset(BaseBiasDataset):
    """A dataset in the DisEnt / BiasEnsemble image-folder layout (see the
    module docstring). Samples are ``img_path`` entries; put
    ``LoadImageFromFile`` first in the pipeline.

    Subclasses for other folder layouts override :meth:`split_dirs` (which
    folders make a split), :meth:`sample_labels` (labels of a file) and
    :meth:`keep` (a filter), and set :attr:`SEVERITY_SPLITS`.

    Args:
        data_root: Root of the layout, e.g. ``'data/cmnist'``.
        severity: Sub-folder of the splits in :attr:`SEVERITY_SPLITS`, e.g.
            ``'1pct'``; ignored by the others.
        split: 'train', 'valid' or 'test'.
        metainfo: ``classes``, ``bias_attribute``, ``bias_classes``,
            ``aligned_bias``; class and bias names default to ``'0'..'K-1'``
            with ``K`` inferred from the labels.
        verify_files: Check every file before training starts (empty or
            truncated PNGs; about 0.2 s per 10,000 files once cached by the
            OS) so a broken copy fails at once, naming the file.
        **kwargs: Passed to :class:`BaseBiasDataset` (``pipeline``,
            ``test_mode``, ``indices``, ``lazy_init``, ...).
    """

    SPLITS: Tuple[str, ...] = ('train', 'valid', 'test')
    #: Splits whose folders depend on the severity.
    SEVERITY_SPLITS: Tuple[str, ...] = ('train', 'valid')
    #: Accepted severities (None: any sub-folder name).
    SEVERITIES: Optional[Tuple[str, ...]] = None

    def __init__(self,
                 data_root: str = '',
                 severity: Optional[str] = None,
                 split: str = 'train',
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 verify_files: bool = True,
                 **kwargs) -> None:
        name = type(self).__name__
        self.verify_files = verify_files
        if split not in self.SPLITS:
            raise ValueError(f'{name}: split="{split}" is not one of '
                             f'{self.SPLITS}.')
        if split in self.SEVERITY_SPLITS and severity is None:
            raise ValueError(f'{name}: the "{split}" split needs a severity '
                             f'(one of {self.SEVERITIES or "the sub-folders"}'
                             f' of {data_root}).')
        if (severity is not None and self.SEVERITIES is not None
                and severity not in self.SEVERITIES):
            raise ValueError(f'{name}: severity="{severity}" is not one of '
                             f'{self.SEVERITIES}.')
        self.severity = severity
        super().__init__(
            data_root=data_root,
            split=split,
            metainfo=metainfo,
            pipeline=pipeline,
            **kwargs)

    # ------------------------------------------------------------------ #
    # Hooks for other layouts and generated datasets
    # ------------------------------------------------------------------ #
    @property
    def layout_root(self) -> str:
        """The folder that holds ``{severity}/`` and ``test/``."""
        return self.data_root

    def generate_hint(self) -> str:
        """How to create a missing layout (appended to error messages)."""
        return ('Download and unpack the DisEnt/BiasEnsemble release so that '
                'this path exists, or generate a layout with '
                'tools/data/prepare_data.py (see docs/data_preparation.md).')

    def prepare_layout(self) -> None:
        """Create the layout if it is missing (generated datasets)."""

    def split_dirs(self) -> List[Tuple[str, bool, Optional[str]]]:
        """``(folder, nested, part)`` of each folder of the split: whether
        it holds class sub-folders (``<dir>/<c>/*``) or images directly, and
        a name passed to :meth:`sample_labels` (e.g. ``'align'``)."""
        return [(d, nested, None) for d, nested in split_dirs(
            self.layout_root, self.split, self.severity)]

    def sample_labels(self, path: str,
                      part: Optional[str]) -> Tuple[int, int]:
        """``(target, bias)`` of a file; from its name by default."""
        return parse_labels(path)

    def keep(self, target: int, bias: int) -> bool:
        """Whether a sample belongs to the split (all by default)."""
        return True

    def split_ready(self) -> bool:
        """Whether every directory of the requested split exists."""
        return all(os.path.isdir(d) for d, _, _ in self.split_dirs())

    # ------------------------------------------------------------------ #
    # Loading
    # ------------------------------------------------------------------ #
    def _where(self) -> str:
        sev = (f', severity "{self.severity}"'
               if self.split in self.SEVERITY_SPLITS else '')
        return f'{type(self).__name__} ({self.split} split{sev})'

    def load_data_list(self) -> List[dict]:
        self.prepare_layout()
        dirs = self.split_dirs()
        if not os.path.isdir(self.layout_root):
            raise DatasetError(
                f'{self._where()}: data_root "{self.layout_root}" does not '
                f'exist, so neither does directory "{dirs[0][0]}". '
                f'{self.generate_hint()}')
        listed: List[Tuple[str, Optional[str]]] = []
        for folder, nested, part in dirs:
            if not os.path.isdir(folder):
                raise DatasetError(f'{self._where()}: directory "{folder}" '
                                   f'does not exist. {self.generate_hint()}')
            listed.extend((p, part) for p in _list_images(folder, nested))
        if not listed:
            names = ', '.join(f'"{d}"' for d, _, _ in dirs)
            raise DatasetError(
                f'{self._where()}: no image files ({", ".join(IMG_EXTENSIONS)})'
                f' under {names}. The folder is empty or incomplete; '
                f'{self.generate_hint()}')
        listed.sort()
        if self.verify_files:
            self._verify([p for p, _ in listed])
        data_list = []
        for path, part in listed:
            target, bias = self.sample_labels(path, part)
            if self.keep(target, bias):
                data_list.append(
                    dict(img_path=path, gt_label=target, bias_label=bias))
        if data_list:
            self._infer_metainfo(data_list)
        return data_list

    def _verify(self, paths: List[str]) -> None:
        for path in paths:
            problem = quick_file_check(path)
            if problem is not None:
                raise DatasetError(
                    f'{self._where()}: image file "{path}" is {problem}. '
                    'Restore it, or delete the dataset folder and regenerate '
                    f'it. {self.generate_hint()}')

    def _infer_metainfo(self, data_list: List[dict]) -> None:
        """Fill missing class / bias names from the largest labels seen."""
        if not self._metainfo.get('classes'):
            k = max(d['gt_label'] for d in data_list) + 1
            self._metainfo['classes'] = tuple(str(i) for i in range(k))
        if not self._metainfo.get('bias_classes'):
            k = max(max(d['bias_label'] for d in data_list) + 1,
                    len(self._metainfo['classes']))
            self._metainfo['bias_classes'] = tuple(str(i) for i in range(k))
