"""CosFairNet Figure 3: t-SNE of the penultimate features of every model of
an algorithm, coloured by class and by bias attribute."""
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from debiascls.visualization.figure import figure_to_rgb, pyplot


def subset_indices(num_samples: int, max_samples: Optional[int],
                   seed: int = 0) -> np.ndarray:
    """All indices, or ``max_samples`` of them drawn without replacement by
    a generator seeded with ``seed`` (sorted), so the same samples are
    embedded on every call."""
    if max_samples is None or num_samples <= max_samples:
        return np.arange(num_samples)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(num_samples, size=max_samples, replace=False))


def penultimate(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The penultimate features of a classifier: the input of its last
    linear layer ``head.fc`` (the pooled feature map for a GAP + linear
    head, the last hidden layer of an MLP head), captured by a forward
    pre-hook during an ordinary forward pass. Multi-view video inputs
    (B, V, C, T, H, W) give the mean over the views."""
    fc = getattr(getattr(model, 'head', None), 'fc', None)
    if not isinstance(fc, nn.Linear):
        raise TypeError(
            f'{type(model).__name__} has no linear classifier head.fc whose '
            'input is the penultimate feature (GAPLinearHead and GAPMLPHead '
            'have one).')
    captured = []
    handle = fc.register_forward_pre_hook(
        lambda module, args: captured.append(args[0].detach()))
    try:
        model(inputs)
    finally:
        handle.remove()
    feats = captured[-1]
    if inputs.dim() == 6:  # views flattened into the batch by the model
        feats = feats.view(inputs.shape[0], inputs.shape[1], -1).mean(1)
    return feats


@torch.no_grad()
def penultimate_features(algorithm, batches: Iterable[dict]
                         ) -> Tuple[Dict[str, np.ndarray],
                                    Dict[str, np.ndarray]]:
    """:func:`penultimate` features of every model of an algorithm (in eval
    mode) over collated batches, and the samples' ``sample_idx``,
    ``gt_label`` and ``bias_label``."""
    was_training = algorithm.training
    algorithm.eval()
    feats: Dict[str, list] = {name: [] for name in algorithm.models}
    labels: Dict[str, list] = dict(sample_idx=[], gt_label=[], bias_label=[])
    try:
        for batch in batches:
            data = algorithm.data_preprocessor(batch, False)
            for name, model in algorithm.models.items():
                feats[name].append(
                    penultimate(model, data['inputs']).float().cpu())
            for key in labels:
                labels[key].append(data['data_samples'][key].cpu())
    finally:
        algorithm.train(was_training)
    return ({k: torch.cat(v).numpy() for k, v in feats.items()},
            {k: torch.cat(v).numpy() for k, v in labels.items()})


def tsne_embedding(features: np.ndarray, seed: int = 0,
                   perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE (scikit-learn, PCA initialisation, ``random_state=seed``)
    of (N, C) features; the perplexity is lowered to (N - 1) / 3 for small
    N (t-SNE needs perplexity < N).

    scikit-learn's OpenMP runs on one thread here: after torch has run,
    torch's OpenMP threads keep spinning and a multi-threaded t-SNE of 200
    points took 25 s instead of 1 s on two cores.
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits
    n = len(features)
    if n < 4:
        raise ValueError(f't-SNE needs at least 4 samples, got {n}.')
    perplexity = min(perplexity, (n - 1) / 3)
    tsne = TSNE(n_components=2, perplexity=perplexity, init='pca',
                learning_rate='auto', random_state=seed)
    with threadpool_limits(limits=1, user_api='openmp'):
        return tsne.fit_transform(np.asarray(features, dtype=np.float64))


def _scatter(ax, points: np.ndarray, groups: np.ndarray,
             names: Optional[Sequence[str]], title: str, plt) -> None:
    values = sorted(np.unique(groups).tolist())
    cmap = plt.get_cmap('tab10' if len(values) <= 10 else 'tab20')
    for k, value in enumerate(values):
        mask = groups == value
        color = cmap(k % cmap.N) if len(values) <= 20 else plt.get_cmap(
            'viridis')(k / max(len(values) - 1, 1))
        name = (names[value] if names is not None
                and 0 <= value < len(names) else str(value))
        ax.scatter(points[mask, 0], points[mask, 1], s=6, color=color,
                   label=str(name), linewidths=0)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if len(values) <= 20:
        ax.legend(fontsize=6, markerscale=2, loc='center left',
                  bbox_to_anchor=(1.0, 0.5), frameon=False)


def plot_tsne(embeddings: Dict[str, np.ndarray], gt_labels: np.ndarray,
              bias_labels: np.ndarray,
              class_names: Optional[Sequence[str]] = None,
              bias_names: Optional[Sequence[str]] = None,
              title: str = '') -> np.ndarray:
    """One row per model: its embedding coloured by class (left) and by
    bias attribute (right), as an RGB image."""
    plt = pyplot()
    rows = len(embeddings)
    fig, axes = plt.subplots(rows, 2, figsize=(10, 4.2 * rows), dpi=100,
                             squeeze=False)
    for row, (name, points) in enumerate(embeddings.items()):
        head = f'{title}: {name}' if title else name
        _scatter(axes[row, 0], points, np.asarray(gt_labels), class_names,
                 f'{head}, by class', plt)
        _scatter(axes[row, 1], points, np.asarray(bias_labels), bias_names,
                 f'{head}, by bias attribute', plt)
    fig.tight_layout()
    return figure_to_rgb(fig)
