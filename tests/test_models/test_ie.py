"""IE's equations against values computed by hand, its BN score, pairing
and edge cases."""
import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

from debiascls.datasets import BaseBiasDataset
from debiascls.models import IE
from debiascls.models.algorithms.ie import (common_feature_score, ie_weight,
                                            relative_exploitation_score)
from debiascls.models.utils import gap_linear_grad_cam
from debiascls.registry import MODELS



@pytest.fixture(autouse=True)
def _restore_iteration():
    """Tests here set the running iteration (IE reads its phases and
    lambda_main from it); leave it as found."""
    hub = MessageHub.get_current_instance()
    before = hub.get_info('iter', 0)
    yield
    hub.update_info('iter', before)

def _pair():
    # 2 channels on a 1x2 map: z_0 = (1, 0), z_1 = (0, 3);
    # z^BN_0 = (2, 0), z^BN_1 = (1, 2).
    z = torch.tensor([[[[1.0, 0.0]], [[0.0, 3.0]]]])
    z_bn = torch.tensor([[[[2.0, 1.0]], [[0.0, 2.0]]]])
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # W_0 = (1, 0)
    return z, z_bn, weight, torch.tensor([0])


def test_equations_4_to_7_by_hand():
    z, z_bn, weight, labels = _pair()
    # z_0 . z^BN = (2, 1) -> i* = 0, 2; z_1 . z^BN = (0, 6) -> i* = 1, 6;
    # max over all = 6: c = (2/6, 6/6).
    c, i_star = common_feature_score(z, z_bn)
    assert i_star.tolist() == [[0, 1]]
    assert torch.allclose(c, torch.tensor([[[1 / 3, 1.0]]]))
    # E(z) = ReLU(W_0 . z_n) max-normalised = (1, 0) / 1;
    # E(z^BN) = (2, 1) / 2 = (1, 0.5).
    e_z = gap_linear_grad_cam(z, weight, labels)
    e_bn = gap_linear_grad_cam(z_bn, weight, labels)
    assert e_z.tolist() == [[[1.0, 0.0]]]
    assert e_bn.tolist() == [[[1.0, 0.5]]]
    # r_0 = (2 * 1 / (1 + 1))^2 = 1; r_1 = (2 * 0.5 / (0.5 + 0))^2 = 4.
    r = relative_exploitation_score(e_z, e_bn, i_star, tau=2.0)
    assert torch.allclose(r, torch.tensor([[[1.0, 4.0]]]))
    # IE = max(c r, 1) = (max(1/3, 1), max(4, 1)) = (1, 4); g = z * IE.
    weight_map = ie_weight(c, r)
    assert torch.allclose(weight_map, torch.tensor([[[1.0, 4.0]]]))
    g = z * weight_map.unsqueeze(1)
    assert g.flatten().tolist() == [1.0, 0.0, 0.0, 12.0]


def test_relative_exploitation_guards_zero_over_zero():
    e = torch.zeros(1, 1, 2)
    r = relative_exploitation_score(e, e, torch.tensor([[0, 1]]), 1.0)
    assert r.tolist() == [[[0.0, 0.0]]]
    c, _ = common_feature_score(torch.zeros(1, 2, 1, 2),
                                torch.zeros(1, 2, 1, 2))
    assert c.tolist() == [[[0.0, 0.0]]]


def _ie(channels=(4, 8), num_classes=3, labels=(0, 0, 1, 1, 2, 2),
        head='GAPLinearHead', **kwargs):
    torch.manual_seed(0)
    model = IE(
        classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='ConvNet', channels=channels),
            head=dict(type=head, num_classes=num_classes)),
        **kwargs)
    model.per_sample.setup(list(labels))
    return model


def _hand_model(**kwargs):
    """f_cls: 2 channels -> 2 classes, W = I, b = 0 (for the hand pair)."""
    model = _ie(channels=(4, 2), num_classes=2, labels=(0, 0, 1, 1, 0, 1),
                **kwargs)
    head = model.models['debiased'].head
    head.fc.weight.data = torch.eye(2)
    head.fc.bias.data.zero_()
    return model


def test_bn_score_follows_equations_1_2_and_algorithm_1():
    model = _ie(alpha_l=0.5, alpha_s=0.5, t1=1, t2=5)
    state = model.per_sample

    def step(t, idx, ce):
        model._last_ce_b = (torch.tensor(idx), torch.tensor(ce))
        model.update_per_sample_scores(t)

    step(0, [0], [2.0])  # before T1: l = 2 (first visit stores it)
    assert state.get('bn_loss')[0] == 2.0
    assert not state.seen('bn_ref')[0] and state.get('bn_score')[0] == 0
    step(1, [0], [1.0])  # T1: l_ref = l(x) = 2; l = .5 + 1 = 1.5
    assert state.get('bn_ref')[0] == 2.0
    assert state.get('bn_loss')[0] == 1.5
    assert state.get('bn_score')[0] == pytest.approx(0.5 * (1.5 - 2.0))
    step(2, [0, 2], [4.0, 1.0])
    # sample 0: l = 2 + .75 = 2.75, s = .5 * .75 + .5 * (-.25) = .25
    assert state.get('bn_loss')[0] == pytest.approx(2.75)
    assert state.get('bn_score')[0] == pytest.approx(0.25)
    # sample 2, first seen after T1: l = l_ref = 1, s = 0
    assert state.get('bn_ref')[2] == 1.0 and state.get('bn_score')[2] == 0
    assert state.get('bn_ref')[0] == 2.0  # recorded once only


def test_pairs_come_from_d_bn_of_the_same_class():
    model = _ie()
    state = model.per_sample
    state.fill('bn_candidate',
               torch.tensor([True, True, False, True, True, False]))
    state.assign('bn_score', torch.arange(6),
                 torch.tensor([0.3, -0.1, 0.2, 0.4, 0.0, 0.5]))
    # D^BN = candidates with s > 0 = {0, 3}; class 2 has none.
    assert model.bn_members().tolist() == [True, False, False, True, False,
                                           False]
    labels = torch.tensor([0, 1, 2, 0, 1])
    for _ in range(5):
        pair_idx, paired = model.sample_pairs(labels)
        assert pair_idx.tolist() == [0, 3, -1, 0, 3]
        assert paired.tolist() == [True, True, False, True, True]

    model.empty_bn = 'candidate'  # fall back on D_cand^BN of the class
    model.bn_source = 'candidate'
    pair_idx, _ = model.sample_pairs(torch.tensor([0, 0, 0, 0, 0, 0, 0, 0]))
    assert set(pair_idx.tolist()) <= {0, 1}
    model.bn_source = 'all'
    pair_idx, _ = model.sample_pairs(torch.tensor([2] * 20))
    assert set(pair_idx.tolist()) == {4, 5}


def test_pairs_are_uniform_within_the_class_and_fall_back_per_class():
    model = _ie()
    state = model.per_sample  # labels 0, 0, 1, 1, 2, 2
    state.fill('bn_candidate', torch.ones(6, dtype=torch.bool))
    # D^BN: both samples of class 0, none of class 1 or 2
    state.assign('bn_score', torch.arange(6),
                 torch.tensor([0.3, 0.2, -1.0, -1.0, -1.0, -1.0]))
    torch.manual_seed(0)
    pair_idx, _ = model.sample_pairs(torch.zeros(4000, dtype=torch.long))
    counts = torch.bincount(pair_idx, minlength=6).tolist()
    assert counts[2:] == [0] * 4 and abs(counts[0] - 2000) < 150
    # only the classes without a member of D^BN fall back on D_cand^BN
    pair_idx, paired = model.sample_pairs(torch.tensor([0, 1, 2] * 100),
                                          empty_bn='candidate')
    assert paired.all()
    assert set(pair_idx[0::3].tolist()) == {0, 1}
    assert set(pair_idx[1::3].tolist()) == {2, 3}
    assert set(pair_idx[2::3].tolist()) == {4, 5}


def test_all_scores_negative_leave_no_pair():
    model = _ie()
    model.per_sample.fill('bn_candidate', torch.ones(6, dtype=torch.bool))
    model.per_sample.assign('bn_score', torch.arange(6), -torch.ones(6))
    pair_idx, paired = model.sample_pairs(torch.tensor([0, 1, 2]))
    assert not paired.any() and pair_idx.tolist() == [-1, -1, -1]


def test_guided_losses_by_hand():
    model = _hand_model(lambda_sim=0.1)
    head = model.models['debiased'].head
    z, z_bn, _, labels = _pair()
    model.per_sample.assign('bn_score', torch.tensor([4]),
                            torch.tensor([0.5]))
    logits_bn = head(z_bn)
    losses, diag = model.guided_losses(z, z_bn, logits_bn, labels,
                                       torch.tensor([1.0]), torch.tensor([4]))
    # GAP(z) = (.5, 1.5), GAP(g) = (.5, 6): ||.||_1 = 4.5; s = .5
    assert losses['loss_guide_sim'].item() == pytest.approx(0.1 * 0.5 * 4.5)
    # f_cls(g) = W GAP(g) = (.5, 6) -> CE for class 0
    ce = torch.nn.functional.cross_entropy(
        torch.tensor([[0.5, 6.0]]), labels)
    assert losses['loss_guide_cls'].item() == pytest.approx(ce.item())
    ce_bn = torch.nn.functional.cross_entropy(logits_bn, labels)
    assert losses['loss_bn'].item() == pytest.approx(0.5 * ce_bn.item())
    assert diag['ie_enhanced_ratio'].item() == 0.5
    # Table 3 ablations: no s weight, no L_guide, no L_BN.
    model.bn_score_weight, model.use_guide_loss = False, False
    losses, _ = model.guided_losses(z, z_bn, logits_bn, labels,
                                    torch.tensor([1.0]), torch.tensor([4]))
    assert set(losses) == {'loss_bn'}
    assert losses['loss_bn'].item() == pytest.approx(ce_bn.item())
    model.use_bn_loss = False
    assert model.guided_losses(z, z_bn, logits_bn, labels,
                               torch.tensor([1.0]), torch.tensor([4]))[0] == {}


def test_guide_sim_gradient_with_and_without_a_detached_target():
    z, z_bn, _, labels = _pair()  # IE = (1, 4) at the two positions

    def grads(detach):
        model = _hand_model(detach_guidance_target=detach)
        model.per_sample.assign('bn_score', torch.tensor([0]),
                                torch.tensor([1.0]))
        feats = z.clone().requires_grad_()
        losses, _ = model.guided_losses(
            feats, z_bn, model.models['debiased'].head(z_bn), labels,
            torch.tensor([1.0]), torch.tensor([0]))
        sim, = torch.autograd.grad(losses['loss_guide_sim'], feats,
                                   retain_graph=True)
        cls, = torch.autograd.grad(losses['loss_guide_cls'], feats)
        return sim, cls

    # As written (default): d/dz |GAP(z) - GAP(z * IE)| acts only where
    # IE != 1: position 0 (IE = 1) gets no gradient, position 1 (IE = 4)
    # does: 0.1 * sign(.) * (1 - 4) / 2 per channel.
    sim, cls = grads(detach=False)
    assert torch.all(sim[..., 0] == 0)
    assert torch.allclose(sim[0, :, 0, 1], torch.tensor([0.0, 0.15]))
    assert cls.abs().sum() > 0
    # Detached target: GAP(z) is pulled up uniformly at every position.
    sim, _ = grads(detach=True)
    assert torch.allclose(sim[..., 0], sim[..., 1])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='bn_source'):
        _ie(bn_source='cand')
    with pytest.raises(ValueError, match='alpha_s'):
        _ie(alpha_s=0)
    with pytest.raises(ValueError, match='T2'):
        _ie(t1=10, t2=5)
    with pytest.raises(ValueError, match="cam='autograd'"):
        _ie(head='MaxPoolLinearHead')
    # Any head works with autograd Grad-CAM.
    model = _ie(head='MaxPoolLinearHead', cam='autograd')
    feats = torch.rand(2, 8, 3, 3)
    cam = model.explanation_map(feats, torch.tensor([0, 2]))
    assert cam.shape == (2, 3, 3)
    assert float(cam.detach().amax()) == pytest.approx(1.0)


@MODELS.register_module(force=True)
class MaxPoolLinearHead(torch.nn.Module):
    """A head that is not GAP + linear (for the test above)."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.fc = torch.nn.Linear(in_channels, num_classes)
        self.num_classes = num_classes

    def forward(self, feats):
        return self.fc(feats.amax(dim=(2, 3)))


class _MemoryDigits(BaseBiasDataset):
    """Six in-memory 8x8 images of 3 classes (2 per class)."""

    METAINFO = dict(classes=('0', '1', '2'), bias_classes=('0', '1', '2'))

    def load_data_list(self):
        rng = np.random.default_rng(0)
        return [
            dict(img=rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
                 gt_label=c, bias_label=c) for c in (0, 0, 1, 1, 2, 2)
        ]


def _guided_ie(**kwargs):
    model = IE(
        classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='ConvNet', channels=(4, 8)),
            head=dict(type='GAPLinearHead', num_classes=3)),
        t1=0, t2=0, **kwargs)
    dataset = _MemoryDigits(
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')],
        serialize_data=False)
    model.prepare_train(dataset)
    state = model.per_sample
    state.fill('amplified', torch.tensor([1, 0, 1, 0, 1, 0], dtype=bool))
    state.fill('bn_candidate', torch.tensor([0, 1, 0, 1, 0, 1], dtype=bool))
    model.bias_sets_ready.fill_(True)
    model._hooks_checked = True
    # T1 = T2 = 0 of 3 iterations: lambda_main = 0.5 at iteration 1
    model.prepare_schedule(max_iters=3, iters_per_epoch=1)
    MessageHub.get_current_instance().update_info('iter', 1)
    optim = OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.SGD(m.parameters(), lr=0.1))
        for name, m in model.models.items()
    })
    return model, optim


def _batch(idx):
    idx = torch.tensor(idx)
    return dict(
        inputs=torch.randint(0, 256, (len(idx), 3, 8, 8), dtype=torch.uint8),
        data_samples=dict(gt_label=idx // 2, sample_idx=idx))


def test_guided_step_with_a_batch_of_one_and_an_empty_class():
    model, optim = _guided_ie()
    # D^BN = candidates with a positive score: sample 1 (class 0) only.
    model.per_sample.assign('bn_score', torch.tensor([1, 3, 5]),
                            torch.tensor([0.4, -0.2, -0.1]))
    before = model.models['debiased'].head.fc.weight.clone()
    log = model.train_step(_batch([0]), optim)  # a batch of one, paired
    assert log['paired_ratio'] == 1.0
    assert {'loss_guide_sim', 'loss_guide_cls', 'loss_bn'} <= set(log)
    assert not torch.equal(before, model.models['debiased'].head.fc.weight)
    # Class 1 has no member of D^BN: no pair, only lambda_main * L_main.
    log = model.train_step(_batch([2, 3]), optim)
    assert log['paired_ratio'] == 0.0 and 'loss_bn' not in log
    assert torch.allclose(log['loss_d'], 0.5 * log['loss_main'])


def test_guided_step_falls_back_on_candidates_when_asked():
    model, optim = _guided_ie(empty_bn='candidate')
    log = model.train_step(_batch([2, 3]), optim)  # all scores are 0
    assert log['paired_ratio'] == 1.0
    # s(x^BN) = 0 weighs L_guide_sim and L_BN out; L_guide_cls stays.
    assert log['loss_bn'] == 0 and log['loss_guide_sim'] == 0
    assert log['loss_guide_cls'] > 0
