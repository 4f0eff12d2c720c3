"""TextureUnbiasedAccuracy (ReBias's ImageNet "unbiased" accuracy) against
values computed by hand."""
import numpy as np
import pytest

from debiascls.evaluation import (DebiasAccuracy, TextureUnbiasedAccuracy,
                                  texture_unbiased_accuracy)


def _cells(spec):
    """Samples from ``[(class, cluster, n, n_correct), ...]``: arrays
    (gt, clusters, pred) with the first ``n_correct`` of each cell right
    and the others predicted as the next class."""
    gt, clusters, pred = [], [], []
    for c, k, n, right in spec:
        gt += [c] * n
        clusters += [k] * n
        pred += [c] * right + [(c + 1) % 2] * (n - right)
    return np.array(gt), np.array(clusters), np.array(pred)


# Clustering 1 of 31 samples, 2 classes, 2 clusters; default threshold 10:
#   (class 0, cluster 0): 12 samples, 9 right  -> 75 %
#   (class 0, cluster 1):  9 samples, 0 right  -> excluded (9 < 10)
#   (class 1, cluster 0): 10 samples, 4 right  -> 40 % (10 >= 10 counts)
#   (class 1, cluster 1):  0 samples
GT, CLUSTERS_1, PRED = _cells([(0, 0, 12, 9), (0, 1, 9, 0), (1, 0, 10, 4)])
# -> (75 + 40) / 2 = 57.5


def test_one_clustering_threshold_is_inclusive_and_excludes_small_cells():
    out = texture_unbiased_accuracy(PRED, GT, CLUSTERS_1[None], 2)
    assert out['texture_unbiased_acc_1'] == pytest.approx(57.5)
    assert out['texture_unbiased_acc'] == pytest.approx(57.5)
    assert out['texture_count_per_cell'] == [[[12, 9], [10, 0]]]
    assert out['texture_acc_per_cell'] == [[[75.0, None], [40.0, None]]]
    # with threshold 9 the 0 % cell counts: (75 + 0 + 40) / 3
    out = texture_unbiased_accuracy(PRED, GT, CLUSTERS_1[None], 2,
                                    min_population=9)
    assert out['texture_unbiased_acc'] == pytest.approx(115 / 3)
    # with 11 the 10-sample cell drops out
    out = texture_unbiased_accuracy(PRED, GT, CLUSTERS_1[None], 2,
                                    min_population=11)
    assert out['texture_unbiased_acc'] == pytest.approx(75.0)


def test_three_clusterings_are_averaged():
    # Clustering 2: all 31 samples in cluster 3 (k grows to 4):
    #   class 0: 21 samples, 9 right -> 300/7 %; class 1: 10, 4 right -> 40 %
    clusters_2 = np.full_like(CLUSTERS_1, 3)
    # Clustering 3: the first 10 samples in cluster 1, the rest in 0:
    #   (0, 1): 10 samples, 9 right -> 90 %; (0, 0): 11, 0 right -> 0 %;
    #   (1, 0): 10, 4 right -> 40 %
    clusters_3 = np.where(np.arange(len(GT)) < 10, 1, 0)
    table = np.stack([CLUSTERS_1, clusters_2, clusters_3])
    out = texture_unbiased_accuracy(PRED, GT, table, 2)
    per = [57.5, (300 / 7 + 40) / 2, (90 + 0 + 40) / 3]
    for j, value in enumerate(per, start=1):
        assert out[f'texture_unbiased_acc_{j}'] == pytest.approx(value)
    assert out['texture_unbiased_acc'] == pytest.approx(np.mean(per))
    assert len(out['texture_acc_per_cell']) == 3
    assert np.array(out['texture_count_per_cell']).shape == (3, 2, 4)


def test_unknown_clusters_and_clusterings_without_cells():
    # -1 (no cluster) is not counted; a clustering with no cell above the
    # threshold has no value and the average is then not reported
    clusters_2 = np.full_like(CLUSTERS_1, -1)
    clusters_2[:3] = 0
    out = texture_unbiased_accuracy(PRED, GT,
                                    np.stack([CLUSTERS_1, clusters_2]), 2)
    assert out['texture_unbiased_acc_1'] == pytest.approx(57.5)
    assert 'texture_unbiased_acc_2' not in out
    assert 'texture_unbiased_acc' not in out
    assert out['texture_count_per_cell'][1] == [[3, 0], [0, 0]]
    with pytest.raises(ValueError, match='do not match the 31 samples'):
        texture_unbiased_accuracy(PRED, GT, CLUSTERS_1[None, :5], 2)


def _predictions(order, main='debiased'):
    biased = np.zeros_like(GT)  # always class 0
    return [
        dict(sample_idx=int(i), gt_label=int(GT[i]), main_model=main,
             pred_label=dict(debiased=int(PRED[i]), biased=int(biased[i])))
        for i in order
    ]


def _metric(table, **kw):
    metric = TextureUnbiasedAccuracy(**kw)
    metric.dataset_meta = dict(classes=('a', 'b'),
                               texture_clusters=np.asarray(table).tolist())
    return metric


def test_metric_every_model_prefixed_like_debias_accuracy():
    # Clusters looked up by sample_idx, whatever the order of the batches;
    # duplicates (distributed padding) counted once.
    rng = np.random.default_rng(0)
    order = list(rng.permutation(len(GT))) + [0, 1]
    metric = _metric(CLUSTERS_1[None])
    metric.process({}, _predictions(order[:20]))
    metric.process({}, _predictions(order[20:]))
    out = metric.evaluate(len(GT))
    assert out['texture_unbiased_acc'] == pytest.approx(57.5)
    # biased model: class 0 always -> (0,0) 100 %, (1,0) 0 %
    assert out['biased/texture_unbiased_acc'] == pytest.approx(50.0)
    assert out['biased/texture_unbiased_acc_1'] == pytest.approx(50.0)
    # same naming as DebiasAccuracy: main unprefixed, others '<model>/'
    acc = DebiasAccuracy()
    acc.dataset_meta = dict(classes=('a', 'b'))
    acc.process({}, _predictions(range(len(GT))))
    keys = set(acc.evaluate(len(GT)))
    assert 'acc' in keys and 'biased/acc' in keys
    assert not keys & set(out)
    only = _metric(CLUSTERS_1[None], models=['biased'])
    only.process({}, _predictions(range(len(GT))))
    assert set(only.evaluate(len(GT))) == {
        'biased/texture_unbiased_acc', 'biased/texture_unbiased_acc_1',
        'biased/texture_acc_per_cell', 'biased/texture_count_per_cell'}


def test_metric_on_splits_without_clusters_reports_nothing():
    for meta in (dict(classes=('a', 'b')), None):
        metric = TextureUnbiasedAccuracy()
        metric.dataset_meta = meta
        metric.process({}, _predictions(range(len(GT))))
        assert metric.evaluate(len(GT)) == {}


def test_metric_errors():
    metric = _metric(CLUSTERS_1[None, :10])
    metric.process({}, _predictions(range(len(GT))))
    with pytest.raises(ValueError, match='does not cover sample_idx 0..30'):
        metric.evaluate(len(GT))
    metric = _metric(CLUSTERS_1[None], models=['other'])
    metric.process({}, _predictions(range(3)))
    with pytest.raises(KeyError, match='"other" is not among'):
        metric.evaluate(3)
    with pytest.raises(KeyError, match='no "pred_label"'):
        _metric(CLUSTERS_1[None]).process({}, [dict(sample_idx=0,
                                                    gt_label=0)])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match='min_population'):
            TextureUnbiasedAccuracy(min_population=bad)
