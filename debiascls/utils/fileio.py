"""Atomic file writes and strict JSON.

A file written here is either absent, the old one, or complete: data goes
to a temporary file (or folder) in the same directory, which is moved into
place with ``os.replace`` / ``os.rename``, atomic on POSIX and Windows.
"""
import contextlib
import json
import math
import os
import os.path as osp
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Union

import numpy as np


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


@contextlib.contextmanager
def atomic_dir(final: str) -> Iterator[str]:
    """Yield an empty temporary directory next to ``final`` and rename it to
    ``final`` when the block succeeds; on error it is removed, so ``final``
    is either absent or complete. If ``final`` appeared meanwhile (another
    process won the race) the new copy is discarded."""
    parent = os.path.dirname(os.path.abspath(final)) or '.'
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(
        prefix=f'.tmp-{os.path.basename(final)}-', dir=parent)
    try:
        yield tmp
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.isdir(final):
                raise
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def atomic_save_npz(path: str, **arrays: np.ndarray) -> None:
    """``np.savez`` to a temporary file, then rename it to ``path``."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.npz', dir=parent)
    try:
        with os.fdopen(fd, 'wb') as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
