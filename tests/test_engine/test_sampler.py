import itertools

import pytest

from debiascls.datasets.samplers import ResumableInfiniteSampler


def _take(sampler, n):
    return list(itertools.islice(iter(sampler), n))


def test_each_epoch_is_a_permutation_and_seeded():
    sampler = ResumableInfiniteSampler(list(range(10)), shuffle=True, seed=3)
    stream = _take(sampler, 30)
    for epoch in range(3):
        assert sorted(stream[epoch * 10:(epoch + 1) * 10]) == list(range(10))
    assert stream[:10] != stream[10:20]  # a new permutation every epoch
    assert _take(ResumableInfiniteSampler(list(range(10)), seed=3), 30) \
        == stream


@pytest.mark.parametrize('start', [0, 1, 9, 10, 23])
def test_set_start_jumps_into_the_stream(start):
    full = _take(ResumableInfiniteSampler(list(range(10)), seed=5), 40)
    sampler = ResumableInfiniteSampler(list(range(10)), seed=5)
    sampler.set_start(start)
    assert _take(sampler, 40 - start) == full[start:]


def test_ranks_split_each_epoch():
    dataset = list(range(7))
    samplers = []
    for rank in range(2):
        s = ResumableInfiniteSampler(dataset, shuffle=False, seed=0)
        s.rank, s.world_size = rank, 2
        s.num_samples = 4
        samplers.append(s)
    first, second = _take(samplers[0], 4), _take(samplers[1], 4)
    # 7 samples padded to 8 and strided between the two ranks.
    assert first == [0, 2, 4, 6]
    assert second == [1, 3, 5, 0]


def test_subset_epochs_permute_the_subset_only():
    sampler = ResumableInfiniteSampler(list(range(10)), seed=1)
    sampler.set_subset([2, 3, 5, 7])
    stream = _take(sampler, 12)
    for epoch in range(3):
        assert sorted(stream[epoch * 4:(epoch + 1) * 4]) == [2, 3, 5, 7]
    with pytest.raises(ValueError, match='empty'):
        sampler.set_subset([])


def test_weighted_segment_starts_at_its_position_and_follows_p():
    n = 200
    probs = [1.0 if i < 20 else 0.05 for i in range(n)]
    sampler = ResumableInfiniteSampler(list(range(n)), seed=2)
    uniform = _take(ResumableInfiniteSampler(list(range(n)), seed=2), 150)
    sampler.set_weights(probs, begin=150)
    stream = _take(sampler, 150 + 20 * n)
    assert stream[:150] == uniform  # unchanged before the switch
    weighted = stream[150:]
    # Rejection sampling keeps i with probability p(i): the 20 samples of
    # weight 1 make 20 / (20 + 180 * 0.05) = 69 % of the draws.
    share = sum(i < 20 for i in weighted) / len(weighted)
    assert 0.64 < share < 0.74
    # A pure function of (seed, p): jumping into the weighted part works.
    for start in (150, 151, 150 + n + 7):
        again = ResumableInfiniteSampler(list(range(n)), seed=2)
        again.set_weights(probs, begin=150)
        again.set_start(start)
        assert _take(again, 50) == stream[start:start + 50]


def test_multinomial_weights_and_bad_weights():
    sampler = ResumableInfiniteSampler(list(range(4)), seed=0)
    sampler.set_weights([0.0, 3.0, 1.0, 0.0], mode='multinomial')
    draws = _take(sampler, 4000)
    assert set(draws) == {1, 2}
    assert 0.7 < draws.count(1) / 4000 < 0.8
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        sampler.set_weights([0.0, 3.0, 1.0, 0.0], mode='rejection')
    with pytest.raises(ValueError, match='4 samples'):
        sampler.set_weights([1.0, 1.0])
    with pytest.raises(ValueError, match='weight 0'):
        sampler.set_weights([0.0] * 4)


def test_ranks_draw_disjoint_parts_of_one_weighted_sequence():
    probs = [0.2, 0.9, 0.5, 1.0, 0.1, 0.7]
    streams = []
    for rank in range(2):
        s = ResumableInfiniteSampler(list(range(6)), seed=4)
        s.rank, s.world_size, s.num_samples = rank, 2, 3
        s.set_weights(probs, begin=0)
        streams.append(_take(s, 3))
    single = ResumableInfiniteSampler(list(range(6)), seed=4)
    single.num_samples = 6
    single.set_weights(probs, begin=0)
    whole = _take(single, 6)
    assert streams[0] == whole[0::2] and streams[1] == whole[1::2]
