"""How well the sets a method builds without bias labels (BiasEnsemble's
D^A, IE's D_cand^BN and D^BN) separate bias-aligned from bias-conflicting
training samples, measured afterwards with the true bias labels (IE
Table 2)."""
from typing import Dict, Mapping

import numpy as np
import torch

#: The sets read from an algorithm's per-sample tables.
SET_NAMES = ('D^A', 'D_cand^BN', 'D^BN')


def sets_from_state(state: Mapping[str, torch.Tensor]) -> Dict[str, np.ndarray]:
    """Boolean (N,) masks of the sets an algorithm's per-sample tables hold
    (keys ``per_sample.<table>`` of a checkpoint's ``state_dict``, or the
    tables themselves): D^A (``amplified``), D_cand^BN (``bn_candidate``)
    and D^BN = D_cand^BN with a positive BN score (IE Eq. 3)."""
    def table(name):
        for key in (f'per_sample.{name}', name):
            if key in state:
                return state[key].cpu().numpy()
        return None

    out: Dict[str, np.ndarray] = {}
    amplified, candidate = table('amplified'), table('bn_candidate')
    if amplified is not None:
        out['D^A'] = amplified.astype(bool)
    if candidate is not None:
        out['D_cand^BN'] = candidate.astype(bool)
        score = table('bn_score')
        if score is not None:
            out['D^BN'] = candidate.astype(bool) & (score > 0)
    return out


def detection_stats(member: np.ndarray,
                    conflicting: np.ndarray,
                    known: np.ndarray) -> Dict[str, float]:
    """Counts and rates of one set over the samples of known bias.

    - ``size``, ``aligned``, ``conflicting``: members, and how many of them
      are bias-aligned / bias-conflicting;
    - ``conflicting_fraction``: conflicting / size (precision for BC),
    - ``conflicting_recall``: members among all conflicting samples (%),
    - ``aligned_recall``: members among all aligned samples (%).
    """
    member = member & known
    aligned = known & ~conflicting
    size = int(member.sum())
    n_bc = int((member & conflicting).sum())
    n_ba = int((member & aligned).sum())

    def pct(a, b):
        return 100.0 * a / b if b else float('nan')

    return dict(
        size=size,
        aligned=n_ba,
        conflicting=n_bc,
        conflicting_fraction=pct(n_bc, size),
        conflicting_recall=pct(n_bc, int(conflicting.sum())),
        aligned_recall=pct(n_ba, int(aligned.sum())))


def ie_table2(candidate: np.ndarray, bn: np.ndarray,
              conflicting: np.ndarray,
              known: np.ndarray) -> Dict[str, float]:
    """IE Table 2: samples excluded from D_cand^BN by the BN score
    (``excluded_aligned``, ``excluded_conflicting`` = |D_cand^BN - D^BN| by
    group) and the share of each group of D kept in D^BN
    (``bn_aligned_pct``, ``bn_conflicting_pct`` = |D^BN ∩ G| / |G| in %)."""
    stats = detection_stats(bn, conflicting, known)
    excluded = candidate & ~bn & known
    return dict(
        excluded_aligned=int((excluded & ~conflicting).sum()),
        excluded_conflicting=int((excluded & conflicting).sum()),
        bn_aligned_pct=stats['aligned_recall'],
        bn_conflicting_pct=stats['conflicting_recall'])


def denoising_stats(clean: np.ndarray, noisy: np.ndarray,
                    conflicting: np.ndarray) -> Dict[str, Dict[str, int]]:
    """What a de-noising step kept (PGD Table 16): for the clean-label
    bias-aligned samples, the clean-label bias-conflicting (minority)
    samples and the noisy-label samples, how many there are and how many
    D_clean kept.

    Args:
        clean: (N,) mask of D_clean.
        noisy: (N,) mask of the samples whose label was flipped.
        conflicting: (N,) bias-conflicting mask w.r.t. the *clean* labels.
    """
    groups = dict(clean_aligned=~noisy & ~conflicting,
                  clean_conflicting=~noisy & conflicting,
                  noisy=noisy)
    return {
        name: dict(total=int(mask.sum()), kept=int((mask & clean).sum()))
        for name, mask in groups.items()
    }


#: The rules by which :func:`pgd_upweighted_sets` calls a sample
#: up-weighted by PGD.
PGD_SET_NAMES = ('PGD p_s > mean', 'PGD top-k p_s, k = #BC')


def pgd_upweighted_sets(prob: np.ndarray,
                        num_conflicting: int) -> Dict[str, np.ndarray]:
    """Boolean (N,) masks of the training samples PGD up-weights, from its
    sampling probabilities p_s (``per_sample.sampling_prob`` of a
    checkpoint, or ``sampling_prob`` of ``pgd_scores.npz``):

    - ``PGD p_s > mean``: the samples drawn more often than uniform
      sampling would draw them. Both of PGD's samplers (rejection sampling
      of the seed variant, sampling with replacement of the official one)
      draw sample i with probability ``p_s(i) / sum_j p_s(j)``, which
      exceeds uniform's ``1 / N`` exactly when ``p_s(i)`` exceeds the mean
      over the N training samples. This rule needs no bias label.
    - ``PGD top-k p_s, k = #BC``: the ``num_conflicting`` samples with the
      highest p_s (ties broken by the lower index), ``num_conflicting``
      being the true number of bias-conflicting samples. Its precision
      equals its recall (the R-precision of the ranking by p_s); it uses the
      true count and is therefore an analysis, not a method.
    """
    prob = np.asarray(prob, dtype=np.float64)
    n = prob.size
    above = prob > prob.mean() if n else np.zeros(0, bool)
    top = np.zeros(n, dtype=bool)
    k = max(0, min(int(num_conflicting), n))
    order = np.lexsort((np.arange(n), -prob))
    top[order[:k]] = True
    return {PGD_SET_NAMES[0]: above, PGD_SET_NAMES[1]: top}
