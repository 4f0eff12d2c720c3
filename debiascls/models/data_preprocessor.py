"""Batch preprocessing: device transfer, normalisation, and the rule that
training code never sees bias labels."""
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor

from debiascls.registry import MODELS


@MODELS.register_module()
class BiasDataPreprocessor(BaseDataPreprocessor):
    """Moves a batch to the model's device, converts images to float and
    normalises them with ``(x - mean) / std`` (per channel, on the batch, as
    mmpretrain's ``ClsDataPreprocessor`` does).

    In training mode ``bias_label`` is removed from the batch unless the
    algorithm is bias-supervised (``keep_bias_label_in_train=True``, set by
    :class:`~debiascls.models.BaseDebiasAlgorithm` from its
    ``uses_bias_labels`` attribute). This is where the "methods do not see
    bias labels" protocol of LfF, BiasEnsemble, IE, ... is enforced.

    Expects ``{'inputs': uint8/float Tensor[B, C, H, W] (or a list of
    Tensor[C, H, W]), 'data_samples': {'gt_label': Tensor[B], 'bias_label':
    Tensor[B], 'sample_idx': Tensor[B]}}`` (``PackInputs`` +
    ``default_collate``). Video batches are normalised the same way: clips
    ``(B, C, T, H, W)`` (channel dim 1, as images) and test views
    ``(B, V, C, T, H, W)`` (channel dim 2) from ``PackVideoInputs``. Image
    batches are normalised exactly as before video support (same tensors,
    same operations).

    Args:
        mean: Per-channel means in the input's scale (0-255 for images and
            for the uint8 frames of videos).
        std: Per-channel standard deviations, same scale.
        keep_bias_label_in_train: Pass ``bias_label`` to training code.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 keep_bias_label_in_train: bool = False) -> None:
        super().__init__()
        if (mean is None) != (std is None):
            raise ValueError('data_preprocessor: give both mean and std, or '
                             'neither.')
        self._normalize = mean is not None
        if self._normalize:
            self.register_buffer('mean',
                                 torch.tensor(mean).view(-1, 1, 1), False)
            self.register_buffer('std', torch.tensor(std).view(-1, 1, 1),
                                 False)
        self.keep_bias_label_in_train = keep_bias_label_in_train

    def forward(self,
                data: Union[dict, list],
                training: bool = False) -> Dict[str, object]:
        if not isinstance(data, dict) or 'inputs' not in data:
            raise TypeError(
                'BiasDataPreprocessor expects a batch dict with "inputs" and '
                '"data_samples" (use PackInputs and '
                "collate_fn=dict(type='default_collate')), got "
                f'{type(data).__name__}.')
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        inputs = inputs.to(self.device, non_blocking=True).float()
        if self._normalize:
            inputs = self._normalise(inputs)
        samples = data.get('data_samples') or {}
        if isinstance(samples, (list, tuple)):  # pseudo_collate
            samples = {
                k: torch.as_tensor([s[k] for s in samples])
                for k in samples[0]
            }
        samples = {
            k: v.to(self.device, non_blocking=True)
            if isinstance(v, torch.Tensor) else v
            for k, v in samples.items()
        }
        if training and not self.keep_bias_label_in_train:
            samples.pop('bias_label', None)
        return {'inputs': inputs, 'data_samples': samples}

    #: Channel dimension of the batch by its number of dimensions: images
    #: (B, C, H, W), clips (B, C, T, H, W), views (B, V, C, T, H, W).
    _CHANNEL_DIM = {4: 1, 5: 1, 6: 2}

    def _normalise(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(inputs - mean) / std`` along the channel dimension."""
        dim = self._CHANNEL_DIM.get(inputs.dim())
        if dim is None:
            raise ValueError(
                'data_preprocessor normalises images (B, C, H, W), clips '
                '(B, C, T, H, W) and views (B, V, C, T, H, W); got a batch '
                f'of shape {tuple(inputs.shape)}.')
        channels = self.mean.shape[0]
        if inputs.shape[dim] != channels:
            kind = {4: 'images', 5: 'clips', 6: 'views'}[inputs.dim()]
            raise ValueError(
                f'data_preprocessor has {channels} channel means but the '
                f'{kind} have {inputs.shape[dim]} channels (dim {dim} of '
                f'shape {tuple(inputs.shape)}).')
        if inputs.dim() == 4:
            # the (C, 1, 1) buffers as they are: images are bit-identical
            return (inputs - self.mean) / self.std
        # (C, 1, 1, 1) covers the trailing (C, T, H, W) of clips and views
        return (inputs - self.mean[..., None]) / self.std[..., None]
