"""PGD's Colored MNIST: random bias assignment, PGD's colouring, the 90/10
order split of the MNIST training digits, t10k-only sources, the config
(PGD's augmentation) and prepare_data.py. All on fake MNIST files."""
import importlib.util
import json
import os
import re

import cv2
import numpy as np
import pytest
from layouts import FAST, build_config_dataset

from debiascls.datasets import (PGD_COLORS, DatasetError, PGDColoredMNIST,
                                generate_pgd_colored_mnist)
from debiascls.datasets.pgd_colored_mnist import (assign_bias_random,
                                                  colorize_pgd)

NAME = re.compile(r'^(\d{5})_(\d)_(\d)\.png$')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _rgb(path):
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]


def _index(info):
    return int(NAME.match(os.path.basename(info['img_path'])).group(1))


def test_assign_bias_random():
    labels = np.repeat(np.arange(10), 3000)
    bias = assign_bias_random(labels, 0.3, 10, np.random.default_rng(0))
    conflicting = bias != labels
    assert abs(conflicting.mean() - 0.3) < 0.015
    # a conflicting sample takes each other value about equally often
    for c in (0, 7):
        others = np.bincount(bias[(labels == c) & conflicting], minlength=10)
        assert others[c] == 0
        assert others[np.arange(10) != c].min() > 60  # ~100 each
    again = assign_bias_random(labels, 0.3, 10, np.random.default_rng(0))
    np.testing.assert_array_equal(bias, again)
    assert (assign_bias_random(labels, 0.0, 10,
                               np.random.default_rng(1)) == labels).all()
    with pytest.raises(ValueError, match='conflict_prob'):
        assign_bias_random(labels, 1.5, 10, np.random.default_rng(0))


def test_colorize_pgd_formula():
    digits = np.zeros((2, 4, 4), np.uint8)
    digits[:, 1, 1] = 255
    digits[:, 2, 2] = 100
    out = colorize_pgd(digits, np.array([0, 9]), 0.0,
                       np.random.default_rng(0))
    assert out.shape == (2, 4, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 1, 1], [220, 20, 60])  # crimson
    np.testing.assert_array_equal(out[1, 1, 1], [128, 0, 0])  # maroon
    np.testing.assert_array_equal(
        out[0, 2, 2], np.rint(100 / 255 * PGD_COLORS[0] * 255))
    assert (out[:, 0, 0] == 0).all()
    # the deviation is one 3-vector per sample, clamped after the product
    noisy = colorize_pgd(np.full((3, 2, 2), 255, np.uint8),
                         np.array([1, 1, 1]), 0.2, np.random.default_rng(1))
    assert (noisy == noisy[:, :1, :1]).all(axis=(1, 2, 3)).all()
    assert len({tuple(v) for v in noisy[:, 0, 0]}) == 3


def test_t10k_layout_sizes_and_pixels(tmp_path, t10k_root):
    root = tmp_path / 'pgd'
    train = PGDColoredMNIST(str(root), severity='5pct', split='train',
                            mnist_root=str(t10k_root), **FAST)
    valid = PGDColoredMNIST(str(root), severity='5pct', split='valid',
                            **FAST)
    test = PGDColoredMNIST(str(root), severity='5pct', split='test', **FAST)
    # 200 t10k digits split 0.72 / 0.08 / 0.2 (valid = 10 % of train+valid)
    assert (len(train), len(valid), len(test)) == (144, 16, 40)
    assert sorted(os.listdir(root / '5pct')) == ['align', 'conflict',
                                                  'meta.json', 'valid']
    meta = json.loads((root / '5pct' / 'meta.json').read_text())
    assert meta['source'] == 't10k' and meta['color_noise'] == 1e-4
    assert meta['split_fractions'] == [0.72, 0.08, 0.2]
    assert meta['conflict_ratio'] == 0.05
    assert json.loads((root / 'test' / 'meta.json').read_text())[
        'conflict_ratio'] == 0.9
    assert train.metainfo['bias_classes'][0] == 'crimson'
    from debiascls.datasets.mnist_source import load_mnist_splits
    pools = load_mnist_splits(str(t10k_root), 0,
                              split_fractions=(0.72, 0.08, 0.2))
    for i in range(0, len(train), 7):
        info = train.get_data_info(i)
        digit = pools['train'].images[_index(info)].astype(float)
        assert pools['train'].labels[_index(info)] == info['gt_label']
        expected = digit[..., None] / 255 * PGD_COLORS[info['bias_label']]
        # std 1e-4 is far below one grey level
        assert np.abs(_rgb(info['img_path']) - expected * 255).max() <= 1


def test_full_mnist_is_split_in_order(tmp_path, fake_mnist):
    mnist = tmp_path / 'mnist'
    parts = fake_mnist(mnist, n_test=30, n_train=100, suffix='')
    root = tmp_path / 'pgd'
    kw = dict(severity='10pct', mnist_root=str(mnist), seed=2)
    train = PGDColoredMNIST(str(root), split='train', **kw, **FAST)
    valid = PGDColoredMNIST(str(root), split='valid', **kw, **FAST)
    test = PGDColoredMNIST(str(root), split='test', **kw, **FAST)
    assert (len(train), len(valid), len(test)) == (90, 10, 30)
    images, labels = parts['train']
    for ds, offset in ((train, 0), (valid, 90)):
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            k = offset + _index(info)  # file i = training digit offset + i
            assert labels[k] == info['gt_label']
            grey = _rgb(info['img_path']).max(axis=2) > 0
            np.testing.assert_array_equal(grey, images[k] > 0)
    meta = json.loads((root / '10pct' / 'meta.json').read_text())
    assert meta['source'] == 'train+t10k' and 'split_fractions' not in meta


def test_determinism_seed_and_noise(tmp_path, t10k_root):

    def gen(name, **kw):
        generate_pgd_colored_mnist(str(tmp_path / name), str(t10k_root),
                                   ['1pct'], **kw)
        out = {}
        for dirpath, _, names in os.walk(tmp_path / name):
            for n in names:
                p = os.path.join(dirpath, n)
                out[os.path.relpath(p, tmp_path / name)] = open(p,
                                                                'rb').read()
        return out

    a, b, c = gen('a'), gen('b'), gen('c', seed=1)
    assert len(a) == 144 + 16 + 40 + 2 and a == b and a != c
    with pytest.raises(DatasetError,
                       match='color_noise=0.0001 on disk but 0.01'):
        PGDColoredMNIST(str(tmp_path / 'a'), severity='1pct',
                        color_noise=0.01)
    with pytest.raises(ValueError, match='color_noise=-1'):
        PGDColoredMNIST(str(tmp_path / 'a'), color_noise=-1)
    with pytest.raises(ValueError, match='severity="2pct"'):
        PGDColoredMNIST(str(tmp_path / 'a'), severity='2pct')


def test_missing_mnist(tmp_path):
    with pytest.raises(DatasetError) as e:
        PGDColoredMNIST(str(tmp_path / 'pgd'), split='test',
                        mnist_root=str(tmp_path / 'none'))
    msg = str(e.value)
    assert f'mnist_root="{tmp_path / "none"}" does not exist' in msg
    assert str(tmp_path / 'pgd' / 'test') in msg
    assert 't10k-images-idx3-ubyte.gz' in msg and '--download' in msg


def test_config_with_pgd_augmentation(tmp_path, t10k_root, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the config's mnist_root is relative
    root = tmp_path / 'pgd'
    generate_pgd_colored_mnist(str(root), str(t10k_root), ['1pct'])
    cfg, train = build_config_dataset('pgd_cmnist.py', root, 'train')
    names = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert names == ['LoadImageFromFile', 'RandomResizedCrop', 'ColorJitter',
                     'RandomRotation', 'PackInputs']
    assert cfg.val_cfg.selection_metric == 'valid/acc'
    np.random.seed(0)
    for idx in range(0, len(train), 9):  # scale up to 1.1 is accepted
        item = train[idx]
        assert tuple(item['inputs'].shape) == (3, 28, 28)
        assert item['data_samples']['gt_label'] == train.get_gt_labels()[idx]


def test_prepare_data_pgd_cmnist(tmp_path, t10k_root, capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        'prepare_data_tool', os.path.join(REPO, 'tools', 'data',
                                          'prepare_data.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / 'out'
    status = tool.main(['pgd_cmnist', '--mnist-root', str(t10k_root),
                        '--out', str(out), '--severities', '0.5pct',
                        '--color-noise', '5e-4', '--seed', '4'])
    text = capsys.readouterr().out
    assert status == 0, text
    assert f'wrote   {out / "0.5pct"}: train 144 samples' in text
    assert 'test-only MNIST' in text
    meta = json.loads((out / '0.5pct' / 'meta.json').read_text())
    assert meta['color_noise'] == 5e-4 and meta['seed'] == 4
    status = tool.main(['pgd_cmnist', '--mnist-root', str(t10k_root),
                        '--out', str(out), '--severities', '0.5pct'])
    err = capsys.readouterr().err
    assert status == 1 and err.count('\n') == 1
    assert 'color_noise=0.0005 on disk but 0.0001' in err
