"""Fake MNIST IDX files for the dataset tests (never the real data)."""
import numpy as np
import pytest

from debiascls.datasets import write_idx


def fake_digits(n: int, seed: int) -> tuple:
    """``n`` random 28x28 uint8 "digits" (about half the pixels 0) and
    labels with every class equally represented (n % 10 == 0)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(1, 256, size=(n, 28, 28), dtype=np.uint8)
    images[rng.random((n, 28, 28)) < 0.5] = 0
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_fake_mnist(root, n_test: int, n_train: int = 0, seed: int = 0,
                     suffix: str = '.gz'):
    """Write ``t10k-*`` (and ``train-*`` when ``n_train``) IDX files under
    ``root`` with the real MNIST file names; returns ``{part: (images,
    labels)}``."""
    parts = {}
    for part, n in (('t10k', n_test), ('train', n_train)):
        if not n:
            continue
        images, labels = fake_digits(n, seed + (part == 'train'))
        write_idx(root / f'{part}-images-idx3-ubyte{suffix}', images)
        write_idx(root / f'{part}-labels-idx1-ubyte{suffix}', labels)
        parts[part] = (images, labels)
    return parts


@pytest.fixture
def t10k_root(tmp_path):
    """A test-only MNIST copy: 200 t10k digits (20 per class)."""
    root = tmp_path / 'mnist'
    write_fake_mnist(root, 200)
    return root


@pytest.fixture
def fake_mnist():
    """The :func:`write_fake_mnist` helper (test modules do not import
    conftest)."""
    return write_fake_mnist
