"""Random generator states in checkpoints."""
import random
from typing import Any, Dict

import numpy as np
import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook

from debiascls.registry import HOOKS


def get_random_state() -> Dict[str, Any]:
    """Python's, numpy's and torch's (and CUDA's) global generator states as
    plain data a weights-only load accepts."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=[version, list(internal), gauss],
        numpy=[kind, torch.from_numpy(keys.astype(np.int64)), int(pos),
               int(has_gauss), float(cached)],
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: Dict[str, Any]) -> None:
    """Inverse of :func:`get_random_state`."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state(
        (kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves the global random generator states (python, numpy, torch,
    CUDA) in every checkpoint (``checkpoint['random_state']``) and restores
    them when a checkpoint is resumed.

    :class:`~debiascls.engine.DebiasIterBasedTrainLoop` also re-seeds the
    generators before every iteration from ``(seed, rank, iteration)``, which
    alone makes a resumed run draw what the uninterrupted one draws on every
    rank; the saved states additionally cover what runs between the resume
    and the first iteration, and runs with ``reseed_every_iter=False``.
    Checkpoints are written by rank 0, so they hold rank 0's states; other
    ranks keep theirs (re-seeded by the loop).
    """

    priority = 'NORMAL'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = get_random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('random_state')
        if state is None or not runner._resume:
            return
        if get_world_size() == 1 or runner.rank == 0:
            set_random_state(state)
