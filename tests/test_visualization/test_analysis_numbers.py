"""The numbers behind the pictures, by hand: sample selection, image
un-normalisation and overlays, IE Fig. 2 group means, PGD's per-cell p_s
and up-weighted sets, the HSIC and accuracy curves read from a run's files,
t-SNE inputs, and strict JSON/CSV output."""
import json

import cv2
import numpy as np
import pytest
import torch

from debiascls.evaluation.bias_detection import (PGD_SET_NAMES,
                                                 detection_stats,
                                                 pgd_upweighted_sets)
from debiascls.models.classifiers import ImageClassifier
from debiascls.utils import ConfigError
from debiascls.visualization import (denormalize, heat_overlay,
                                     select_cell_samples, write_csv,
                                     write_json)
from debiascls.visualization.bn_scores import (bn_score_curve,
                                               bn_score_tables,
                                               checkpoint_iters, group_stats)
from debiascls.visualization.hsic_curves import hsic_series
from debiascls.apis.run_files import (evaluation_series,
                                               read_scalars, run_config_path)
from debiascls.visualization.sampling_probs import cell_sampling_stats
from debiascls.visualization.tsne import (penultimate, subset_indices,
                                          tsne_embedding)


def test_cell_samples_are_the_lowest_indices_of_each_cell():
    gt = [1, 0, 0, 1, 0, 2, 0]
    bias = [0, 0, 1, 0, 0, -1, 0]
    # cells: (0, 0) = {1, 4, 6}, (0, 1) = {2}, (1, 0) = {0, 3}; sample 5 has
    # no known bias
    assert select_cell_samples(gt, bias, 2).tolist() == [1, 4, 2, 0, 3]
    assert select_cell_samples(gt, bias, 1).tolist() == [1, 2, 0]
    assert select_cell_samples(gt, bias, 0).tolist() == []
    with pytest.raises(ValueError, match='6 bias labels'):
        select_cell_samples(gt, bias[:-1], 1)


def test_denormalize_and_overlay_by_hand():
    mean = torch.tensor([10.0, 20.0, 30.0])
    std = torch.tensor([2.0, 4.0, 5.0])
    pixels = torch.tensor([[0, 100, 255]], dtype=torch.float32).view(1, 1, 3)
    pixels = pixels.expand(3, 1, 3)  # (C, H, W) = (3, 1, 3)
    normed = (pixels - mean.view(3, 1, 1)) / std.view(3, 1, 1)
    image = denormalize(normed[None], mean, std)
    assert image.dtype == np.uint8 and image.shape == (1, 1, 3, 3)
    assert image[0, 0, :, 0].tolist() == [0, 100, 255]
    # out-of-range values are clipped; one channel becomes grey RGB
    grey = denormalize(torch.tensor([[[[-3.0, 300.0]]]]))
    assert grey[0, 0].tolist() == [[0, 0, 0], [255, 255, 255]]
    # a map at vmax is jet's last colour, blended half-and-half with black
    top = cv2.applyColorMap(np.array([[255]], np.uint8),
                            cv2.COLORMAP_JET)[0, 0, ::-1].astype(float)
    low = cv2.applyColorMap(np.array([[0]], np.uint8),
                            cv2.COLORMAP_JET)[0, 0, ::-1].astype(float)
    black = np.zeros((2, 2, 3), np.uint8)
    over = heat_overlay(black, np.full((1, 1), 4.0), 0.5, 1.0, 4.0)
    assert over[0, 0].tolist() == np.round(top / 2).astype(int).tolist()
    over = heat_overlay(black, np.full((1, 1), 1.0), 0.5, 1.0, 4.0)
    assert over[1, 1].tolist() == np.round(low / 2).astype(int).tolist()


def test_bn_score_group_means_by_hand():
    conflicting = np.array([0, 0, 0, 1, 1, 0], bool)
    known = np.array([1, 1, 1, 1, 1, 0], bool)  # sample 5: unknown bias
    candidate = np.array([1, 1, 0, 1, 1, 1], bool)
    tables = [
        (500, dict(score=np.zeros(6), candidate=candidate)),
        (1000, dict(score=np.array([0.1, -0.3, 9.0, 0.5, 0.3, 7.0]),
                    candidate=candidate)),
    ]
    curve = bn_score_curve(tables, conflicting, known)
    assert [row['iter'] for row in curve] == [500, 1000]
    assert curve[0]['aligned']['mean'] == 0 and curve[0]['aligned']['n'] == 2
    # D_cand^BN: aligned {0, 1} (2 is no candidate, 5 of unknown bias),
    # conflicting {3, 4}
    aligned, bc = curve[1]['aligned'], curve[1]['conflicting']
    assert aligned['n'] == 2 and aligned['mean'] == pytest.approx(-0.1)
    assert aligned['std'] == pytest.approx(0.2)
    assert bc['n'] == 2 and bc['mean'] == pytest.approx(0.4)
    assert bc['median'] == pytest.approx(0.4)
    everyone = bn_score_curve(tables, conflicting, known, 'all')[1]
    assert everyone['aligned']['n'] == 3
    assert everyone['aligned']['mean'] == pytest.approx((0.1 - 0.3 + 9) / 3)
    empty = group_stats(np.ones(3), np.zeros(3, bool))
    assert empty['n'] == 0 and np.isnan(empty['mean'])
    with pytest.raises(ValueError, match='6 samples'):
        bn_score_curve([(1, dict(score=np.zeros(4), candidate=candidate))],
                       conflicting, known)
    state = {'per_sample.bn_score': torch.tensor([0.5]),
             'per_sample.bn_candidate': torch.tensor([True]),
             'per_sample.gt_label': torch.tensor([2])}
    assert bn_score_tables(state)['score'].tolist() == [0.5]
    assert bn_score_tables({'per_sample.loss_b': torch.zeros(1)}) is None


def test_checkpoints_are_found_by_iteration(tmp_path):
    for name in ('iter_10.pth', 'iter_2.pth', 'best_acc_iter_4.pth',
                 'iter_3.pth.tmp'):
        (tmp_path / name).write_bytes(b'')
    assert [i for i, _ in checkpoint_iters(str(tmp_path))] == [2, 10]


def test_per_cell_sampling_probability_by_hand():
    prob = np.array([0.1, 0.3, 1.0, 0.5, 0.0, 0.7])
    gt = np.array([0, 0, 0, 1, 1, 1])
    bias = np.array([0, 0, 1, 1, 0, -1])
    stats = cell_sampling_stats(prob, gt, bias, 2, 2)
    assert stats['count'].tolist() == [[2, 1], [1, 1]]
    assert stats['mean'][0, 0] == pytest.approx(0.2)
    assert stats['std'][0, 0] == pytest.approx(0.1)
    assert stats['mean'][0, 1] == 1.0 and stats['mean'][1, 0] == 0.0
    assert stats['mean'][1, 1] == 0.5
    # shares of the draws: cell mass over the total mass (2.6, sample 5
    # of unknown bias included)
    assert stats['share'][0, 0] == pytest.approx(100 * 0.4 / 2.6)
    assert stats['share'][1, 1] == pytest.approx(100 * 0.5 / 2.6)
    assert stats['uniform_share'][0, 0] == pytest.approx(100 * 2 / 6)
    empty = cell_sampling_stats(prob[:1], gt[:1], bias[:1], 2, 2)
    assert np.isnan(empty['mean'][1, 1]) and np.isnan(empty['share'][1, 1])
    assert empty['count'][1, 1] == 0


def test_pgd_upweighted_sets_by_hand():
    prob = np.array([0.1, 0.9, 0.2, 0.9, 0.4, 0.1])  # mean 0.4333
    conflicting = np.array([0, 1, 0, 0, 1, 0], bool)
    sets = pgd_upweighted_sets(prob, int(conflicting.sum()))
    above, top = sets[PGD_SET_NAMES[0]], sets[PGD_SET_NAMES[1]]
    assert above.tolist() == [False, True, False, True, False, False]
    # k = 2: the two 0.9s (tie broken by the lower index); 0.4 left out
    assert top.tolist() == [False, True, False, True, False, False]
    stats = detection_stats(top, conflicting, np.ones(6, bool))
    assert stats['conflicting_fraction'] == 50 == stats['conflicting_recall']
    top3 = pgd_upweighted_sets(prob, 3)[PGD_SET_NAMES[1]]
    assert np.nonzero(top3)[0].tolist() == [1, 3, 4]


def _write_lines(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_hsic_and_accuracy_curves_from_a_work_dir(tmp_path):
    # a run to iteration 3, resumed from iteration 2 (its steps 3, 4 win)
    _write_lines(tmp_path / '20240101_000000' / 'vis_data' / 'scalars.json',
                 [dict(step=1, iter=1, **{'hsic/g': 0.5, 'loss_f': 2.0}),
                  dict(step=2, iter=2, **{'hsic/g': 0.4}),
                  dict(step=3, iter=3, **{'hsic/g': 0.9})])
    _write_lines(tmp_path / '20240102_000000' / 'vis_data' / 'scalars.json',
                 [dict(step=3, iter=3, **{'hsic/g': 0.3}),
                  dict(step=4, iter=4, **{'hsic/g': 0.2})])
    scalars = read_scalars(str(tmp_path))
    assert hsic_series(scalars) == {
        'g': [(1, 0.5), (2, 0.4), (3, 0.3), (4, 0.2)]}
    with pytest.raises(ConfigError, match='loss_f'):
        hsic_series({1: {'loss_f': 1.0}})
    _write_lines(tmp_path / 'results.jsonl', [
        dict(mode='val', iter=2, split='test', metrics=dict(unbiased_acc=30)),
        dict(mode='val', iter=2, split='valid', metrics=dict(unbiased_acc=9)),
        dict(mode='val', iter=4, split='test', metrics=dict(unbiased_acc=50)),
        dict(mode='test', iter=4, split='test', metrics=dict(unbiased_acc=1)),
    ])
    assert evaluation_series(str(tmp_path), 'test', 'unbiased_acc') == [
        (2, 30.0), (4, 50.0)]
    with pytest.raises(ConfigError, match="splits: \\['test', 'valid'\\]"):
        evaluation_series(str(tmp_path), 'test_biased', 'unbiased_acc')
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        read_scalars(str(tmp_path / 'nothing'))


def test_run_config_is_the_dumped_one(tmp_path):
    with pytest.raises(ConfigError, match='0 config files'):
        run_config_path(str(tmp_path))
    (tmp_path / 'ie_synthdigits_1pct.py').write_text('x = 1\n')
    assert run_config_path(str(tmp_path)).endswith('ie_synthdigits_1pct.py')
    (tmp_path / 'other.py').write_text('x = 1\n')
    with pytest.raises(ConfigError, match='--config'):
        run_config_path(str(tmp_path))


def _classifier(head):
    torch.manual_seed(0)
    return ImageClassifier(
        backbone=dict(type='ConvNet', channels=(4, 8)),
        head=dict(head, num_classes=3)).eval()


def test_penultimate_features_and_tsne_inputs():
    x = torch.rand(5, 3, 12, 12)
    linear = _classifier(dict(type='GAPLinearHead'))
    with torch.no_grad():
        want = linear.head.pool(linear.extract_feat(x))
        assert torch.allclose(penultimate(linear, x), want)
        mlp = _classifier(dict(type='GAPMLPHead', hidden_dims=(6, )))
        hidden = mlp.head.act(mlp.head.fc1(mlp.head.pool(
            mlp.extract_feat(x))))
        assert torch.allclose(penultimate(mlp, x), hidden)
    assert subset_indices(10, None).tolist() == list(range(10))
    picked = subset_indices(100, 7, seed=1)
    assert len(set(picked.tolist())) == 7 and (np.diff(picked) > 0).all()
    assert subset_indices(100, 7, seed=1).tolist() == picked.tolist()
    points = np.random.default_rng(0).normal(size=(12, 4))
    a, b = tsne_embedding(points, seed=0), tsne_embedding(points, seed=0)
    assert a.shape == (12, 2) and np.array_equal(a, b)


def test_strict_json_and_csv(tmp_path):
    write_json(dict(a=np.array([1.0, np.nan]), n=np.int64(3)),
               str(tmp_path / 'x.json'))
    assert json.loads((tmp_path / 'x.json').read_text()) == dict(
        a=[1.0, None], n=3)
    write_csv(['a', 'b'], [[1, float('nan')], [np.float32(0.5), None]],
              str(tmp_path / 'x.csv'))
    assert (tmp_path / 'x.csv').read_text() == 'a,b\n1,\n0.5,\n'
