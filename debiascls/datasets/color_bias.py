"""Colour bias of Colored MNIST (LfF protocol): the 10 mean colours, the
foreground colouring, and the assignment of colours to samples."""
from typing import Dict, Sequence

import numpy as np

#: LfF's mean colours (``data/resource/colors.th``), RGB in [0, 1]; colour
#: ``b`` is the one aligned with class ``b``.
LFF_COLORS = np.array([
    [0.9837, 0.3125, 0.1686],
    [0.9905, 0.9156, 0.3515],
    [0.6730, 0.4611, 0.5798],
    [0.7833, 0.8316, 0.6013],
    [0.0880, 0.7780, 0.9818],
    [0.3214, 0.9611, 0.4464],
    [0.0246, 0.2357, 0.7587],
    [0.5552, 0.1016, 0.7618],
    [0.2077, 0.3929, 0.0187],
    [0.8337, 0.2024, 0.2669],
], dtype=np.float64)

#: Descriptive names of :data:`LFF_COLORS` (``metainfo['bias_classes']``).
LFF_COLOR_NAMES = ('red-orange', 'yellow', 'mauve', 'sage', 'sky-blue',
                   'green', 'blue', 'purple', 'olive', 'crimson')

#: LfF's colour std per severity 1..5; the published configs use 4 (0.005).
LFF_COLOR_STD = {1: 0.05, 2: 0.02, 3: 0.01, 4: 0.005, 5: 0.002}

#: Conflicting ratio of each DisEnt/BiasEnsemble severity folder.
SEVERITY_RATIOS: Dict[str, float] = {
    '0.5pct': 0.005,
    '1pct': 0.01,
    '2pct': 0.02,
    '5pct': 0.05,
}

#: Bias-conflicting training images of the DisEnt/BiasEnsemble Colored
#: MNIST release, per severity folder, out of :data:`RELEASE_TRAIN_SIZE`
#: (CosFairNet supplementary; 0.9 x the nominal ratio, as if a sample were
#: recoloured with probability ``ratio`` by one of all 10 colours).
RELEASE_CONFLICTING: Dict[str, int] = {
    '0.5pct': 249,
    '1pct': 491,
    '2pct': 986,
    '5pct': 2449,
}
#: Training images of every severity folder of that release.
RELEASE_TRAIN_SIZE = 55000


def colorize_foreground(digits: np.ndarray, bias: np.ndarray,
                        color_std: float, rng: np.random.Generator,
                        colors: np.ndarray = LFF_COLORS,
                        rounding: str = 'nearest') -> np.ndarray:
    """Colour the strokes of grayscale digits (LfF protocol).

    Each sample draws one 3-vector ``clip(colors[b] + N(0, std^2), 0, 1)``
    and multiplies it by the digit intensity; the background stays black.

    Args:
        digits: (N, H, W) uint8 intensities.
        bias: (N,) colour index of each sample.
        color_std: Std of the per-sample colour jitter.
        rng: Source of the jitter.
        colors: (K, 3) mean colours in [0, 1].
        rounding: ``'nearest'``, or ``'floor'`` as LfF's ``make_dataset.py``
            (``np.uint8`` of the float image truncates).

    Returns:
        (N, H, W, 3) uint8 RGB images.
    """
    if rounding not in ('nearest', 'floor'):
        raise ValueError(f'colorize_foreground: rounding="{rounding}" is '
                         "not 'nearest' or 'floor'.")
    bias = np.asarray(bias)
    jitter = rng.normal(0.0, color_std, size=(len(bias), 3))
    rgb = np.clip(colors[bias] + jitter, 0.0, 1.0)
    out = digits[..., None].astype(np.float32) * rgb[:, None, None, :].astype(
        np.float32)
    out = np.rint(out) if rounding == 'nearest' else np.floor(out)
    return np.clip(out, 0, 255).astype(np.uint8)


def balanced_choice(n: int, values: Sequence[int],
                    rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from ``values`` whose counts differ by at most one (which
    values get the extra draw, and the order, are random)."""
    values = np.asarray(values)
    reps = -(-n // len(values)) if n else 0
    pool = np.concatenate([rng.permutation(values) for _ in range(reps)]
                          ) if reps else values[:0]
    return rng.permutation(pool[:n])


def num_conflicting(n: int, conflict_ratio: float) -> int:
    """``round(ratio * n)`` with halves rounded up: the number of conflicting
    samples of a class of ``n``."""
    return int(np.floor(conflict_ratio * n + 0.5 + 1e-9))


def assign_bias(labels: np.ndarray, conflict_ratio: float, num_bias: int,
                rng: np.random.Generator) -> np.ndarray:
    """Bias labels with exactly :func:`num_conflicting` ``(n_c, ratio)``
    conflicting samples per class ``c`` (chosen at random); a conflicting sample's bias is balanced
    over the ``num_bias - 1`` other values, an aligned one equals the class.
    """
    labels = np.asarray(labels)
    bias = labels.copy()
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        n_conflict = num_conflicting(len(members), conflict_ratio)
        chosen = rng.choice(members, size=n_conflict, replace=False)
        others = [b for b in range(num_bias) if b != c]
        bias[np.sort(chosen)] = balanced_choice(n_conflict, others, rng)
    return bias


def allocate(total: int, sizes: Sequence[int]) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``sizes`` that sum
    to ``total`` exactly (largest remainder; ties to the earlier part)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if total < 0 or total > sizes.sum():
        raise ValueError(f'allocate: total={total} must lie in [0, '
                         f'{int(sizes.sum())}].')
    if sizes.sum() == 0:
        return np.zeros_like(sizes)
    exact = total * sizes / sizes.sum()
    parts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - parts), kind='stable')
    parts[order[:total - int(parts.sum())]] += 1
    return parts


def assign_bias_total(labels: np.ndarray, total: int, num_bias: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Bias labels with exactly ``total`` conflicting samples, allotted to
    the classes in proportion to their sizes (:func:`allocate`) and chosen
    at random within each class; a conflicting sample's bias is balanced
    over the ``num_bias - 1`` other values, an aligned one equals the class.
    """
    labels = np.asarray(labels)
    bias = labels.copy()
    classes = np.unique(labels)
    members = [np.flatnonzero(labels == c) for c in classes]
    counts = allocate(int(total), [len(m) for m in members])
    for c, idx, n_conflict in zip(classes.tolist(), members, counts.tolist()):
        chosen = rng.choice(idx, size=n_conflict, replace=False)
        others = [b for b in range(num_bias) if b != c]
        bias[np.sort(chosen)] = balanced_choice(n_conflict, others, rng)
    return bias


def release_conflicting(severity: str, num_samples: int) -> int:
    """Conflicting samples of a DisEnt/BiasEnsemble-release-like split of
    ``num_samples`` images: the release's count scaled by the split size
    (exactly :data:`RELEASE_CONFLICTING` for 55,000 images)."""
    share = RELEASE_CONFLICTING[severity] / RELEASE_TRAIN_SIZE
    return int(np.floor(share * num_samples + 0.5))


def lff_bias_labels(targets: np.ndarray, aligned_ratio: float,
                    num_bias: int = 10) -> np.ndarray:
    """LfF's ``make_attr_labels``: deterministic, order-based bias labels.

    For class ``c`` with ``n`` samples, the milestones are
    ``round(n * cumsum(ratios))`` (numpy's round-half-to-even) with ratio
    ``aligned_ratio`` for column ``c`` and ``(1 - aligned_ratio) /
    (num_bias - 1)`` for the others; the k-th sample of the class (in the
    given order) gets the first column whose milestone exceeds k.
    """
    targets = np.asarray(targets, dtype=np.int64)
    eye = np.eye(num_bias)
    ratios = aligned_ratio * eye + (1 - aligned_ratio) / (num_bias - 1) * (
        1 - eye)
    bias = np.empty_like(targets)
    for c in np.unique(targets):
        members = np.flatnonzero(targets == c)
        milestones = np.round(len(members) * np.cumsum(ratios[c]))
        ranks = np.searchsorted(milestones, np.arange(len(members)),
                                side='right')
        bias[members] = np.minimum(ranks, num_bias - 1)
    return bias


def assign_uniform_bias(labels: np.ndarray, num_bias: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Bias labels balanced over all ``num_bias`` values within each class
    (every (class, bias) cell about equally populated)."""
    labels = np.asarray(labels)
    bias = np.empty_like(labels)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        bias[members] = balanced_choice(len(members), range(num_bias), rng)
    return bias
