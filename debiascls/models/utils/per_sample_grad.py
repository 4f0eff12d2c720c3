"""Per-sample gradients of the cross-entropy, with ``torch.func`` (one
vectorised pass per chunk of samples) or, as a reference, one backward pass
per sample."""
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap


def _selected(model: nn.Module,
              names: Optional[Iterable[str]]) -> List[str]:
    """Names of the parameters to differentiate (all trainable ones, or
    those under the given module / parameter name prefixes)."""
    params = [n for n, p in model.named_parameters() if p.requires_grad]
    if names is None:
        return params
    prefixes = tuple(names)
    chosen = [
        n for n in params
        if n in prefixes or n.startswith(tuple(p + '.' for p in prefixes))
    ]
    if not chosen:
        raise ValueError(
            f'per-sample gradients: no parameter matches {list(prefixes)}; '
            f'parameters: {params}.')
    return chosen


def num_grad_dims(model: nn.Module,
                  params: Optional[Iterable[str]] = None) -> int:
    """Length ``d`` of one sample's flattened gradient."""
    named = dict(model.named_parameters())
    return sum(named[n].numel() for n in _selected(model, params))


#: Default samples per vectorised chunk.
DEFAULT_CHUNK_SIZE = 64
#: On a CPU, the largest gradient block (chunk x d float32) that glibc's
#: allocator serves from its heap: blocks above its largest dynamic mmap
#: threshold (32 MiB on 64-bit Linux) are mapped fresh, and the kernel
#: zeroes them page by page, on every chunk. Half of it leaves room.
CPU_CHUNK_BYTES = 16 * 2**20


def auto_chunk_size(num_dims: int, device: torch.device) -> int:
    """Samples per ``torch.func`` chunk for ``num_dims`` gradient
    dimensions on ``device``.

    :data:`DEFAULT_CHUNK_SIZE`, except on a CPU where that chunk's gradient
    block would exceed :data:`CPU_CHUNK_BYTES` but 8 or more samples fit
    in it: then the largest such chunk. Measured 2026-12-01 (2 threads,
    LfF's MLP, d = 256,510): 0.40 ms per sample in chunks of 16-32 against
    0.58 in chunks of 64; PGD's ConvNet-1 (d = 38,210) keeps 64. Models
    for which 8 samples exceed the budget (d > 524k) keep 64: smaller
    chunks would not avoid the fresh mappings, and were not measured.
    """
    if torch.device(device).type != 'cpu':
        return DEFAULT_CHUNK_SIZE
    fitting = CPU_CHUNK_BYTES // (4 * max(num_dims, 1))
    return min(DEFAULT_CHUNK_SIZE, fitting) if fitting >= 8 else \
        DEFAULT_CHUNK_SIZE


def _vmapped_grads(model: nn.Module, params: Optional[Iterable[str]]
                   ) -> Tuple[List[str], Callable]:
    """The selected parameter names and ``f(x, y) -> {name: (n, ...)}``,
    the per-sample CE gradients of a chunk (``vmap`` over ``grad``)."""
    names = _selected(model, params)
    all_params = {n: p.detach() for n, p in model.named_parameters()}
    buffers = {n: b.detach() for n, b in model.named_buffers()}
    wanted = {n: all_params[n] for n in names}
    frozen = {n: p for n, p in all_params.items() if n not in wanted}

    def loss(theta: Dict[str, torch.Tensor], x: torch.Tensor,
             y: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, ({**frozen, **theta}, buffers),
                              (x.unsqueeze(0), ))
        return F.cross_entropy(out, y.unsqueeze(0))

    batched = vmap(grad(loss), in_dims=(None, 0, 0))
    return names, lambda x, y: batched(wanted, x, y)


def _chunks(size: int, chunk_size: Optional[int]) -> Iterator[slice]:
    step = size if not chunk_size else chunk_size
    for start in range(0, size, max(step, 1)):
        yield slice(start, min(start + step, size))


def iter_per_sample_ce_grads(model: nn.Module,
                             inputs: torch.Tensor,
                             labels: torch.Tensor,
                             params: Optional[Iterable[str]] = None,
                             chunk_size: Optional[int] = None
                             ) -> Iterator[Tuple[slice, torch.Tensor]]:
    """:func:`per_sample_ce_grads` chunk by chunk: yields ``(rows,
    grads)`` with ``grads`` the (n, d) gradients of ``inputs[rows]``, so a
    caller that reduces them (sums, selected dimensions) never holds the
    whole (B, d) matrix.

    ``grads`` is a scratch buffer: the next chunk overwrites it, and the
    caller may modify it (copy what it keeps). Re-using one buffer matters
    on a CPU: a fresh allocation of tens of MB is zeroed page by page by
    the kernel, which cost as much as computing the gradients of LfF's MLP
    (measured 2026-12-01: 25 ms against 5.5 ms for 64 x 256k floats).
    """
    names, grads_of = _vmapped_grads(model, params)
    buffer: Optional[torch.Tensor] = None
    for rows in _chunks(len(inputs), chunk_size):
        grads = grads_of(inputs[rows], labels[rows])
        flat = [grads[n].flatten(1) for n in names]
        if buffer is None:
            buffer = torch.cat(flat, dim=1)
            yield rows, buffer
            continue
        out = buffer[:flat[0].shape[0]]
        torch.cat(flat, dim=1, out=out)
        yield rows, out


def per_sample_ce_grads(model: nn.Module,
                        inputs: torch.Tensor,
                        labels: torch.Tensor,
                        params: Optional[Iterable[str]] = None,
                        chunk_size: Optional[int] = None) -> torch.Tensor:
    """``grad_theta CE(model(x_i), y_i)`` for every sample of a batch,
    flattened and concatenated in parameter order: (B, d).

    The model is called as it is (put it in eval mode for batch-norm
    statistics that do not depend on the batch); ``torch.func.vmap`` over
    ``torch.func.grad`` computes the gradients of ``chunk_size`` samples
    (default: the whole batch) in one vectorised pass, and each chunk is
    written once into the result (no concatenation of chunk outputs,
    which costs as much as the gradients themselves for large ``d``).

    Args:
        model: A module mapping (B, ...) inputs to (B, C) logits.
        inputs, labels: The batch.
        params: Parameter-name prefixes to differentiate (default: all
            trainable parameters), e.g. ``['head.fc.weight']``.
        chunk_size: Samples per vectorised chunk (bounds the memory).
    """
    names, grads_of = _vmapped_grads(model, params)
    first = dict(model.named_parameters())[names[0]]
    out = torch.empty(len(inputs), num_grad_dims(model, params),
                      dtype=first.dtype, device=inputs.device)
    for rows in _chunks(len(inputs), chunk_size):
        grads = grads_of(inputs[rows], labels[rows])
        offset = 0
        for n in names:
            block = grads[n].flatten(1)
            out[rows, offset:offset + block.shape[1]] = block
            offset += block.shape[1]
    return out


def per_sample_ce_grads_loop(model: nn.Module,
                             inputs: torch.Tensor,
                             labels: torch.Tensor,
                             params: Optional[Iterable[str]] = None
                             ) -> torch.Tensor:
    """The same as :func:`per_sample_ce_grads` with one forward and one
    backward pass per sample (the official PGD code's approach); for tests
    and the speed benchmark."""
    names = _selected(model, params)
    named = dict(model.named_parameters())
    rows = []
    for x, y in zip(inputs, labels):
        loss = F.cross_entropy(model(x.unsqueeze(0)), y.unsqueeze(0))
        grads = torch.autograd.grad(loss, [named[n] for n in names])
        rows.append(torch.cat([g.flatten() for g in grads]))
    return torch.stack(rows)
