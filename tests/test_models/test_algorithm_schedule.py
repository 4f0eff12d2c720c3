"""An algorithm's own schedule: phases read from the iteration, resolved
against the run's length, logged with the losses; no hook involved."""
import logging

import pytest
import torch
from mmengine.logging import MessageHub

from debiascls.models.algorithms.base import (BaseDebiasAlgorithm,
                                              current_iter)

TINY = dict(
    type='ImageClassifier',
    backbone=dict(type='MLP', in_channels=1, in_size=2, hidden_dims=(2, )),
    head=dict(type='GAPLinearHead', num_classes=2))


class _Phased(BaseDebiasAlgorithm):
    main_model = 'classifier'
    phase_names = ('bn_reference', 'guidance')

    def __init__(self, begins=None):
        super().__init__(models=dict(classifier=TINY))
        self.phase_begins = begins or dict(bn_reference=2, guidance=4)

    def update(self, inputs, data_samples, optim_wrapper):
        return self.phase_log_vars()


@pytest.fixture
def hub():
    hub = MessageHub.get_current_instance()
    before = hub.get_info('iter', 0)
    yield hub
    hub.update_info('iter', before)


def test_phases_follow_the_iteration(hub):
    algorithm = _Phased()
    seen = []
    for t in range(6):
        hub.update_info('iter', t)
        assert current_iter() == t
        seen.append(algorithm.update(None, None, None))
    assert [s['phase_bn_reference'] for s in seen] == [0, 0, 1, 1, 1, 1]
    assert [s['phase_guidance'] for s in seen] == [0, 0, 0, 0, 1, 1]
    # an explicit iteration wins over the running one
    assert algorithm.phase_on('guidance', 4)
    assert not algorithm.phase_on('guidance', 3)


def test_phase_begins_are_checked():
    with pytest.raises(ValueError, match=r"exactly \['bn_reference', "
                       r"'guidance'\], got \['guidance'\]"):
        _Phased(dict(guidance=3))
    with pytest.raises(ValueError, match='non-negative iteration'):
        _Phased(dict(bn_reference=-1, guidance=3))
    with pytest.raises(ValueError, match='non-negative iteration'):
        _Phased(dict(bn_reference=0.5, guidance=3))


def test_a_phase_after_the_run_is_reported(monkeypatch):
    from debiascls.models.algorithms import base
    said = []
    monkeypatch.setattr(base, 'print_log',
                        lambda msg, **kwargs: said.append((msg, kwargs)))
    algorithm = _Phased(dict(bn_reference=2, guidance=40))
    algorithm.prepare_schedule(max_iters=10, iters_per_epoch=5)
    assert algorithm.max_iters == 10
    assert said == [('_Phased: phase "guidance" begins at iteration 40, '
                     'after the last one (10).',
                     dict(logger='current', level=logging.WARNING))]


def test_ie_ramps_lambda_main_from_t2_to_the_last_iteration():
    from debiascls.models.algorithms.ie import IE, linear_ramp
    assert linear_ramp(3, 4, 9, 0.0, 1.0) == 0.0
    assert linear_ramp(4, 4, 9, 0.0, 1.0) == 0.0
    assert linear_ramp(6, 4, 9, 0.0, 1.0) == pytest.approx(0.4)
    assert linear_ramp(9, 4, 9, 0.0, 1.0) == 1.0
    assert linear_ramp(12, 4, 9, 0.0, 1.0) == 1.0
    assert linear_ramp(5, 4, 4, 0.0, 1.0) == 1.0  # empty ramp: a step
    model = IE(
        classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='ConvNet', channels=(4, 8)),
            head=dict(type='GAPLinearHead', num_classes=3)),
        t1=2, t2=4)
    model.prepare_schedule(max_iters=10, iters_per_epoch=3)
    # lambda_main: 0 up to T2 = 4, 1 at the last iteration (9)
    assert [round(model.lambda_main(t), 6)
            for t in range(10)] == [0, 0, 0, 0, 0, .2, .4, .6, .8, 1]
    assert model.phase_begins == dict(bn_reference=2, guidance=4)
    with pytest.raises(ValueError, match=r'T2 \(t2=4\) must be >= T1'):
        IE(classifier=dict(
            type='ImageClassifier',
            backbone=dict(type='ConvNet', channels=(4, 8)),
            head=dict(type='GAPLinearHead', num_classes=3)), t1=5, t2=4)


def test_pgd_and_learned_mixin_resolve_their_phase_against_the_run():
    from debiascls.models.algorithms.learned_mixin import LearnedMixin
    from debiascls.models.algorithms.pgd import PGD
    conv = dict(
        type='ImageClassifier',
        backbone=dict(type='ConvNet', channels=(4, 8)),
        head=dict(type='GAPLinearHead', num_classes=3))
    pgd = PGD(classifier=conv, bias_iters=0.25)
    pgd.prepare_schedule(max_iters=40, iters_per_epoch=7)
    assert pgd.bias_iters == 10
    mixin = LearnedMixin(
        classifier=conv, biased_classifiers=[conv], pretrain_iters=None,
        pretrain_epochs=2)
    mixin.prepare_schedule(max_iters=40, iters_per_epoch=7)
    assert mixin.phase_begins == dict(main=14)
    assert torch.is_tensor(pgd.scores_ready)
