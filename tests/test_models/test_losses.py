"""Generalized cross-entropy against values computed by hand."""
import math

import pytest
import torch
import torch.nn.functional as F

from debiascls.models.losses import GeneralizedCELoss, generalized_ce


def test_gce_as_coded_is_ce_times_q_times_p_to_the_q():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0])
    # p_0 of row 0 = e^2 / (e^2 + 1) = 0.880797; of row 1 = 1 / (1 + e)
    p = torch.tensor([math.exp(2) / (math.exp(2) + 1), 1 / (1 + math.e)])
    ce = -p.log()
    want = ce * 0.7 * p.pow(0.7)
    assert torch.allclose(generalized_ce(logits, labels), want, atol=1e-6)
    # row 0 by hand: -ln(0.880797) = 0.126928; 0.880797^0.7 = 0.914983
    assert generalized_ce(logits, labels)[0].item() == pytest.approx(
        0.126928 * 0.7 * 0.914983, abs=1e-5)


def test_gce_gradient_is_q_p_to_the_q_times_the_ce_gradient():
    logits = torch.tensor([[0.3, -1.2, 2.0]], requires_grad=True)
    labels = torch.tensor([1])
    generalized_ce(logits, labels, q=0.7).sum().backward()
    p_y = logits.detach().softmax(1)[0, 1]
    ce_logits = logits.detach().clone().requires_grad_()
    F.cross_entropy(ce_logits, labels).backward()
    assert torch.allclose(logits.grad, 0.7 * p_y**0.7 * ce_logits.grad)


def test_paper_form_value_and_gradient():
    logits = torch.tensor([[1.0, 0.0]], requires_grad=True)
    labels = torch.tensor([0])
    loss = generalized_ce(logits, labels, q=0.5, as_coded=False)
    p = math.e / (math.e + 1)
    assert loss.item() == pytest.approx((1 - p**0.5) / 0.5)
    loss.sum().backward()
    ce_logits = logits.detach().clone().requires_grad_()
    F.cross_entropy(ce_logits, labels).backward()
    # d/dz (1 - p^q)/q = p^q * dCE/dz
    assert torch.allclose(logits.grad, p**0.5 * ce_logits.grad)


def test_module_reductions_and_bad_arguments():
    logits, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    per_sample = generalized_ce(logits, labels)
    assert torch.allclose(GeneralizedCELoss()(logits, labels),
                          per_sample.mean())
    assert torch.allclose(
        GeneralizedCELoss(reduction='sum')(logits, labels), per_sample.sum())
    with pytest.raises(ValueError, match='q must lie'):
        generalized_ce(logits, labels, q=0)
    with pytest.raises(ValueError, match='reduction'):
        GeneralizedCELoss(reduction='max')
