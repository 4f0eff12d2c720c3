"""A clip classifier that also scores multi-view test videos."""
import math
from typing import Optional

import torch
import torch.nn.functional as F

from debiascls.registry import MODELS
from .image_classifier import ImageClassifier


@MODELS.register_module()
class VideoClassifier(ImageClassifier):
    """:class:`ImageClassifier` for video: the backbone maps clips
    (B, C, T, H, W) to (B, C', t, h, w) maps and the head pools over t, h, w.

    :meth:`forward` also takes several test views per video, (B, V, C, T, H,
    W) (ReBias: 10 temporal clips x 1 crop), runs the V * B clips in one
    batch and returns one (B, num_classes) row per video:

    - ``view_reduce='mean_logits'`` (default): the mean over views of the
      clip logits. It has the same argmax as a sum of clip logits, and
      ``softmax`` of it is a proper distribution whatever V is.
    - ``view_reduce='mean_probs'``: ``log`` of the mean over views of the
      clip softmax scores, so ``softmax`` of the output is exactly that mean.
      This reproduces ReBias's video-level prediction: its action head
      (``ResNetBasicHead``) applies a softmax to each clip in eval mode and
      ``ActionEvaluator`` sums those clip scores per video. The two
      reductions can disagree on the argmax.

    :meth:`extract_feat` and :meth:`forward_with_feat` take clips only.

    Args:
        backbone: Config of a clip backbone (``out_channels`` attribute).
        head: Config of the head; ``in_channels`` defaults to the backbone's
            ``out_channels``. The head must pool 5-D maps (e.g.
            ``GAPLinearHead``).
        view_reduce: ``'mean_logits'`` or ``'mean_probs'``.
    """

    VIEW_REDUCTIONS = ('mean_logits', 'mean_probs')

    def __init__(self, backbone: dict, head: dict,
                 view_reduce: str = 'mean_logits',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, head, init_cfg=init_cfg)
        if view_reduce not in self.VIEW_REDUCTIONS:
            raise ValueError(
                f"VideoClassifier: view_reduce must be one of "
                f"{self.VIEW_REDUCTIONS}, got '{view_reduce}'.")
        self.view_reduce = view_reduce

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """f_emb: the (B, C', t, h, w) map of (B, C, T, H, W) clips."""
        if inputs.dim() == 6:
            raise ValueError(
                'VideoClassifier.extract_feat takes clips (B, C, T, H, W), '
                f'got multi-view input {tuple(inputs.shape)} (B, V, C, T, H, '
                'W). Call the classifier itself to average the views, or '
                'flatten them into the batch: inputs.flatten(0, 1).')
        if inputs.dim() != 5:
            raise ValueError(
                'VideoClassifier.extract_feat takes clips (B, C, T, H, W), '
                f'got shape {tuple(inputs.shape)}.')
        return self.backbone(inputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) of clips (B, C, T, H, W), or the per-video
        reduction over views (see the class docstring) of (B, V, C, T, H, W).
        """
        if inputs.dim() == 5:
            return self.head(self.extract_feat(inputs))
        if inputs.dim() != 6:
            raise ValueError(
                'VideoClassifier expects clips (B, C, T, H, W) or views (B, '
                f'V, C, T, H, W), got shape {tuple(inputs.shape)}.')
        num_videos, num_views = inputs.shape[:2]
        logits = self.head(self.extract_feat(inputs.flatten(0, 1)))
        logits = logits.view(num_videos, num_views, -1)
        if self.view_reduce == 'mean_logits':
            return logits.mean(dim=1)
        return (torch.logsumexp(F.log_softmax(logits, dim=2), dim=1) -
                math.log(num_views))
