"""Distributed set-up that works without a GPU."""
import os

import torch
import torch.distributed as torch_dist


def collective_device() -> torch.device:
    """The device a collective's tensors must be on: the current CUDA
    device under NCCL (which refuses CPU tensors), the CPU otherwise (gloo,
    or no process group). Hooks that gather CPU data (scores, masks) move it
    there and back."""
    if (torch_dist.is_available() and torch_dist.is_initialized()
            and torch_dist.get_backend() == 'nccl'):
        return torch.device('cuda', torch.cuda.current_device())
    return torch.device('cpu')


def use_gloo(cfg) -> None:
    """Set ``cfg.env_cfg.dist_cfg.backend = 'gloo'`` (creating the entries
    a config may lack)."""
    env_cfg = dict(cfg.get('env_cfg') or {})
    env_cfg['dist_cfg'] = dict(env_cfg.get('dist_cfg') or {}, backend='gloo')
    cfg.env_cfg = env_cfg


def init_cpu_process_group_if_needed(cfg) -> None:
    """Initialise a gloo process group for ``--launcher pytorch`` runs on a
    machine without CUDA devices.

    mmengine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device``, which
    fails without a GPU. When a process group already exists the Runner skips
    ``init_dist``, so we create one here with the gloo backend and record the
    choice in ``cfg.env_cfg.dist_cfg``.
    """
    if torch.cuda.is_available() and torch.cuda.device_count() > 0:
        return
    if torch_dist.is_initialized():
        return
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if key not in os.environ:
            raise RuntimeError(
                f'--launcher pytorch needs the environment variable {key}; '
                'start the job with tools/dist_train.sh (torchrun).')
    use_gloo(cfg)
    torch_dist.init_process_group(backend='gloo')


def destroy_process_group_if_initialized() -> None:
    """Tear the process group down once the job is done (mmengine never
    does): after a barrier, so no rank exits while another still talks to
    it; otherwise gloo's threads can outlive the interpreter and abort the
    process ("terminate called without an active exception", exit -6)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
