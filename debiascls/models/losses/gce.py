"""Generalized cross-entropy (Zhang & Sabuncu, NeurIPS 2018), as LfF trains
its biased model with it."""
import torch
import torch.nn.functional as F
from torch import nn

from debiascls.registry import MODELS


def generalized_ce(logits: torch.Tensor,
                   labels: torch.Tensor,
                   q: float = 0.7,
                   as_coded: bool = True) -> torch.Tensor:
    """Per-sample GCE loss, shape (B,).

    The paper (LfF Eq. 2) defines ``GCE(p, y) = (1 - p_y^q) / q``, whose
    gradient is ``p_y^q * grad CE``: samples the model already fits well
    (large ``p_y``) get larger weights, which amplifies the bias.

    Every official implementation (LfF, DisEnt, BiasEnsemble, PGD
    ``GeneralizedCELoss``) instead computes ``CE * q * p_y^q`` with ``p_y``
    detached. Its gradient is ``q * p_y^q * grad CE``: the paper's direction
    scaled by ``q``, which Adam does not see but SGD does (an lr times q).
    ``as_coded=True`` (default) follows the code; ``False`` gives the paper's
    value ``(1 - p_y^q) / q`` (same gradient as the code divided by ``q``).

    Args:
        logits: (B, C) logits.
        labels: (B,) class indices.
        q: The GCE exponent, 0 < q <= 1 (0.7 in all the official code).
        as_coded: See above.
    """
    if not 0 < q <= 1:
        raise ValueError(f'generalized_ce: q must lie in (0, 1], got {q}.')
    p_y = logits.softmax(dim=1).gather(1, labels[:, None]).squeeze(1)
    if as_coded:
        ce = F.cross_entropy(logits, labels, reduction='none')
        return ce * p_y.detach().pow(q) * q
    return (1 - p_y.pow(q)) / q


@MODELS.register_module()
class GeneralizedCELoss(nn.Module):
    """Module form of :func:`generalized_ce` with ``reduction`` ('none',
    'mean' or 'sum')."""

    def __init__(self, q: float = 0.7, as_coded: bool = True,
                 reduction: str = 'mean') -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError('GeneralizedCELoss: reduction must be none, '
                             f'mean or sum, got "{reduction}".')
        self.q = q
        self.as_coded = as_coded
        self.reduction = reduction

    def forward(self, logits: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        loss = generalized_ce(logits, labels, self.q, self.as_coded)
        if self.reduction == 'mean':
            return loss.mean()
        if self.reduction == 'sum':
            return loss.sum()
        return loss
