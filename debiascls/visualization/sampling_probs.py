"""PGD Figure 14: the sampling probability p_s per (class, bias) cell."""
from typing import Dict, Optional, Sequence

import numpy as np

from debiascls.visualization.figure import figure_to_rgb, pyplot


def cell_sampling_stats(prob: np.ndarray, gt_labels: np.ndarray,
                        bias_labels: np.ndarray, num_classes: int,
                        num_bias: int) -> Dict[str, np.ndarray]:
    """Per (class, bias) cell of the training set (rows: classes, columns:
    bias values; samples of unknown bias are left out):

    - ``count``: samples in the cell;
    - ``mean``, ``std``: mean and (population) standard deviation of their
      p_s, NaN for an empty cell. Samples PGD never samples (outside its
      de-noised pool, p_s = 0) count with 0;
    - ``share``: the cell's share (%) of the draws, ``sum_cell p_s /
      sum_all p_s`` (rejection sampling and sampling with replacement both
      draw sample i with probability p_s(i) / sum p_s; NaN for an empty
      cell), next to
      ``uniform_share``, what uniform sampling draws (count / N, %).
    """
    prob = np.asarray(prob, dtype=np.float64)
    gt = np.asarray(gt_labels, dtype=np.int64)
    bias = np.asarray(bias_labels, dtype=np.int64)
    if not prob.shape == gt.shape == bias.shape:
        raise ValueError(f'cell_sampling_stats: {prob.size} probabilities '
                         f'for {gt.size} labels and {bias.size} bias '
                         'labels.')
    shape = (num_classes, num_bias)
    count = np.zeros(shape, dtype=np.int64)
    total = np.zeros(shape)
    squares = np.zeros(shape)
    known = bias >= 0
    np.add.at(count, (gt[known], bias[known]), 1)
    np.add.at(total, (gt[known], bias[known]), prob[known])
    np.add.at(squares, (gt[known], bias[known]), prob[known]**2)
    with np.errstate(invalid='ignore', divide='ignore'):
        mean = np.where(count > 0, total / count, np.nan)
        var = np.where(count > 0, squares / count - mean**2, np.nan)
    mass = prob.sum()
    share = 100 * total / mass if mass > 0 else np.full(shape, np.nan)
    return dict(
        count=count,
        mean=mean,
        std=np.sqrt(np.clip(var, 0, None)),
        share=np.where(count > 0, share, np.nan),
        uniform_share=100 * count / max(len(prob), 1))


def plot_sampling_probs(stats: Dict[str, np.ndarray],
                        class_names: Optional[Sequence[str]] = None,
                        bias_names: Optional[Sequence[str]] = None,
                        title: str = '') -> np.ndarray:
    """Two heat-maps as an RGB image: the mean p_s of each (class, bias)
    cell with its size n, and the cell's share of the draws (%)."""
    plt = pyplot()
    rows, cols = stats['mean'].shape
    size = max(4.0, 0.45 * max(rows, cols) + 2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 2, size), dpi=100)
    panels = (('mean', 'mean p_s', '{:.2g}'),
              ('share', 'share of the draws (%)', '{:.1f}'))
    for ax, (key, label, fmt) in zip(axes, panels):
        values = np.asarray(stats[key], dtype=float)
        image = ax.imshow(np.ma.masked_invalid(values), cmap='Blues')
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)
        ax.set_xticks(range(cols))
        ax.set_yticks(range(rows))
        ax.set_xticklabels(bias_names or range(cols), rotation=90,
                           fontsize=7)
        ax.set_yticklabels(class_names or range(rows), fontsize=7)
        ax.set_xlabel('bias attribute')
        ax.set_ylabel('class')
        ax.set_title(f'{title}: {label}' if title else label, fontsize=9)
        if max(rows, cols) <= 20:
            finite = values[np.isfinite(values)]
            middle = (finite.min() + finite.max()) / 2 if finite.size else 0
            for i in range(rows):
                for j in range(cols):
                    if not np.isfinite(values[i, j]):
                        continue
                    text = fmt.format(values[i, j])
                    if key == 'mean':
                        text += f"\nn={stats['count'][i, j]}"
                    ax.text(j, i, text, ha='center', va='center',
                            fontsize=5, color='white'
                            if values[i, j] > middle else 'black')
    fig.tight_layout()
    return figure_to_rgb(fig)
