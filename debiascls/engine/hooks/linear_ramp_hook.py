"""A loss weight that ramps linearly over iterations (IE's lambda_main)."""
from typing import Optional, Union

from mmengine.hooks import Hook

from debiascls.registry import HOOKS
from debiascls.utils.wrappers import unwrap


def linear_ramp(iteration: int, begin: int, end: int, start_value: float,
                end_value: float) -> float:
    """``start_value`` up to ``begin``, ``end_value`` from ``end`` on, and
    linear in between."""
    if iteration <= begin or end <= begin:
        return start_value if iteration <= begin else end_value
    progress = min((iteration - begin) / (end - begin), 1.0)
    return start_value + (end_value - start_value) * progress


@HOOKS.register_module()
class LinearRampHook(Hook):
    """Sets ``algorithm.<attr>`` before every iteration to
    :func:`linear_ramp` of the iteration, and logs it (``train/<attr>``).

    IE (Eq. 13): ``lambda_main`` "linearly increases from zero to one during
    training f_d with the guidance", i.e. from T2 to the last iteration:
    ``dict(type='LinearRampHook', attr='lambda_main', begin='guidance')``.

    Args:
        attr: The algorithm's attribute (it must exist).
        begin: First iteration of the ramp, or the name of a phase of
            :class:`TrainPhaseHook` (its first iteration).
        end: Iteration where ``end_value`` is reached (default: the last
            one, ``max_iters - 1``).
        start_value, end_value: The values at ``begin`` and ``end``.
    """

    priority = 'ABOVE_NORMAL'  # after TrainPhaseHook (HIGH)

    def __init__(self,
                 attr: str = 'lambda_main',
                 begin: Union[int, str] = 0,
                 end: Optional[int] = None,
                 start_value: float = 0.0,
                 end_value: float = 1.0) -> None:
        self.attr = attr
        self.begin = begin
        self.end = end
        self.start_value = start_value
        self.end_value = end_value

    def before_train(self, runner) -> None:
        algorithm = unwrap(runner.model)
        if not hasattr(algorithm, self.attr):
            raise AttributeError(
                f'LinearRampHook: {type(algorithm).__name__} has no '
                f'attribute "{self.attr}" to ramp.')
        begin = self.begin
        if isinstance(begin, str):
            begins = getattr(algorithm, 'phase_begins', {})
            if begin not in begins:
                raise ValueError(
                    f'LinearRampHook: begin="{begin}" is not a phase of '
                    f'TrainPhaseHook ({sorted(begins)}); put TrainPhaseHook '
                    'in custom_hooks or give an iteration.')
            begin = begins[begin]
        self._begin = int(begin)
        self._end = int(self.end if self.end is not None else
                        runner.max_iters - 1)
        algorithm.attach_hook('LinearRampHook')

    def value(self, iteration: int) -> float:
        return linear_ramp(iteration, self._begin, self._end,
                           self.start_value, self.end_value)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        value = self.value(runner.iter)
        setattr(unwrap(runner.model), self.attr, value)
        runner.message_hub.update_scalar(f'train/{self.attr}', value)
