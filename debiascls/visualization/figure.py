"""Shared plumbing of the drawings: matplotlib figures to RGB arrays, and
atomic writes of PNG, JSON and CSV files."""
import csv
import io
import json
import math
from typing import Any, Sequence

import numpy as np


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (no display
    needed)."""
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt
    return plt


def figure_to_rgb(fig) -> np.ndarray:
    """Render a matplotlib figure to an (H, W, 3) uint8 RGB array and close
    it."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    pyplot().close(fig)
    return np.ascontiguousarray(rgba[..., :3])


def write_png(image: np.ndarray, path: str) -> None:
    """Write an (H, W, 3) uint8 RGB image as a PNG, atomically."""
    import cv2

    from debiascls.utils.fileio import atomic_write_bytes
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'write_png({path}): expected an (H, W, 3) uint8 '
                         f'RGB image, got {image.dtype} {image.shape}.')
    ok, encoded = cv2.imencode('.png', np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise RuntimeError(f'OpenCV could not encode the PNG for {path}.')
    atomic_write_bytes(encoded.tobytes(), path)


def to_jsonable(value: Any) -> Any:
    """numpy arrays and scalars as lists and numbers, NaN and inf as None
    (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.integer, )):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def write_json(data: Any, path: str) -> None:
    """Write ``data`` as indented strict JSON (NaN as null), atomically."""
    from debiascls.utils.fileio import atomic_write_text
    atomic_write_text(
        json.dumps(to_jsonable(data), indent=1, allow_nan=False) + '\n',
        path)


def write_csv(header: Sequence[str], rows: Sequence[Sequence[Any]],
              path: str) -> None:
    """Write a CSV file (NaN as an empty field), atomically."""
    from debiascls.utils.fileio import atomic_write_text
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(header)
    for row in rows:
        writer.writerow(['' if v is None else v for v in to_jsonable(row)])
    atomic_write_text(buffer.getvalue(), path)
