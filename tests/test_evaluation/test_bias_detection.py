"""Bias-detection statistics (IE Table 2) by hand."""
import numpy as np
import torch

from debiascls.evaluation.bias_detection import (detection_stats, ie_table2,
                                                 sets_from_state)


def test_sets_from_checkpoint_tables():
    state = {
        'per_sample.amplified': torch.tensor([True, False, False, True]),
        'per_sample.bn_candidate': torch.tensor([False, True, True, True]),
        'per_sample.bn_score': torch.tensor([0.5, 0.2, -0.1, 0.0]),
    }
    sets = sets_from_state(state)
    assert sets['D^A'].tolist() == [True, False, False, True]
    assert sets['D_cand^BN'].tolist() == [False, True, True, True]
    assert sets['D^BN'].tolist() == [False, True, False, False]
    assert sets_from_state({'per_sample.loss_b': torch.zeros(4)}) == {}


def test_detection_stats_and_table2_by_hand():
    # 6 samples: 0-3 aligned, 4-5 conflicting; sample 3 of unknown bias.
    conflicting = np.array([0, 0, 0, 0, 1, 1], bool)
    known = np.array([1, 1, 1, 0, 1, 1], bool)
    candidate = np.array([0, 1, 1, 1, 1, 1], bool)
    bn = np.array([0, 1, 0, 1, 1, 0], bool)
    stats = detection_stats(candidate, conflicting, known)
    # known members: 1, 2 (aligned), 4, 5 (conflicting)
    assert stats['size'] == 4 and stats['aligned'] == 2
    assert stats['conflicting'] == 2 and stats['conflicting_fraction'] == 50
    assert stats['conflicting_recall'] == 100
    assert np.isclose(stats['aligned_recall'], 200 / 3)
    t2 = ie_table2(candidate, bn, conflicting, known)
    # excluded (known): 2 (aligned), 5 (conflicting)
    assert t2['excluded_aligned'] == 1 and t2['excluded_conflicting'] == 1
    # D^BN keeps aligned {1} of 3 and conflicting {4} of 2
    assert np.isclose(t2['bn_aligned_pct'], 100 / 3)
    assert t2['bn_conflicting_pct'] == 50


def test_denoising_stats_by_hand():
    from debiascls.evaluation.bias_detection import denoising_stats
    clean = np.array([1, 1, 0, 1, 0, 0], bool)
    noisy = np.array([0, 0, 0, 0, 1, 1], bool)
    conflicting = np.array([0, 0, 0, 1, 1, 0], bool)
    stats = denoising_stats(clean, noisy, conflicting)
    assert stats == dict(clean_aligned=dict(total=3, kept=2),
                         clean_conflicting=dict(total=1, kept=1),
                         noisy=dict(total=2, kept=0))
