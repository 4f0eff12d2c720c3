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


# ------------------------------------------------------------------ #
# Video batches: clips (B, C, T, H, W) and views (B, V, C, T, H, W)
# ------------------------------------------------------------------ #
MEAN, STD = [10., 120., 250.], [2., 4., 8.]


def _video_batch(shape):
    g = torch.Generator().manual_seed(0)
    return dict(
        inputs=torch.randint(0, 256, shape, dtype=torch.uint8, generator=g),
        data_samples=dict(gt_label=torch.zeros(shape[0], dtype=torch.long)))


def test_images_are_normalised_bit_identically_to_the_formula():
    batch = _video_batch((4, 3, 5, 6))
    out = BiasDataPreprocessor(mean=MEAN, std=STD)(batch)['inputs']
    mean = torch.tensor(MEAN).view(-1, 1, 1)
    std = torch.tensor(STD).view(-1, 1, 1)
    assert torch.equal(out, (batch['inputs'].float() - mean) / std)


@pytest.mark.parametrize('shape,channel_dim', [((2, 3, 4, 5, 6), 1),
                                               ((2, 7, 3, 4, 5, 6), 2)])
def test_clips_and_views_are_normalised_per_channel(shape, channel_dim):
    batch = _video_batch(shape)
    out = BiasDataPreprocessor(mean=MEAN, std=STD)(batch)['inputs']
    assert out.shape == shape and out.dtype == torch.float32
    x = batch['inputs'].float()
    for c in range(3):
        expected = (x.select(channel_dim, c) - MEAN[c]) / STD[c]
        assert torch.equal(out.select(channel_dim, c), expected)
    # the same clips as images, frame by frame: identical values
    frames = x.movedim(channel_dim, -1).reshape(-1, 3)
    ref = (frames - torch.tensor(MEAN)) / torch.tensor(STD)
    assert torch.equal(out.movedim(channel_dim, -1).reshape(-1, 3), ref)


def test_rebias_video_normalisation_in_the_0_255_scale():
    # ReBias: frames / 255, then (x - 0.45) / 0.225; the config's values
    pre = BiasDataPreprocessor(mean=[114.75] * 3, std=[57.375] * 3)
    batch = _video_batch((2, 10, 3, 2, 4, 4))
    out = pre(batch)['inputs']
    expected = (batch['inputs'].float() / 255 - 0.45) / 0.225
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


def test_video_batches_stacked_and_checked():
    pre = BiasDataPreprocessor(mean=MEAN, std=STD)
    clips = [torch.zeros(3, 2, 4, 4, dtype=torch.uint8)] * 2
    out = pre(dict(inputs=clips, data_samples=[
        dict(gt_label=1, sample_idx=0), dict(gt_label=2, sample_idx=1)]))
    assert out['inputs'].shape == (2, 3, 2, 4, 4)
    assert torch.equal(out['inputs'][:, 2],
                       torch.full((2, 2, 4, 4), -250. / 8))
    with pytest.raises(ValueError, match=r'clips have 4 channels \(dim 1'):
        pre(_video_batch((2, 4, 3, 4, 4)))
    with pytest.raises(ValueError, match=r'views have 4 channels \(dim 2'):
        pre(_video_batch((2, 10, 4, 3, 4, 4)))
    with pytest.raises(ValueError, match='images have 1 channels'):
        pre(_video_batch((2, 1, 4, 4)))
    with pytest.raises(ValueError, match='got a batch of shape'):
        pre(_video_batch((2, 3, 4)))
    # without mean/std nothing is normalised, whatever the shape
    raw = BiasDataPreprocessor()(_video_batch((1, 2, 3, 4, 5, 6, 7)))
    assert raw['inputs'].shape == (1, 2, 3, 4, 5, 6, 7)
