"""ReBias's median heuristic for the RBF kernel radii, recomputed every
epoch."""
import contextlib
import random
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from torch.utils.data import DataLoader

from debiascls.models.losses.hsic import squared_distances
from debiascls.registry import HOOKS
from debiascls.utils.wrappers import unwrap


def median_radius(distances: List[torch.Tensor]) -> float:
    """``sqrt(median)`` of within-batch squared distances (the zero
    diagonal included, as the official ``sigma_utils.py``)."""
    return float(torch.cat(distances).double().median().sqrt())


@contextlib.contextmanager
def isolated_rng() -> Iterator[None]:
    """Run a block without moving Python's, numpy's or torch's global
    generators (the radius pass must not change the training stream)."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


@HOOKS.register_module()
class KernelRadiusHook(Hook):
    """Sets the kernel radii of :class:`~debiascls.models.ReBias` with the
    median heuristic of its code (``criterions/sigma_utils.py``): before
    training and then every ``interval`` iterations (an epoch), ``f`` and
    every ``g`` are run on the first ``fraction`` of an epoch's training
    batches; each radius is the square root of the median of the
    within-batch squared distances of that model's HSIC representation.

    As the official code, the models run in training mode without updates
    (batch-norm running statistics move as a side effect) on batches of the
    training pipeline. The batches come from a private loader over the
    training set whose order is a permutation seeded by ``(seed, epoch)``,
    split between ranks like the training sampler; every rank's distances
    are gathered, so all ranks set the same radii. The training stream and
    the global generators are left untouched.

    The radii are buffers of the algorithm, saved in checkpoints: a resumed
    run keeps them until the next epoch boundary, as the uninterrupted run
    does.

    Args:
        interval: Iterations between two updates; ``None``: one epoch of
            the training loader (``len(train_dataloader)``).
        fraction: Share of an epoch's batches used (0.25, the official
            ``update_sigma_per_epoch`` pass).
    """

    priority = 'HIGH'

    def __init__(self, interval: Optional[int] = None,
                 fraction: float = 0.25) -> None:
        if interval is not None and interval < 1:
            raise ValueError(f'KernelRadiusHook: interval={interval} must '
                             'be >= 1 (or None for one epoch).')
        if not 0 < fraction <= 1:
            raise ValueError(f'KernelRadiusHook: fraction={fraction} must '
                             'lie in (0, 1].')
        self.interval = interval
        self.fraction = fraction

    def _batches(self, runner, epoch: int) -> DataLoader:
        train_loader = runner.train_dataloader
        dataset = train_loader.dataset
        rank, world_size = get_dist_info()
        seed = runner.seed if runner.seed is not None else 0
        generator = torch.Generator()
        generator.manual_seed(
            int(np.random.SeedSequence([seed, 0x5167,
                                        epoch]).generate_state(1)[0]))
        order = torch.randperm(len(dataset), generator=generator)
        per_rank = order[rank::world_size]
        num = max(1, int(self.fraction * self._interval(runner)))
        per_rank = per_rank[:num * train_loader.batch_size].tolist()
        return DataLoader(
            dataset, batch_size=train_loader.batch_size, sampler=per_rank,
            num_workers=0, collate_fn=train_loader.collate_fn)

    def _interval(self, runner) -> int:
        return self.interval or len(runner.train_dataloader)

    def update_radii(self, runner, epoch: int) -> Dict[str, float]:
        """Compute and set the radii; returns them by model name."""
        algorithm = unwrap(runner.model)
        names = ['f'] + list(algorithm.g_names)
        distances: Dict[str, List[torch.Tensor]] = {n: [] for n in names}
        was_training = algorithm.training
        algorithm.train()
        with isolated_rng(), torch.no_grad():
            for batch in self._batches(runner, epoch):
                data = algorithm.data_preprocessor(batch, True)
                for name in names:
                    rep, _ = algorithm.representation(name, data['inputs'],
                                                      algorithm.hsic_on)
                    distances[name].append(squared_distances(rep).cpu())
        algorithm.train(was_training)
        if get_dist_info()[1] > 1:  # every rank's batches
            for name in names:
                gathered = all_gather_object(distances[name])
                distances[name] = [d for part in gathered for d in part]
        radii = {n: median_radius(d) for n, d in distances.items()}
        algorithm.set_kernel_radii(radii['f'],
                                   [radii[n] for n in algorithm.g_names])
        runner.logger.info(
            f'KernelRadiusHook: RBF radii at iteration {runner.iter} '
            '(median heuristic): ' + ', '.join(f'{n} {r:.4g}'
                                               for n, r in radii.items()))
        return radii

    def before_train(self, runner) -> None:
        algorithm = unwrap(runner.model)
        if not hasattr(algorithm, 'set_kernel_radii'):
            raise TypeError(f'KernelRadiusHook: {type(algorithm).__name__} '
                            'has no kernel radii; remove the hook.')
        if bool(algorithm.kernel_radii_set):
            runner.logger.info(
                'KernelRadiusHook: RBF radii restored from the checkpoint.')
            return
        self.update_radii(runner, runner.iter // self._interval(runner))

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        interval = self._interval(runner)
        if runner.iter > 0 and runner.iter % interval == 0:
            self.update_radii(runner, runner.iter // interval)
