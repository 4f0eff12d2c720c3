"""Atomic writes for mmengine's local file backend.

mmengine writes checkpoints (and ``last_checkpoint``) in place, so a run
killed mid-write leaves a truncated file that a later ``--resume`` picks up.
:class:`AtomicLocalBackend` writes through
:func:`debiascls.utils.fileio.atomic_write_bytes` (temporary file, then
``os.replace``): readers see the old file or the new one, never half of one.
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend
from mmengine.fileio import io as mmengine_io
from mmengine.fileio import register_backend

from debiascls.utils.fileio import atomic_write_bytes, atomic_write_text


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
