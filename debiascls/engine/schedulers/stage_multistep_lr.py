"""A multi-step learning-rate schedule over a stage of the run, given as
fractions, so that it follows the run's length."""
from typing import Sequence, Tuple

from mmengine.optim.scheduler import MultiStepLR

from debiascls.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class StageMultiStepLR(MultiStepLR):
    """``MultiStepLR`` active on the stage ``[stage[0], stage[1])`` of the
    run (fractions of ``end``, which mmengine's Runner sets to
    ``max_iters``), decaying the lr by ``gamma`` at the ``milestones``
    (fractions of the stage).

    PGD trains ``f_b`` on the first half of a run and ``f_d`` on the second,
    each with the lr decays of its Table 4 at fractions of its own stage:
    ``biased=[dict(type='StageMultiStepLR', stage=(0, 0.5), ...)]``,
    ``debiased=[dict(type='StageMultiStepLR', stage=(0.5, 1), ...)]``. A run
    shortened with ``--cfg-options train_cfg.max_iters=N`` keeps the same
    shape.

    Args:
        optimizer: The optimizer (wrapper).
        stage: ``(start, stop)`` fractions of the run.
        milestones: Fractions of the stage at which the lr is multiplied by
            ``gamma``.
        gamma: The decay factor.
        end: Length of the run in iterations (set by the Runner).
        **kwargs: Passed to ``MultiStepLR`` (not ``begin``/``by_epoch``).
    """

    def __init__(self,
                 optimizer,
                 stage: Tuple[float, float] = (0.0, 1.0),
                 milestones: Sequence[float] = (),
                 gamma: float = 0.1,
                 end: int = None,
                 **kwargs) -> None:
        if end is None or end >= 1e12:
            raise ValueError('StageMultiStepLR needs the run length: leave '
                             '`end` unset in the config (the Runner sets it '
                             'to max_iters).')
        start, stop = stage
        if not 0 <= start < stop <= 1:
            raise ValueError(f'StageMultiStepLR: stage={tuple(stage)} must '
                             'be fractions 0 <= start < stop <= 1.')
        if any(not 0 < m < 1 for m in milestones):
            raise ValueError('StageMultiStepLR: milestones are fractions of '
                             f'the stage in (0, 1), got {tuple(milestones)}.')
        for key in ('begin', 'by_epoch'):
            if key in kwargs:
                raise ValueError(f'StageMultiStepLR sets {key} itself.')
        begin = round(start * end)
        stop_iter = max(round(stop * end), begin + 1)
        length = stop_iter - begin
        self.stage = (start, stop)
        super().__init__(
            optimizer,
            milestones=[round(m * length) for m in milestones],
            gamma=gamma,
            begin=begin,
            end=stop_iter,
            by_epoch=False,
            **kwargs)
