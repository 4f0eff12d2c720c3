import json
import os

import numpy as np
import pytest

from debiascls.datasets import (REBIAS_COLORS, BiasedMNIST, DatasetError,
                                LoadImageFromFile, PackInputs,
                                generate_biased_mnist)
from debiascls.datasets.biased_mnist import (biased_mnist_dir,
                                             colorize_background, num_aligned)
from debiascls.datasets.mnist_source import load_mnist_splits

SPLITS = ('train', 'valid', 'test_biased', 'test_unbiased')


@pytest.fixture
def mnist_500(tmp_path, fake_mnist):
    """500 t10k digits: 350 train, 50 valid, 100 test."""
    root = tmp_path / 'mnist'
    fake_mnist(root, 500)
    return str(root)


def _load(data_root, mnist_root=None, rho=0.99, **kw):
    return {
        s: BiasedMNIST(data_root, rho=rho, split=s, mnist_root=mnist_root,
                       **kw)
        for s in SPLITS
    }


@pytest.mark.parametrize('n,rho,expected', [(1000, 0.997, 997),
                                            (1000, 0.999, 999),
                                            (35, 0.99, 34), (10, 0.1, 1),
                                            (9, 0.1, 0), (200, 0.995, 199),
                                            (7, 1.0, 7)])
def test_num_aligned(n, rho, expected):
    assert num_aligned(n, rho) == expected


def test_colorize_background_rule():
    digits = np.array([[[0, 1], [255, 0]]], np.uint8)
    out = colorize_background(digits, np.array([3]))
    np.testing.assert_array_equal(
        out[0], [[[225, 225, 0], [255, 255, 255]],
                 [[255, 255, 255], [225, 225, 0]]])
    assert out.dtype == np.uint8


def test_four_splits_generated(tmp_path, mnist_500):
    data_root = str(tmp_path / 'bm')
    ds = _load(data_root, mnist_500)
    assert [len(ds[s]) for s in SPLITS] == [350, 50, 100, 100]
    folder = tmp_path / 'bm' / 'rho0.99_seed0'
    assert biased_mnist_dir(data_root, 0.99, 0) == str(folder)
    assert biased_mnist_dir('d', 0.997, 2) == os.path.join('d',
                                                           'rho0.997_seed2')
    assert sorted(os.listdir(folder)) == [
        'meta.json', 'test_biased.npz', 'test_unbiased.npz', 'train.npz',
        'valid.npz'
    ]
    meta = json.loads((folder / 'meta.json').read_text())
    assert meta['rho'] == 0.99 and meta['source'] == 't10k'
    assert meta['train']['num_samples'] == 350
    assert meta['train']['num_aligned'] == int(
        ds['train'].get_aligned_mask().sum())
    assert not ds['train'].test_mode and ds['test_unbiased'].test_mode
    # the two test splits colour the same digits
    for i in (0, 57, 99):
        a = ds['test_biased'].get_data_info(i)
        b = ds['test_unbiased'].get_data_info(i)
        assert a['gt_label'] == b['gt_label']
        np.testing.assert_array_equal(a['img'].min(-1) == 255,
                                      b['img'].min(-1) == 255)


def test_background_colour_rule_and_rho(tmp_path, mnist_500):
    ds = _load(str(tmp_path / 'bm'), mnist_500, seed=2)
    pools = load_mnist_splits(mnist_500, seed=2)
    for split in SPLITS:
        pool = pools['test' if split.startswith('test') else split]
        d = ds[split]
        np.testing.assert_array_equal(d.get_gt_labels(), pool.labels)
        for i in range(len(d)):
            info = d.get_data_info(i)
            img, digit = info['img'], pool.images[i]
            assert img.shape == (28, 28, 3) and img.dtype == np.uint8
            assert (img[digit != 0] == 255).all()
            assert (img[digit == 0] == REBIAS_COLORS[info['bias_label']]).all()
            assert info['sample_idx'] == i
    for split, rho in (('train', 0.99), ('valid', 0.99), ('test_biased', 1.0),
                       ('test_unbiased', 0.1)):
        gt, bias = ds[split].get_gt_labels(), ds[split].get_bias_labels()
        for c in range(10):
            n_c = int((gt == c).sum())
            assert ((gt == c) & (bias == c)).sum() == num_aligned(n_c, rho)
            others = np.delete(np.bincount(bias[gt == c], minlength=10), c)
            assert others.max() - others.min() <= 1
    assert ds['test_biased'].get_aligned_mask().all()
    # test_unbiased: about 10 digits per class, one per colour
    gt, bias = (ds['test_unbiased'].get_gt_labels(),
                ds['test_unbiased'].get_bias_labels())
    for c in range(10):
        counts = np.bincount(bias[gt == c], minlength=10)
        assert counts.max() - counts.min() <= 1


def test_cache_reused_without_mnist(tmp_path, mnist_500):
    data_root = str(tmp_path / 'bm')
    first = BiasedMNIST(data_root, rho=0.997, split='valid',
                        mnist_root=mnist_500)
    again = BiasedMNIST(data_root, rho=0.997, split='valid')
    np.testing.assert_array_equal(first.get_bias_labels(),
                                  again.get_bias_labels())
    np.testing.assert_array_equal(first[3]['img'], again[3]['img'])
    assert generate_biased_mnist(data_root, None, 0.997) == {}
    other = BiasedMNIST(data_root, rho=0.997, split='valid',
                        mnist_root=mnist_500, seed=1)
    assert not np.array_equal(other.get_gt_labels(), first.get_gt_labels())


def test_pipeline_uses_in_memory_images(tmp_path, mnist_500):
    ds = BiasedMNIST(str(tmp_path / 'bm'), split='test_biased',
                     mnist_root=mnist_500,
                     pipeline=[LoadImageFromFile(), PackInputs()])
    item = ds[5]
    info = ds.get_data_info(5)
    assert item['inputs'].shape == (3, 28, 28)
    np.testing.assert_array_equal(item['inputs'].numpy(),
                                  info['img'].transpose(2, 0, 1))
    assert item['data_samples'] == dict(gt_label=info['gt_label'],
                                        bias_label=info['gt_label'],
                                        sample_idx=5)


def test_corrupt_or_incomplete_cache(tmp_path, mnist_500):
    data_root = str(tmp_path / 'bm')
    _load(data_root, mnist_500)
    folder = tmp_path / 'bm' / 'rho0.99_seed0'
    (folder / 'train.npz').write_bytes(b'not a zip file')
    with pytest.raises(DatasetError, match='Cannot read') as e:
        BiasedMNIST(data_root, rho=0.99, split='train')
    assert str(folder / 'train.npz') in str(e.value)
    assert 'delete' in str(e.value)
    np.savez(folder / 'valid.npz', images=np.zeros((3, 28, 28), np.uint8),
             targets=np.zeros(3, np.int64), biases=np.zeros(3, np.int64))
    with pytest.raises(DatasetError, match='expected') as e:
        BiasedMNIST(data_root, rho=0.99, split='valid')
    assert str(folder / 'valid.npz') in str(e.value)
    np.savez(folder / 'valid.npz', images=np.zeros((3, 28, 28, 3), np.uint8))
    with pytest.raises(DatasetError, match='Cannot read'):
        BiasedMNIST(data_root, rho=0.99, split='valid')
    os.remove(folder / 'test_biased.npz')
    with pytest.raises(DatasetError, match='is missing') as e:
        BiasedMNIST(data_root, rho=0.99, split='test_biased',
                    mnist_root=mnist_500)
    assert str(folder / 'test_biased.npz') in str(e.value)


def test_errors(tmp_path):
    with pytest.raises(DatasetError, match='no mnist_root was given') as e:
        BiasedMNIST(str(tmp_path / 'bm'), rho=0.995, split='train')
    assert 't10k-images-idx3-ubyte.gz' in str(e.value)
    assert not (tmp_path / 'bm' / 'rho0.995_seed0').exists()
    with pytest.raises(ValueError, match='rho=1.5'):
        BiasedMNIST(str(tmp_path), rho=1.5)
    with pytest.raises(ValueError, match='split="test"'):
        BiasedMNIST(str(tmp_path), split='test')
    with pytest.raises(ValueError, match='rho=-0.1'):
        generate_biased_mnist(str(tmp_path), None, -0.1)
