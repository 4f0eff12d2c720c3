"""Per-sample gradients of the cross-entropy, with ``torch.func`` (one
vectorised pass per batch) or, as a reference, one backward pass per
sample."""
from typing import Dict, Iterable, List, Optional

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


def per_sample_ce_grads(model: nn.Module,
                        inputs: torch.Tensor,
                        labels: torch.Tensor,
                        params: Optional[Iterable[str]] = None,
                        chunk_size: Optional[int] = None) -> torch.Tensor:
    """``grad_theta CE(model(x_i), y_i)`` for every sample of a batch,
    flattened and concatenated in parameter order: (B, d).

    The model is called as it is (put it in eval mode for batch-norm
    statistics that do not depend on the batch); ``torch.func.vmap`` over
    ``torch.func.grad`` computes all B gradients in one vectorised pass
    (``chunk_size`` bounds the memory).

    Args:
        model: A module mapping (B, ...) inputs to (B, C) logits.
        inputs, labels: The batch.
        params: Parameter-name prefixes to differentiate (default: all
            trainable parameters), e.g. ``['head.fc.weight']``.
        chunk_size: Samples per vectorised chunk (default: the whole batch).
    """
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

    grads = vmap(
        grad(loss), in_dims=(None, 0, 0), chunk_size=chunk_size)(wanted,
                                                                 inputs,
                                                                 labels)
    return torch.cat([grads[n].flatten(1) for n in names], dim=1)


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
