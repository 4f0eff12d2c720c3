"""Reading and writing IDX files, the format of the MNIST distribution.

An IDX file is two zero bytes, a type code, the number of dimensions ``d``,
``d`` big-endian int32 sizes, then the data in C order (big-endian for
multi-byte types). MNIST images are ``*-idx3-ubyte`` (type 0x08, 3 dims) and
labels ``*-idx1-ubyte`` (type 0x08, 1 dim), optionally gzip-compressed.
"""
import gzip
import os
import struct
from typing import Optional, Union

import numpy as np

from .base_dataset import DatasetError

PathLike = Union[str, 'os.PathLike[str]']

#: IDX type code -> numpy dtype (big-endian, as stored in the file).
IDX_DTYPES = {
    0x08: np.dtype('>u1'),
    0x09: np.dtype('>i1'),
    0x0B: np.dtype('>i2'),
    0x0C: np.dtype('>i4'),
    0x0D: np.dtype('>f4'),
    0x0E: np.dtype('>f8'),
}
_CODES = {dtype.newbyteorder('='): code for code, dtype in IDX_DTYPES.items()}


def _open(path: str, mode: str):
    if path.endswith('.gz'):
        return gzip.open(path, mode)
    return open(path, mode)


def read_idx(path: PathLike, ndim: Optional[int] = None) -> np.ndarray:
    """Read an IDX file (plain or ``.gz``) into a native-endian array.

    Args:
        path: The file.
        ndim: Expected number of dimensions (3 for MNIST images, 1 for
            labels); checked when given.

    Raises:
        DatasetError: The file is missing, is not IDX (bad magic number), has
            an unexpected number of dimensions, or its size does not match
            its header (truncated or padded). The message names the file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DatasetError(f'IDX file "{path}" does not exist.')
    try:
        with _open(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DatasetError(
            f'Cannot read IDX file "{path}" ({e}); the file is corrupt or '
            'truncated: download it again.') from e
    fix = 'download the MNIST file again (see docs/data_preparation.md).'
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        magic = raw[:4].hex() if len(raw) >= 4 else raw.hex()
        raise DatasetError(
            f'"{path}" is not an IDX file: bad magic number 0x{magic} '
            '(expected 0x0000 followed by a type code such as 08 and the '
            f'number of dimensions); {fix}')
    dtype, dims = IDX_DTYPES[raw[2]], raw[3]
    if ndim is not None and dims != ndim:
        raise DatasetError(
            f'IDX file "{path}" has {dims} dimensions (magic 0x{raw[:4].hex()})'
            f' but {ndim} were expected (images are idx3, labels idx1); check '
            'that images and labels are not swapped.')
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DatasetError(f'IDX file "{path}" is truncated inside its header; '
                           f'{fix}')
    shape = struct.unpack(f'>{dims}i', raw[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DatasetError(
            f'IDX file "{path}" has {len(raw)} bytes but its header '
            f'(shape {tuple(shape)}) implies {expected}: the file is '
            f'{"truncated" if len(raw) < expected else "padded"}; {fix}')
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder('='))


def write_idx(path: PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed if ``path`` ends with
    ``.gz``. Supports uint8, int8, int16, int32, float32 and float64."""
    path = os.fspath(path)
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder('='))
    if code is None:
        raise TypeError(f'write_idx: dtype {array.dtype} has no IDX type code; '
                        f'use one of {sorted(str(d) for d in _CODES)}.')
    header = bytes([0, 0, code, array.ndim]) + struct.pack(
        f'>{array.ndim}i', *array.shape)
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with _open(path, 'wb') as f:
        f.write(header + body)
