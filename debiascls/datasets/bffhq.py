"""Biased FFHQ (BFFHQ; BiaSwap, Kim et al. ICCV 2021) in the layout of the
BiasEnsemble release (``bffhq.zip``; DisEnt ships only ``0.5pct``)::

    {data_root}/{severity}/align/<c>/*_{target}_{bias}.png      train
    {data_root}/{severity}/conflict/<c>/*_{target}_{bias}.png   train
    {data_root}/valid/*_{target}_{bias}.png     valid (flat; all severities)
    {data_root}/test/*_{target}_{bias}.png      test (flat)

Target = age (young 10-29 / old 40-59), bias = gender; most young people of
the train split are women and most old people men, and a sample is
bias-aligned when its target label equals its bias label.

Where this differs from the official loader (BiasEnsemble and DisEnt
``data/util.py``, class ``bFFHQDataset``): the official test split keeps only
the bias-conflicting images (target != bias, compared on the file name). We
keep the whole test folder by default, so that both ``aligned_acc`` and
``conflicting_acc`` are reported; ``conflicting_acc`` on it *is* the
official (and IE's "BC-only") test accuracy. ``conflicting_only_test=True``
reproduces the filter, after which ``acc`` is that number. Paths are sorted
(the official ``glob`` order depends on the file system).
"""
import os
from typing import List, Optional, Tuple

from debiascls.registry import DATASETS
from .bias_folder import BiasFolderDataset

#: The bias severities of the BiasEnsemble release (train folders).
BFFHQ_SEVERITIES = ('0.5pct', '1pct', '2pct', '5pct')


@DATASETS.register_module()
class BFFHQ(BiasFolderDataset):
    """Biased FFHQ: age classification with gender as the bias (see the
    module docstring for the layout).

    Label values: the official code (BiasEnsemble and DisEnt ``data/util.py``,
    ``train.py``, ``learner.py``; READMEs) never says which value of the
    file-name labels means young/old or female/male. The names below
    (0 = young / female, 1 = old / male) are an assumption: only the pairing
    (young with female, old with male, as the papers describe the train
    split, and aligned when target == bias) is certain. Check a few images of
    ``align/0`` if the class names matter.

    Args:
        data_root: The unpacked ``bffhq`` folder, e.g. ``'data/bffhq'``.
        severity: ``'0.5pct'``, ``'1pct'``, ``'2pct'`` or ``'5pct'``; needed
            by the train split only (valid and test are shared).
        split: ``'train'``, ``'valid'`` or ``'test'``.
        conflicting_only_test: Keep only the bias-conflicting test images,
            as the official loader does.
        **kwargs: Passed to :class:`BiasFolderDataset` (``metainfo``,
            ``pipeline``, ``verify_files``, ...).
    """

    METAINFO = dict(
        classes=('young', 'old'),
        bias_attribute='gender',
        bias_classes=('female', 'male'),
        aligned_bias=(0, 1))
    SEVERITIES = BFFHQ_SEVERITIES

    SEVERITY_SPLITS = ('train', )

    def __init__(self,
                 data_root: str = '',
                 severity: Optional[str] = None,
                 split: str = 'train',
                 conflicting_only_test: bool = False,
                 **kwargs) -> None:
        self.conflicting_only_test = conflicting_only_test
        super().__init__(
            data_root=data_root, severity=severity, split=split, **kwargs)

    def generate_hint(self) -> str:
        root = self.data_root
        sev = self.severity or '1pct'
        return (f'Download bffhq.zip of the BiasEnsemble release (link in '
                'the README of kakaoenterprise/BiasEnsemble) and unzip it so '
                f'that "{os.path.join(root, sev, "align")}/<c>/", '
                f'"{os.path.join(root, sev, "conflict")}/<c>/", '
                f'"{os.path.join(root, "valid")}/" and '
                f'"{os.path.join(root, "test")}/" hold the images (see '
                'docs/data_preparation.md, BFFHQ).')

    def split_dirs(self) -> List[Tuple[str, bool, Optional[str]]]:
        if self.split == 'train':
            return super().split_dirs()
        # valid and test are flat folders shared by all severities
        return [(os.path.join(self.data_root, self.split), False, None)]

    def keep(self, target: int, bias: int) -> bool:
        # The official test filter keeps target != bias.
        return not (self.split == 'test' and self.conflicting_only_test
                    and target == bias)
