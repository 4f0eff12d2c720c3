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
