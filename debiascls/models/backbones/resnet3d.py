"""ResNet18 for video clips: ReBias's 3D-ResNet18 (F) and 2D-ResNet18 (G)
for Kinetics-10 -> Mimetics-10 (Bahng et al., ICML 2020, §4.4 and
Appendix Table A2; the SlowFast-style 3D ResNet of Feichtenhofer et al.,
ICCV 2019).

Both nets share the spatial layout; only the temporal kernels differ: 3 in
the stem and in the first convolution of every block for 3D-ResNet18
(temporal receptive field 19 frames), 1 everywhere for 2D-ResNet18
(temporal receptive field 1: each frame is processed on its own until the
head's global pooling). No layer strides or pools in time.

Table A2 vs code: the table's channels (32-32-64-128-256, 256-d features)
are what the backbone builds. ReBias's ``main_action.py`` passes
``resnet_depth=18``, whose width multipliers (1-4-8-16-32) would give
32-128-256-512-1024, while the same script sizes the RUBi / LearnedMixin
heads for 256-d features (the ``resnet_depth=18.1`` widths). Table A2's
2D-ResNet18 column prints 32 channels for res3-res5, against its own output
sizes (64/128/256); both presets use 32-32-64-128-256 here. Table A2's
``pool1`` "1x3x7" is read as 1x3x3 (stride 1x2x2, padding 0x1x1), the
SlowFast stem pooling the code uses.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from debiascls.registry import MODELS


class BasicBlock3D(nn.Module):
    """Video basic block: a ``kt``x3x3 convolution (spatial stride
    ``stride``), BN, ReLU, a 1x3x3 convolution, BN, plus the shortcut (a
    1x1x1 convolution with the same spatial stride + BN when the shape
    changes), then ReLU. Paddings keep T, and H/W up to the stride.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        temporal_kernel: ``kt``, temporal size of the first kernel (odd).
        stride: Spatial stride (no temporal stride).
    """

    def __init__(self, in_channels: int, out_channels: int,
                 temporal_kernel: int = 3, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(
            in_channels, out_channels, (temporal_kernel, 3, 3),
            stride=(1, stride, stride), padding=(temporal_kernel // 2, 1, 1),
            bias=False)
        self.bn1 = nn.BatchNorm3d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv3d(out_channels, out_channels, (1, 3, 3),
                               padding=(0, 1, 1), bias=False)
        self.bn2 = nn.BatchNorm3d(out_channels)
        self.downsample: Optional[nn.Sequential] = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv3d(in_channels, out_channels, 1,
                          stride=(1, stride, stride), bias=False),
                nn.BatchNorm3d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


@MODELS.register_module()
class ResNet3D18(BaseModule):
    """ReBias's video ResNet18 (Table A2), without the head.

    Layout for a (B, 3, 8, 224, 224) clip (output T x C x H x W):

    ======  =======================================  ===============
    conv1   kt0 x 7 x 7, 32, stride 1x2x2, BN, ReLU  8x32x112x112
    pool1   max 1x3x3, stride 1x2x2                  8x32x56x56
    res2    2 blocks [kt1 x 3 x 3, 1 x 3 x 3], 32     8x32x56x56
    res3    2 blocks [kt2 x 3 x 3, 1 x 3 x 3], 64     8x64x28x28
    res4    2 blocks [kt3 x 3 x 3, 1 x 3 x 3], 128    8x128x14x14
    res5    2 blocks [kt4 x 3 x 3, 1 x 3 x 3], 256    8x256x7x7
    ======  =======================================  ===============

    res3-res5 halve H and W in their first block. Every ``kt`` x 3 x 3
    convolution is padded by ``kt // 2`` in time, so T is kept.

    Args:
        temporal_kernels: ``'3d'`` for 3D-ResNet18 (ReBias F, ``(3, 3, 3, 3,
            3)``, ReBias's ``'33333'``), ``'2d'`` for 2D-ResNet18 (ReBias G,
            ``(1, 1, 1, 1, 1)``, ``'11111'``), or five odd temporal kernel
            sizes (conv1, res2, res3, res4, res5) for other variants.
        base_width: Channels of conv1 and res2 (ReBias: 32); res3-res5 use
            2x, 4x and 8x.
        in_channels: Input channels.
        init_cfg: mmengine initialisation config; without it convolutions are
            Kaiming-normal (fan-out, as SlowFast's ``c2_msra_fill``), BN
            weight 1 / bias 0.

    Attributes:
        temporal_receptive_field: Frames one output time step depends on,
            ``1 + (kt0 - 1) + 2 * sum(kt1..kt4 - 1)``: 19 for ``'3d'``, 1 for
            ``'2d'``.
    """

    PRESETS: Dict[str, Tuple[int, ...]] = {
        '3d': (3, 3, 3, 3, 3),
        '2d': (1, 1, 1, 1, 1),
    }
    blocks_per_stage: int = 2
    width_multipliers: Tuple[int, int, int, int] = (1, 2, 4, 8)
    stage_strides: Tuple[int, int, int, int] = (1, 2, 2, 2)

    def __init__(self,
                 temporal_kernels: Union[str, Sequence[int]] = '3d',
                 base_width: int = 32,
                 in_channels: int = 3,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(temporal_kernels, str):
            if temporal_kernels not in self.PRESETS:
                raise ValueError(
                    f"ResNet3D18: unknown temporal_kernels "
                    f"'{temporal_kernels}'; use one of "
                    f'{sorted(self.PRESETS)} or five odd ints.')
            kernels = self.PRESETS[temporal_kernels]
        else:
            kernels = tuple(int(k) for k in temporal_kernels)
            if len(kernels) != 5 or any(k < 1 or k % 2 == 0
                                        for k in kernels):
                raise ValueError(
                    'ResNet3D18: temporal_kernels needs five odd positive '
                    'sizes (conv1, res2, res3, res4, res5), got '
                    f'{tuple(temporal_kernels)}.')
        self.temporal_kernels: Tuple[int, ...] = kernels
        self.base_width = base_width
        self.in_channels = in_channels
        channels = [base_width * m for m in self.width_multipliers]
        self.out_channels: int = channels[-1]

        kt0 = kernels[0]
        self.conv1 = nn.Conv3d(
            in_channels, base_width, (kt0, 7, 7), stride=(1, 2, 2),
            padding=(kt0 // 2, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2),
                                    padding=(0, 1, 1))
        prev = base_width
        for i, (out_channels, kt, stride) in enumerate(
                zip(channels, kernels[1:], self.stage_strides)):
            blocks = [
                BasicBlock3D(prev if b == 0 else out_channels, out_channels,
                             temporal_kernel=kt,
                             stride=stride if b == 0 else 1)
                for b in range(self.blocks_per_stage)
            ]
            self.add_module(f'res{i + 2}', nn.Sequential(*blocks))
            prev = out_channels
        self.temporal_receptive_field: int = 1 + (kt0 - 1) + sum(
            self.blocks_per_stage * (kt - 1) for kt in kernels[1:])
        self._default_init()

    def _default_init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(
                    m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """``init_cfg`` if given, else the default initialisation."""
        super().init_weights()
        if self.init_cfg is None:
            self._default_init()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (B, C, T, H, W) clips to the (B, 256, T, h, w) res5 map."""
        if x.dim() != 5:
            raise ValueError('ResNet3D18 expects clips (B, C, T, H, W), got '
                             f'shape {tuple(x.shape)}.')
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.res2(x)
        x = self.res3(x)
        x = self.res4(x)
        return self.res5(x)
