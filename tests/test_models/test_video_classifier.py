"""GAPLinearHead on video maps and VideoClassifier's clip / multi-view
forward."""
import pytest
import torch

from debiascls.models.classifiers import ImageClassifier, VideoClassifier
from debiascls.registry import MODELS


def video_classifier(**kwargs) -> VideoClassifier:
    torch.manual_seed(0)
    cfg = dict(
        type='VideoClassifier',
        backbone=dict(type='ResNet3D18', temporal_kernels='3d',
                      base_width=4),
        head=dict(type='GAPLinearHead', num_classes=5), **kwargs)
    return MODELS.build(cfg).eval()


def test_head_pools_video_maps_over_t_h_w_by_hand():
    head = MODELS.build(dict(type='GAPLinearHead', in_channels=2,
                             num_classes=1))
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, -2.0]]))
        head.fc.bias.fill_(0.5)
    feats = torch.zeros(1, 2, 2, 2, 2)
    feats[0, 0] = torch.arange(8.).view(2, 2, 2)  # mean 3.5
    feats[0, 1, 1] = 4.0  # mean 2.0 over the 8 positions
    assert head.pool(feats).tolist() == [[3.5, 2.0]]
    assert head(feats).item() == pytest.approx(3.5 - 4.0 + 0.5)
    for shape in [(1, 2), (1, 2, 3), (1, 2, 1, 1, 1, 1)]:
        with pytest.raises(ValueError, match=r'\(B, C, t, h, w\)'):
            head(torch.zeros(shape))


def test_head_4d_pooling_unchanged():
    head = MODELS.build(dict(type='GAPLinearHead', in_channels=3,
                             num_classes=2))
    feats = torch.randn(4, 3, 5, 7)
    assert torch.equal(head.pool(feats), feats.mean(dim=(2, 3)))
    # a 5-D map with t = 1 pools like the 4-D map
    assert torch.allclose(head.pool(feats.unsqueeze(2)), head.pool(feats))


def test_clips_go_through_backbone_then_head():
    model = video_classifier()
    assert isinstance(model, ImageClassifier)
    assert model.head.in_channels == 32 and model.num_classes == 5
    clips = torch.randn(2, 3, 4, 16, 16)
    feats = model.extract_feat(clips)
    assert feats.shape == (2, 32, 4, 1, 1)
    logits = model(clips)
    assert logits.shape == (2, 5)
    assert torch.allclose(logits, model.head(feats))
    feats2, logits2 = model.forward_with_feat(clips)
    assert torch.equal(feats2, feats) and torch.allclose(logits2, logits)


def test_views_average_to_mean_of_per_view_logits():
    """(B=2, V=3) views: the output row of video b is the mean over v of the
    logits of clip (b, v) run on its own (eval mode, so BN does not couple
    the clips)."""
    model = video_classifier()
    torch.manual_seed(1)
    views = torch.randn(2, 3, 3, 4, 16, 16)
    out = model(views)
    assert out.shape == (2, 5)
    per_view = torch.stack([model(views[:, v]) for v in range(3)], dim=1)
    assert torch.allclose(out, per_view.mean(dim=1), atol=1e-6)
    # not the mean over a wrong grouping of the V * B clips
    wrong = per_view.transpose(0, 1).reshape(2, 3, 5).mean(dim=1)
    assert not torch.allclose(out, wrong, atol=1e-4)
    # one view is the clip itself
    assert torch.allclose(model(views[:, :1]), model(views[:, 0]),
                          atol=1e-6)


def test_mean_probs_softmax_is_mean_of_clip_softmax():
    model = video_classifier(view_reduce='mean_probs')
    torch.manual_seed(2)
    views = torch.randn(2, 4, 3, 4, 16, 16)
    out = model(views)
    probs = torch.stack([model(views[:, v]).softmax(dim=1)
                         for v in range(4)], dim=1)
    assert torch.allclose(out.softmax(dim=1), probs.mean(dim=1), atol=1e-6)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(2), atol=1e-6)
    # ReBias's video prediction: argmax of the summed clip softmax scores
    assert torch.equal(out.argmax(dim=1), probs.sum(dim=1).argmax(dim=1))


def test_extract_feat_refuses_views_and_bad_ranks():
    model = video_classifier()
    with pytest.raises(ValueError, match='multi-view input'):
        model.extract_feat(torch.zeros(1, 2, 3, 4, 16, 16))
    with pytest.raises(ValueError, match='multi-view input'):
        model.forward_with_feat(torch.zeros(1, 2, 3, 4, 16, 16))
    with pytest.raises(ValueError, match=r'clips \(B, C, T, H, W\)'):
        model.extract_feat(torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match='views'):
        model(torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match='view_reduce'):
        video_classifier(view_reduce='sum')
