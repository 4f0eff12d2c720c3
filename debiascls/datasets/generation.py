"""Helpers shared by the dataset generators: rank-0-only generation,
generation records (``meta.json``) and fast PNG writing (atomic outputs:
:mod:`debiascls.utils.fileio`)."""
import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, Sequence

import cv2
import numpy as np
from mmengine.dist import barrier, get_rank

from .base_dataset import DatasetError

META_FILE = 'meta.json'


def run_on_rank0(is_ready: Callable[[], bool], generate: Callable[[], None],
                 missing_error: Callable[[], DatasetError]) -> None:
    """Run ``generate`` on rank 0 if ``is_ready()`` is False, then
    synchronise all ranks.

    Every rank reaches the barrier even when rank 0 fails (its error is
    re-raised after it); ranks other than 0 raise ``missing_error()`` if the
    data is still not ready after the barrier.
    """
    error: Optional[BaseException] = None
    if get_rank() == 0 and not is_ready():
        try:
            generate()
        except BaseException as e:  # re-raised after the barrier
            error = e
    barrier()
    if error is not None:
        raise error
    if not is_ready():
        raise missing_error()


def write_meta(folder: str, meta: dict) -> None:
    """Record how ``folder`` was generated."""
    with open(os.path.join(folder, META_FILE), 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=2, sort_keys=True)


def read_meta(folder: str) -> Optional[dict]:
    """The generation record of ``folder``, or None (e.g. an official
    release, which has none)."""
    path = os.path.join(folder, META_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def check_meta(folder: str, expected: dict, name: str,
               required: Sequence[str] = ()) -> None:
    """Refuse data generated with other parameters than requested.

    Only keys present in both the record and ``expected`` are compared,
    except the ``required`` ones: a record without them was written by an
    older generator (``'<absent>'`` in the message).
    """
    meta = read_meta(folder)
    if meta is None:
        return
    diff = {
        k: (meta.get(k, '<absent>'), v)
        for k, v in expected.items()
        if (k in meta and _normalise(meta[k]) != _normalise(v)) or (
            k in required and k not in meta)
    }
    if diff:
        detail = ', '.join(f'{k}={got!r} on disk but {want!r} requested'
                           for k, (got, want) in sorted(diff.items()))
        raise DatasetError(
            f'{name}: "{folder}" was generated with other parameters ({detail},'
            f' see {os.path.join(folder, META_FILE)}). Use another data_root, '
            'or delete the folder to regenerate it with the requested ones.')


def _normalise(value):
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, float):
        return round(value, 12)
    return value


def write_pngs(paths: Sequence[str], images: np.ndarray,
               num_threads: int = 8) -> None:
    """Write RGB uint8 images (N, H, W, 3) as PNG files (in threads; OpenCV
    releases the GIL)."""

    def write(i: int) -> None:
        ok, buf = cv2.imencode('.png', images[i][..., ::-1])
        if not ok:
            raise DatasetError(f'Could not encode image for "{paths[i]}".')
        with open(paths[i], 'wb') as f:
            f.write(buf.tobytes())

    with ThreadPoolExecutor(num_threads) as pool:
        list(pool.map(write, range(len(paths))))
