"""The von Mises-Fisher distribution on the unit sphere S^{d-1}, in log
space (PGD's directional score, its §4.1 and Appendix G).

``f_d(v; u, kappa) = C_d(kappa) exp(kappa u.v)`` with
``C_d(kappa) = kappa^{d/2-1} / ((2 pi)^{d/2} I_{d/2-1}(kappa))``. For the
dimensions PGD uses (K = 100 or 500) ``I_{d/2-1}(kappa)`` and
``kappa^{d/2-1}`` overflow float64 long before ``kappa`` is large, so every
quantity here is a logarithm.
"""
import math
from typing import Tuple

import torch


def _log_iv_series(nu: torch.Tensor, x: torch.Tensor,
                   terms: int) -> torch.Tensor:
    """``log I_nu(x)`` from its power series
    ``sum_m (x/2)^(2m+nu) / (m! Gamma(m+nu+1))``, summed in log space."""
    m = torch.arange(terms, dtype=x.dtype, device=x.device)
    log_half_x = torch.log(x / 2).unsqueeze(-1)
    nu = nu.unsqueeze(-1)
    log_terms = ((2 * m + nu) * log_half_x - torch.lgamma(m + 1) -
                 torch.lgamma(m + nu + 1))
    return torch.logsumexp(log_terms, dim=-1)


def _log_iv_debye(nu: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``log I_nu(x)`` from the uniform asymptotic (Debye) expansion for
    large ``nu`` (Abramowitz & Stegun 9.7.7), with its first three
    correction terms; its error is below 1e-7 for ``nu >= 25``."""
    z = x / nu
    s = torch.sqrt(1 + z * z)
    t = 1 / s
    eta = s + torch.log(z / (1 + s))
    u1 = (3 * t - 5 * t**3) / 24
    u2 = (81 * t**2 - 462 * t**4 + 385 * t**6) / 1152
    u3 = (30375 * t**3 - 369603 * t**5 + 765765 * t**7 -
          425425 * t**9) / 414720
    series = 1 + u1 / nu + u2 / nu**2 + u3 / nu**3
    return (-0.5 * torch.log(2 * math.pi * nu) + nu * eta -
            0.5 * torch.log(s) + torch.log(series))


def _log_iv_large_x(nu: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``log I_nu(x)`` from the large-argument expansion (A&S 9.7.1), for
    ``x >> nu^2``."""
    mu = 4 * nu * nu
    series = (1 - (mu - 1) / (8 * x) + (mu - 1) * (mu - 9) /
              (2 * (8 * x)**2) - (mu - 1) * (mu - 9) * (mu - 25) /
              (6 * (8 * x)**3))
    return x - 0.5 * torch.log(2 * math.pi * x) + torch.log(series)


def log_bessel_iv(nu: float, x: torch.Tensor) -> torch.Tensor:
    """``log I_nu(x)`` of the modified Bessel function of the first kind,
    for ``nu >= 0`` and ``x > 0``, in float64, without overflow.

    Debye's uniform expansion for ``nu >= 25``; otherwise the power series
    for moderate ``x`` and the large-argument expansion for ``x > 50 (1 +
    nu^2)``, where its terms fall by 100x each.
    """
    x = torch.as_tensor(x, dtype=torch.float64)
    if nu < 0 or bool((x <= 0).any()):
        raise ValueError('log_bessel_iv needs nu >= 0 and x > 0.')
    nu_t = torch.full_like(x, float(nu))
    if nu >= 25:
        return _log_iv_debye(nu_t, x)
    large = x > 50 * (1 + nu * nu)
    out = torch.empty_like(x)
    if large.any():
        out[large] = _log_iv_large_x(nu_t[large], x[large])
    if (~large).any():
        small = x[~large]
        terms = int(float(small.max()) / 2 + 10 * math.sqrt(
            float(small.max())) + 60)
        out[~large] = _log_iv_series(nu_t[~large], small, terms)
    return out


def vmf_log_normalizer(dim: int, kappa: torch.Tensor) -> torch.Tensor:
    """``log C_d(kappa)`` of the vMF density on ``S^{dim-1}``; for
    ``kappa -> 0`` the uniform density ``log(Gamma(d/2) / (2 pi^{d/2}))``."""
    kappa = torch.as_tensor(kappa, dtype=torch.float64)
    nu = dim / 2 - 1
    uniform = torch.full_like(
        kappa, math.lgamma(dim / 2) - math.log(2) - dim / 2 * math.log(
            math.pi))
    safe = kappa.clamp_min(1e-8)
    value = (nu * torch.log(safe) - dim / 2 * math.log(2 * math.pi) -
             log_bessel_iv(nu, safe))
    return torch.where(kappa > 1e-8, value, uniform)


def vmf_mle(vectors: torch.Tensor) -> Tuple[torch.Tensor, float, float]:
    """Approximate maximum-likelihood vMF parameters of unit vectors (N, d)
    (Banerjee et al. 2005; PGD Appendix G): mean direction
    ``u = sum v_i / ||sum v_i||``, mean resultant length ``r = ||sum v_i||
    / N`` and ``kappa ~= r (d - r^2) / (1 - r^2)``.

    Returns ``(u, r, kappa)``; ``kappa`` is capped at 1e12 when all the
    vectors coincide (r = 1).
    """
    n, d = vectors.shape
    total = vectors.sum(dim=0)
    norm = total.norm()
    u = total / norm.clamp_min(1e-12)
    r = float(norm / n)
    if r >= 1 - 1e-12:
        return u, r, 1e12
    return u, r, r * (d - r * r) / (1 - r * r)


def vmf_log_pdf(vectors: torch.Tensor, u: torch.Tensor,
                kappa: float) -> torch.Tensor:
    """``log f_d(v; u, kappa)`` of unit vectors (N, d), float64."""
    d = vectors.shape[1]
    cos = vectors.double() @ u.double()
    return vmf_log_normalizer(d, torch.tensor(kappa)) + kappa * cos
