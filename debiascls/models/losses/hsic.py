"""The Hilbert-Schmidt independence criterion with RBF kernels (Gretton et
al. 2005), its unbiased estimator HSIC_1 (Song et al. 2012), as ReBias
uses it."""
from typing import Optional

import torch
from torch import nn

from debiascls.registry import MODELS


def rbf_kernel(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2))`` of the rows of a
    (m, d) matrix (flattened beforehand)."""
    x = x.flatten(1)
    sq = torch.cdist(x, x).pow(2)
    return torch.exp(-sq / (2 * sigma * sigma))


def squared_distances(x: torch.Tensor) -> torch.Tensor:
    """The m^2 squared distances between the rows of ``x``, diagonal
    included (ReBias's median heuristic takes their median)."""
    x = x.flatten(1)
    return torch.cdist(x, x).pow(2).flatten()


def hsic_unbiased(k: torch.Tensor, l: torch.Tensor) -> torch.Tensor:
    """HSIC_1 (ReBias Eq. A3; Song et al. 2012) of two (m, m) kernel
    matrices, m >= 4:

    ``1/(m(m-3)) [tr(K~ L~) + (1'K~1 1'L~1) / ((m-1)(m-2))
    - 2/(m-2) 1'K~L~1]``

    with ``K~``, ``L~`` the kernel matrices with zeroed diagonals. (The
    official code subtracts the diagonal broadcast over columns, which
    equals this for RBF kernels, whose diagonal is 1.)
    """
    m = k.shape[0]
    if m < 4:
        raise ValueError(f'hsic_unbiased needs at least 4 samples, got {m}.')
    eye = torch.eye(m, dtype=k.dtype, device=k.device)
    kt = k * (1 - eye)
    lt = l * (1 - eye)
    ones = torch.ones(m, 1, dtype=k.dtype, device=k.device)
    trace = (kt * lt.t()).sum()  # tr(K~ L~)
    middle = (ones.t() @ kt @ ones) * (ones.t() @ lt @ ones) / (
        (m - 1) * (m - 2))
    last = 2 / (m - 2) * (ones.t() @ kt @ lt @ ones)
    return ((trace + middle - last) / (m * (m - 3))).squeeze()


def hsic_biased(k: torch.Tensor, l: torch.Tensor) -> torch.Tensor:
    """The biased estimator ``tr(K H L H) / (m - 1)^2`` (H the centring
    matrix), for comparison."""
    m = k.shape[0]
    h = torch.eye(m, dtype=k.dtype, device=k.device) - 1.0 / m
    return torch.trace(k @ h @ l @ h) / (m - 1)**2


@MODELS.register_module()
class RbfHSIC(nn.Module):
    """``HSIC_1(u, v)`` with RBF kernels of radii ``sigma_u``, ``sigma_v`` on
    the flattened rows of two (m, ...) tensors.

    Args:
        sigma_u, sigma_v: Kernel radii (ReBias Biased MNIST: 1); set them
            per epoch with the median heuristic (see
            :class:`~debiascls.engine.hooks.KernelRadiusHook`).
        unbiased: HSIC_1 (default, as ReBias) or the biased estimator.
    """

    def __init__(self, sigma_u: float = 1.0, sigma_v: Optional[float] = None,
                 unbiased: bool = True) -> None:
        super().__init__()
        self.sigma_u = float(sigma_u)
        self.sigma_v = float(sigma_u if sigma_v is None else sigma_v)
        self.unbiased = unbiased

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        k = rbf_kernel(u, self.sigma_u)
        l = rbf_kernel(v, self.sigma_v)
        return hsic_unbiased(k, l) if self.unbiased else hsic_biased(k, l)
