"""ReBias's texture-"unbiased" accuracy on 9-class ImageNet, for every model
of an algorithm."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric

from debiascls.registry import METRICS

#: ReBias's population threshold: a (class, cluster) cell counts when it
#: holds at least this many samples (``evaluator.py``,
#: ``ImageNetEvaluator.evaluate_rebias``: ``if __num_instance >= 10``). The
#: paper (Sec. 4.3.1) writes "Pop(c, y) > 10"; we follow the code.
REBIAS_MIN_POPULATION = 10


def texture_unbiased_accuracy(pred: np.ndarray, gt: np.ndarray,
                              clusterings: np.ndarray, num_classes: int,
                              min_population: int = REBIAS_MIN_POPULATION
                              ) -> Dict[str, Any]:
    """The texture-unbiased accuracy of one model, in percent.

    For each clustering ``j`` (a row of ``clusterings``, cluster ids per
    sample, -1 for none), every (class ``y``, cluster ``c``) cell with
    population ``n_yc >= min_population`` gets its accuracy ``a_yc``; the
    clustering's number is the unweighted mean of those ``a_yc`` (ReBias
    Sec. 4.3.1, "Unbiased"; ``evaluator.py``), and the reported one the mean
    over the clusterings (ReBias: "the average unbiased accuracy of three
    clustering results").

    Returns ``texture_unbiased_acc`` (when every clustering has a cell that
    passes), ``texture_unbiased_acc_<j>`` (1-based) for each clustering that
    has one, and the tables ``texture_acc_per_cell`` /
    ``texture_count_per_cell`` (one ``num_classes x k`` matrix per
    clustering; accuracy None where the cell is below the threshold; not
    named ``*cell_acc``, which the visualisation hook draws as one matrix).
    """
    pred, gt = (np.asarray(a, dtype=np.int64) for a in (pred, gt))
    clusterings = np.asarray(clusterings, dtype=np.int64)
    if clusterings.ndim != 2 or clusterings.shape[1] != len(gt):
        raise ValueError(
            f'clusterings of shape {clusterings.shape} do not match the '
            f'{len(gt)} samples (expected (num_clusterings, {len(gt)})).')
    correct = (pred == gt).astype(np.float64)
    out: Dict[str, Any] = {}
    per_clustering: List[Optional[float]] = []
    cell_acc, cell_count = [], []
    k = int(max(clusterings.max(initial=-1) + 1, 1))
    for j, clusters in enumerate(clusterings, start=1):
        known = clusters >= 0
        cell = gt[known] * k + clusters[known]
        counts = np.bincount(cell, minlength=num_classes * k)
        hits = np.bincount(cell, weights=correct[known],
                           minlength=num_classes * k)
        counts = counts.reshape(num_classes, k)
        hits = hits.reshape(num_classes, k)
        used = counts >= min_population
        accs = np.where(used, 100.0 * hits / np.maximum(counts, 1), np.nan)
        value = float(accs[used].mean()) if used.any() else None
        per_clustering.append(value)
        if value is not None:
            out[f'texture_unbiased_acc_{j}'] = value
        cell_acc.append([[None if np.isnan(v) else float(v) for v in row]
                         for row in accs])
        cell_count.append(counts.astype(int).tolist())
    if per_clustering and all(v is not None for v in per_clustering):
        out['texture_unbiased_acc'] = float(np.mean(per_clustering))
    out['texture_acc_per_cell'] = cell_acc
    out['texture_count_per_cell'] = cell_count
    return out


@METRICS.register_module()
class TextureUnbiasedAccuracy(BaseMetric):
    """ReBias's "unbiased" accuracy on 9-class ImageNet (see
    :func:`texture_unbiased_accuracy`), for every model an algorithm
    predicts with.

    The texture clusters come from the evaluated split's
    ``dataset_meta['texture_clusters']`` (one list of cluster ids per
    clustering, indexed by ``sample_idx``; :class:`~debiascls.datasets.
    ImageNet9`'s test split). On a split without them (train/valid,
    ImageNet-A, ImageNet-C) the metric reports nothing.

    Keys follow :class:`DebiasAccuracy`: the main model's are unprefixed
    (``texture_unbiased_acc``), the others' ``<model>/<key>``
    (``biased/texture_unbiased_acc``). Results of all ranks are gathered
    and de-duplicated by ``sample_idx``.

    Args:
        min_population: Smallest population of a counted (class, cluster)
            cell (ReBias's code: 10, i.e. ``>= 10``).
        models: Models to report (default: every model in the predictions).
        collect_device: 'cpu' or 'gpu', as in mmengine.
        prefix: Optional prefix of every key, as in mmengine.
    """

    # No prefix: the loops prefix keys with the split (test/...).
    default_prefix: Optional[str] = ''

    def __init__(self,
                 min_population: int = REBIAS_MIN_POPULATION,
                 models: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if (isinstance(min_population, bool)
                or not isinstance(min_population, (int, np.integer))
                or min_population < 1):
            raise ValueError(
                'TextureUnbiasedAccuracy: min_population='
                f'{min_population!r} must be a positive integer (ReBias: '
                f'{REBIAS_MIN_POPULATION}).')
        self.min_population = int(min_population)
        self.models = None if models is None else tuple(models)
        self._main_model: Optional[str] = None
        self._model_names: Optional[Tuple[str, ...]] = None

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep ``(sample_idx, gt, predictions)`` of each sample."""
        for sample in data_samples:
            for key in ('sample_idx', 'gt_label', 'pred_label'):
                if key not in sample:
                    raise KeyError(
                        f'TextureUnbiasedAccuracy: a prediction has no '
                        f'"{key}"; evaluate a debiascls algorithm (its '
                        'predict() returns sample_idx, gt_label and '
                        'pred_label per model).')
            preds = sample['pred_label']
            if not isinstance(preds, dict):
                preds = {'model': preds}
            if self._model_names is None:
                self._model_names = tuple(preds)
                self._main_model = sample.get('main_model',
                                              self._model_names[0])
            self.results.append(
                (int(sample['sample_idx']), int(sample['gt_label']),
                 tuple(int(preds[m]) for m in self._model_names),
                 self._model_names, self._main_model))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, Any]:
        meta = self.dataset_meta or {}
        table = meta.get('texture_clusters')
        if not table:
            return {}
        unique: Dict[int, tuple] = OrderedDict()
        for entry in results:
            unique.setdefault(entry[0], entry)
        entries = list(unique.values())
        if not entries:
            return {}
        names, main = entries[0][3], entries[0][4]
        idx = np.array([e[0] for e in entries], dtype=np.int64)
        gt = np.array([e[1] for e in entries], dtype=np.int64)
        preds = np.array([e[2] for e in entries], dtype=np.int64)
        table = np.asarray(table, dtype=np.int64)
        if table.ndim != 2 or idx.min() < 0 or idx.max() >= table.shape[1]:
            raise ValueError(
                'TextureUnbiasedAccuracy: dataset_meta["texture_clusters"] '
                f'has shape {table.shape}, which does not cover sample_idx '
                f'{int(idx.min())}..{int(idx.max())}; it must hold one list '
                'of cluster ids per clustering, in the order of the '
                'evaluated dataset (ImageNet9 test split).')
        clusterings = table[:, idx]
        num_classes = len(meta.get('classes') or ()) or int(
            max(gt.max(), preds.max()) + 1)
        metrics: Dict[str, Any] = {}
        for name in self.models or names:
            if name not in names:
                raise KeyError(
                    f'TextureUnbiasedAccuracy: model "{name}" is not among '
                    f'the predicted models {list(names)}.')
            values = texture_unbiased_accuracy(
                preds[:, names.index(name)], gt, clusterings, num_classes,
                self.min_population)
            key = '' if name == main else f'{name}/'
            metrics.update({f'{key}{k}': v for k, v in values.items()})
        return metrics
