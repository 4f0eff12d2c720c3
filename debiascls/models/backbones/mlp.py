"""Fully-connected backbone of the LfF family (Colored MNIST).

LfF (Nam et al., NeurIPS 2020, ``module/mlp.py``) uses three hidden layers of
100 units with ReLU on the flattened 3x28x28 image, followed by a linear
classifier. DisEnt (Lee et al., NeurIPS 2021) and BiasEnsemble (Lee et al.,
AAAI 2023) use the same trunk with a last hidden width of 16:
``hidden_dims=(100, 100, 16)``.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from debiascls.registry import MODELS


@MODELS.register_module()
class MLP(BaseModule):
    """Multi-layer perceptron trunk of LfF / DisEnt / BE.

    The input image is flattened and passed through ``Linear + ReLU`` blocks
    of widths ``hidden_dims``. The last hidden activation is returned as a
    ``(B, hidden_dims[-1], 1, 1)`` map so the backbone fits the
    "spatial map before global pooling" contract of every debiascls backbone
    (global average pooling of a 1x1 map is the identity).

    Linear layers keep PyTorch's default initialisation, as in LfF.

    Args:
        in_channels: Number of input channels.
        in_size: Input spatial size, ``int`` (square) or ``(h, w)``.
        hidden_dims: Widths of the hidden layers. ``(100, 100, 100)`` is
            LfF's MLP, ``(100, 100, 16)`` the DisEnt/BE one.
        input_scale: Factor applied to the flattened input. The official
            LfF/DisEnt/BE MLPs divide their ``ToTensor`` input by 255 inside
            ``forward``; set ``1 / 255`` to reproduce that quirk. Defaults to
            1.0 (no scaling).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: int = 3,
                 in_size: Union[int, Tuple[int, int]] = 28,
                 hidden_dims: Sequence[int] = (100, 100, 100),
                 input_scale: float = 1.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_size, int):
            in_size = (in_size, in_size)
        in_size = tuple(int(s) for s in in_size)
        if len(in_size) != 2 or min(in_size) <= 0:
            raise ValueError(
                f'in_size must be a positive int or (h, w), got {in_size}')
        hidden_dims = tuple(int(d) for d in hidden_dims)
        if len(hidden_dims) == 0 or min(hidden_dims) <= 0:
            raise ValueError('hidden_dims must be a non-empty sequence of '
                             f'positive ints, got {hidden_dims}')
        if in_channels <= 0:
            raise ValueError(
                f'in_channels must be positive, got {in_channels}')

        self.in_channels = int(in_channels)
        self.in_size: Tuple[int, int] = in_size
        self.hidden_dims: Tuple[int, ...] = hidden_dims
        self.input_scale = float(input_scale)
        self.out_channels: int = hidden_dims[-1]

        layers = []
        in_features = self.in_channels * in_size[0] * in_size[1]
        for width in hidden_dims:
            layers += [nn.Linear(in_features, width), nn.ReLU(inplace=True)]
            in_features = width
        self.layers = nn.Sequential(*layers)

    def init_weights(self) -> None:
        """Re-draw PyTorch's default ``Linear`` init (or apply
        ``init_cfg``)."""
        super().init_weights()
        if self.init_cfg is None:
            for m in self.layers:
                if isinstance(m, nn.Linear):
                    m.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(B, C, H, W)`` images to a ``(B, out_channels, 1, 1)`` map."""
        expected = (self.in_channels, *self.in_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f'{self.__class__.__name__} expects input of shape '
                f'(B, {", ".join(map(str, expected))}), '
                f'got {tuple(x.shape)}')
        x = x.flatten(1)
        if self.input_scale != 1.0:
            x = x * self.input_scale
        x = self.layers(x)
        return x[:, :, None, None]
