"""Data-parallel wrapper for algorithms that train several models with
several optimizers in one ``train_step``."""
from typing import Any, Dict, List, Union

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_world_size
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from debiascls.registry import MODEL_WRAPPERS


def _all_reduce_mean_grads(params: List[nn.Parameter]) -> None:
    """Average the gradients of ``params`` over ranks in one collective.

    Only parameters that have a gradient on at least one rank take part (a
    first, small all-reduce agrees on which): a rank without a gradient for
    such a parameter (e.g. a sub-model its batch skipped) contributes zeros,
    and parameters without a gradient anywhere keep ``grad = None``, so the
    optimizer step leaves them and their state alone (CosFairNet's
    layer-wise update relies on it).
    """
    if not params:
        return
    device = params[0].device
    present = torch.tensor([p.grad is not None for p in params],
                           dtype=torch.uint8, device=device)
    torch_dist.all_reduce(present, op=torch_dist.ReduceOp.MAX)
    grads = []
    for p, flag in zip(params, present.tolist()):
        if not flag:
            continue
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        grads.append(p.grad)
    if not grads:
        return
    flat = _flatten_dense_tensors(grads)
    torch_dist.all_reduce(flat)
    flat.div_(get_world_size())
    for grad, synced in zip(grads, _unflatten_dense_tensors(flat, grads)):
        grad.copy_(synced)


@MODEL_WRAPPERS.register_module()
class DebiasDataParallel(nn.Module):
    """Data parallelism for :class:`~debiascls.models.BaseDebiasAlgorithm`.

    mmengine's ``MMDistributedDataParallel.train_step`` ignores a module's
    own ``train_step``, and PyTorch DDP only synchronises gradients of
    forwards that go through the wrapper, which dual-model methods break
    (IE calls the embedding and the head of a model separately; PGD takes
    per-sample gradients with ``torch.func``). This wrapper instead:

    - broadcasts parameters and buffers from rank 0 when it is built;
    - delegates ``train_step``/``val_step``/``test_step`` to the algorithm;
    - averages the gradients of each optimizer's parameters over ranks in a
      step pre-hook of that optimizer: one flattened all-reduce per model and
      update, whatever the forward looked like.

    Works on CPU (gloo) and GPU (NCCL). Batch-norm statistics are updated
    per rank during training; before the first evaluation after training
    steps, the buffers of the algorithm's models are broadcast from rank 0,
    so every rank evaluates the model that rank 0 checkpoints (PyTorch DDP's
    default ``broadcast_buffers=True`` also makes rank 0's buffers win).
    Per-sample state is synchronised by its owner, not here.

    Gradient clipping configured in an optimizer wrapper acts on each rank's
    gradients before they are averaged (DDP clips the averaged ones).
    """

    def __init__(self, module: nn.Module, **kwargs: Any) -> None:
        super().__init__()
        self.module = module
        if kwargs:
            # Keys such as broadcast_buffers/find_unused_parameters that a
            # DDP config would carry have no meaning here.
            unknown = ', '.join(sorted(kwargs))
            raise TypeError(f'DebiasDataParallel got unexpected arguments: '
                            f'{unknown}. Remove them from model_wrapper_cfg.')
        if torch_dist.is_available() and torch_dist.is_initialized():
            for tensor in list(module.parameters()) + list(module.buffers()):
                torch_dist.broadcast(tensor.data, src=0)
        self._hooked: set = set()
        self._buffers_stale = True

    def _broadcast_model_buffers(self) -> None:
        """Rank 0's batch-norm statistics (the buffers of ``models``) to
        every rank, once per evaluation."""
        if not self._buffers_stale:
            return
        self._buffers_stale = False
        if get_world_size() == 1 or not torch_dist.is_initialized():
            return
        models = getattr(self.module, 'models', self.module)
        for buf in models.buffers():
            torch_dist.broadcast(buf.data, src=0)

    def _register_grad_sync(self, optim_wrapper: Union[OptimWrapper,
                                                       OptimWrapperDict]):
        wrappers = (optim_wrapper.values() if isinstance(
            optim_wrapper, OptimWrapperDict) else [optim_wrapper])
        for wrapper in wrappers:
            optimizer = wrapper.optimizer
            if id(optimizer) in self._hooked:
                continue
            params = [
                p for group in optimizer.param_groups for p in group['params']
            ]

            def pre_step(opt, args, kwargs, params=params):
                _all_reduce_mean_grads(params)

            optimizer.register_step_pre_hook(pre_step)
            self._hooked.add(id(optimizer))

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        if get_world_size() > 1:
            self._register_grad_sync(optim_wrapper)
        self._buffers_stale = True
        return self.module.train_step(data, optim_wrapper)

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        self._broadcast_model_buffers()
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        self._broadcast_model_buffers()
        return self.module.test_step(data)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)
