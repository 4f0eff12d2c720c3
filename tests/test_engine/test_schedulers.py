"""StageMultiStepLR: the lr along a run, by hand."""
import pytest
import torch

from debiascls.engine.schedulers import StageMultiStepLR


def _lrs(stage, milestones, gamma, end, steps):
    param = torch.nn.Parameter(torch.zeros(1))
    optim = torch.optim.SGD([param], lr=1.0)
    sched = StageMultiStepLR(optim, stage=stage, milestones=milestones,
                             gamma=gamma, end=end)
    out = []
    for _ in range(steps):
        out.append(optim.param_groups[0]['lr'])
        optim.step()
        sched.step()
    return out


def test_second_half_of_a_run_decays_at_fractions_of_its_stage():
    # end = 20: the stage is iterations 10..19; milestones at 0.2 and 0.6 of
    # it, i.e. after 2 and 6 of its steps.
    lrs = _lrs((0.5, 1), (0.2, 0.6), 0.1, 20, 20)
    assert lrs[:12] == [1.0] * 12
    assert lrs[12:16] == pytest.approx([0.1] * 4)
    assert lrs[16:] == pytest.approx([0.01] * 4)


def test_whole_run_and_bad_arguments():
    lrs = _lrs((0, 1), (0.5, ), 0.5, 8, 8)
    assert lrs == pytest.approx([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5])
    param = torch.nn.Parameter(torch.zeros(1))
    optim = torch.optim.SGD([param], lr=1.0)
    with pytest.raises(ValueError, match='run length'):
        StageMultiStepLR(optim, milestones=(0.5, ))
    with pytest.raises(ValueError, match='stage'):
        StageMultiStepLR(optim, stage=(0.6, 0.5), end=10)
    with pytest.raises(ValueError, match='milestones'):
        StageMultiStepLR(optim, milestones=(2, ), end=10)
