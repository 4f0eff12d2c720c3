"""ReBias Figure 4: HSIC(f, g) and the unbiased accuracy over training."""
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np

from debiascls.utils import ConfigError
from debiascls.visualization.figure import figure_to_rgb, pyplot

#: Prefix of ReBias's logged HSIC scalars (``hsic/<g>``).
HSIC_PREFIX = 'hsic/'


def hsic_series(scalars: Mapping[int, Mapping[str, float]]
                ) -> Dict[str, List[Tuple[int, float]]]:
    """``{g: [(step, HSIC(f, g)), ...]}`` from the logged scalars (as
    :func:`~debiascls.apis.run_files.read_scalars` returns them):
    every key ``hsic/<g>``, as the logger wrote it (its value is the mean
    over the logger's window of steps)."""
    series: Dict[str, List[Tuple[int, float]]] = {}
    for step in sorted(scalars):
        for key, value in scalars[step].items():
            if key.startswith(HSIC_PREFIX) and isinstance(value, (int, float)):
                series.setdefault(key[len(HSIC_PREFIX):], []).append(
                    (int(step), float(value)))
    if not series:
        keys = sorted(set().union(*[set(r) for r in scalars.values()]))
        raise ConfigError(
            'The logged scalars have no hsic/<g> key (logged by ReBias '
            f'every step); keys found: {keys[:15]}. Pass the work dir of a '
            'ReBias run.')
    return series


def plot_hsic(hsic: Mapping[str, Sequence[Tuple[int, float]]],
              accuracy: Sequence[Tuple[int, float]], accuracy_label: str,
              title: str = '') -> np.ndarray:
    """HSIC(f, g) of each g (left axis) and an accuracy (right axis, %)
    against the iteration, as an RGB image."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=100)
    colors = plt.get_cmap('tab10')
    for i, (name, points) in enumerate(sorted(hsic.items())):
        steps, values = zip(*points)
        ax.plot(steps, values, color=colors(i % 10), linewidth=1,
                label=f'HSIC(f, {name})')
    ax.set_xlabel('iteration')
    ax.set_ylabel('HSIC')
    right = ax.twinx()
    if accuracy:
        iters, acc = zip(*accuracy)
        right.plot(iters, acc, color='black', marker='o', markersize=3,
                   linewidth=1.5, label=accuracy_label)
    right.set_ylabel(f'{accuracy_label} (%)')
    handles = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8,
              loc='best')
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return figure_to_rgb(fig)
