"""LfF's relative difficulty and LfF+BE's biased loss by hand."""
import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict

from debiascls.models import LfF


def _lff(**kwargs):
    torch.manual_seed(0)
    model = LfF(
        classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='ConvNet', channels=(4, )),
            head=dict(type='GAPLinearHead', num_classes=2)),
        **kwargs)
    model.per_sample.setup([0, 0, 1, 1])
    return model


def test_relative_difficulty_uses_emas_and_the_class_max():
    model = _lff(ema_alpha=0.5)
    labels = torch.tensor([0, 0, 1])
    idx = torch.tensor([0, 1, 2])
    # First visit: EMAs = the losses. Class 0 maxima: b = 4, d = 2;
    # class 1: b = 1, d = 3.
    w = model.relative_difficulty(idx, labels, torch.tensor([4.0, 2.0, 1.0]),
                                  torch.tensor([1.0, 2.0, 3.0]))
    # sample 0: (4/4) / (4/4 + 1/2) = 2/3; sample 1: (2/4) / (.5 + 1) = 1/3;
    # sample 2: (1/1) / (1 + 1) = 1/2
    assert torch.allclose(w, torch.tensor([2 / 3, 1 / 3, 0.5]), atol=1e-6)
    # Second visit of sample 0: EMA_b = .5*4 + .5*0 = 2, EMA_d = .5*1 + .5*3
    # = 2. Class 0 maxima now b = max(2, 2) = 2, d = max(2, 2) = 2.
    w = model.relative_difficulty(torch.tensor([0]), torch.tensor([0]),
                                  torch.tensor([0.0]), torch.tensor([3.0]))
    assert torch.allclose(w, torch.tensor([0.5]), atol=1e-6)
    assert model.per_sample.get('loss_b').tolist() == [2.0, 2.0, 1.0, 0.0]


def test_be_adds_epsilon_to_the_biased_maximum_only():
    model = _lff(bias_amplified=True)
    w = model.relative_difficulty(torch.tensor([2]), torch.tensor([1]),
                                  torch.tensor([1.0]), torch.tensor([1.0]))
    want = (1 / (1 + 1e-8)) / (1 / (1 + 1e-8) + 1 + 1e-8)
    assert w.item() == pytest.approx(want, rel=1e-7)


def test_biased_loss_is_gce_or_ce_on_the_amplified_set():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    idx = torch.tensor([0, 1, 2])
    model = _lff()
    p = logits.softmax(1)[torch.arange(3), labels]
    want = (-p.log() * 0.7 * p.pow(0.7)).mean()
    assert torch.allclose(model.biased_loss(logits, labels, idx), want)

    be = _lff(bias_amplified=True)
    with pytest.raises(RuntimeError, match='BiasCommitteeHook'):
        be.biased_loss(logits, labels, idx)
    be.per_sample.fill('amplified', torch.tensor([True, False, True, False]))
    be.bias_sets_ready.fill_(True)
    ce = torch.nn.functional.cross_entropy(logits, labels, reduction='none')
    assert torch.allclose(be.biased_loss(logits, labels, idx),
                          (ce[0] + ce[2]) / 2)
    # No member of D^A in the batch: no update of f_b.
    assert be.biased_loss(logits[1:2], labels[1:2], idx[1:2]) is None


def test_update_steps_both_models_with_their_own_optimizers():
    model = _lff()
    wrappers = OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.SGD(m.parameters(), lr=0.1))
        for name, m in model.models.items()
    })
    before = {n: m.head.fc.weight.clone() for n, m in model.models.items()}
    log = model.update(
        torch.rand(4, 3, 8, 8),
        dict(gt_label=torch.tensor([0, 0, 1, 1]),
             sample_idx=torch.tensor([0, 1, 2, 3])), wrappers)
    assert set(log) >= {'loss_b', 'loss_d', 'weight_mean'}
    for name, model_ in model.models.items():
        assert not torch.equal(before[name], model_.head.fc.weight), name
    assert model.per_sample.seen('loss_b').all()
