"""CIFAR-style ResNets of He et al. 2016 (ResNet20/32/44/56), option A.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, §4.2:
a 3x3 convolution with 16 filters, then three stages of ``n`` basic blocks
with 16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps (stride 2 at the
first block of stages 2 and 3), so ``depth = 6n + 2``. Shortcuts are
identities; where the shape changes they subsample with stride 2 and pad
the extra channels with zeros (option A, parameter-free).

This is the ResNet20 that LfF (``module/resnet.py``) and CosFairNet use on
Corrupted CIFAR-10, including its Kaiming-normal (fan-in) initialisation of
every convolution and linear weight.
"""
from typing import List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from debiascls.registry import MODELS


class ShortcutA(nn.Module):
    """Option-A shortcut: strided subsampling + zero-padding of channels.

    Args:
        in_channels: Channels of the block input.
        out_channels: Channels of the block output (``>= in_channels``).
        stride: Spatial subsampling factor.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError('option-A shortcut cannot reduce channels '
                             f'({in_channels} -> {out_channels})')
        self.stride = stride
        extra = out_channels - in_channels
        # split the zero channels evenly on both sides (planes // 4 each for
        # a doubling of the width, as in the common option-A implementation)
        self.pad = (extra // 2, extra - extra // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.pad != (0, 0):
            x = F.pad(x, (0, 0, 0, 0, *self.pad))
        return x

    def extra_repr(self) -> str:
        return f'stride={self.stride}, pad={self.pad}'


class BasicBlockCIFAR(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus shortcut, then ReLU (He et al. 2016).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: Stride of the first convolution.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1,
            bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = ShortcutA(in_channels, out_channels,
                                                 stride)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


@MODELS.register_module()
class ResNetCIFAR(BaseModule):
    """CIFAR ResNet of depth ``6n + 2`` with option-A shortcuts.

    Returns the output of the last stage, ``(B, 64, H/4, W/4)`` (an 8x8 map
    for 32x32 inputs), before global average pooling.

    Args:
        depth: 20, 32, 44, 56, 110 or any ``6n + 2`` with ``n >= 1``.
        in_channels: Input channels.
        init_cfg: mmengine initialisation config. When ``None`` (default),
            every ``Conv2d``/``Linear`` weight is drawn with
            ``kaiming_normal_`` (fan-in, gain sqrt(2)) as in LfF, and BN
            layers keep weight 1 / bias 0.
    """

    stage_channels = (16, 32, 64)

    def __init__(self,
                 depth: int = 20,
                 in_channels: int = 3,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth < 8 or (depth - 2) % 6 != 0:
            raise ValueError(
                f'depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110), '
                f'got {depth}')
        self.depth = depth
        self.num_blocks = (depth - 2) // 6
        self.in_channels = in_channels
        self.out_channels: int = self.stage_channels[-1]

        width = self.stage_channels[0]
        self.conv1 = nn.Conv2d(
            in_channels, width, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_stage(width, self.stage_channels[0], 1)
        self.layer2 = self._make_stage(self.stage_channels[0],
                                       self.stage_channels[1], 2)
        self.layer3 = self._make_stage(self.stage_channels[1],
                                       self.stage_channels[2], 2)
        self._kaiming_init()

    def _make_stage(self, in_channels: int, out_channels: int,
                    stride: int) -> nn.Sequential:
        blocks = [BasicBlockCIFAR(in_channels, out_channels, stride)]
        blocks += [
            BasicBlockCIFAR(out_channels, out_channels, 1)
            for _ in range(self.num_blocks - 1)
        ]
        return nn.Sequential(*blocks)

    def _kaiming_init(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """Re-draw the LfF Kaiming init, or apply ``init_cfg`` if given."""
        super().init_weights()
        if self.init_cfg is None:
            self._kaiming_init()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(B, C, H, W)`` images to a ``(B, 64, H/4, W/4)`` map."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = self.layer2(x)
        return self.layer3(x)


@MODELS.register_module()
class ResNet20(ResNetCIFAR):
    """ResNet20 of He et al. 2016 (option A), the LfF CIFAR10C backbone.

    Same as ``ResNetCIFAR(depth=20)``: 269,072 trunk parameters, i.e.
    269,722 with a 64 -> 10 linear head.

    Args:
        in_channels: Input channels.
        init_cfg: mmengine initialisation config (see :class:`ResNetCIFAR`).
    """

    def __init__(self,
                 in_channels: int = 3,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(depth=20, in_channels=in_channels, init_cfg=init_cfg)
