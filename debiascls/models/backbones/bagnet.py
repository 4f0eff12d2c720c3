"""BagNet18: a ResNet18-layout bag-of-local-features net (Brendel & Bethge,
ICLR 2019), the texture-biased G of ReBias's 9-class ImageNet experiment
(Bahng et al., ICML 2020, §4.1).

BagNets limit the receptive field by turning most 3x3 convolutions of a
ResNet into 1x1 and by using unpadded ('valid') convolutions, so each output
position only sees one small input patch. ReBias builds BagNet18 from
ResNet18's basic blocks (2-2-2-2, widths 64-128-256-512) with the BagNet
stem and stage strides 2-2-2-1.

Receptive field, paper vs code: the ReBias paper says BagNet18 is "limited
to RF=43", but its code (``models/imagenet_models.py``, ``bagnet18``) keeps a
3x3 kernel only in the first block of the first stage (``kernel3 =
[1, 0, 0, 0]``), which gives a 5x5 receptive field (stem 3x3 + one 3x3 at
input stride 1); ``bagnet18``'s ``rf=43`` argument is unused. We follow the
code by default; ``kernel3=(0, 0, 1, 2)`` is one layout with the paper's RF
of 43 (no source says which layout the paper measured).
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from debiascls.registry import MODELS


def _crop_to(x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Keep the top-left ``size`` of a (B, C, H, W) map (BagNet code crops
    the shortcut's bottom rows and right columns when unpadded convolutions
    have shrunk the residual branch)."""
    h, w = size
    if x.shape[-2:] == (h, w):
        return x
    return x[..., :h, :w]


class BagNetBasicBlock(nn.Module):
    """ResNet basic block with unpadded convolutions: a ``kernel_size``
    convolution (1 or 3, carrying the stride), BN, ReLU, a 1x1 convolution,
    BN, plus the shortcut (a strided 1x1 convolution + BN when the shape
    changes), then ReLU.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel of the first convolution, 1 or 3.
        stride: Stride of the first convolution and of the projection.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int = 1, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size,
                               stride=stride, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample: Optional[nn.Sequential] = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        out = out + _crop_to(shortcut, out.shape[-2:])
        return self.relu(out)


@MODELS.register_module()
class BagNet18(BaseModule):
    """BagNet on ResNet18's layout, as ReBias uses it for the texture-biased
    G (see the module docstring for the paper-vs-code receptive field).

    Stem (BagNet): 1x1 conv 3->64, unpadded 3x3 conv 64->64 (no BN between
    them), BN (momentum 0.001, as in both BagNet and ReBias code), ReLU; no
    max-pooling. Then four stages of two :class:`BagNetBasicBlock` each.
    Stage ``i`` uses 3x3 kernels in its first ``kernel3[i]`` blocks and 1x1
    elsewhere. The second convolution of every block is 1x1.

    Output: the (B, 512, h, w) map before pooling; (B, 512, 28, 28) for
    224x224 inputs with the defaults. Each output position depends only on
    a ``receptive_field`` x ``receptive_field`` input patch (5 by default).

    Args:
        kernel3: Per stage, how many leading blocks keep a 3x3 kernel
            (0, 1 or 2). ReBias code: ``(1, 0, 0, 0)``.
        strides: Per-stage strides. ReBias/BagNet: ``(2, 2, 2, 1)``.
        in_channels: Input channels.
        init_cfg: mmengine initialisation config; without it convolutions are
            Kaiming-normal (fan-out: variance 2 / (k * k * out_channels), as
            in the BagNet code), BN weight 1 / bias 0.
    """

    stage_channels: Tuple[int, int, int, int] = (64, 128, 256, 512)
    blocks_per_stage: int = 2

    def __init__(self,
                 kernel3: Sequence[int] = (1, 0, 0, 0),
                 strides: Sequence[int] = (2, 2, 2, 1),
                 in_channels: int = 3,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        kernel3 = tuple(int(k) for k in kernel3)
        strides = tuple(int(s) for s in strides)
        if len(kernel3) != 4 or any(
                not 0 <= k <= self.blocks_per_stage for k in kernel3):
            raise ValueError('BagNet18: kernel3 needs 4 entries in '
                             f'0..{self.blocks_per_stage} (leading 3x3 '
                             f'blocks per stage), got {kernel3}.')
        if len(strides) != 4 or any(s < 1 for s in strides):
            raise ValueError('BagNet18: strides needs 4 positive entries, '
                             f'got {strides}.')
        self.kernel3 = kernel3
        self.strides = strides
        self.in_channels = in_channels
        self.out_channels: int = self.stage_channels[-1]

        self.conv1 = nn.Conv2d(in_channels, 64, 1, bias=False)
        self.conv2 = nn.Conv2d(64, 64, 3, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(64, momentum=0.001)
        self.relu = nn.ReLU(inplace=True)
        channels = 64
        for i, (out_channels, n3, stride) in enumerate(
                zip(self.stage_channels, kernel3, strides)):
            blocks = [
                BagNetBasicBlock(
                    channels if b == 0 else out_channels,
                    out_channels,
                    kernel_size=3 if b < n3 else 1,
                    stride=stride if b == 0 else 1)
                for b in range(self.blocks_per_stage)
            ]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            channels = out_channels
        self.receptive_field: int = self._receptive_field()
        self._default_init()

    def _receptive_field(self) -> int:
        """Side of the input patch one output position sees: the stem's 3x3
        gives 3; a 3x3 convolution applied where the accumulated stride is
        ``j`` widens it by ``2 * j``."""
        rf, jump = 3, 1
        for n3, stride in zip(self.kernel3, self.strides):
            for b in range(self.blocks_per_stage):
                if b < n3:
                    rf += 2 * jump
                if b == 0:
                    jump *= stride
        return rf

    def _default_init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(
                    m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """``init_cfg`` if given, else the default initialisation."""
        super().init_weights()
        if self.init_cfg is None:
            self._default_init()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (B, C, H, W) images to the (B, 512, h, w) feature map."""
        x = self.relu(self.bn1(self.conv2(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)
