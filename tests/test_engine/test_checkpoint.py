import collections
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from debiascls.engine.checkpoint import (UnsafeCheckpointError,
                                         load_from_local, safe_torch_load,
                                         sanitize_checkpoint)


class NotAllowed:
    """A class a weights-only load must refuse."""

    def __init__(self):
        self.x = 1


def _mmengine_like_checkpoint():
    hub = MessageHub('test_ckpt_hub')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('eta', np.float64(12.5))
    hub.update_info('iter', 7)
    return dict(
        meta=dict(iter=7, seed=0, dataset_meta=dict(
            classes=('a', 'b'), aligned_bias=np.arange(2))),
        state_dict=collections.OrderedDict(w=torch.ones(2)),
        message_hub=hub.state_dict())


def test_plain_mmengine_checkpoint_is_refused_by_weights_only(tmp_path):
    path = tmp_path / 'raw.pth'
    torch.save(_mmengine_like_checkpoint(), path)
    with pytest.raises(UnsafeCheckpointError, match='Refusing to load'):
        safe_torch_load(str(path))


def test_sanitized_checkpoint_round_trips(tmp_path):
    ckpt = _mmengine_like_checkpoint()
    sanitize_checkpoint(ckpt)
    path = tmp_path / 'clean.pth'
    torch.save(ckpt, path)
    # Loads with a bare weights-only load: no allow-list needed at all.
    torch.load(path, weights_only=True)
    loaded = load_from_local(str(path), 'cpu')
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.current() == 0.25
    assert buffer.mean() == pytest.approx(0.375)
    assert loaded['message_hub']['runtime_info']['eta'] == 12.5
    assert loaded['meta']['dataset_meta']['aligned_bias'] == [0, 1]
    hub = MessageHub('test_ckpt_restore')
    hub.load_state_dict(loaded['message_hub'])
    assert hub.get_scalar('train/loss').current() == 0.25


def test_unknown_object_is_refused_with_reason(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': NotAllowed()}, path)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_from_local(str(path), 'cpu')
    message = str(err.value)
    assert str(path) in message
    assert 'execute code' in message
    assert isinstance(err.value, pickle.UnpicklingError)


def test_numpy_arrays_are_allowed(tmp_path):
    path = tmp_path / 'np.pth'
    torch.save({'a': np.arange(3), 'b': np.float32(1.5)}, path)
    loaded = safe_torch_load(str(path))
    assert loaded['a'].tolist() == [0, 1, 2]


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_torch_load(str(tmp_path / 'nope.pth'))
