"""ReBias's alternating updates, RUBi's and LearnedMixin+H's losses, by hand
on tiny networks, and KernelRadiusHook's median heuristic."""
import copy
import logging
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch.utils.data import DataLoader

from debiascls.engine.hooks import KernelRadiusHook
from debiascls.models import LearnedMixin, ReBias, RUBi
from debiascls.models.losses import RbfHSIC


def _net(kernel_size, channels=(3, 4)):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='SimpleConvNet', kernel_size=kernel_size,
                      channels=channels),
        head=dict(type='GAPLinearHead', num_classes=3))


def _optims(model, lr=0.1):
    return OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.SGD(m.parameters(), lr=lr))
        for name, m in model.models.items()
    })


def _batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, 6, 6, generator=g)
    labels = torch.arange(n) % 3
    return inputs, dict(gt_label=labels, sample_idx=torch.arange(n))


def _grads(model, loss):
    params = [p for p in model.parameters()]
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g
            for p, g in zip(params, grads)]


def _gap(model, x):
    return model.head.pool(model.extract_feat(x))


def test_rebias_updates_g_then_f_with_the_papers_signs():
    torch.manual_seed(0)
    algo = ReBias(_net(3), _net(1), lambda_f=2.0, lambda_g=0.5,
                  sigma_f=1.5, sigma_g=0.7)
    inputs, samples = _batch()
    labels = samples['gt_label']
    f0, g0 = copy.deepcopy(algo.models['f']), copy.deepcopy(algo.models['g'])
    lr = 0.1

    # Expected g step: grad of CE(g) - lambda_g HSIC(f, g), f fixed.
    hsic = RbfHSIC(1.5, 0.7)
    f_ref, g_ref = copy.deepcopy(f0), copy.deepcopy(g0)
    with torch.no_grad():
        rep_f = _gap(f_ref, inputs)
    loss_g = (F.cross_entropy(g_ref(inputs), labels) -
              0.5 * hsic(rep_f, _gap(g_ref, inputs)))
    with torch.no_grad():
        for p, grad in zip(g_ref.parameters(), _grads(g_ref, loss_g)):
            p -= lr * grad
    # Expected f step, with the *updated* g: CE(f) + lambda HSIC(f, g).
    # (f's batch-norm statistics moved in g's step, as in the official
    # code, where f is forwarded in train mode there.)
    with torch.no_grad():
        rep_g = _gap(g_ref, inputs)
    loss_f = (F.cross_entropy(f_ref(inputs), labels) +
              2.0 * hsic(_gap(f_ref, inputs), rep_g))
    with torch.no_grad():
        for p, grad in zip(f_ref.parameters(), _grads(f_ref, loss_f)):
            p -= lr * grad

    log = algo.train_step(
        dict(inputs=inputs, data_samples=samples), _optims(algo, lr))
    for (name, p), q in zip(algo.models['g'].named_parameters(),
                            g_ref.parameters()):
        assert torch.allclose(p, q, atol=1e-6), name
    for (name, p), q in zip(algo.models['f'].named_parameters(),
                            f_ref.parameters()):
        assert torch.allclose(p, q, atol=1e-6), name
    assert log['loss_g_total'].item() == pytest.approx(loss_g.item(),
                                                        rel=1e-5)
    assert log['loss_f_total'].item() == pytest.approx(loss_f.item(),
                                                        rel=1e-5)
    assert log['sigma_f'].item() == pytest.approx(1.5)
    assert log['sigma_g'].item() == pytest.approx(0.7)
    assert 'hsic/g' in log


def test_rebias_aggregates_several_gs_by_max_or_sum():
    torch.manual_seed(0)
    nets = [_net(1), _net(1, channels=(2, 4))]
    inputs, samples = _batch()
    out = {}
    for aggregate in ('max', 'sum'):
        torch.manual_seed(1)
        algo = ReBias(_net(3), nets, aggregate=aggregate, lambda_g=0.0)
        assert algo.g_names == ['g0', 'g1']
        log = algo.train_step(
            dict(inputs=inputs, data_samples=samples), _optims(algo, 0.0))
        hsics = [log['hsic/g0'].item(), log['hsic/g1'].item()]
        out[aggregate] = (log['loss_f_total'].item() - log['loss_f'].item(),
                          hsics)
    # (float32 losses: compare to 1e-6 absolute)
    assert out['max'][1][0] != pytest.approx(out['max'][1][1], abs=1e-5)
    assert out['max'][0] == pytest.approx(max(out['max'][1]), abs=1e-6)
    assert out['sum'][0] == pytest.approx(sum(out['sum'][1]), abs=1e-6)


def test_rebias_checks_its_arguments():
    with pytest.raises(ValueError, match='hsic_on'):
        ReBias(_net(3), _net(1), hsic_on='pixels')
    with pytest.raises(ValueError, match='aggregate'):
        ReBias(_net(3), _net(1), aggregate='mean')
    with pytest.raises(ValueError, match='empty'):
        ReBias(_net(3), [])
    algo = ReBias(_net(3), [_net(1), _net(1)])
    with pytest.raises(ValueError, match='2 models'):
        algo.set_kernel_radii(1.0, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match='positive'):
        algo.set_kernel_radii(0.0, 1.0)


def test_rebias_on_logits():
    torch.manual_seed(0)
    algo = ReBias(_net(3), _net(1), hsic_on='logits')
    inputs, _ = _batch()
    rep, logits = algo.representation('f', inputs, 'logits')
    assert rep is logits and rep.shape == (8, 3)


def test_rubi_losses_by_hand_and_where_they_flow():
    torch.manual_seed(0)
    algo = RUBi(_net(3), _net(1))
    f, g = algo.models['f'], algo.models['g']
    inputs, samples = _batch()
    labels = samples['gt_label']
    feats_g = g.extract_feat(inputs)
    logits_f = f(inputs)
    losses = algo.rubi_losses(logits_f, feats_g, labels)
    nn_q = g.head(feats_g)
    want_qm = F.cross_entropy(logits_f * torch.sigmoid(nn_q), labels)
    want_qo = F.cross_entropy(g.rubi_classifier(nn_q), labels)
    assert losses['qm'].item() == pytest.approx(want_qm.item(), rel=1e-6)
    assert losses['qo'].item() == pytest.approx(want_qo.item(), rel=1e-6)
    # L_QO reaches c_q and nn_q (g's head) but not the encoder (backbone)
    qo_grads = torch.autograd.grad(
        losses['qo'], [g.backbone.layers[0].weight, g.head.fc.weight,
                       g.rubi_classifier.weight, f.head.fc.weight],
        allow_unused=True, retain_graph=True)
    assert qo_grads[0] is None and qo_grads[3] is None
    assert qo_grads[1].abs().sum() > 0 and qo_grads[2].abs().sum() > 0
    # L_QM reaches f and the whole of g
    qm_grads = torch.autograd.grad(
        losses['qm'], [g.backbone.layers[0].weight, f.head.fc.weight],
        allow_unused=True)
    assert all(q is not None and q.abs().sum() > 0 for q in qm_grads)


def test_rubi_step_moves_both_models():
    torch.manual_seed(0)
    algo = RUBi(_net(3), _net(1))
    before = copy.deepcopy(algo.models)
    inputs, samples = _batch()
    log = algo.train_step(dict(inputs=inputs, data_samples=samples),
                          _optims(algo))
    assert log['loss'].item() == pytest.approx(
        (log['loss_qm'] + log['loss_qo']).item(), rel=1e-6)
    for name in ('f', 'g'):
        moved = [not torch.equal(p, q) for p, q in zip(
            algo.models[name].parameters(), before[name].parameters())]
        assert any(moved), name
    assert not torch.equal(algo.models['g'].rubi_classifier.weight,
                           before['g'].rubi_classifier.weight)


def test_learned_mixin_loss_by_hand():
    torch.manual_seed(0)
    algo = LearnedMixin(_net(3), _net(1), pretrain_iters=2,
                        entropy_weight=0.5)
    logits_f = torch.tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    feats = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, -1.0, 0.5, 2.0]])
    logits_g = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    labels = torch.tensor([0, 2])
    with torch.no_grad():
        algo.models['f'].mixin_gate.weight.copy_(
            torch.tensor([[0.1, -0.2, 0.3, 0.05]]))
    terms = algo.mixin_loss(logits_f, feats, logits_g, labels)
    # s(x) = softplus(w . h): 0.1 - 0.4 + 0.9 + 0.2 = 0.8;
    # 0 + 0.2 + 0.15 + 0.1 = 0.45
    s = F.softplus(torch.tensor([[0.8], [0.45]]))
    assert torch.allclose(terms['gate'], s.mean())
    scaled = s * F.log_softmax(logits_g, 1)
    mixture = F.log_softmax(logits_f, 1) + scaled
    assert terms['ce'].item() == pytest.approx(
        F.cross_entropy(mixture, labels).item(), rel=1e-6)
    p = F.softmax(scaled, 1)
    entropy = -(p * p.log()).sum(1).mean()
    assert terms['entropy'].item() == pytest.approx(entropy.item(), rel=1e-6)
    assert algo.models['f'].mixin_gate.bias is None


def test_learned_mixin_pretrains_g_then_freezes_it():
    torch.manual_seed(0)
    algo = LearnedMixin(_net(3), _net(1), pretrain_iters=1)
    optims = _optims(algo)
    inputs, samples = _batch()
    data = dict(inputs=inputs, data_samples=samples)
    hub = MessageHub.get_current_instance()
    before = hub.get_info('iter', 0)
    hub.update_info('iter', 0)  # phase main begins at iteration 1
    f0 = copy.deepcopy(algo.models['f'])
    g0 = copy.deepcopy(algo.models['g'])
    algo.train()
    algo.update(*algo.data_preprocessor(data, True).values(), optims)
    assert all(torch.equal(p, q) for p, q in zip(
        algo.models['f'].parameters(), f0.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(
        algo.models['g'].parameters(), g0.parameters()))
    # main phase: g frozen, weights and batch-norm statistics
    hub.update_info('iter', 1)
    algo.train()
    assert not algo.models['g'].training and algo.models['f'].training
    g1 = copy.deepcopy(algo.models['g'].state_dict())
    log = algo.update(*algo.data_preprocessor(data, True).values(), optims)
    for key, value in algo.models['g'].state_dict().items():
        assert torch.equal(value, g1[key]), key
    assert {'loss_f', 'entropy', 'gate'} <= set(log)
    assert log['phase_main'] == 1.0
    hub.update_info('iter', before)


class _Listed(torch.utils.data.Dataset):

    def __init__(self, n=20):
        g = torch.Generator().manual_seed(3)
        self.x = torch.randn(n, 3, 6, 6, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], data_samples=dict(
            gt_label=torch.tensor(i % 3), sample_idx=torch.tensor(i)))


def _runner(algo, batch_size=4, it=0):
    loader = DataLoader(_Listed(), batch_size=batch_size)
    return SimpleNamespace(
        model=algo, train_dataloader=loader, seed=5, iter=it,
        logger=logging.getLogger('test'))


def test_kernel_radius_hook_median_of_a_quarter_epoch():
    torch.manual_seed(0)
    algo = ReBias(_net(3), _net(1))
    runner = _runner(algo)
    hook = KernelRadiusHook(interval=None, fraction=0.5)
    # interval = len(loader) = 5 batches; half of them: 2 batches of 4
    batches = list(hook._batches(runner, epoch=0))
    assert len(batches) == 2 and all(len(b['inputs']) == 4 for b in batches)
    order = torch.cat([b['data_samples']['sample_idx'] for b in batches])
    assert len(set(order.tolist())) == 8  # distinct samples
    # the expected radii, from the same batches, with the models in train
    # mode (as the official pass)
    algo.train()
    ref = copy.deepcopy(algo)
    with torch.no_grad():
        want = {}
        for name in ('f', 'g'):
            d = []
            for b in batches:
                rep = _gap(ref.models[name], b['inputs'])
                d.append(torch.cdist(rep, rep).pow(2).flatten())
            want[name] = torch.cat(d).double().median().sqrt().item()
    random.seed(11)
    np.random.seed(11)
    torch.manual_seed(11)
    expected_draws = (random.random(), np.random.rand(), torch.rand(1))
    random.seed(11)
    np.random.seed(11)
    torch.manual_seed(11)
    hook.before_train(runner)
    # the pass does not move the global generators
    assert (random.random(), np.random.rand()) == expected_draws[:2]
    assert torch.equal(torch.rand(1), expected_draws[2])
    assert algo.radius('f') == pytest.approx(want['f'], rel=1e-6)
    assert algo.radius('g') == pytest.approx(want['g'], rel=1e-6)
    assert bool(algo.kernel_radii_set)
    # another epoch draws other samples; a resumed run keeps its radii
    assert not torch.equal(
        order, torch.cat([b['data_samples']['sample_idx']
                          for b in hook._batches(runner, epoch=1)]))
    radii = algo.kernel_radii.clone()
    hook.before_train(_runner(algo, it=7))
    assert torch.equal(algo.kernel_radii, radii)


def test_kernel_radius_hook_epoch_boundaries_and_errors():
    algo = ReBias(_net(3), _net(1))
    hook = KernelRadiusHook(interval=3)
    calls = []
    hook.update_radii = lambda runner, epoch: calls.append(
        (runner.iter, epoch))
    for it in range(8):
        hook.before_train_iter(_runner(algo, it=it), batch_idx=0)
    assert calls == [(3, 1), (6, 2)]
    with pytest.raises(ValueError, match='interval'):
        KernelRadiusHook(interval=0)
    with pytest.raises(ValueError, match='fraction'):
        KernelRadiusHook(fraction=0)
    vanilla = SimpleNamespace(model=torch.nn.Linear(1, 1))
    with pytest.raises(TypeError, match='no kernel radii'):
        KernelRadiusHook().before_train(vanilla)
