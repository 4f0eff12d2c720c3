"""PGD's small convolutional networks (Simple ConvNet-1 and -2, its
Figure 9 and Appendix A.1)."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from debiascls.registry import MODELS


@MODELS.register_module()
class PGDConvNet(BaseModule):
    """Valid (unpadded) convolutions, each followed by batch normalisation,
    ReLU and dropout, with 2x2 average pooling between them; the head pools
    the last map globally.

    - Simple ConvNet-1 (MNIST variants, the default): ``channels=(8, 32,
      64)``, ``kernel_sizes=(4, 4, 4)``; a 28x28 input gives a 64x1x1 map
      (the official ``CONV``: 3-8-32-64, kernel 4). The official third block
      applies ReLU before batch normalisation; we keep the order of the
      first two blocks.
    - Simple ConvNet-2 (Cartoon): five convolutions with kernels
      ``(6, 6, 5, 5, 4)`` (the text; the channel widths, unreadable in our
      copy of Figure 9, are ours: 8-16-16-32-32), for 128x128 inputs.

    Args:
        channels: Output channels of the convolutions.
        kernel_sizes: Their kernel sizes.
        dropout: Dropout probability after every block (the official
            ``nn.Dropout()`` default, 0.5).
        in_channels: Input channels.
    """

    def __init__(self,
                 channels: Sequence[int] = (8, 32, 64),
                 kernel_sizes: Sequence[int] = (4, 4, 4),
                 dropout: float = 0.5,
                 in_channels: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if len(channels) != len(kernel_sizes) or not channels:
            raise ValueError('PGDConvNet: give one kernel size per conv '
                             f'layer, got channels={tuple(channels)}, '
                             f'kernel_sizes={tuple(kernel_sizes)}.')
        layers = []
        for i, (out, k) in enumerate(zip(channels, kernel_sizes)):
            layers += [
                nn.Conv2d(in_channels, out, k),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout)
            ]
            if i < len(channels) - 1:
                layers.append(nn.AvgPool2d(2, 2))
            in_channels = out
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
