"""Packing a sample into the model's input format."""
import numpy as np
import torch

from debiascls.registry import TRANSFORMS
from ..base_dataset import UNKNOWN_BIAS
from .base import BaseTransform


@TRANSFORMS.register_module()
class PackInputs(BaseTransform):
    """The last step of every pipeline. Returns exactly::

        {'inputs': torch.uint8 tensor (C, H, W), contiguous,
         'data_samples': {'gt_label': int, 'bias_label': int,
                          'sample_idx': int}}

    which ``default_collate`` stacks into ``(B, C, H, W)`` and ``(B,)``
    tensors. ``bias_label`` is -1 where unknown. Normalisation is done on the
    batch by the model's data preprocessor, not here.
    """

    deterministic = True

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if img is None:
            raise KeyError('PackInputs: the sample has no "img"; put '
                           'LoadImageFromFile first in the pipeline.')
        if img.dtype != np.uint8:
            raise TypeError(f'PackInputs expects a uint8 image, got '
                            f'{img.dtype}; do not normalise or convert '
                            'images in the pipeline (the data preprocessor '
                            'does it on the batch).')
        if img.ndim == 2:
            img = img[..., None]
        for key in ('gt_label', 'sample_idx'):
            if key not in results:
                raise KeyError(f'PackInputs: the sample has no "{key}" (use '
                               'a debiascls dataset, whose get_data_info '
                               'provides it).')
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0,
                                                                     1)))
        return {
            'inputs': inputs,
            'data_samples': {
                'gt_label': int(results['gt_label']),
                'bias_label': int(results.get('bias_label', UNKNOWN_BIAS)),
                'sample_idx': int(results['sample_idx']),
            }
        }
