"""Biased Action Recognition (BAR; Nam et al., NeurIPS 2020) in the layout
of the BiasEnsemble release (``bar.zip``), which adds the bias severities::

    {data_root}/train/align/<c>/*_{target}_{bias}.{ext}              train
    {data_root}/train/conflict/{severity}/<c>/*_{target}_{bias}.{ext} train
    {data_root}/valid/<c>/*_{target}_{bias}.{ext}                    valid
    {data_root}/test/<c>/*_{target}_{bias}.{ext}                     test

The aligned train images are shared by both severities (``1pct``,
``5pct``); only the conflicting folder differs. Valid and test do not
depend on the severity.

Bias labels. BAR has no place annotations (the original release, alinlab/BAR,
has only the action class). The official BiasEnsemble loader
(``data/util.py``, class ``BARDataset.__getitem__``) therefore *overwrites*
the bias label of every train image from its folder: ``train/align`` =>
bias = target, ``train/conflict`` => bias = (target + 1) mod 6. We follow that
convention for the train split (deciding by the folder the image was listed
from, where the official code tests the substrings ``bar/train/align`` and
``bar/train/conflict`` of the path, which silently fails for a root not
named ``bar``). For valid and test the official loader keeps the bias value
written in the file name; so do we. These valid/test bias labels are *not*
real place annotations either, so ``aligned_acc``/``conflicting_acc`` on
them mean only what the release's file names mean; the reported metric of
BAR is the overall accuracy (``acc``).
"""
import os
from typing import List, Optional, Tuple

from debiascls.registry import DATASETS
from .bias_folder import BiasFolderDataset, parse_labels

#: The bias severities of the BiasEnsemble release (train/conflict folders).
BAR_SEVERITIES = ('1pct', '5pct')

#: The six actions and the place each is biased to (alinlab/BAR README).
BAR_ACTIONS = ('climbing', 'diving', 'fishing', 'racing', 'throwing',
               'vaulting')
BAR_PLACES = ('rock_wall', 'underwater', 'water_surface', 'paved_track',
              'playing_field', 'sky')


@DATASETS.register_module()
class BAR(BiasFolderDataset):
    """Biased Action Recognition: six actions biased to six places (see the
    module docstring for the layout and the bias-label convention).

    Label values: the index order of the actions in the release's file names
    is not written in the official code or READMEs; we assume the
    alphabetical order of the original class names (climbing, diving,
    fishing, racing, throwing, vaulting = 0..5), which is also the order of
    the alinlab/BAR README table. Place ``k`` is the place of action ``k``
    (aligned when bias == target).

    Args:
        data_root: The unpacked ``bar`` folder, e.g. ``'data/bar'``.
        severity: ``'1pct'`` or ``'5pct'``; needed by the train split only.
        split: ``'train'``, ``'valid'`` or ``'test'``.
        **kwargs: Passed to :class:`BiasFolderDataset` (``metainfo``,
            ``pipeline``, ``verify_files``, ...).
    """

    METAINFO = dict(
        classes=BAR_ACTIONS,
        bias_attribute='place',
        bias_classes=BAR_PLACES,
        aligned_bias=tuple(range(len(BAR_ACTIONS))))
    SEVERITIES = BAR_SEVERITIES

    SEVERITY_SPLITS = ('train', )

    def generate_hint(self) -> str:
        root = self.data_root
        sev = self.severity or '1pct'
        return (f'Download bar.zip of the BiasEnsemble release (link in the '
                'README of kakaoenterprise/BiasEnsemble) and unzip it so '
                f'that "{os.path.join(root, "train", "align")}/<c>/", '
                f'"{os.path.join(root, "train", "conflict", sev)}/<c>/", '
                f'"{os.path.join(root, "valid")}/<c>/" and '
                f'"{os.path.join(root, "test")}/<c>/" hold the images (see '
                'docs/data_preparation.md, BAR).')

    def split_dirs(self) -> List[Tuple[str, bool, Optional[str]]]:
        root = self.data_root
        if self.split == 'train':
            return [(os.path.join(root, 'train', 'align'), True, 'align'),
                    (os.path.join(root, 'train', 'conflict', self.severity),
                     True, 'conflict')]
        return [(os.path.join(root, self.split), True, None)]

    def sample_labels(self, path: str,
                      part: Optional[str]) -> Tuple[int, int]:
        target, bias = parse_labels(path)
        # The official convention (BiasEnsemble BARDataset): train bias
        # labels come from the folder, not from the file name.
        if part == 'align':
            bias = target
        elif part == 'conflict':
            bias = (target + 1) % len(BAR_ACTIONS)
        return target, bias
