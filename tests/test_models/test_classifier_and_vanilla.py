"""The classifier's two halves, the head, and Vanilla's training step."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper, OptimWrapperDict

from debiascls.registry import MODELS

MLP_CLASSIFIER = dict(
    type='ImageClassifier',
    backbone=dict(type='MLP', in_channels=3, in_size=4, hidden_dims=(6, )),
    head=dict(type='GAPLinearHead', num_classes=3))
CONV_CLASSIFIER = dict(
    type='ImageClassifier',
    backbone=dict(type='SimpleConvNet', kernel_size=3, channels=(4, 8)),
    head=dict(type='GAPLinearHead', num_classes=3))


def test_head_pools_then_classifies_by_hand():
    head = MODELS.build(dict(type='GAPLinearHead', in_channels=2,
                             num_classes=1))
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, -2.0]]))
        head.fc.bias.fill_(0.5)
    # channel means: 2.5 and 1.0 -> 2.5 - 2.0 + 0.5
    feats = torch.tensor([[[[1., 2.], [3., 4.]], [[1., 1.], [1., 1.]]]])
    assert head(feats).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match='feature map'):
        head(torch.zeros(1, 2))


@pytest.mark.parametrize('cfg, spatial', [(MLP_CLASSIFIER, (1, 1)),
                                          (CONV_CLASSIFIER, None)])
def test_classifier_is_head_of_extract_feat(cfg, spatial):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    x = torch.randn(2, 3, 4, 4)
    feats = model.extract_feat(x)
    assert feats.dim() == 4 and feats.shape[1] == model.head.in_channels
    if spatial is not None:
        assert tuple(feats.shape[2:]) == spatial
    else:
        assert feats.shape[2] > 1  # a spatial map for conv backbones
    assert torch.allclose(model(x), model.head(feats))
    feats2, logits = model.forward_with_feat(x)
    assert torch.equal(feats2, feats) and torch.allclose(logits, model(x))
    assert model.num_classes == 3


def _batch():
    return dict(
        inputs=torch.randint(0, 256, (4, 3, 4, 4), dtype=torch.uint8),
        data_samples=dict(gt_label=torch.tensor([0, 1, 2, 0]),
                          bias_label=torch.tensor([0, 1, 0, 2]),
                          sample_idx=torch.arange(4)))


def test_vanilla_step_is_one_sgd_step_on_the_mean_cross_entropy():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='Vanilla', classifier=MLP_CLASSIFIER))
    reference = MODELS.build(MLP_CLASSIFIER)
    reference.load_state_dict(model.models['classifier'].state_dict())
    batch = _batch()
    x = batch['inputs'].float()
    loss = F.cross_entropy(reference(x), batch['data_samples']['gt_label'])
    loss.backward()
    expected = {n: p - 0.1 * p.grad for n, p in reference.named_parameters()}

    optim = OptimWrapperDict(classifier=OptimWrapper(torch.optim.SGD(
        model.models['classifier'].parameters(), lr=0.1)))
    log = model.train_step(batch, optim)
    assert log['loss'].item() == pytest.approx(loss.item())
    for name, param in model.models['classifier'].named_parameters():
        assert torch.allclose(param, expected[name]), name


def test_training_needs_one_optimizer_per_model():
    model = MODELS.build(dict(type='Vanilla', classifier=MLP_CLASSIFIER))
    single = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='MultiModelOptimWrapperConstructor'):
        model.train_step(_batch(), single)


def test_predictions_carry_labels_and_every_model():
    model = MODELS.build(dict(type='Vanilla', classifier=MLP_CLASSIFIER))
    preds = model.test_step(_batch())
    assert [p['sample_idx'] for p in preds] == [0, 1, 2, 3]
    assert [p['bias_label'] for p in preds] == [0, 1, 0, 2]
    assert set(preds[0]['pred_label']) == {'classifier'}
    assert preds[0]['main_model'] == 'classifier'
    assert torch.allclose(preds[0]['pred_score']['classifier'].sum(),
                          torch.tensor(1.0))
    with pytest.raises(ValueError, match='unknown mode'):
        model(_batch()['inputs'].float(), mode='loss')
