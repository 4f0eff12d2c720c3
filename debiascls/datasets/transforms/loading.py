"""Loading images from files."""
import os
from typing import Dict, Optional

import cv2
import numpy as np

from debiascls.registry import TRANSFORMS
from ..base_dataset import DatasetError
from .base import BaseTransform

_PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'
_REGENERATE = ('Restore the file, or delete the dataset folder and '
               'regenerate it with tools/data/prepare_data.py (see '
               'docs/data_preparation.md).')


def _is_truncated(path: str, buf: np.ndarray) -> bool:
    """Whether a PNG lacks its IEND chunk or a JPEG's last scan has no end
    marker (OpenCV decodes both silently with missing rows)."""
    data = buf.tobytes()
    ext = os.path.splitext(path)[1].lower()
    if ext == '.png' or data.startswith(b'\x89PNG'):
        return not data.rstrip(b'\x00').endswith(_PNG_END)
    if ext in ('.jpg', '.jpeg') or data.startswith(b'\xff\xd8'):
        return data.rfind(b'\xff\xd9') < data.rfind(b'\xff\xda')
    return False


def quick_file_check(path: str) -> Optional[str]:
    """A cheap check before training (size and, for PNG, the last 12 bytes):
    'missing', 'empty', 'truncated' or None. Decoding errors and truncated
    JPEGs are found when the image is loaded."""
    try:
        size = os.path.getsize(path)
        if size == 0:
            return 'empty'
        if path.lower().endswith('.png'):
            with open(path, 'rb') as f:
                f.seek(max(size - 64, 0))
                if not f.read().rstrip(b'\x00').endswith(_PNG_END):
                    return 'truncated'
    except FileNotFoundError:
        return 'missing'
    return None


@TRANSFORMS.register_module()
class LoadImageFromFile(BaseTransform):
    """Read ``results['img_path']`` with OpenCV into ``results['img']``
    (HxWx3 uint8, RGB) and set ``img_shape`` / ``ori_shape``.

    Samples that already hold an ``img`` (in-memory datasets such as
    :class:`~debiascls.datasets.BiasedMNIST`) pass through unchanged, so the
    same pipeline serves both kinds.

    Args:
        cache_mb: Keep up to this many MiB of decoded images in memory (per
            data-loader worker) and serve repeated reads from there. Small
            data sets read thousands of tiny files per second, which costs
            as much CPU as training the model (SynthDigits: 26 ms of file
            reading and decoding per batch of 256, against a 30 ms step);
            0 (default) reads every time.

    Raises:
        DatasetError: The file is missing, unreadable, truncated or not an
            image; the message names the path and the fix.
    """

    deterministic = True

    def __init__(self, cache_mb: float = 0) -> None:
        if cache_mb < 0:
            raise ValueError(f'LoadImageFromFile: cache_mb={cache_mb} must '
                             'be >= 0 (0 switches the cache off).')
        self.cache_bytes = int(cache_mb * 2**20)
        self._cache: Dict[str, np.ndarray] = {}
        self._cached_bytes = 0

    def transform(self, results: dict) -> dict:
        if results.get('img') is None:
            path = results.get('img_path')
            if path is None:
                raise KeyError('LoadImageFromFile: the sample has neither '
                               '"img" nor "img_path".')
            results['img'] = self._load(path)
        img = results['img']
        results['img_shape'] = img.shape[:2]
        results.setdefault('ori_shape', img.shape[:2])
        return results

    def clear_cache(self) -> None:
        """Drop the decoded images kept so far."""
        self._cache.clear()
        self._cached_bytes = 0

    def _load(self, path: str) -> np.ndarray:
        cached = self._cache.get(path)
        if cached is not None:
            return cached.copy()  # later transforms may write in place
        img = self._read(path)
        if self._cached_bytes + img.nbytes <= self.cache_bytes:
            self._cache[path] = img.copy()
            self._cached_bytes += img.nbytes
        return img

    @staticmethod
    def _read(path: str) -> np.ndarray:
        try:
            buf = np.fromfile(path, dtype=np.uint8)
        except FileNotFoundError as e:
            raise DatasetError(f'Image file "{path}" is missing. '
                               + _REGENERATE) from e
        except OSError as e:
            raise DatasetError(f'Cannot read image file "{path}" ({e}). '
                               + _REGENERATE) from e
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
        if img is None or _is_truncated(path, buf):
            state = 'empty' if not buf.size else (
                'truncated' if img is not None else 'not a decodable image')
            raise DatasetError(
                f'Image file "{path}" is corrupt ({state}). ' + _REGENERATE)
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
