"""Safe checkpoint loading for torch >= 2.6 and checkpoints that need no
unsafe globals.

mmengine 0.10.7 calls a bare ``torch.load``. From torch 2.6 on that defaults
to ``weights_only=True`` and refuses mmengine's own checkpoints, because the
message hub pickles :class:`~mmengine.logging.HistoryBuffer` objects (whose
pickles reference ``builtins.getattr``) and numpy scalars. The fix upstream is
``weights_only=False``, which executes arbitrary code from the file. We never
do that. Instead:

1. what *we* save is normalised into plain data (``sanitize_checkpoint``,
   called from :class:`~debiascls.engine.hooks.CheckpointFormatHook`):
   HistoryBuffers become dicts of lists, numpy values become Python values;
2. loading always uses ``weights_only=True`` with a small allow-list of numpy
   array/scalar/dtype reconstructors (harmless data types), and turns the
   normalised form back into HistoryBuffers (``restore_checkpoint``);
3. a file that needs anything else is refused with a message that says which
   global it asked for and why it is not loaded.
"""
import os.path as osp
import pickle
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

#: Tag that marks a HistoryBuffer converted to plain data.
_HISTORY_TAG = '__debiascls_history_buffer__'


def _numpy_safe_globals() -> List[Any]:
    """numpy reconstructors a tensor-only unpickler may safely allow."""
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    allowed: List[Any] = [_reconstruct, scalar, np.ndarray, np.dtype]
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType') and name != 'StringDType'
        ]
    return allowed


SAFE_GLOBALS: List[Any] = _numpy_safe_globals()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects that a weights-only load refuses."""


def safe_torch_load(filename: Union[str, Any],
                    map_location: Optional[Union[str, Callable]] = None
                    ) -> Any:
    """``torch.load(weights_only=True)`` with debiascls's allow-list.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the file needs a global outside the
            allow-list (it could run code when unpickled).
    """
    if isinstance(filename, str):
        filename = osp.expanduser(filename)
        if not osp.isfile(filename):
            raise FileNotFoundError(
                f'Checkpoint "{filename}" does not exist. Pass the path of a '
                '.pth file written by tools/train.py (see work_dirs/<config>/'
                'last_checkpoint).')
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint "{filename}": it holds an object '
            'that a weights-only load does not allow, so unpickling it could '
            'execute code. debiascls checkpoints hold only tensors, numbers, '
            'strings and containers. If you wrote and trust this file, load '
            'it yourself with torch.load(..., weights_only=False) and save '
            'its "state_dict" again. Details from torch: '
            f'{str(err).splitlines()[0]}') from None


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str,
                    map_location: Optional[Union[str, Callable]]) -> Any:
    """Replacement of mmengine's local-file scheme: a safe load that also
    restores the normalised message hub."""
    return restore_checkpoint(safe_torch_load(filename, map_location))


# ---------------------------------------------------------------------- #
# Normalisation of what we save
# ---------------------------------------------------------------------- #
def _to_plain(value: Any) -> Any:
    """Turn numpy values and HistoryBuffers into plain Python data."""
    if isinstance(value, HistoryBuffer):
        return {
            _HISTORY_TAG: True,
            'log_history': value._log_history.tolist(),
            'count_history': value._count_history.tolist(),
            'max_length': value.max_length,
        }
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_to_plain(v) for v in value)
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    return value


def _from_plain(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_HISTORY_TAG):
            buffer = HistoryBuffer(max_length=value['max_length'])
            buffer._log_history = np.asarray(value['log_history'])
            buffer._count_history = np.asarray(value['count_history'])
            return buffer
        return {k: _from_plain(v) for k, v in value.items()}
    return value


def sanitize_checkpoint(checkpoint: dict) -> None:
    """Normalise, in place, the parts of an mmengine checkpoint that would
    otherwise need unsafe globals: ``meta`` and ``message_hub``."""
    for key in ('meta', 'message_hub'):
        if key in checkpoint:
            checkpoint[key] = _to_plain(checkpoint[key])


def restore_checkpoint(checkpoint: Any) -> Any:
    """Undo :func:`sanitize_checkpoint` (HistoryBuffers come back)."""
    if isinstance(checkpoint, dict) and 'message_hub' in checkpoint:
        checkpoint['message_hub'] = _from_plain(checkpoint['message_hub'])
    return checkpoint
