import numpy as np
import pytest

from debiascls.datasets.color_bias import (LFF_COLORS, assign_bias,
                                           assign_uniform_bias,
                                           balanced_choice,
                                           colorize_foreground,
                                           num_conflicting)


@pytest.mark.parametrize('n,ratio,expected', [
    (100, 0.01, 1),
    (49, 0.01, 0),  # 0.49 rounds down
    (50, 0.01, 1),  # 0.5 rounds up
    (150, 0.01, 2),  # 1.5 rounds up (not to even)
    (250, 0.01, 3),  # 2.5 rounds up (not to even)
    (1000, 0.005, 5),
    (1200, 0.005, 6),
    (0, 0.05, 0),
    (10, 0.9, 9),
    (50, 0.29, 15),  # 0.29 * 50 == 14.499999999999998 in floating point
    (50, 0.07, 4),  # 3.5000000000000004
    (7, 0.0, 0),
    (7, 1.0, 7),
])
def test_num_conflicting_rounds_halves_up(n, ratio, expected):
    assert num_conflicting(n, ratio) == expected


def test_balanced_choice_counts_differ_by_at_most_one():
    rng = np.random.default_rng(0)
    draws = balanced_choice(23, [2, 5, 7, 9], rng)
    counts = np.array([(draws == v).sum() for v in (2, 5, 7, 9)])
    assert len(draws) == 23 and set(draws.tolist()) <= {2, 5, 7, 9}
    assert sorted(counts.tolist()) == [5, 6, 6, 6]
    assert len(balanced_choice(0, [1, 2], rng)) == 0
    draws = balanced_choice(3, [4, 8, 6], rng)
    assert sorted(draws.tolist()) == [4, 6, 8]


@pytest.mark.parametrize('ratio', [0.05, 0.09, 0.013])
def test_assign_bias_exact_conflicting_per_class(ratio):
    # classes of different sizes: 100, 107, 114, ..., 163
    sizes = [100 + 7 * c for c in range(10)]
    rng = np.random.default_rng(1)
    labels = rng.permutation(np.repeat(np.arange(10), sizes))
    bias = assign_bias(labels, ratio, 10, np.random.default_rng(2))
    assert bias.shape == labels.shape
    for c, n_c in enumerate(sizes):
        b = bias[labels == c]
        conflicting = b[b != c]
        assert len(conflicting) == int(np.floor(ratio * n_c + 0.5))
        assert c not in conflicting
        # balanced over the 9 other colours
        counts = np.bincount(conflicting, minlength=10)
        others = np.delete(counts, c)
        assert others.max() - others.min() <= 1
        assert others.sum() == len(conflicting)


def test_assign_bias_hand_counts_and_seed():
    labels = np.repeat(np.arange(10), 100)
    bias = assign_bias(labels, 0.09, 10, np.random.default_rng(0))
    # 9 conflicting per class: exactly one of each other colour
    for c in range(10):
        counts = np.bincount(bias[labels == c], minlength=10)
        assert counts[c] == 91
        assert np.delete(counts, c).tolist() == [1] * 9
    again = assign_bias(labels, 0.09, 10, np.random.default_rng(0))
    other = assign_bias(labels, 0.09, 10, np.random.default_rng(1))
    np.testing.assert_array_equal(bias, again)
    assert not np.array_equal(bias, other)
    # the labels are not modified
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 100))


def test_assign_bias_zero_ratio_is_all_aligned():
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    bias = assign_bias(labels, 0.0, 10, np.random.default_rng(0))
    np.testing.assert_array_equal(bias, labels)


def test_assign_uniform_bias_balanced_per_class():
    labels = np.random.default_rng(0).permutation(
        np.repeat(np.arange(10), [23, 10, 5, 30, 11, 19, 20, 9, 41, 1]))
    bias = assign_uniform_bias(labels, 10, np.random.default_rng(3))
    for c in range(10):
        n_c = int((labels == c).sum())
        counts = np.bincount(bias[labels == c], minlength=10)
        assert counts.sum() == n_c
        assert counts.max() - counts.min() <= 1
        assert counts.max() == -(-n_c // 10)
    # 23 samples over 10 colours: 3 colours 3 times, 7 colours twice
    counts = np.bincount(bias[labels == 0], minlength=10)
    assert sorted(counts.tolist()) == [2] * 7 + [3] * 3


def test_colorize_foreground_exact_values_without_jitter():
    digits = np.array([[[0, 255], [100, 40]], [[10, 0], [0, 200]]],
                      dtype=np.uint8)
    out = colorize_foreground(digits, np.array([3, 6]), 0.0,
                              np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.shape == (2, 2, 2, 3)
    # colour 3 = (0.7833, 0.8316, 0.6013), colour 6 = (0.0246, 0.2357,
    # 0.7587), times the intensity, rounded: computed by hand.
    expected = np.array([
        [[[0, 0, 0], [200, 212, 153]], [[78, 83, 60], [31, 33, 24]]],
        [[[0, 2, 8], [0, 0, 0]], [[0, 0, 0], [5, 47, 152]]],
    ], dtype=np.uint8)
    np.testing.assert_array_equal(out, expected)


def test_colorize_foreground_jitter_is_per_sample_and_clipped():
    digits = np.full((50, 3, 3), 255, np.uint8)
    bias = np.full(50, 1)
    out = colorize_foreground(digits, bias, 0.05, np.random.default_rng(0))
    # one colour per sample: every pixel of a sample is the same
    assert (out == out[:, :1, :1]).all()
    colors = out[:, 0, 0].astype(float) / 255
    assert len(np.unique(colors, axis=0)) > 40
    # jitter around colour 1 (0.9905, 0.9156, 0.3515), clipped at 1
    assert np.abs(colors.mean(0) - LFF_COLORS[1]).max() < 0.03
    assert (out[:, 0, 0, 0] == 255).any()
    big = colorize_foreground(digits, bias, 5.0, np.random.default_rng(0))
    # N(0, 25) noise: most channels are clipped to 0 or 1
    assert np.isin(big, [0, 255]).mean() > 0.8
