"""CPU threads and data-loader workers chosen from the cores a process has.

On a machine with few cores, PyTorch's default (one intra-op thread per
core) plus data-loader worker processes oversubscribe the cores: an MLP step
on 2 cores took 424 ms with 2 torch threads and 6 persistent workers
against 40 ms with one thread. The plan (documented in
docs/getting_started.md, "Threads and workers"):

- ``cores`` = the cores this process may run on (its CPU affinity) divided
  by the training processes on the machine (``LOCAL_WORLD_SIZE``);
- ``num_workers='auto'`` of a data loader = ``min(8, cores // 2)`` (0 for an
  in-memory loader, which needs none);
- ``env_cfg.num_threads='auto'`` = ``max(1, cores - train workers)`` torch
  threads, unless ``OMP_NUM_THREADS`` is set (an explicit choice is kept).
"""
import os
from typing import Optional, Union

#: Upper bound of ``num_workers='auto'``.
MAX_AUTO_WORKERS = 8


def available_cores() -> int:
    """Cores of this process's CPU affinity (all cores where unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def cores_per_process() -> int:
    """:func:`available_cores` shared by the local training processes."""
    local = int(os.environ.get('LOCAL_WORLD_SIZE', '1') or 1)
    return max(1, available_cores() // max(1, local))


def auto_workers(cores: Optional[int] = None) -> int:
    """Data-loader workers of ``num_workers='auto'``."""
    cores = cores_per_process() if cores is None else cores
    return min(MAX_AUTO_WORKERS, cores // 2)


def resolve_workers(value: Union[int, str, None],
                    cores: Optional[int] = None) -> int:
    """A ``num_workers`` setting as a number (``'auto'`` resolved)."""
    if value == 'auto':
        return auto_workers(cores)
    if value is None:
        return 0
    if isinstance(value, str) and value.isdigit():  # unparsed cfg option
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f'num_workers={value!r} must be a non-negative '
                         "integer or 'auto'.")
    return value


def auto_threads(train_workers: int, cores: Optional[int] = None) -> int:
    """Torch intra-op threads of ``env_cfg.num_threads='auto'``."""
    cores = cores_per_process() if cores is None else cores
    return max(1, cores - train_workers)


def apply_num_threads(num_threads: Union[int, str, None]) -> Optional[int]:
    """Set torch's intra-op threads (``None`` leaves them alone; an int is
    applied as it is; ``'auto'`` must have been resolved already). Returns
    the number set, or None."""
    import torch
    if num_threads is None or 'OMP_NUM_THREADS' in os.environ:
        return None
    if isinstance(num_threads, bool) or not isinstance(
            num_threads, int) or num_threads < 1:
        raise ValueError(f'env_cfg.num_threads={num_threads!r} must be a '
                         "positive integer, 'auto' or None.")
    torch.set_num_threads(num_threads)
    return num_threads
