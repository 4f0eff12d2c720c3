"""Accuracy broken down by bias group, for every model of an algorithm."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric

from debiascls.registry import METRICS

#: Scalar metrics, in the order they are reported.
METRIC_NAMES = ('acc', 'aligned_acc', 'conflicting_acc', 'unbiased_acc',
                'worst_group_acc', 'balanced_acc', 'aligned_cell_acc',
                'conflicting_cell_acc')


def group_accuracies(pred: np.ndarray, gt: np.ndarray, bias: np.ndarray,
                     num_classes: int, num_bias: int,
                     aligned_bias: Optional[Sequence[int]] = None
                     ) -> Dict[str, Any]:
    """Every accuracy of one model on one split, in percent.

    Let ``n_cb`` be the number of samples of class ``c`` with bias value
    ``b`` and ``a_cb`` the accuracy on them (a *cell*; bias-aligned cells are
    ``b = aligned_bias[c]``). Then

    - ``acc``: correct / all samples (samples of unknown bias included);
    - ``aligned_acc`` / ``conflicting_acc``: sample-weighted accuracy over the
      bias-aligned / bias-conflicting samples (LfF, DisEnt, BiasEnsemble);
    - ``unbiased_acc``: mean of ``a_cb`` over non-empty cells, the accuracy
      on a test set balanced over (class, bias) (ReBias's "unbiased");
    - ``worst_group_acc``: min of ``a_cb`` over non-empty cells (GroupDRO);
    - ``balanced_acc``: mean over classes of the per-class accuracy
      (class-balanced; Waterbirds' model selection);
    - ``aligned_cell_acc`` / ``conflicting_cell_acc``: mean of ``a_cb`` over
      the non-empty aligned / conflicting cells;
    - ``cell_acc`` / ``cell_count``: the ``num_classes x num_bias`` matrices
      of ``a_cb`` (None where empty) and ``n_cb``.

    A metric whose group is empty is omitted rather than reported as 0; bias
    metrics need at least one sample of known bias (``bias >= 0``).
    """
    pred, gt, bias = (np.asarray(a, dtype=np.int64) for a in (pred, gt, bias))
    correct = pred == gt
    out: Dict[str, Any] = {}
    if len(gt) == 0:
        return out
    out["acc"] = 100.0 * float(correct.mean())
    class_accs = [correct[gt == c].mean() for c in np.unique(gt)]
    out['balanced_acc'] = 100.0 * float(np.mean(class_accs))

    known = bias >= 0
    if not known.any():
        return out
    table = np.arange(num_classes) if aligned_bias is None else np.asarray(
        aligned_bias)
    aligned = known & (bias == table[gt])
    conflicting = known & ~aligned
    if aligned.any():
        out["aligned_acc"] = 100.0 * float(correct[aligned].mean())
    if conflicting.any():
        out["conflicting_acc"] = 100.0 * float(correct[conflicting].mean())

    cell = gt[known] * num_bias + bias[known]
    counts = np.bincount(cell, minlength=num_classes * num_bias)
    hits = np.bincount(
        cell, weights=correct[known], minlength=num_classes * num_bias)
    counts = counts.reshape(num_classes, num_bias)
    hits = hits.reshape(num_classes, num_bias)
    filled = counts > 0
    accs = np.where(filled, 100.0 * hits / np.maximum(counts, 1), np.nan)
    out['unbiased_acc'] = float(np.nanmean(accs))
    out['worst_group_acc'] = float(np.nanmin(accs))
    cell_aligned = np.zeros_like(filled)
    cell_aligned[np.arange(num_classes), table[:num_classes]] = True
    if (filled & cell_aligned).any():
        out['aligned_cell_acc'] = float(accs[filled & cell_aligned].mean())
    if (filled & ~cell_aligned).any():
        out['conflicting_cell_acc'] = float(accs[filled
                                                 & ~cell_aligned].mean())
    out['cell_acc'] = [[None if np.isnan(v) else float(v) for v in row]
                       for row in accs]
    out['cell_count'] = counts.astype(int).tolist()
    return out


@METRICS.register_module()
class DebiasAccuracy(BaseMetric):
    """Overall, bias-aligned, bias-conflicting, unbiased, worst-group and
    class-balanced accuracy, and the per-(class, bias) accuracy matrix, of
    every model an algorithm predicts with (see :func:`group_accuracies`).

    The main model's metrics are unprefixed (``conflicting_acc``); other
    models' are ``<model>/<metric>`` (``biased/conflicting_acc``). Results
    from all ranks are gathered (mmengine's ``collect_results``) and
    de-duplicated by ``sample_idx``, so padding added by a distributed
    sampler is never counted twice and the metrics cover the whole split.

    Args:
        models: Models to report (default: every model in the predictions).
        collect_device: 'cpu' or 'gpu', as in mmengine.
        prefix: Optional prefix of every key, as in mmengine.
    """

    # No prefix: the loops prefix keys with the split (valid/acc).
    default_prefix: Optional[str] = ''

    def __init__(self,
                 models: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.models = None if models is None else tuple(models)
        self._main_model: Optional[str] = None
        self._model_names: Optional[Tuple[str, ...]] = None

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep ``(sample_idx, gt, bias, predictions)`` of each sample (not
        the scores, to keep what is gathered across ranks small)."""
        for sample in data_samples:
            for key in ('sample_idx', 'gt_label', 'pred_label'):
                if key not in sample:
                    raise KeyError(
                        f'DebiasAccuracy: a prediction has no "{key}"; '
                        'evaluate a debiascls algorithm (its predict() '
                        'returns sample_idx, gt_label, bias_label and '
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
                 int(sample.get('bias_label', -1)),
                 tuple(int(preds[m]) for m in self._model_names),
                 self._model_names, self._main_model))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, Any]:
        unique: Dict[int, tuple] = OrderedDict()
        for entry in results:
            unique.setdefault(entry[0], entry)
        entries = list(unique.values())
        if not entries:
            return {}
        names, main = entries[0][4], entries[0][5]
        gt = np.array([e[1] for e in entries], dtype=np.int64)
        bias = np.array([e[2] for e in entries], dtype=np.int64)
        preds = np.array([e[3] for e in entries], dtype=np.int64)
        meta = self.dataset_meta or {}
        num_classes = len(meta.get('classes') or ()) or int(
            max(gt.max(), preds.max()) + 1)
        num_bias = len(meta.get('bias_classes') or ()) or int(
            max(bias.max() + 1, num_classes))
        wanted = self.models or names
        metrics: Dict[str, Any] = {}
        for name in wanted:
            if name not in names:
                raise KeyError(f'DebiasAccuracy: model "{name}" is not among '
                               f'the predicted models {list(names)}.')
            values = group_accuracies(preds[:, names.index(name)], gt, bias,
                                      num_classes, num_bias,
                                      meta.get('aligned_bias'))
            key = '' if name == main else f'{name}/'
            metrics.update({f'{key}{k}': v for k, v in values.items()})
        return metrics
