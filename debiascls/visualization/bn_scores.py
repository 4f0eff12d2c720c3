"""IE Figure 2: the BN scores s_t(x) (Eq. 2) of the bias-aligned and the
bias-conflicting samples of D_cand^BN over training, read from the
per-sample tables of a run's checkpoints."""
import glob
import os.path as osp
import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from debiascls.visualization.figure import figure_to_rgb, pyplot

#: The groups of IE Figure 2 (red: BA, blue: BC).
GROUPS = ('aligned', 'conflicting')


def checkpoint_iters(work_dir: str) -> List[Tuple[int, str]]:
    """``(iteration, path)`` of the ``iter_<N>.pth`` checkpoints of a work
    dir, by iteration."""
    found = []
    for path in glob.glob(osp.join(work_dir, 'iter_*.pth')):
        match = re.fullmatch(r'iter_(\d+)\.pth', osp.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def bn_score_tables(state_dict: Mapping) -> Optional[Dict[str, np.ndarray]]:
    """IE's per-sample tables of a checkpoint's ``state_dict``: ``score``
    (s_t, 0 for samples without a reference, as IE Fig. 2 reports the
    scores before T1), ``candidate`` (D_cand^BN) and ``gt_label``; None when
    the checkpoint holds no BN scores (not an IE run)."""
    keys = dict(score='per_sample.bn_score',
                candidate='per_sample.bn_candidate',
                gt_label='per_sample.gt_label')
    if any(key not in state_dict for key in keys.values()):
        return None
    return {
        name: state_dict[key].detach().cpu().numpy()
        for name, key in keys.items()
    }


def group_stats(values: np.ndarray, mask: np.ndarray) -> Dict[str, float]:
    """Mean, standard deviation (population), quartiles and count of
    ``values[mask]`` (NaN statistics for an empty group)."""
    picked = np.asarray(values, dtype=np.float64)[np.asarray(mask, bool)]
    if picked.size == 0:
        nan = float('nan')
        return dict(n=0, mean=nan, std=nan, q25=nan, median=nan, q75=nan)
    q25, median, q75 = np.percentile(picked, [25, 50, 75])
    return dict(n=int(picked.size), mean=float(picked.mean()),
                std=float(picked.std()), q25=float(q25),
                median=float(median), q75=float(q75))


def bn_score_curve(tables: Sequence[Tuple[int, Mapping[str, np.ndarray]]],
                   conflicting: np.ndarray, known: np.ndarray,
                   population: str = 'candidate') -> List[Dict]:
    """Per checkpoint, :func:`group_stats` of the BN scores of the
    bias-aligned and the bias-conflicting samples.

    Args:
        tables: ``(iteration, bn_score_tables(...))`` by iteration.
        conflicting, known: (N,) masks from the true bias labels (analysis
            only; training never reads them).
        population: 'candidate' (the samples of D_cand^BN, as IE Fig. 2)
            or 'all' (every training sample).

    Returns:
        One ``{'iter', 'aligned': stats, 'conflicting': stats}`` per
        checkpoint.
    """
    if population not in ('candidate', 'all'):
        raise ValueError(f'population must be "candidate" or "all", got '
                         f'"{population}".')
    conflicting = np.asarray(conflicting, bool)
    known = np.asarray(known, bool)
    aligned = known & ~conflicting
    rows = []
    for iteration, table in tables:
        score = np.asarray(table['score'])
        if score.shape != conflicting.shape:
            raise ValueError(
                f'the checkpoint of iteration {iteration} has BN scores for '
                f'{score.size} samples, the training set has '
                f'{conflicting.size} samples: pass the config (and '
                '--cfg-options) of the run.')
        members = (np.asarray(table['candidate'], bool)
                   if population == 'candidate' else np.ones_like(known))
        rows.append(dict(
            iter=int(iteration),
            aligned=group_stats(score, members & aligned),
            conflicting=group_stats(score, members & conflicting & known)))
    return rows


def plot_bn_scores(curve: Sequence[Dict], title: str = '') -> np.ndarray:
    """IE Figure 2 as an RGB image: the mean BN score of each group over the
    iterations (red: bias-aligned, blue: bias-conflicting), shaded +- one
    standard deviation."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    iters = np.array([row['iter'] for row in curve])
    for group, color in zip(GROUPS, ('tab:red', 'tab:blue')):
        mean = np.array([row[group]['mean'] for row in curve], float)
        std = np.array([row[group]['std'] for row in curve], float)
        counts = sorted({row[group]['n'] for row in curve})
        n = counts[0] if len(counts) == 1 else f'{counts[0]}-{counts[-1]}'
        ax.plot(iters, mean, marker='o', markersize=3, color=color,
                label=f'bias-{group} (n={n})')
        ax.fill_between(iters, mean - std, mean + std, color=color,
                        alpha=0.2, linewidth=0)
    ax.axhline(0, color='grey', linewidth=0.5)
    ax.set_xlabel('iteration')
    ax.set_ylabel('BN score s_t(x), mean +- std')
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return figure_to_rgb(fig)
