"""A classifier split into f_emb (backbone) and f_cls (head)."""
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule

from debiascls.registry import MODELS


@MODELS.register_module()
class ImageClassifier(BaseModule):
    """``f = f_cls o f_emb``: a backbone that returns a spatial feature map
    and a head that pools and classifies it.

    IE needs both halves (Grad-CAM and guidance act on the map ``z``), so
    they are exposed separately: :meth:`extract_feat` is f_emb and
    :attr:`head` is f_cls. An MLP backbone yields a 1x1 map.

    Args:
        backbone: Config of the backbone (``out_channels`` attribute).
        head: Config of the head; ``in_channels`` defaults to the backbone's
            ``out_channels``.
    """

    def __init__(self, backbone: dict, head: dict,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        self.backbone = MODELS.build(backbone)
        head = dict(head)
        head.setdefault('in_channels', self.backbone.out_channels)
        self.head = MODELS.build(head)

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """f_emb: the (B, C, h, w) feature map before pooling."""
        return self.backbone(inputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes)."""
        return self.head(self.extract_feat(inputs))

    def forward_with_feat(
            self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Feature map and logits from one pass."""
        feats = self.extract_feat(inputs)
        return feats, self.head(feats)
