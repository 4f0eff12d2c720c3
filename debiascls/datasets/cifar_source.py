"""CIFAR-10 images from the python batches, the source of Corrupted CIFAR-10.

Layout (``torchvision.datasets.CIFAR10(download=True)`` and the official
``cifar-10-python.tar.gz``)::

    {cifar_root}/cifar-10-batches-py/data_batch_1 .. data_batch_5, test_batch

(``cifar_root`` may also be the ``cifar-10-batches-py`` folder itself.) Each
batch is a Python pickle of a dict with ``b'data'`` (N x 3072 uint8: the
1024 red, then green, then blue values of a 32x32 image, row-major) and
``b'labels'`` (N ints in 0..9), plus ``b'batch_label'`` and
``b'filenames'``. Pickles can run code when loaded, so they are read with
an unpickler that only rebuilds numpy arrays and plain Python containers
(anything else is refused), and the structure is checked.
"""
import io
import os
import pickle
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

from .base_dataset import DatasetError

BATCH_DIR = 'cifar-10-batches-py'
TRAIN_BATCHES = tuple(f'data_batch_{i}' for i in range(1, 6))
TEST_BATCH = 'test_batch'
CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                   'frog', 'horse', 'ship', 'truck')

#: The only globals a CIFAR batch pickle needs (numpy arrays), across
#: numpy 1.x (``numpy.core``) and 2.x (``numpy._core``); ``_codecs.encode``
#: rebuilds bytes in protocol-2 pickles written by Python 3 (a pure
#: string-to-bytes conversion).
_ALLOWED_GLOBALS = {
    ('_codecs', 'encode'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
}


@dataclass
class ImageSplit:
    """RGB images (N, 32, 32, 3) uint8 and labels (N,) int64."""
    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def cifar_help(cifar_root: Optional[str]) -> str:
    """How to provide the CIFAR-10 batches (for error messages)."""
    where = (f'"{os.path.join(cifar_root, BATCH_DIR)}"' if cifar_root else
             f'a folder passed as cifar_root (e.g. data/cifar10/{BATCH_DIR})')
    return (f'Put the CIFAR-10 python batches in {where}: '
            f'{", ".join(TRAIN_BATCHES)} and {TEST_BATCH} (unpack '
            'cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/'
            'cifar.html there). With internet access, pass download=True (or '
            '--download to tools/data/prepare_data.py) to fetch them with '
            'torchvision.datasets.CIFAR10.')


class _SafeUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and builtin containers only."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'global "{module}.{name}" is not allowed in a CIFAR-10 batch')


def batch_dir(cifar_root: str) -> str:
    """The folder holding the batches: ``cifar_root/cifar-10-batches-py``,
    or ``cifar_root`` itself if it holds them."""
    nested = os.path.join(cifar_root, BATCH_DIR)
    if os.path.isdir(nested):
        return nested
    if os.path.isfile(os.path.join(cifar_root, TEST_BATCH)):
        return cifar_root
    return nested


def missing_batches(cifar_root: Optional[str]) -> List[str]:
    """Names of the six batch files that are missing."""
    names = list(TRAIN_BATCHES) + [TEST_BATCH]
    if not cifar_root or not os.path.isdir(cifar_root):
        return names
    folder = batch_dir(cifar_root)
    return [n for n in names if not os.path.isfile(os.path.join(folder, n))]


def read_batch(path: str) -> ImageSplit:
    """Read one CIFAR-10 python batch, safely, and check its structure.

    Raises:
        DatasetError: Not a readable pickle, a global other than numpy's
            arrays, or not the dict of a CIFAR-10 batch; names the file.
    """
    fix = ('Restore the file (unpack cifar-10-python.tar.gz again, see '
           'docs/data_preparation.md).')
    try:
        with open(path, 'rb') as f:
            raw = f.read()
        obj = _SafeUnpickler(io.BytesIO(raw), encoding='bytes').load()
    except FileNotFoundError as e:
        raise DatasetError(f'CIFAR-10 batch "{path}" does not exist. ' +
                           fix) from e
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, IndexError, OSError) as e:
        raise DatasetError(f'"{path}" is not a readable CIFAR-10 python batch '
                           f'({e}). {fix}') from e
    if not isinstance(obj, dict):
        raise DatasetError(f'"{path}" holds a {type(obj).__name__}, not the '
                           f'dict of a CIFAR-10 batch. {fix}')
    data = obj.get(b'data', obj.get('data'))
    labels = obj.get(b'labels', obj.get('labels'))
    if not isinstance(data, np.ndarray) or labels is None:
        raise DatasetError(f'"{path}" has no b"data" array and b"labels" '
                           f'list (keys: {sorted(map(str, obj))}). {fix}')
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetError(f'"{path}": data is {data.dtype} {data.shape}; a '
                           f'CIFAR-10 batch holds N x 3072 uint8. {fix}')
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise DatasetError(f'"{path}": labels are not integers ({e}). '
                           f'{fix}') from e
    if labels.shape != (len(data), ):
        raise DatasetError(f'"{path}" has {len(data)} images but '
                           f'{labels.size} labels. {fix}')
    bad = np.flatnonzero((labels < 0) | (labels > 9))
    if bad.size:
        raise DatasetError(f'"{path}": label {labels[bad[0]]} of image '
                           f'{bad[0]} is not in 0..9. {fix}')
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return ImageSplit(np.ascontiguousarray(images), labels)


def write_batch(path: str, images: np.ndarray, labels) -> None:
    """Write ``images`` (N, 32, 32, 3) uint8 RGB as a CIFAR-10 python batch
    (for tests and tools)."""
    images = np.asarray(images, dtype=np.uint8)
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    obj = {
        b'batch_label': b'debiascls batch',
        b'labels': [int(v) for v in labels],
        b'data': np.ascontiguousarray(data),
        b'filenames': [f'{i:05d}.png'.encode() for i in range(len(images))],
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=2)


def download_cifar10(cifar_root: str) -> None:
    """Fetch CIFAR-10 with torchvision (needs internet); the batches land
    in ``cifar_root/cifar-10-batches-py``."""
    try:
        from torchvision.datasets import CIFAR10
    except ImportError as e:  # pragma: no cover - torchvision is a dependency
        raise DatasetError('download=True needs torchvision; ' +
                           cifar_help(cifar_root)) from e
    try:
        CIFAR10(root=cifar_root, train=True, download=True)
    except Exception as e:  # network errors have many types
        raise DatasetError(f'Downloading CIFAR-10 into "{cifar_root}" failed '
                           f'({e}). ' + cifar_help(cifar_root)) from e


def load_cifar10(cifar_root: Optional[str], download: bool = False,
                 needed_by: str = 'the generator') -> Dict[str, ImageSplit]:
    """``{'train': 50,000 images, 'test': 10,000}`` in batch order.

    Raises:
        DatasetError: A batch is missing or malformed, naming the files and
            where to put them.
    """
    if download and missing_batches(cifar_root):
        if not cifar_root:
            raise DatasetError(f'{needed_by}: download=True needs cifar_root '
                               '(the folder to download CIFAR-10 into).')
        download_cifar10(cifar_root)
    missing = missing_batches(cifar_root)
    if missing:
        state = ('no cifar_root was given' if not cifar_root else
                 f'cifar_root="{cifar_root}" does not exist'
                 if not os.path.isdir(cifar_root) else
                 f'"{batch_dir(cifar_root)}" lacks {", ".join(missing)}')
        raise DatasetError(f'{needed_by} needs the CIFAR-10 python batches '
                           f'but {state}. ' + cifar_help(cifar_root))
    folder = batch_dir(cifar_root)
    parts = [read_batch(os.path.join(folder, n)) for n in TRAIN_BATCHES]
    train = ImageSplit(np.concatenate([p.images for p in parts]),
                       np.concatenate([p.labels for p in parts]))
    return dict(train=train,
                test=read_batch(os.path.join(folder, TEST_BATCH)))
