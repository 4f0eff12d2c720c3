"""Watermarked MNIST (PGD appendix B.1): the 56x56 construction, the
Fashion-MNIST pools, sources, errors, the config and prepare_data.py. On
fake MNIST and fake Fashion-MNIST IDX files."""
import importlib.util
import json
import os
import re

import cv2
import numpy as np
import pytest
from layouts import FAST, build_config_dataset

from debiascls.datasets import (DatasetError, WatermarkedMNIST,
                                generate_watermarked_mnist)
from debiascls.datasets.mnist_source import load_mnist_splits
from debiascls.datasets.pgd_colored_mnist import PGD_SPLIT_FRACTIONS
from debiascls.datasets.watermarked_mnist import load_fashion_pools

NAME = re.compile(r'^(\d{5})_(\d)_(\d)\.png$')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture
def sources(tmp_path, fake_mnist):
    """100 t10k digits and 100 t10k Fashion-MNIST images (other seed)."""
    fake_mnist(tmp_path / 'mnist', 100)
    fake_mnist(tmp_path / 'fashion', 100, seed=7)
    return tmp_path / 'mnist', tmp_path / 'fashion'


def _grey(path):
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img.shape == (56, 56, 3)
    assert (img == img[..., :1]).all()  # grey over RGB
    return img[..., 0]


def _up(digit):
    return cv2.resize(digit, (56, 56), interpolation=cv2.INTER_LINEAR)


def test_construction_offset_zero(tmp_path, sources):
    # with max_offset 0 the watermark sits exactly at the corner: the image
    # is max(enlarged digit, one Fashion image of the bias class)
    mnist, fashion = sources
    root = tmp_path / 'wm'
    ds = WatermarkedMNIST(str(root), severity='10pct', split='train',
                          mnist_root=str(mnist), fashion_mnist_root=str(
                              fashion), max_offset=0, **FAST)
    digits = load_mnist_splits(str(mnist), 0,
                               split_fractions=PGD_SPLIT_FRACTIONS)['train']
    pool = load_fashion_pools(str(fashion), 0)['train']
    assert len(ds) == 72
    for i in range(0, len(ds), 5):
        info = ds.get_data_info(i)
        k = int(NAME.match(os.path.basename(info['img_path'])).group(1))
        img = _grey(info['img_path'])
        up = _up(digits.images[k])
        assert digits.labels[k] == info['gt_label']
        np.testing.assert_array_equal(img[28:], up[28:])
        np.testing.assert_array_equal(img[:, 28:], up[:, 28:])
        matches = [j for j in range(len(pool))
                   if np.array_equal(img[:28, :28],
                                     np.maximum(up[:28, :28],
                                                pool.images[j]))]
        assert matches and {pool.labels[j] for j in matches} == {
            info['bias_label']}


def test_offsets_stay_within_alpha(tmp_path, sources):
    mnist, fashion = sources
    root = tmp_path / 'wm'
    test = WatermarkedMNIST(str(root), split='test', mnist_root=str(mnist),
                            fashion_mnist_root=str(fashion), max_offset=16,
                            **FAST)
    digits = load_mnist_splits(str(mnist), 0,
                               split_fractions=PGD_SPLIT_FRACTIONS)['test']
    assert len(test) == 20
    moved = 0
    for i in range(len(test)):
        info = test.get_data_info(i)
        k = int(NAME.match(os.path.basename(info['img_path'])).group(1))
        img, up = _grey(info['img_path']), _up(digits.images[k])
        assert (img >= up).all()
        # nothing beyond 16 + 28 = 44 pixels from the top-left corner
        np.testing.assert_array_equal(img[44:], up[44:])
        np.testing.assert_array_equal(img[:, 44:], up[:, 44:])
        changed = np.argwhere(img != up)
        moved += int(changed.size and changed.min() > 0)
    assert moved  # some watermarks are offset from the corner
    meta = json.loads((root / 'test' / 'meta.json').read_text())
    assert meta['max_offset'] == 16 and meta['fashion_source'] == 't10k'
    assert meta['source'] == 't10k' and meta['conflict_ratio'] == 0.9
    assert test.metainfo['bias_classes'][1] == 'Trouser'
    assert test.metainfo['bias_attribute'] == 'watermark'


def test_fashion_pools(tmp_path, fake_mnist):
    # full Fashion-MNIST in torchvision's folder: train images for train and
    # valid, t10k images for test
    raw = tmp_path / 'fm' / 'FashionMNIST' / 'raw'
    parts = fake_mnist(raw, n_test=30, n_train=50, seed=3, suffix='')
    pools = load_fashion_pools(str(tmp_path / 'fm'), 0)
    np.testing.assert_array_equal(pools['train'].images, parts['train'][0])
    np.testing.assert_array_equal(pools['test'].images, parts['t10k'][0])
    # t10k only: a class-stratified split, every class in both pools
    fake_mnist(tmp_path / 'small', 40, seed=4)
    pools = load_fashion_pools(str(tmp_path / 'small'), 0)
    assert len(pools['train']) + len(pools['test']) == 40
    for pool in pools.values():
        assert set(pool.labels.tolist()) == set(range(10))


def test_errors_and_parameters(tmp_path, sources):
    mnist, fashion = sources
    root = tmp_path / 'wm'
    with pytest.raises(DatasetError) as e:
        WatermarkedMNIST(str(root), split='test', mnist_root=str(mnist))
    msg = str(e.value)
    assert 'no fashion_mnist_root was given' in msg
    assert 'Fashion-MNIST IDX files' in msg and '--download' in msg
    assert 'train-images-idx3-ubyte.gz' in msg
    assert not (root / 'test').exists()
    with pytest.raises(DatasetError, match='fashion_mnist_root=".*none" does'):
        WatermarkedMNIST(str(root), split='test', mnist_root=str(mnist),
                         fashion_mnist_root=str(tmp_path / 'none'))
    WatermarkedMNIST(str(root), split='test', mnist_root=str(mnist),
                     fashion_mnist_root=str(fashion), **FAST)
    with pytest.raises(DatasetError, match='max_offset=8 on disk but 16'):
        WatermarkedMNIST(str(root), split='test', max_offset=16)
    for bad in (True, 29, -1, 8.0):
        with pytest.raises(ValueError, match='max_offset'):
            WatermarkedMNIST(str(root), split='test', max_offset=bad)


def test_determinism(tmp_path, sources):
    mnist, fashion = sources

    def gen(name, seed):
        generate_watermarked_mnist(str(tmp_path / name), str(mnist),
                                   str(fashion), ['5pct'], seed=seed)
        out = {}
        for dirpath, _, names in os.walk(tmp_path / name):
            for n in names:
                with open(os.path.join(dirpath, n), 'rb') as f:
                    out[os.path.relpath(os.path.join(dirpath, n),
                                        tmp_path / name)] = f.read()
        return out

    a, b, c = gen('a', 0), gen('b', 0), gen('c', 1)
    assert len(a) == 72 + 8 + 20 + 2 and a == b and a != c


def test_config_and_tool(tmp_path, sources, capsys, monkeypatch):
    mnist, fashion = sources
    monkeypatch.chdir(tmp_path)  # the config's roots are relative
    spec = importlib.util.spec_from_file_location(
        'prepare_data_tool', os.path.join(REPO, 'tools', 'data',
                                          'prepare_data.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'wm'
    status = tool.main(['watermarked_mnist', '--mnist-root', str(mnist),
                        '--fashion-mnist-root', str(fashion), '--out',
                        str(out), '--severities', '1pct'])
    text = capsys.readouterr().out
    assert status == 0, text
    assert f'wrote   {out / "1pct"}: train 72 samples' in text
    assert 'test-only Fashion-MNIST' in text
    cfg, train = build_config_dataset('watermarked_mnist.py', out, 'train')
    assert cfg.train_dataloader.dataset.fashion_mnist_root == \
        'data/fashion_mnist'
    assert cfg.train_dataloader.dataset.max_offset == 8
    np.random.seed(1)
    for idx in (0, 71):
        item = train[idx]
        assert tuple(item['inputs'].shape) == (3, 56, 56)
        assert item['data_samples']['bias_label'] == \
            train.get_bias_labels()[idx]
    status = tool.main(['watermarked_mnist', '--mnist-root', str(mnist),
                        '--out', str(tmp_path / 'x'), '--fashion-mnist-root',
                        str(tmp_path / 'nothing')])
    err = capsys.readouterr().err
    assert status == 1 and err.count('\n') == 1 and 'Fashion-MNIST' in err
