"""Drawing the per-(class, bias) accuracy matrix (ReBias Fig. 3, PGD
Fig. 13)."""
from typing import Optional, Sequence

import numpy as np


def draw_accuracy_matrix(cell_acc: Sequence[Sequence[Optional[float]]],
                         cell_count: Optional[Sequence[Sequence[int]]] = None,
                         class_names: Optional[Sequence[str]] = None,
                         bias_names: Optional[Sequence[str]] = None,
                         title: str = '') -> np.ndarray:
    """Render a (num_classes x num_bias) accuracy matrix (percent, ``None``
    for empty cells) as an RGB uint8 heat-map with the value of every cell
    written in it; rows are classes, columns bias values."""
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt

    acc = np.array([[np.nan if v is None else v for v in row]
                    for row in cell_acc], dtype=float)
    rows, cols = acc.shape
    size = max(4.0, 0.45 * max(rows, cols) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=100)
    image = ax.imshow(
        np.ma.masked_invalid(acc), vmin=0, vmax=100, cmap='viridis')
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label='accuracy (%)')
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xticklabels(bias_names or range(cols), rotation=90, fontsize=7)
    ax.set_yticklabels(class_names or range(rows), fontsize=7)
    ax.set_xlabel('bias attribute')
    ax.set_ylabel('class')
    ax.set_title(title, fontsize=9)
    if max(rows, cols) <= 20:
        for i in range(rows):
            for j in range(cols):
                if np.isnan(acc[i, j]):
                    continue
                text = f'{acc[i, j]:.0f}'
                if cell_count is not None:
                    text += f'\nn={cell_count[i][j]}'
                ax.text(j, i, text, ha='center', va='center', fontsize=5,
                        color='white' if acc[i, j] < 60 else 'black')
    fig.tight_layout()
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    plt.close(fig)
    return np.ascontiguousarray(rgba[..., :3])
