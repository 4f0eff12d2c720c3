"""ReBias's fully convolutional Biased-MNIST networks."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from debiascls.registry import MODELS


@MODELS.register_module()
class SimpleConvNet(BaseModule):
    """Four convolutions with ``kernel_size`` kernels (stride 1, 'same'
    padding), each followed by batch normalisation and ReLU (ReBias §4.1:
    F uses 7x7 kernels; the biased-by-design G the same net with 1x1
    kernels, whose receptive field is a single pixel, so it can only see
    colour).

    Args:
        kernel_size: 7 for F, 1 for G.
        channels: Output channels of the four layers (ReBias: 16-32-64-128).
        in_channels: Input channels.
    """

    def __init__(self,
                 kernel_size: int = 7,
                 channels: Sequence[int] = (16, 32, 64, 128),
                 in_channels: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if kernel_size % 2 != 1:
            raise ValueError('SimpleConvNet needs an odd kernel_size for '
                             f'"same" padding, got {kernel_size}.')
        layers = []
        for out_channels in channels:
            layers += [
                nn.Conv2d(
                    in_channels,
                    out_channels,
                    kernel_size,
                    padding=kernel_size // 2),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True)
            ]
            in_channels = out_channels
        self.layers = nn.Sequential(*layers)
        self.kernel_size = kernel_size
        self.out_channels = channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
