"""f_cls: global average pooling followed by a linear classifier."""
import torch
from mmengine.model import BaseModule
from torch import nn

from debiascls.registry import MODELS


@MODELS.register_module()
class GAPLinearHead(BaseModule):
    """Maps a feature map ``z`` (B, C, h, w), or (B, C, t, h, w) for video,
    to logits (B, num_classes): ``W . mean_{h,w}(z) + b`` (mean over t, h, w
    for video).

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
        """Global average pooling of a (B, C, h, w) image map or a
        (B, C, t, h, w) video map to (B, C): the mean over every dim after
        the channel dim."""
        if feats.dim() not in (4, 5):
            raise ValueError('GAPLinearHead expects a (B, C, h, w) or '
                             '(B, C, t, h, w) feature map, got shape '
                             f'{tuple(feats.shape)}.')
        return feats.mean(dim=tuple(range(2, feats.dim())))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(feats))
