"""PGD: the vMF log-normaliser, per-sample gradients (torch.func = one
backward per sample), the scores by hand, and step-2 bookkeeping."""
import math

import numpy as np
import pytest
import torch

from debiascls.models import PGD, ImageClassifier
from debiascls.models.algorithms.pgd import (class_scores, dominant_dims,
                                             official_probs, rejection_probs)
from debiascls.models.utils.per_sample_grad import (
    auto_chunk_size, iter_per_sample_ce_grads, num_grad_dims,
    per_sample_ce_grads, per_sample_ce_grads_loop)
from debiascls.models.utils.vmf import (log_bessel_iv, vmf_log_normalizer,
                                        vmf_log_pdf, vmf_mle)


def test_log_bessel_against_closed_forms():
    x = torch.tensor([0.1, 1.0, 7.0, 40.0, 300.0, 3e4], dtype=torch.float64)
    # I_0, I_1 from torch; I_1/2(x) = sqrt(2 / (pi x)) sinh(x)
    assert torch.allclose(log_bessel_iv(0, x),
                          torch.log(torch.special.i0e(x)) + x, atol=1e-8)
    assert torch.allclose(log_bessel_iv(1, x),
                          torch.log(torch.special.i1e(x)) + x, atol=1e-8)
    half = (0.5 * torch.log(2 / (math.pi * x)) + x +
            torch.log1p(-torch.exp(-2 * x)) - math.log(2))
    assert torch.allclose(log_bessel_iv(0.5, x), half, atol=1e-10)
    # The Debye branch (nu >= 25) against the series it replaces.
    from debiascls.models.utils.vmf import _log_iv_debye, _log_iv_series
    for nu in (25.0, 49.0, 249.0):
        xs = torch.tensor([1.0, 20.0, 80.0], dtype=torch.float64)
        nus = torch.full_like(xs, nu)
        assert torch.allclose(_log_iv_debye(nus, xs),
                              _log_iv_series(nus, xs, 600), atol=1e-7)


def test_vmf_normaliser_closed_form_and_no_overflow():
    k = torch.tensor([0.5, 2.0, 10.0], dtype=torch.float64)
    # d = 3: C_3(k) = k / (4 pi sinh k)
    assert torch.allclose(vmf_log_normalizer(3, k),
                          torch.log(k / (4 * math.pi * torch.sinh(k))))
    big = vmf_log_normalizer(500, torch.tensor([1e-9, 1.0, 1e4, 1e7]))
    assert torch.isfinite(big).all()
    # kappa -> 0: the uniform density 1 / area(S^{d-1})
    log_area = math.log(2) + 250 * math.log(math.pi) - math.lgamma(250)
    assert big[0].item() == pytest.approx(-log_area, rel=1e-9)


def test_vmf_mle_by_hand():
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    u, r, kappa = vmf_mle(v)
    # sum = (1, 1), |sum| = sqrt 2: u = (1, 1)/sqrt 2, r = sqrt(2)/2
    assert torch.allclose(u, torch.tensor([1.0, 1.0]).double() / math.sqrt(2))
    assert r == pytest.approx(math.sqrt(2) / 2)
    assert kappa == pytest.approx(r * (2 - r * r) / (1 - r * r))
    logp = vmf_log_pdf(v, u, kappa)
    assert logp[0].item() == pytest.approx(logp[1].item())


def test_class_scores_by_hand():
    # Two samples on the same direction with norms 1 and 3, and one
    # orthogonal with norm 1.
    g = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 1.0]])
    s = class_scores(g, lam=1.0)
    # M: (1, 1/3, 1) / (7/3) = (3/7, 1/7, 3/7)
    assert torch.allclose(s['magnitude'],
                          torch.tensor([3 / 7, 1 / 7, 3 / 7]).double())
    # unit vectors e1, e1, e2: sum (2, 1), r = sqrt 5 / 3, u = (2, 1)/sqrt 5
    r = math.sqrt(5) / 3
    kappa = r * (2 - r * r) / (1 - r * r)
    cos = torch.tensor([2, 2, 1]).double() / math.sqrt(5)
    d = torch.softmax(kappa * cos, 0)
    assert torch.allclose(s['direction'], d)
    m = s['magnitude']
    assert torch.allclose(s['score'], 2 * m * d / (m + d))
    # lam = 0: S = M
    assert torch.allclose(class_scores(g, 0.0)['score'], m)
    # The sample with the smallest S is always accepted.
    p = rejection_probs(s['log_score'])
    assert p.max().item() == 1.0
    assert torch.allclose(p, s['score'].min() / s['score'])
    assert torch.allclose(s['log_score'].exp(), s['score'])


def test_scores_of_a_concentrated_class_do_not_underflow():
    # 999 gradients near e1 and one outlier along e2 in 100 dimensions:
    # r ~ 0.999, so kappa ~ r (d - r^2) / (1 - r^2) ~ 5e4, and the outlier's
    # direction density is below float64's range (exp(-kappa)); its S must
    # stay positive in log space, and p_s finite, in [0, 1], with max 1.
    torch.manual_seed(0)
    g = torch.zeros(1000, 100)
    g[:999, 0] = 1.0
    g[:999, 1:] = 1e-3 * torch.randn(999, 99)
    g[999, 1] = 1.0
    s = class_scores(g, lam=1.0)
    assert float(s['kappa']) > 1e4
    assert s['direction'][-1].item() == 0.0  # exp underflows ...
    assert torch.isfinite(s['log_score']).all()  # ... its log does not
    # S ~ (1 + lam) D / lam where D is tiny: log S ~ log 2 + log D
    log_d = torch.log_softmax(s['log_p_dir'], 0)
    assert s['log_score'][-1].item() == pytest.approx(
        math.log(2) + log_d[-1].item(), rel=1e-6)
    p = rejection_probs(s['log_score'])
    assert torch.isfinite(p).all() and p.max().item() == 1.0
    assert p.argmax().item() == 999  # the outlier is always accepted
    assert (p[:999] >= 0).all() and (p[:999] < 1e-300).all()


def test_direction_floor_by_hand():
    # Three gradients along e1 and one along -e1 in 2 dimensions: the unit
    # vectors sum to (2, 0), r = 1/2, kappa = r (2 - r^2) / (1 - r^2) = 7/6;
    # the outlier's density relative to the others is exp(-2 kappa) = 0.097.
    g = torch.tensor([[1.0, 0.0], [2.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    kappa = 0.5 * (2 - 0.25) / 0.75
    exact = class_scores(g, lam=1.0)['direction']
    rel = math.exp(-2 * kappa)
    assert torch.allclose(exact, torch.tensor(
        [1, 1, 1, rel]).double() / (3 + rel))
    # The official helper's floor: relative density clamped to [floor, 1].
    floored = class_scores(g, lam=1.0, direction_floor=0.5)
    assert torch.allclose(floored['direction'],
                          torch.tensor([1, 1, 1, 0.5]).double() / 3.5)
    m = floored['magnitude']  # (1, 1/2, 1, 1) / 3.5
    assert torch.allclose(m, torch.tensor([1, 0.5, 1, 1]).double() / 3.5)
    d = floored['direction']
    assert torch.allclose(floored['score'], 2 * m * d / (m + d))
    # A floor below every relative density changes nothing.
    assert torch.allclose(
        class_scores(g, lam=1.0, direction_floor=0.01)['direction'], exact)
    # With the floor, p_s of a concentrated class stays within 1 / floor
    # (times the magnitude's range): the sampler accepts more than a few.
    torch.manual_seed(0)
    conc = torch.zeros(1000, 100)
    conc[:, 0] = 1.0
    conc[:, 1:] = 0.05 * torch.randn(1000, 99)
    exact_p = rejection_probs(class_scores(conc, 1.0)['log_score'])
    floor_p = rejection_probs(class_scores(conc, 1.0, 1e-8)['log_score'])
    assert floor_p.min() > 1e-9 and exact_p.min() < 1e-12
    assert floor_p.mean() > exact_p.mean()


def test_pgd_rejects_a_bad_direction_floor():
    with pytest.raises(ValueError, match='direction_floor'):
        _pgd(num_dims=4, direction_floor=1.5)


def test_dominant_dims_and_official_probs():
    assert dominant_dims(torch.tensor([0.1, 5.0, 0.3, 2.0]), 2).tolist() == [
        1, 3
    ]
    g = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    # ||.||_0.7 = (sum |g|^0.7)^(1/0.7): 1 and 2^(1/0.7)
    norms = torch.tensor([1.0, 2**(1 / 0.7)]).double()
    assert torch.allclose(official_probs(g, 0.7), norms / norms.sum())


def _classifier():
    torch.manual_seed(0)
    return ImageClassifier(
        backbone=dict(type='PGDConvNet', channels=(4, 6, 8)),
        head=dict(type='GAPLinearHead', num_classes=3)).eval()


def test_torch_func_gradients_equal_one_backward_per_sample():
    model = _classifier()
    x = torch.randn(6, 3, 28, 28)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    fast = per_sample_ce_grads(model, x, y, chunk_size=4)
    slow = per_sample_ce_grads_loop(model, x, y)
    assert fast.shape == (6, sum(p.numel() for p in model.parameters()))
    assert torch.allclose(fast, slow, atol=1e-5)
    last = per_sample_ce_grads(model, x, y, params=['head.fc.weight'])
    assert torch.allclose(last, slow[:, -27:-3])  # fc.weight before bias
    with pytest.raises(ValueError, match='no parameter matches'):
        per_sample_ce_grads(model, x, y, params=['head.fc2'])


def test_chunked_gradients_share_one_scratch_buffer():
    model = _classifier()
    x = torch.randn(7, 3, 28, 28)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    whole = per_sample_ce_grads(model, x, y)
    chunks, pointers = [], set()
    for rows, g in iter_per_sample_ce_grads(model, x, y, chunk_size=3):
        assert g.shape == (rows.stop - rows.start, whole.shape[1])
        chunks.append(g.clone())
        pointers.add(g.data_ptr())
    assert len(chunks) == 3 and len(pointers) == 1  # 3 + 3 + 1 rows
    assert torch.allclose(torch.cat(chunks), whole, atol=1e-6)


def test_auto_chunk_size_by_hand():
    cpu, cuda = torch.device('cpu'), torch.device('cuda')
    # 16 MiB / (4 B x 256,510) = 16.35: LfF's MLP gets chunks of 16 ...
    assert auto_chunk_size(256_510, cpu) == 16
    # ... PGD's ConvNet-1 (16 MiB / (4 B x 38,210) = 109.8) keeps 64,
    assert auto_chunk_size(38_210, cpu) == 64
    # 131,072 dims: exactly 32 samples fit; 524,288: 8, the smallest cut.
    assert auto_chunk_size(131_072, cpu) == 32
    assert auto_chunk_size(524_288, cpu) == 8
    # Beyond that (7.99 fit) smaller chunks would not help: 64 again.
    assert auto_chunk_size(524_289, cpu) == 64
    assert auto_chunk_size(11_000_000, cpu) == 64
    assert auto_chunk_size(256_510, cuda) == 64  # a caching allocator


def _pgd(**kwargs):
    return PGD(
        classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='PGDConvNet', channels=(4, 6, 8)),
            head=dict(type='GAPLinearHead', num_classes=3)),
        bias_iters=5,
        **kwargs)


def _fake_grad_batches(grads):
    def batches(params, dims):
        for start in range(0, len(grads), 2):
            idx = torch.arange(start, min(start + 2, len(grads)))
            g = grads[idx]
            if dims is not None:
                labels = [0, 0, 0, 1, 1, 1]
                g = torch.stack([g[j][dims[labels[i]]]
                                 for j, i in enumerate(idx.tolist())])
            yield idx, g
    return batches


def test_compute_sampling_probs_per_class():
    torch.manual_seed(0)
    grads = torch.randn(6, 10)
    labels = np.array([0, 0, 0, 1, 1, 1])
    model = _pgd(num_dims=4)
    out = model.compute_sampling_probs(_fake_grad_batches(grads), labels)
    for c in (0, 1):
        rows = grads[3 * c:3 * c + 3]
        dims = dominant_dims(rows.abs().sum(0).double(), 4)
        want = class_scores(rows[:, dims], 1.0, 1e-8)['score']
        assert np.allclose(out['pgd_score'][3 * c:3 * c + 3], want.numpy())
        assert np.isclose(out['magnitude'][3 * c:3 * c + 3].sum(), 1)
    assert np.isclose(out['sampling_prob'].max(), 1.0)
    assert np.allclose(out['sampling_prob'],
                       out['pgd_score'].min() / out['pgd_score'])
    # A pool (de-noised samples): the others get probability 0.
    out = model.compute_sampling_probs(
        _fake_grad_batches(grads), labels, pool=np.array([0, 1, 3, 4, 5]))
    assert out['sampling_prob'][2] == 0 and out['sampling_prob'][0] > 0

    official = _pgd(variant='official')
    out = official.compute_sampling_probs(_fake_grad_batches(grads), labels)
    assert np.allclose(out['sampling_prob'],
                       official_probs(grads, 0.7).numpy())
    assert official.init_debiased_from_biased and not model.init_debiased_from_biased


def test_class_sums_fold_into_float64_every_few_samples():
    from debiascls.models.algorithms.pgd import _fold
    part = torch.tensor([[1.5, 2.0]])
    total = _fold(None, part)
    assert total.dtype == torch.float64 and total.tolist() == [[1.5, 2.0]]
    assert part.tolist() == [[0.0, 0.0]]  # zeroed for re-use
    part += torch.tensor([[0.25, 1.0]])
    assert _fold(total, part).tolist() == [[1.75, 3.0]]

    torch.manual_seed(0)
    grads = torch.randn(6, 10)
    labels = np.array([0, 0, 0, 1, 1, 1])
    model = _pgd(num_dims=4)
    once = model.compute_sampling_probs(_fake_grad_batches(grads), labels)
    model.FOLD_SAMPLES = 3  # batches of 2: folds after 4 and 6 samples
    folded = model.compute_sampling_probs(_fake_grad_batches(grads), labels)
    for key in ('pgd_score', 'sampling_prob', 'magnitude', 'direction'):
        assert np.allclose(once[key], folded[key])


def test_bias_iters_as_a_fraction_and_bad_arguments():
    model = _pgd()
    model._bias_iters = 0.5
    model.prepare_schedule(max_iters=40, iters_per_epoch=1)
    assert model.bias_iters == 20
    with pytest.raises(ValueError, match='fraction'):
        _pgd(variant='seed', lam=1.0, num_dims=4).__class__(
            classifier=model.model_cfgs['debiased'], bias_iters=0)
    with pytest.raises(ValueError, match='variant'):
        _pgd(variant='iclr23')


def test_grad_chunk_size_configured_or_automatic():
    model = _pgd()
    dims = num_grad_dims(model.models['biased'])
    assert model.grad_chunk_size(torch.device('cpu')) == auto_chunk_size(
        dims, torch.device('cpu'))
    assert _pgd(chunk_size=5).grad_chunk_size(torch.device('cpu')) == 5
    with pytest.raises(ValueError, match='chunk_size'):
        _pgd(chunk_size=0)
