"""Checks that every rank holds the same per-sample tables."""
import hashlib
from typing import List, Optional

import torch.distributed as torch_dist
from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import Hook

from debiascls.registry import HOOKS
from debiascls.utils.wrappers import unwrap


def state_digest(state) -> str:
    """SHA-1 of every table of a :class:`PerSampleState` (values and
    ``seen`` flags), in a fixed order."""
    digest = hashlib.sha1()
    for name, buf in sorted(state.state_dict().items()):
        digest.update(name.encode())
        digest.update(buf.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def check_same_digests(digests: List[str], where: str) -> None:
    """Raise if the ranks' digests differ, naming the ranks."""
    differing = [r for r, d in enumerate(digests) if d != digests[0]]
    if differing:
        raise RuntimeError(
            f'PerSampleSyncCheckHook ({where}): the per-sample tables of '
            f'ranks {differing} differ from rank 0\'s. Every update must go '
            'through PerSampleState.gather() and be applied on every rank.')


@HOOKS.register_module()
class PerSampleSyncCheckHook(Hook):
    """In distributed training, compares a digest of the algorithm's
    per-sample tables across ranks every ``interval`` iterations and after
    training, and stops with an error naming the ranks that differ. A no-op
    for one process or algorithms without per-sample state.

    Args:
        interval: Iterations between checks (0: only after training).
    """

    priority = 'LOW'  # after the hooks that update the tables

    def __init__(self, interval: int = 1000) -> None:
        self.interval = interval

    def _check(self, runner, where: str) -> Optional[str]:
        state = getattr(unwrap(runner.model), 'per_sample', None)
        if (state is None or get_world_size() == 1
                or not torch_dist.is_initialized()):
            return None
        digests = all_gather_object(state_digest(state))
        check_same_digests(digests, where)
        return digests[0]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.interval and self.every_n_train_iters(runner, self.interval):
            self._check(runner, f'iteration {runner.iter + 1}')

    def after_train(self, runner) -> None:
        digest = self._check(runner, 'end of training')
        if digest is not None:
            runner.logger.info(
                f'PerSampleSyncCheckHook: per-sample tables identical on '
                f'{get_world_size()} ranks (sha1 {digest[:12]}).')
