"""f_cls: global average pooling followed by a small MLP."""
from typing import Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from debiascls.registry import MODELS


@MODELS.register_module()
class GAPMLPHead(BaseModule):
    """Pools a feature map ``(B, C, h, w)`` and classifies it with
    ``len(hidden_dims) + 1`` linear layers, ReLU and dropout between them:
    CosFairNet's "pre-trained ResNet18 topped with 3 MLP layers with 0.5
    dropout between the layers" (§5) with ``hidden_dims=(256, 128)`` (the
    widths are not given in the paper).

    The linear layers are ``fc1``, ``fc2``, ... and ``fc`` (the classifier),
    so a config can name them (e.g. CosFairNet's constrained layers
    ``'head.fc1'``, ``'head.fc2'``).

    Args:
        in_channels: C.
        num_classes: Number of classes.
        hidden_dims: Widths of the hidden layers.
        dropout: Dropout probability between the layers.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 hidden_dims: Sequence[int] = (256, 128),
                 dropout: float = 0.5,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.hidden_dims = tuple(hidden_dims)
        width = in_channels
        for i, hidden in enumerate(self.hidden_dims, start=1):
            self.add_module(f'fc{i}', nn.Linear(width, hidden))
            width = hidden
        self.fc = nn.Linear(width, num_classes)
        self.act = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(dropout)

    def pool(self, feats: torch.Tensor) -> torch.Tensor:
        """Global average pooling of a (B, C, h, w) map to (B, C)."""
        if feats.dim() != 4:
            raise ValueError('GAPMLPHead expects a (B, C, h, w) feature map, '
                             f'got shape {tuple(feats.shape)}.')
        return feats.mean(dim=(2, 3))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = self.pool(feats)
        for i in range(1, len(self.hidden_dims) + 1):
            x = self.drop(self.act(getattr(self, f'fc{i}')(x)))
        return self.fc(x)
