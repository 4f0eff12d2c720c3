"""f_cls: global average pooling followed by a linear classifier."""
import torch
from mmengine.model import BaseModule
from torch import nn

from debiascls.registry import MODELS


@MODELS.register_module()
class GAPLinearHead(BaseModule):
    """Maps a feature map ``z`` (B, C, h, w) to logits (B, num_classes):
    ``W . mean_{h,w}(z) + b``.

    With this head, Grad-CAM of class y at position n has the closed form
    ``ReLU(W_y . z_n)`` up to a positive factor (IE, §3.2).

    Args:
        in_channels: C, the backbone's ``out_channels``.
        num_classes: Number of classes.
    """

    def __init__(self, in_channels: int, num_classes: int,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.fc = nn.Linear(in_channels, num_classes)

    def pool(self, feats: torch.Tensor) -> torch.Tensor:
        """Global average pooling of a (B, C, h, w) map to (B, C)."""
        if feats.dim() != 4:
            raise ValueError('GAPLinearHead expects a (B, C, h, w) feature '
                             f'map, got shape {tuple(feats.shape)}.')
        return feats.mean(dim=(2, 3))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(feats))
