import os

import pytest
from mmengine.fileio import get_file_backend

from debiascls.utils.fileio import atomic_write_bytes
from debiascls.engine.fileio import AtomicLocalBackend


def test_local_backend_is_atomic(tmp_path):
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'abc', tmp_path / 'x.pth')
    backend.put_text('last', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'x.pth').read_bytes() == b'abc'
    assert (tmp_path / 'last_checkpoint').read_text() == 'last'
    assert sorted(os.listdir(tmp_path)) == ['last_checkpoint', 'x.pth']


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / 'ckpt.pth'
    atomic_write_bytes(b'old', target)

    def broken_replace(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', broken_replace)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(b'new-but-broken', target)
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']  # no temp file left behind


def test_strict_json_writes_null_for_nan_and_infinities():
    import json
    import math

    from debiascls.utils.fileio import strict_json
    text = strict_json(dict(a=float('nan'), b=[1.5, float('inf')],
                            c=dict(d=-math.inf, e='x'), f=(2, None)))
    assert 'NaN' not in text and 'Infinity' not in text
    assert json.loads(text) == dict(a=None, b=[1.5, None],
                                    c=dict(d=None, e='x'), f=[2, None])
