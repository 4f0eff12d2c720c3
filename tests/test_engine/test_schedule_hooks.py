"""The committee's sets, random states, the per-sample synchronisation
check and the de-noising split."""
import random

import numpy as np
import pytest
import torch

from debiascls.engine.hooks.bias_committee_hook import committee_sets
from debiascls.engine.hooks.per_sample_sync_check_hook import (
    check_same_digests, state_digest)
from debiascls.engine.hooks.random_state_hook import (get_random_state,
                                                      set_random_state)
from debiascls.models.utils import PerSampleState


def test_committee_sets_by_hand():
    labels = np.array([0, 1, 1, 0])
    probs = np.array([[.995, .5, .999, .1], [.999, .995, .2, .3],
                      [.991, .999, .999, .2]])
    preds = np.array([[0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0]])
    amplified, candidate = committee_sets(probs, preds, labels, 0.99, 2, 2)
    # sample 0 confident in 3 models; 1 in 2; 2 in 2; 3 in none.
    assert amplified.tolist() == [True, True, True, False]
    # wrong in >= 2 models: sample 1 once, 2 once, 3 twice.
    assert candidate.tolist() == [False, False, False, True]


def test_random_states_round_trip():
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    state = get_random_state()
    want = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(9)
    np.random.seed(9)
    torch.manual_seed(9)
    set_random_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == want


def test_sync_check_names_the_differing_rank():
    a = PerSampleState(dict(loss='float'))
    a.setup([0, 1])
    b = PerSampleState(dict(loss='float'))
    b.setup([0, 1])
    check_same_digests([state_digest(a), state_digest(b)], 'test')
    b.assign('loss', torch.tensor([1]), torch.tensor([0.5]))
    with pytest.raises(RuntimeError, match=r'ranks \[1\] differ'):
        check_same_digests([state_digest(a), state_digest(b)], 'test')


def test_compensated_split_by_hand():
    from debiascls.engine.hooks.denoising_hook import compensated_split
    ce = np.array([0.1, 2.0, 0.5, 3.0])
    entropy = np.array([0.5, 0.2, 1.0, 1.5])
    clean, delta = compensated_split(ce, entropy)
    # delta = 5.6 / 3.2 = 1.75; CE / H = 0.2, 10, 0.5, 2
    assert delta == pytest.approx(1.75)
    assert clean.tolist() == [True, False, True, False]
