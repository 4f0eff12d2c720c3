"""Iteration-based training phases (IE's T1 and T2)."""
from typing import Dict, Optional

from mmengine.hooks import Hook

from debiascls.registry import HOOKS
from debiascls.utils.wrappers import unwrap


@HOOKS.register_module()
class TrainPhaseHook(Hook):
    """Switches an algorithm's training phases on at given iterations.

    Before every iteration ``t`` it calls ``algorithm.set_phases({name: t >=
    begin})`` and logs each phase as 0/1 (``train/phase_<name>``). For IE,
    ``phases=dict(bn_reference=T1, guidance=T2)``: from T1 on the BN score's
    reference losses are recorded, from T2 on the debiased model trains with
    the guidance (IE Algorithm 1; T1 = 1K, T2 = 10K in the paper). The phase
    is a pure function of the iteration, so a resumed run is in the phase
    of the uninterrupted one.

    Args:
        phases: ``{phase name: first iteration (0-based)}``, overriding the
            algorithm's own (IE: ``model.t1``, ``model.t2``); the algorithm
            checks the names (``set_phase_begins``).
    """

    priority = 'HIGH'

    def __init__(self, phases: Optional[Dict[str, int]] = None) -> None:
        for name, begin in (phases or {}).items():
            if int(begin) != begin or begin < 0:
                raise ValueError(f'TrainPhaseHook: phase "{name}" begins at '
                                 f'{begin!r}; give a non-negative iteration.')
        self.phases = None if phases is None else {
            k: int(v)
            for k, v in phases.items()
        }

    def before_train(self, runner) -> None:
        algorithm = unwrap(runner.model)
        if not hasattr(algorithm, 'set_phase_begins'):
            raise TypeError(f'TrainPhaseHook: {type(algorithm).__name__} '
                            'has no training phases; remove the hook.')
        if hasattr(algorithm, 'set_max_iters'):
            algorithm.set_max_iters(runner.max_iters)
        if hasattr(algorithm, 'set_epoch_length'):
            algorithm.set_epoch_length(len(runner.train_dataloader))
        if self.phases is not None:
            algorithm.set_phase_begins(self.phases)
        self._begins = dict(algorithm.phase_begins)
        algorithm.attach_hook('TrainPhaseHook')
        for name, begin in self._begins.items():
            if begin >= runner.max_iters:
                runner.logger.warning(
                    f'TrainPhaseHook: phase "{name}" begins at iteration '
                    f'{begin}, after the last one ({runner.max_iters}).')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        active = {k: runner.iter >= v for k, v in self._begins.items()}
        unwrap(runner.model).set_phases(active)
        for name, on in active.items():
            runner.message_hub.update_scalar(f'train/phase_{name}', float(on))
