"""IE.explain_pairs, which the visualisation hook draws IE Figure 3 with:
pairs as in training (D^BN of the class, else its D_cand^BN, else none),
loaded through load_train_samples, maps from IE's equations, and the global
generators untouched."""
import numpy as np
import torch

from debiascls.datasets import BaseBiasDataset
from debiascls.models import IE


class _Digits(BaseBiasDataset):
    """Six in-memory 8x8 images of 3 classes (2 per class)."""

    METAINFO = dict(classes=('0', '1', '2'), bias_classes=('0', '1', '2'))

    def load_data_list(self):
        rng = np.random.default_rng(1)
        return [
            dict(img=rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
                 gt_label=c, bias_label=c) for c in (0, 0, 1, 1, 2, 2)
        ]


def _ie():
    torch.manual_seed(0)
    model = IE(
        classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='ConvNet', channels=(4, 8)),
            head=dict(type='GAPLinearHead', num_classes=3)),
        data_preprocessor=dict(mean=[0., 0., 0.], std=[255., 255., 255.]))
    model.prepare_train(_Digits(
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')],
        serialize_data=False))
    state = model.per_sample
    # D_cand^BN = {0, 1, 3}; D^BN = {1} (positive score); class 1 has only
    # the candidate 3 (negative score); class 2 has no candidate.
    state.fill('bn_candidate',
               torch.tensor([1, 1, 0, 1, 0, 0], dtype=torch.bool))
    state.assign('bn_score', torch.tensor([0, 1, 3]),
                 torch.tensor([-0.5, 0.4, -0.2]))
    return model.eval()


def test_pairs_maps_and_generators():
    model = _ie()
    inputs = torch.rand(4, 3, 8, 8)
    labels = torch.tensor([0, 1, 2, 0])
    before = torch.get_rng_state()
    out = model.explain_pairs(inputs, labels, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    # class 0: D^BN = {1}; class 1: D^BN empty -> its candidate 3; class 2:
    # no candidate -> no pair
    assert out['pair_idx'].tolist() == [1, 3, -1, 1]
    assert out['from_candidate'].tolist() == [False, True, False, False]
    assert torch.allclose(out['bn_score'],
                          torch.tensor([0.4, -0.2, 0.0, 0.4]))
    paired = torch.tensor([0, 1, 3])
    x_bn = model.load_train_samples([1, 3, 1])['inputs']
    assert torch.equal(out['x_bn'], x_bn)
    f_d = model.models['debiased']
    z, z_bn = f_d.extract_feat(inputs[paired]), f_d.extract_feat(x_bn)
    want = model.guidance(z, z_bn, labels[paired])
    for key in ('e_z', 'e_bn', 'ie', 'c', 'r'):
        assert out[key].shape == (3, ) + z.shape[2:]
        assert torch.allclose(out[key], want[key]), key
    assert torch.allclose(out['e_bn'],
                          model.explanation_map(z_bn, labels[paired]))
    # the same seed draws the same pairs
    again = model.explain_pairs(inputs, labels, seed=3)
    assert torch.equal(again['pair_idx'], out['pair_idx'])


def test_training_pairs_still_skip_empty_classes():
    model = _ie()
    pair_idx, paired = model.sample_pairs(torch.tensor([1, 0]))
    assert pair_idx.tolist() == [-1, 1] and paired.tolist() == [False, True]
    pair_idx, _ = model.sample_pairs(torch.tensor([1]), empty_bn='candidate')
    assert pair_idx.tolist() == [3]


def test_unknown_empty_bn_is_named():
    import pytest
    with pytest.raises(ValueError, match='empty_bn="first"'):
        _ie().sample_pairs(torch.tensor([0]), empty_bn='first')
