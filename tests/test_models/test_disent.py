"""DisEnt and DisEnt+BE by hand: the heads on the concatenated features,
the detaches, the swap, the weights, the loss terms and the lr schedule."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.optim.scheduler import StepLR

from debiascls.models import DisEnt
from debiascls.models.algorithms.disent import swap_within_batch
from debiascls.utils import ConfigError

LABELS = torch.tensor([0, 1, 0, 1])
IDX = torch.tensor([0, 1, 2, 3])


def _disent(**kwargs):
    torch.manual_seed(0)
    model = DisEnt(
        classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='MLP', in_channels=1, in_size=2,
                          hidden_dims=(3, )),
            head=dict(type='GAPLinearHead', num_classes=2)),
        **kwargs)
    model.per_sample.setup(LABELS.tolist())
    return model


def _wrappers(model, lr=0.1):
    return OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.SGD(m.parameters(), lr=lr))
        for name, m in model.models.items()
    })


def _at_iter(i):
    MessageHub.get_current_instance().update_info('iter', i)


@pytest.fixture(autouse=True)
def _reset_iter():
    yield
    _at_iter(0)


def test_heads_take_both_features_and_inference_uses_them():
    model = _disent()
    for m in model.models.values():
        assert m.head.fc.in_features == 6  # [z_i, z_b], 3 + 3
    x = torch.rand(4, 1, 2, 2)
    z_i = model.models['debiased'].backbone(x).flatten(1)
    z_b = model.models['biased'].backbone(x).flatten(1)
    z = torch.cat([z_i, z_b], 1)
    want_i = model.models['debiased'].head.fc(z)
    want_b = model.models['biased'].head.fc(z)
    assert torch.allclose(model(x), want_i)
    out = model.predict(x, dict(gt_label=LABELS))
    assert out[0]['main_model'] == 'debiased'
    assert torch.allclose(out[2]['pred_score']['debiased'],
                          want_i[2].softmax(0))
    assert torch.allclose(out[2]['pred_score']['biased'],
                          want_b[2].softmax(0))


def test_a_non_linear_head_is_refused():
    with pytest.raises(ConfigError, match='GAPLinearHead'):
        DisEnt(classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='MLP', in_channels=1, in_size=2,
                          hidden_dims=(3, )),
            head=dict(type='GAPMLPHead', num_classes=2, hidden_dims=(4, ))))


def test_each_classifier_trains_only_its_own_encoder():
    model = _disent()
    z_i, z_b = model.features(torch.rand(4, 1, 2, 2))
    pred_conflict, pred_align = model.classify(z_i, z_b)
    pred_conflict.sum().backward()
    assert all(p.grad is None for p in model.models['biased'].parameters())
    assert all(p.grad is not None
               for p in model.models['debiased'].parameters())
    model.zero_grad(set_to_none=True)
    z_i, z_b = model.features(torch.rand(4, 1, 2, 2))
    model.classify(z_i, z_b)[1].sum().backward()
    assert all(p.grad is None for p in model.models['debiased'].parameters())


def test_swap_permutes_bias_features_and_their_labels():
    z_b = torch.tensor([[1.0], [2.0], [3.0]])
    z, y = swap_within_batch(z_b, torch.tensor([7, 8, 9]),
                             torch.tensor([2, 0, 1]))
    assert z.flatten().tolist() == [3.0, 1.0, 2.0]
    assert y.tolist() == [9, 7, 8]


def test_swap_starts_after_curr_step():
    model = _disent(curr_step=3)
    _at_iter(3)
    assert not model.swap_active()
    _at_iter(4)
    assert model.swap_active()


def test_weights_come_from_the_heads_ema_losses_without_epsilon():
    model = _disent(bias_amplified=True, ema_alpha=0.5)
    model.per_sample.fill('amplified', torch.ones(4, dtype=torch.bool))
    model.bias_sets_ready.fill_(True)
    x = torch.rand(4, 1, 2, 2)
    with torch.no_grad():
        z_i, z_b = model.features(x)
        conflict, align = model.classify(z_i, z_b)
        ce_d = F.cross_entropy(conflict, LABELS, reduction='none')
        ce_b = F.cross_entropy(align, LABELS, reduction='none')
    log = model.update(x, dict(gt_label=LABELS, sample_idx=IDX),
                       _wrappers(model, lr=0.0))
    # first visit: EMA = loss; class-wise maxima, no 1e-8 (train_disent_be)
    assert torch.equal(model.per_sample.get('loss_d'), ce_d)
    assert torch.equal(model.per_sample.get('loss_b'), ce_b)
    l_b = ce_b / torch.stack([ce_b[LABELS == c].max() for c in LABELS])
    l_d = ce_d / torch.stack([ce_d[LABELS == c].max() for c in LABELS])
    want = l_b / (l_b + l_d + 1e-8)
    assert log['weight_mean'].item() == pytest.approx(want.mean().item(),
                                                      rel=1e-6)


def _official_step(model, x, lr, swap, member=None, seed=0):
    """One step written out as the official learner does it: a single total
    loss, one backward, SGD on every parameter. Returns the new
    parameters."""
    ref = {k: v.clone() for k, v in model.state_dict().items()}
    params = {
        n: p.detach().clone().requires_grad_(True)
        for n, p in model.named_parameters()
    }

    def net(prefix, inputs):
        w1, b1 = params[f'{prefix}.backbone.layers.0.weight'], params[
            f'{prefix}.backbone.layers.0.bias']
        return F.relu(inputs.flatten(1) @ w1.T + b1)

    def fc(prefix, z):
        return z @ params[f'{prefix}.head.fc.weight'].T + params[
            f'{prefix}.head.fc.bias']

    z_l, z_b = net('models.debiased', x), net('models.biased', x)
    pred_conflict = fc('models.debiased', torch.cat([z_l, z_b.detach()], 1))
    pred_align = fc('models.biased', torch.cat([z_l.detach(), z_b], 1))
    ce_d = F.cross_entropy(pred_conflict, LABELS, reduction='none').detach()
    ce_b = F.cross_entropy(pred_align, LABELS, reduction='none').detach()
    max_d = torch.stack([ce_d[LABELS == c].max() for c in LABELS])
    max_b = torch.stack([ce_b[LABELS == c].max() for c in LABELS])
    w = (ce_b / max_b) / (ce_b / max_b + ce_d / max_d + 1e-8)

    def bias_term(logits, y, mask):
        if mask is None:  # GCE as coded, q = 0.7
            p = logits.softmax(1).gather(1, y[:, None]).squeeze(1).detach()
            return (F.cross_entropy(logits, y, reduction='none') * p**0.7 *
                    0.7).mean()
        return F.cross_entropy(logits[mask], y[mask])

    loss = (F.cross_entropy(pred_conflict, LABELS, reduction='none') *
            w).mean() + 10 * bias_term(pred_align, LABELS, member)
    if swap:
        np.random.seed(seed)
        perm = torch.from_numpy(np.random.permutation(4))
        z_b_swap, y_swap = z_b[perm], LABELS[perm]
        mix_conflict = fc('models.debiased',
                          torch.cat([z_l, z_b_swap.detach()], 1))
        mix_align = fc('models.biased', torch.cat([z_l.detach(), z_b_swap],
                                                   1))
        l_swap = (F.cross_entropy(mix_conflict, LABELS, reduction='none') *
                  w).mean() + 5 * bias_term(
                      mix_align, y_swap, None if member is None else
                      member[perm])
        loss = loss + 2 * l_swap
    loss.backward()
    ref.update({n: (p - lr * p.grad).detach() for n, p in params.items()})
    return ref


@pytest.mark.parametrize('swap', [False, True])
@pytest.mark.parametrize('be', [False, True])
def test_update_equals_the_official_total_loss(swap, be):
    model = _disent(curr_step=5, lambda_swap=2, lambda_dis_align=10,
                    lambda_swap_align=5, bias_amplified=be)
    member = None
    if be:
        member = torch.tensor([True, False, True, True])
        model.per_sample.fill('amplified', member)
        model.bias_sets_ready.fill_(True)
    x = torch.rand(4, 1, 2, 2)
    want = _official_step(model, x, 0.1, swap, member, seed=3)
    _at_iter(6 if swap else 5)
    np.random.seed(3)
    log = model.update(x, dict(gt_label=LABELS, sample_idx=IDX),
                       _wrappers(model))
    got = model.state_dict()
    for name, value in want.items():
        if name.startswith('models.'):
            assert torch.allclose(got[name], value, atol=1e-6), name
    assert ('loss_swap_conflict' in log) == swap
    assert log['lambda_swap'].item() == (2 if swap else 0)


def test_be_skips_the_bias_branch_without_members():
    model = _disent(bias_amplified=True)
    model.per_sample.fill('amplified', torch.zeros(4, dtype=torch.bool))
    model.bias_sets_ready.fill_(True)
    before = {k: v.clone() for k, v in model.models['biased'].state_dict(
    ).items()}
    log = model.update(torch.rand(4, 1, 2, 2),
                       dict(gt_label=LABELS, sample_idx=IDX),
                       _wrappers(model))
    assert 'loss_dis_align' not in log
    for key, value in model.models['biased'].state_dict().items():
        assert torch.equal(value, before[key]), key


def test_be_needs_the_committee():
    model = _disent(bias_amplified=True)
    with pytest.raises(RuntimeError, match='BiasCommitteeHook'):
        model.update(torch.rand(4, 1, 2, 2),
                     dict(gt_label=LABELS, sample_idx=IDX), _wrappers(model))


def test_step_lr_from_curr_step_matches_the_official_decay():
    """The official code steps StepLR(10K, gamma) after every iteration
    from curr_step on, so iteration s runs at lr * gamma ** floor((s -
    curr_step) / 10K) for s >= curr_step; mmengine's StepLR with begin =
    curr_step, stepped after every iteration (ParamSchedulerHook), gives the
    same sequence (here curr_step 4, step 3, gamma 0.5)."""
    param = torch.nn.Parameter(torch.zeros(1))
    optim = torch.optim.SGD([param], lr=1.0)
    sched = StepLR(optim, step_size=3, gamma=0.5, begin=4, by_epoch=False)
    lrs = []
    for s in range(14):
        lrs.append(optim.param_groups[0]['lr'])
        sched.step()  # after iteration s
    want = [0.5**max(0, (s - 4) // 3) for s in range(14)]
    assert lrs == want


def test_grad_cam_views_explain_each_encoder_with_the_other_fixed():
    torch.manual_seed(0)
    model = DisEnt(classifier=dict(
        type='ImageClassifier', backbone=dict(type='ConvNet',
                                              channels=(4, )),
        head=dict(type='GAPLinearHead', num_classes=2)))
    x = torch.rand(3, 3, 8, 8)
    views = model.cam_views(x)
    assert set(views) == {'debiased', 'biased'}
    for name, (feats, head) in views.items():
        assert feats.dim() == 4
        # the head of a view gives the classifier's logits on [z_i, z_b]
        logits_i, logits_b = model.classify(*model.features(x), detach=False)
        want = logits_i if name == 'debiased' else logits_b
        assert torch.allclose(head(feats), want, atol=1e-6)


def test_config_check_ties_the_step_lr_to_curr_step():
    from mmengine.config import Config
    cfg = Config(dict(
        model=dict(type='DisEnt', curr_step=100),
        train_cfg=dict(max_iters=1000),
        param_scheduler=[dict(type='StepLR', begin=100, step_size=10)]))
    DisEnt.check_config(cfg)
    cfg.param_scheduler[0].begin = 50
    with pytest.raises(ConfigError, match=r'param_scheduler.0.begin=100'):
        DisEnt.check_config(cfg)
    cfg.param_scheduler[0].begin = 100
    cfg.train_cfg.max_iters = 100
    with pytest.raises(ConfigError, match='swap never starts'):
        DisEnt.check_config(cfg)
