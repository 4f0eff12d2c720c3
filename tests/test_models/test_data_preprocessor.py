import pytest
import torch

from debiascls.models import BiasDataPreprocessor, Vanilla
from debiascls.models.algorithms.base import BaseDebiasAlgorithm


def _batch():
    return dict(
        inputs=torch.full((2, 3, 2, 2), 255, dtype=torch.uint8),
        data_samples=dict(
            gt_label=torch.tensor([1, 2]),
            bias_label=torch.tensor([1, 0]),
            sample_idx=torch.tensor([5, 9])))


def test_normalises_and_hides_bias_labels_in_training():
    pre = BiasDataPreprocessor(mean=[127.5] * 3, std=[127.5] * 3)
    train = pre(_batch(), training=True)
    assert torch.allclose(train['inputs'], torch.ones(2, 3, 2, 2))
    assert 'bias_label' not in train['data_samples']
    assert train['data_samples']['sample_idx'].tolist() == [5, 9]
    evaluation = pre(_batch(), training=False)
    assert evaluation['data_samples']['bias_label'].tolist() == [1, 0]


def test_pseudo_collated_batches_are_stacked():
    pre = BiasDataPreprocessor()
    batch = dict(
        inputs=[torch.zeros(3, 2, 2, dtype=torch.uint8)] * 2,
        data_samples=[
            dict(gt_label=1, bias_label=0, sample_idx=0),
            dict(gt_label=2, bias_label=2, sample_idx=1)
        ])
    out = pre(batch, training=False)
    assert out['inputs'].shape == (2, 3, 2, 2)
    assert out['data_samples']['gt_label'].tolist() == [1, 2]


def test_channel_mismatch_is_an_error():
    pre = BiasDataPreprocessor(mean=[0.], std=[1.])
    with pytest.raises(ValueError, match='channel'):
        pre(_batch())


def _classifier():
    return dict(
        type='ImageClassifier',
        backbone=dict(type='MLP', in_size=2, hidden_dims=(4, )),
        head=dict(type='GAPLinearHead', num_classes=3))


def test_training_code_never_receives_bias_labels():
    seen = {}

    class Spy(Vanilla):

        def update(self, inputs, data_samples, optim_wrapper):
            seen.update(data_samples)
            return {}

    from mmengine.optim import OptimWrapperDict
    Spy(_classifier()).train_step(_batch(), OptimWrapperDict())
    assert set(seen) == {'gt_label', 'sample_idx'}


def test_bias_supervised_algorithms_receive_them():
    seen = {}

    class Supervised(BaseDebiasAlgorithm):
        uses_bias_labels = True
        main_model = 'classifier'

        def update(self, inputs, data_samples, optim_wrapper):
            seen.update(data_samples)
            return {}

    from mmengine.optim import OptimWrapperDict
    Supervised(dict(classifier=_classifier())).train_step(
        _batch(), OptimWrapperDict())
    assert 'bias_label' in seen


def test_cannot_switch_bias_labels_on_from_the_config():
    with pytest.raises(ValueError, match='not a bias-supervised'):
        Vanilla(
            _classifier(),
            data_preprocessor=dict(keep_bias_label_in_train=True))
