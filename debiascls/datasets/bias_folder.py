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

    Args:
        data_root: Root of the layout, e.g. ``'data/cmnist'``.
        severity: Sub-folder of the train and valid splits, e.g. ``'1pct'``;
            ignored by 'test'.
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
        if split != 'test' and severity is None:
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
    # Hooks for generated datasets
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

    def split_ready(self) -> bool:
        """Whether every directory of the requested split exists."""
        return all(
            os.path.isdir(d)
            for d, _ in split_dirs(self.layout_root, self.split, self.severity))

    # ------------------------------------------------------------------ #
    # Loading
    # ------------------------------------------------------------------ #
    def _where(self) -> str:
        sev = f', severity "{self.severity}"' if self.split != 'test' else ''
        return f'{type(self).__name__} ({self.split} split{sev})'

    def load_data_list(self) -> List[dict]:
        self.prepare_layout()
        dirs = split_dirs(self.layout_root, self.split, self.severity)
        paths: List[str] = []
        for folder, nested in dirs:
            if not os.path.isdir(folder):
                raise DatasetError(f'{self._where()}: directory "{folder}" '
                                   f'does not exist. {self.generate_hint()}')
            paths.extend(_list_images(folder, nested))
        if not paths:
            listed = ', '.join(f'"{d}"' for d, _ in dirs)
            raise DatasetError(
                f'{self._where()}: no image files ({", ".join(IMG_EXTENSIONS)})'
                f' under {listed}. The folder is empty or incomplete; '
                f'{self.generate_hint()}')
        paths.sort()
        if self.verify_files:
            self._verify(paths)
        data_list = []
        for path in paths:
            target, bias = parse_labels(path)
            data_list.append(
                dict(img_path=path, gt_label=target, bias_label=bias))
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
