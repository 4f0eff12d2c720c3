"""Atomic writes for mmengine's local file backend.

mmengine writes checkpoints (and ``last_checkpoint``) in place, so a run
killed mid-write leaves a truncated file that a later ``--resume`` picks up.
:class:`AtomicLocalBackend` writes to a temporary file in the same directory
and moves it into place with ``os.replace``, which is atomic on POSIX and
Windows: readers see the old file or the new one, never half of one.
"""
import json
import math
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Any, Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio import io as mmengine_io


def strict_json(obj: Any, **kwargs) -> str:
    """``json.dumps`` that writes NaN and infinities as ``null`` (strict
    JSON, which ``json.dumps`` does not produce: it writes ``NaN``);
    ``kwargs`` go to ``json.dumps``."""

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return json.dumps(clean(obj), allow_nan=False, **kwargs)


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically (temp file + rename)."""
    filepath = str(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(text: str,
                      filepath: Union[str, Path],
                      encoding: str = 'utf-8') -> None:
    """Write ``text`` to ``filepath`` atomically."""
    atomic_write_bytes(text.encode(encoding), filepath)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose ``put``/``put_text`` are atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write_text(obj, filepath, encoding)


register_backend('local', AtomicLocalBackend, force=True, prefixes='')
# Drop local backends that were instantiated before the registration.
for _key in [k for k in mmengine_io.backend_instances if k.startswith(':')]:
    del mmengine_io.backend_instances[_key]
