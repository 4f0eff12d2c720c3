"""HSIC_1 against its formula written out term by term, RBF kernels by hand,
and the estimator's behaviour on independent and dependent samples."""
import itertools
import math

import pytest
import torch

from debiascls.models.losses import (RbfHSIC, hsic_biased, hsic_unbiased,
                                     rbf_kernel, squared_distances)


def hsic1_by_terms(k, l):
    """Song et al. (2012) Eq. 5 / ReBias Eq. A3 with explicit sums:
    1/(m(m-3)) [sum_{i!=j} K_ij L_ji
    + (sum_{i!=j} K_ij)(sum_{i!=j} L_ij) / ((m-1)(m-2))
    - 2/(m-2) sum_{i,j,q} K~_ij L~_jq]."""
    m = len(k)
    kt = [[0.0 if i == j else float(k[i][j]) for j in range(m)]
          for i in range(m)]
    lt = [[0.0 if i == j else float(l[i][j]) for j in range(m)]
          for i in range(m)]
    trace = sum(kt[i][j] * lt[j][i] for i in range(m) for j in range(m))
    sum_k = sum(map(sum, kt))
    sum_l = sum(map(sum, lt))
    chain = sum(kt[i][j] * lt[j][q]
                for i, j, q in itertools.product(range(m), repeat=3))
    return (trace + sum_k * sum_l / ((m - 1) * (m - 2)) -
            2 / (m - 2) * chain) / (m * (m - 3))


def _random_kernel(m, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(m, 3, generator=g, dtype=torch.float64)
    return rbf_kernel(x, 1.3)


def test_rbf_kernel_by_hand():
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    k = rbf_kernel(x, sigma=1.0)
    want = torch.tensor([[1, math.exp(-0.5), math.exp(-4.5)],
                         [math.exp(-0.5), 1, math.exp(-2.0)],
                         [math.exp(-4.5), math.exp(-2.0), 1]],
                        dtype=torch.float64)
    assert torch.allclose(k, want)
    # sigma 2: exp(-d^2 / 8)
    assert rbf_kernel(x, 2.0)[0, 1].item() == pytest.approx(math.exp(-1 / 8))
    # rows are flattened: a (3, 1, 1) tensor gives the same kernel
    assert torch.allclose(rbf_kernel(x.view(3, 1, 1), 1.0), want)


def test_squared_distances_keep_the_diagonal():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert squared_distances(x).tolist() == pytest.approx([0, 25, 25, 0])


@pytest.mark.parametrize('m,seeds', [(4, (0, 1)), (6, (2, 3)), (9, (4, 5))])
def test_unbiased_estimator_equals_the_formula_term_by_term(m, seeds):
    k, l = _random_kernel(m, seeds[0]), _random_kernel(m, seeds[1])
    want = hsic1_by_terms(k.tolist(), l.tolist())
    assert hsic_unbiased(k, l).item() == pytest.approx(want, rel=1e-10)


def test_unbiased_estimator_on_non_symmetric_general_matrices():
    # the estimator is defined for any pair of m x m matrices; the last
    # term is 1'K~L~1 (the official code's column-sum product equals it
    # for symmetric matrices only)
    g = torch.Generator().manual_seed(7)
    k = torch.rand(5, 5, generator=g, dtype=torch.float64)
    l = torch.rand(5, 5, generator=g, dtype=torch.float64)
    want = hsic1_by_terms(k.tolist(), l.tolist())
    assert hsic_unbiased(k, l).item() == pytest.approx(want, rel=1e-10)


def test_constant_kernel_carries_no_dependence():
    # K = L = 1 1': tr = 12, (12 * 12) / 6 = 24, 2/2 * 1'(J-I)^2 1 = 36
    ones = torch.ones(4, 4, dtype=torch.float64)
    assert hsic_unbiased(ones, ones).item() == pytest.approx(0.0, abs=1e-12)


def test_too_few_samples_is_an_error():
    with pytest.raises(ValueError, match='at least 4'):
        hsic_unbiased(torch.ones(3, 3), torch.ones(3, 3))


def test_biased_estimator_is_trace_khlh():
    k, l = _random_kernel(5, 8), _random_kernel(5, 9)
    h = torch.eye(5, dtype=torch.float64) - 1 / 5
    want = torch.trace(k @ h @ l @ h) / 16
    assert hsic_biased(k, l).item() == pytest.approx(want.item())


def test_independent_samples_near_zero_dependent_clearly_positive():
    g = torch.Generator().manual_seed(0)
    hsic = RbfHSIC(sigma_u=1.0, sigma_v=1.0)
    x = torch.randn(256, 2, generator=g, dtype=torch.float64)
    independent = torch.randn(256, 2, generator=g, dtype=torch.float64)
    dependent = x + 0.1 * torch.randn(256, 2, generator=g,
                                      dtype=torch.float64)
    nonlinear = torch.stack([x[:, 0]**2, x[:, 1].abs()], 1)
    h_ind = hsic(x, independent).item()
    h_dep = hsic(x, dependent).item()
    h_nonlin = hsic(x, nonlinear).item()
    # measured: about 3e-4, 0.060 and 0.025 over seeds 0-4
    assert abs(h_ind) < 0.002
    assert h_dep > 0.04
    assert h_nonlin > 0.015  # dependence without correlation
    assert h_dep > 20 * abs(h_ind) and h_nonlin > 8 * abs(h_ind)


def test_unbiased_estimator_averages_to_zero_under_independence():
    # E[HSIC_1] = HSIC = 0 for independent samples; the biased estimator
    # is positive in expectation (bias of order 1/m)
    g = torch.Generator().manual_seed(1)
    unbiased, biased = [], []
    for _ in range(200):
        x = torch.randn(16, 1, generator=g, dtype=torch.float64)
        y = torch.randn(16, 1, generator=g, dtype=torch.float64)
        k, l = rbf_kernel(x, 1.0), rbf_kernel(y, 1.0)
        unbiased.append(hsic_unbiased(k, l).item())
        biased.append(hsic_biased(k, l).item())
    mean_u = sum(unbiased) / len(unbiased)
    mean_b = sum(biased) / len(biased)
    spread = (sum((u - mean_u)**2 for u in unbiased) /
              len(unbiased))**0.5 / len(unbiased)**0.5
    assert abs(mean_u) < 3 * spread
    assert mean_b > 10 * spread


def test_module_uses_its_radii_and_backpropagates():
    u = torch.randn(8, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(8, 4, dtype=torch.float64)
    out = RbfHSIC(sigma_u=2.0, sigma_v=0.5)(u, v)
    want = hsic_unbiased(rbf_kernel(u, 2.0), rbf_kernel(v, 0.5))
    assert out.item() == pytest.approx(want.item())
    out.backward()
    assert u.grad is not None and u.grad.abs().sum() > 0
    assert RbfHSIC(1.0, unbiased=False)(u, v).item() == pytest.approx(
        hsic_biased(rbf_kernel(u, 1.0), rbf_kernel(v, 1.0)).item())
