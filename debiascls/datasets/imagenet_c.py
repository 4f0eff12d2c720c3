"""ImageNet-C (Hendrycks & Dietterich, ICLR 2019) restricted to the 42
wnids of 9-class ImageNet and mapped to its nine classes: ReBias's "IN-C"
accuracy (Sec. 4.3, Table 2). Bias unknown.

Layout of the release (one tar per corruption group)::

    {imagenet_c_root}/<corruption>/<severity>/<wnid>/*.JPEG

with ``<severity>`` in ``1..5`` and, in every (corruption, severity)
folder, the 50,000 ILSVRC2012 val images (224x224 centre crops), i.e. the
2,100 val images of the 42 wnids each.

What ReBias averaged: the paper (Sec. 4.3) describes ImageNet-C as "15
corruption types ... with five severities" and reports one accuracy per
model (Table 2: vanilla 54.2, ReBias 57.5); its code has no ImageNet-C
loader (``datasets/imagenet.py`` leaves it as a TODO). We read the 15
corruptions x 5 severities by default as one split. Every (corruption,
severity) folder must hold the same images (checked), so the split's plain
accuracy is exactly the mean of the 75 per-(corruption, severity)
accuracies, the usual ImageNet-C average. ``corruptions`` / ``severities``
select a part (e.g. one corruption per extra split for a per-corruption
table).
"""
import os
from typing import Callable, List, Optional, Sequence, Union

from debiascls.registry import DATASETS
from .base_dataset import UNKNOWN_BIAS, BaseBiasDataset, DatasetError
from .imagenet9 import (DEFAULT_NUM_TEXTURE_CLUSTERS, IMAGENET9_ALL_WNIDS,
                        IMAGENET9_CLASSES, WNID_TO_CLASS, list_wnid_images,
                        texture_cluster_names, verify_image_files)

#: The 15 corruptions of the benchmark (noise, blur, weather, digital).
IMAGENET_C_CORRUPTIONS = (
    'gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur',
    'glass_blur', 'motion_blur', 'zoom_blur', 'snow', 'frost', 'fog',
    'brightness', 'contrast', 'elastic_transform', 'pixelate',
    'jpeg_compression')
#: The four held-out corruptions of the release (not in the average).
IMAGENET_C_EXTRA_CORRUPTIONS = ('speckle_noise', 'gaussian_blur', 'spatter',
                                'saturate')
IMAGENET_C_SEVERITIES = (1, 2, 3, 4, 5)
RELEASE_URL = 'https://zenodo.org/record/2235448'


@DATASETS.register_module()
class ImageNetC(BaseBiasDataset):
    """ImageNet-C over the 9-class ImageNet wnids (an evaluation split; see
    the module docstring for the layout and the average).

    The root has its own argument (not ``data_root``, which configs fill
    with the ImageNet folder): the top-level config key ``imagenet_c_root``
    fills it, and an ``extra_splits`` entry of this type is left out while
    that key is None (:func:`debiascls.apis.prepare_config`).

    Samples are ordered by corruption (in the order given), severity, wnid
    and file; each data info also holds ``corruption`` and ``severity``.

    Args:
        imagenet_c_root: The folder holding the corruption folders.
        corruptions: Corruption folder names (default: the 15 of the
            benchmark; the 4 extra ones of the release are accepted too).
        severities: Severities among 1..5 (default: all).
        pipeline: The evaluation pipeline (the images are 224x224 already).
        verify_files: Check that every image file exists and is not empty.
        metainfo: Overrides :attr:`METAINFO`.
        indices, lazy_init, serialize_data, max_refetch: As in
            :class:`BaseBiasDataset`.
    """

    METAINFO = dict(
        classes=IMAGENET9_CLASSES,
        bias_attribute='texture',
        bias_classes=texture_cluster_names(DEFAULT_NUM_TEXTURE_CLUSTERS))

    def __init__(self,
                 imagenet_c_root: Optional[str] = None,
                 corruptions: Sequence[str] = IMAGENET_C_CORRUPTIONS,
                 severities: Sequence[int] = IMAGENET_C_SEVERITIES,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 verify_files: bool = True,
                 metainfo: Optional[dict] = None,
                 indices=None,
                 lazy_init: bool = False,
                 serialize_data: bool = True,
                 max_refetch: int = 0) -> None:
        name = type(self).__name__
        if not imagenet_c_root:
            raise ValueError(
                f'{name}: imagenet_c_root is not set. Pass the ImageNet-C '
                'folder (top-level config key imagenet_c_root); while it is '
                'None the configs leave the ImageNet-C split out.')
        if isinstance(corruptions, str):
            corruptions = (corruptions, )
        known = IMAGENET_C_CORRUPTIONS + IMAGENET_C_EXTRA_CORRUPTIONS
        bad = [c for c in corruptions if c not in known]
        if bad or not corruptions or len(set(corruptions)) != len(
                corruptions):
            raise ValueError(
                f'{name}: corruptions={list(corruptions)} must be distinct '
                f'names among {list(known)}'
                + (f' ({bad} unknown).' if bad else '.'))
        if isinstance(severities, int):
            severities = (severities, )
        if (not severities or len(set(severities)) != len(severities) or any(
                isinstance(s, bool) or s not in IMAGENET_C_SEVERITIES
                for s in severities)):
            raise ValueError(f'{name}: severities={list(severities)} must be '
                             'distinct integers among 1..5.')
        self.corruptions = tuple(corruptions)
        self.severities = tuple(int(s) for s in severities)
        self.verify_files = verify_files
        metainfo = dict(metainfo or {})
        metainfo.setdefault('corruptions', self.corruptions)
        metainfo.setdefault('severities', self.severities)
        super().__init__(
            data_root=imagenet_c_root,
            split='test',
            metainfo=metainfo,
            pipeline=pipeline,
            indices=indices,
            lazy_init=lazy_init,
            serialize_data=serialize_data,
            max_refetch=max_refetch)

    def _where(self) -> str:
        return type(self).__name__

    def _hint(self) -> str:
        example = os.path.join(self.data_root, self.corruptions[0],
                               str(self.severities[0]),
                               IMAGENET9_ALL_WNIDS[0])
        return (f'Download ImageNet-C ({RELEASE_URL}) and unpack its tars '
                f'into one folder so that "{example}/*.JPEG" exists, or set '
                'imagenet_c_root to that folder (None leaves the split out; '
                'corruptions/severities select a part; see '
                'docs/data_preparation.md, 9-class ImageNet).')

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not os.path.isdir(root):
            raise DatasetError(f'{self._where()}: imagenet_c_root "{root}" '
                               f'does not exist. {self._hint()}')
        data_list: List[dict] = []
        reference = None
        for corruption in self.corruptions:
            for severity in self.severities:
                folder = os.path.join(root, corruption, str(severity))
                where = (f'{self._where()} ({corruption}, severity '
                         f'{severity})')
                if not os.path.isdir(folder):
                    raise DatasetError(f'{where}: folder "{folder}" does not '
                                       f'exist. {self._hint()}')
                listed = list_wnid_images(folder, IMAGENET9_ALL_WNIDS, where,
                                          self._hint())
                rel = [os.path.relpath(p, folder) for p, _ in listed]
                if reference is None:
                    reference = (folder, rel)
                elif rel != reference[1]:
                    diff = sorted(set(rel) ^ set(reference[1]))
                    raise DatasetError(
                        f'{where}: "{folder}" holds {len(rel)} images of the '
                        f'42 wnids and "{reference[0]}" {len(reference[1])}, '
                        f'not the same files (e.g. "{diff[0]}"); every '
                        '(corruption, severity) folder must hold the same '
                        'val images for the accuracy to be their mean. '
                        f'Restore the incomplete folder. {self._hint()}')
                if self.verify_files:
                    verify_image_files([p for p, _ in listed], where,
                                       self._hint())
                data_list.extend(
                    dict(img_path=path, gt_label=WNID_TO_CLASS[wnid],
                         bias_label=UNKNOWN_BIAS, corruption=corruption,
                         severity=severity) for path, wnid in listed)
        return data_list
