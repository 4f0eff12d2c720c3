"""A small convolutional backbone with a spatial feature map, for the
synthetic digit data sets."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from debiascls.registry import MODELS


@MODELS.register_module()
class ConvNet(BaseModule):
    """``len(channels)`` blocks of 3x3 convolution (padding 1), batch
    normalisation and ReLU, with 2x2 max pooling after every block but the
    last: 28x28 digits give a 7x7 map with three blocks.

    The issue of IE on Colored MNIST: LfF's MLP gives a 1x1 "map", on which
    IE's common-feature and relative-exploitation scores (Eqs. 4-5)
    degenerate, and PGD's SimpleConvNet-1 pools 28x28 inputs down to 1x1 as
    well. This net keeps a spatial map and trains in minutes on a CPU;
    debiascls uses it for every method on SynthDigits and Colored MNIST so
    that Vanilla, LfF, LfF+BE and IE are compared on the same backbone.

    Args:
        channels: Output channels of the blocks.
        in_channels: Input channels.
    """

    def __init__(self,
                 channels: Sequence[int] = (8, 16, 32),
                 in_channels: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if not channels:
            raise ValueError('ConvNet needs at least one block (channels).')
        layers = []
        for i, out_channels in enumerate(channels):
            layers += [
                nn.Conv2d(in_channels, out_channels, 3, padding=1,
                          bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True)
            ]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            in_channels = out_channels
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
