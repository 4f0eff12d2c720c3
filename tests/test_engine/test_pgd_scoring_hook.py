"""PGDScoringHook's log line: the sampling distribution's summary by hand."""
from types import SimpleNamespace

import numpy as np

from debiascls.engine.hooks import PGDScoringHook


def _runner(messages):
    logger = SimpleNamespace(info=messages.append)
    return SimpleNamespace(logger=logger, work_dir='/w', iter=9,
                           visualizer=SimpleNamespace(_vis_backends={}))


def test_log_reports_acceptance_and_effective_sample_size():
    # Sample 0 is outside the pool (p = 0); the others have p = 1/2, 1/4,
    # 1/4: effective sample size 1 / (1/4 + 1/16 + 1/16) = 8/3.
    result = dict(sampling_prob=np.array([0.0, 0.5, 0.25, 0.25]),
                  pgd_score=np.array([0.0, 1.0, 2.0, 2.0]))
    messages = []
    PGDScoringHook()._log(_runner(messages), result, rejection=True)
    assert ('min 0.25, median 0.25, max 0.5; expected acceptance of the '
            'rejection sampler 0.333; effective sample size 2.7 of 3.'
            ) in messages[0]
    messages = []
    PGDScoringHook()._log(_runner(messages), result, rejection=False)
    assert 'drawn with replacement; effective sample size 2.7 of 3' in (
        messages[0])
    assert 'acceptance' not in messages[0]
