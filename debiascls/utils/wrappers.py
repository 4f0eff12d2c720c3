"""What a wrapper holds: the model inside a model wrapper (DDP, mmengine's
wrappers, ``DebiasDataParallel``) and the sampler inside a data loader."""
from typing import Any

from mmengine.model import is_model_wrapper


def unwrap(model: Any) -> Any:
    """The module inside a model wrapper, or ``model`` itself."""
    return model.module if is_model_wrapper(model) else model


def sampler_of(dataloader: Any) -> Any:
    """The index sampler of ``dataloader``: its ``sampler``, or its batch
    sampler's when only that one can start mid-stream (``set_start``)."""
    sampler = getattr(dataloader, 'sampler', None)
    if sampler is None or not hasattr(sampler, 'set_start'):
        batch_sampler = getattr(dataloader, 'batch_sampler', None)
        sampler = getattr(batch_sampler, 'sampler', sampler)
    return sampler
