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


def colorize_foreground(digits: np.ndarray, bias: np.ndarray,
                        color_std: float, rng: np.random.Generator,
                        colors: np.ndarray = LFF_COLORS) -> np.ndarray:
    """Colour the strokes of grayscale digits (LfF protocol).

    Each sample draws one 3-vector ``clip(colors[b] + N(0, std^2), 0, 1)``
    and multiplies it by the digit intensity; the background stays black.

    Args:
        digits: (N, H, W) uint8 intensities.
        bias: (N,) colour index of each sample.
        color_std: Std of the per-sample colour jitter.
        rng: Source of the jitter.
        colors: (K, 3) mean colours in [0, 1].

    Returns:
        (N, H, W, 3) uint8 RGB images.
    """
    bias = np.asarray(bias)
    jitter = rng.normal(0.0, color_std, size=(len(bias), 3))
    rgb = np.clip(colors[bias] + jitter, 0.0, 1.0)
    out = digits[..., None].astype(np.float32) * rgb[:, None, None, :].astype(
        np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


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
