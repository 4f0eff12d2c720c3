"""Grad-CAM (Selvaraju et al., ICCV 2017) on a feature map, differentiable.

IE trains with it (its explanation maps E(z), Eq. 5) and the visualisation
hook draws it; both use these functions.
"""
from typing import Callable

import torch
import torch.nn.functional as F


def max_normalize(maps: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Divide each (h, w) map of a (B, h, w) tensor by its maximum (maps
    whose maximum is 0 stay 0)."""
    peak = maps.flatten(1).amax(dim=1).view(-1, 1, 1)
    return maps / peak.clamp_min(eps)


def grad_cam(feats: torch.Tensor,
             head: Callable[[torch.Tensor], torch.Tensor],
             labels: torch.Tensor,
             normalize: bool = True,
             create_graph: bool = False) -> torch.Tensor:
    """Grad-CAM of class ``labels`` with respect to a feature map, by
    autograd.

    ``E = ReLU(sum_k a_k * z_k)`` with ``a_k = mean_{h,w} d y_c / d z_k``
    (Grad-CAM Eqs. 1-2), where ``y_c = head(z)[c]`` is the logit of the
    class.

    Args:
        feats: (B, C, h, w) feature map ``z``.
        head: f_cls, maps ``z`` to (B, num_classes) logits.
        labels: (B,) class of each map.
        normalize: Divide each map by its maximum (IE §3.3).
        create_graph: Keep the graph of the gradient, so the map is itself
            differentiable w.r.t. ``feats`` and the head's parameters.

    Returns:
        (B, h, w) maps.
    """
    if not feats.requires_grad:
        feats = feats.detach().requires_grad_()
    with torch.enable_grad():
        logits = head(feats)
        score = logits.gather(1, labels.view(-1, 1)).sum()
        grads, = torch.autograd.grad(
            score, feats, create_graph=create_graph)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cams = F.relu((weights * feats).sum(dim=1))
    return max_normalize(cams) if normalize else cams


def gap_linear_grad_cam(feats: torch.Tensor,
                        weight: torch.Tensor,
                        labels: torch.Tensor,
                        normalize: bool = True) -> torch.Tensor:
    """Grad-CAM in closed form for a global-average-pooling + linear head.

    With ``logits = W . mean_n(z_n) + b``, ``d y_c / d z_{k,n} = W_{c,k} /
    (h w)`` at every position, so Grad-CAM is ``ReLU(W_c . z_n) / (h w)``;
    after max normalisation the ``1 / (h w)`` factor cancels. No second
    backward pass is needed and the result is differentiable w.r.t. ``z``
    and ``W``. ``tests/test_models/test_grad_cam.py`` checks it equals
    :func:`grad_cam`.

    Args:
        feats: (B, C, h, w) feature map.
        weight: (num_classes, C) weight of the linear layer.
        labels: (B,) class of each map.
        normalize: Divide each map by its maximum.
    """
    h, w = feats.shape[-2:]
    class_weights = weight[labels]  # (B, C)
    cams = F.relu(torch.einsum('bchw,bc->bhw', feats, class_weights)) / (h * w)
    return max_normalize(cams) if normalize else cams
