"""Dogs & Cats with a colour bias (Kim et al., "Learning Not to Learn",
CVPR 2019), with the bias severities of the BiasEnsemble release
(``dogs_and_cats.zip``), in the DisEnt/BiasEnsemble folder layout::

    {data_root}/{severity}/align/<c>/*_{target}_{bias}.{ext}     train
    {data_root}/{severity}/conflict/<c>/*_{target}_{bias}.{ext}  train
    {data_root}/{severity}/valid/*_{target}_{bias}.{ext}         valid (flat)
    {data_root}/test/<c>/*_{target}_{bias}.{ext}                 test

The layout, the file-name labels and the splits are exactly those of the
official loader (BiasEnsemble ``data/util.py``, class ``DogCatDataset``),
except that paths are sorted.
"""
import os

from debiascls.registry import DATASETS
from .bias_folder import BiasFolderDataset

#: The bias severities of the BiasEnsemble release.
DOGS_AND_CATS_SEVERITIES = ('1pct', '5pct')


@DATASETS.register_module()
class DogsAndCats(BiasFolderDataset):
    """Cat vs dog classification with the fur colour (dark / bright) as the
    bias.

    Label values: the official code (BiasEnsemble ``data/util.py``,
    ``learner.py``, README) does not say which value means cat/dog or
    dark/bright. The names below (target 0 = cat, 1 = dog; bias 0 = dark,
    1 = bright; aligned when bias == target, i.e. dark cats and bright dogs,
    the composition of Kim et al.'s training set TB1) are an assumption;
    check a few images of ``align/0`` if the names matter.

    Args: as :class:`BiasFolderDataset`; ``severity`` is ``'1pct'`` or
    ``'5pct'`` and ``data_root`` the unpacked ``dogs_and_cats`` folder.
    """

    METAINFO = dict(
        classes=('cat', 'dog'),
        bias_attribute='color',
        bias_classes=('dark', 'bright'),
        aligned_bias=(0, 1))
    SEVERITIES = DOGS_AND_CATS_SEVERITIES

    def generate_hint(self) -> str:
        root = self.data_root
        sev = self.severity or '1pct'
        return ('Download dogs_and_cats.zip of the BiasEnsemble release '
                '(link in the README of kakaoenterprise/BiasEnsemble) and '
                'unzip it so that '
                f'"{os.path.join(root, sev, "align")}/<c>/", '
                f'"{os.path.join(root, sev, "conflict")}/<c>/", '
                f'"{os.path.join(root, sev, "valid")}/" and '
                f'"{os.path.join(root, "test")}/<c>/" hold the images (see '
                'docs/data_preparation.md, Dogs & Cats).')
