"""ImageNet-A (Hendrycks et al., 2019) restricted to the wnids of 9-class
ImageNet and mapped to its nine classes: ReBias's "IN-A" accuracy
(Sec. 4.3, Table 2). Bias unknown.

Layout of the release (``imagenet-a.tar``)::

    {imagenet_a_root}/<wnid>/*.jpg        200 wnid folders

ImageNet-A holds 21 of the 42 wnids of :class:`ImageNet9` (its 200-class
list; no crab, one frog, turtle, cat and fish each), listed in
:data:`IMAGENET_A_WNIDS`; only their folders are read and each must exist.
ReBias's loader (``datasets/imagenet.py``, ``val_data='ImageNet-A'``) maps
the folders it finds through its ``CLASS_TO_INDEX`` over the 42 wnids, which
selects the same 21.
"""
import os
from typing import Callable, List, Optional, Sequence, Union

from debiascls.registry import DATASETS
from .base_dataset import UNKNOWN_BIAS, BaseBiasDataset, DatasetError
from .imagenet9 import (DEFAULT_NUM_TEXTURE_CLUSTERS, IMAGENET9_CLASSES,
                        WNID_TO_CLASS, list_wnid_images, texture_cluster_names,
                        verify_image_files)

#: The wnids of 9-class ImageNet that ImageNet-A has (21 of 42), sorted.
IMAGENET_A_WNIDS = (
    'n01641577', 'n01669191', 'n01819313', 'n01820546', 'n01833805',
    'n01843383', 'n01847000', 'n02085620', 'n02099601', 'n02106550',
    'n02106662', 'n02110958', 'n02123394', 'n02174001', 'n02177972',
    'n02190166', 'n02206856', 'n02219486', 'n02486410', 'n02492035',
    'n02655020')
RELEASE_URL = 'https://people.eecs.berkeley.edu/~hendrycks/imagenet-a.tar'


@DATASETS.register_module()
class ImageNetA(BaseBiasDataset):
    """ImageNet-A over the 9-class ImageNet wnids (an evaluation split; see
    the module docstring for the layout).

    The root has its own argument (not ``data_root``, which configs fill
    with the ImageNet folder): the top-level config key ``imagenet_a_root``
    fills it, and an ``extra_splits`` entry of this type is left out while
    that key is None (:func:`debiascls.apis.prepare_config`).

    Args:
        imagenet_a_root: The unpacked ``imagenet-a`` folder.
        pipeline: The evaluation pipeline.
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
                 imagenet_a_root: Optional[str] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 verify_files: bool = True,
                 metainfo: Optional[dict] = None,
                 indices=None,
                 lazy_init: bool = False,
                 serialize_data: bool = True,
                 max_refetch: int = 0) -> None:
        if not imagenet_a_root:
            raise ValueError(
                f'{type(self).__name__}: imagenet_a_root is not set. Pass the '
                'unpacked imagenet-a folder (top-level config key '
                'imagenet_a_root), or set imagenet_a_root=None in the config '
                'to leave the ImageNet-A split out.')
        self.verify_files = verify_files
        super().__init__(
            data_root=imagenet_a_root,
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
        return (f'Download {RELEASE_URL} and unpack it so that '
                f'"{os.path.join(self.data_root, IMAGENET_A_WNIDS[0])}/*.jpg" '
                'exists, or set imagenet_a_root to the unpacked imagenet-a '
                'folder (None leaves the split out; see '
                'docs/data_preparation.md, 9-class ImageNet).')

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not os.path.isdir(root):
            raise DatasetError(f'{self._where()}: imagenet_a_root "{root}" '
                               f'does not exist. {self._hint()}')
        listed = list_wnid_images(root, IMAGENET_A_WNIDS, self._where(),
                                  self._hint())
        if self.verify_files:
            verify_image_files([p for p, _ in listed], self._where(),
                               self._hint())
        return [
            dict(img_path=path, gt_label=WNID_TO_CLASS[wnid],
                 bias_label=UNKNOWN_BIAS) for path, wnid in listed
        ]
