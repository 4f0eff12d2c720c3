"""Corrupted CIFAR-10: LfF's order-based bias assignment, generation from
fake CIFAR-10 python batches into the DisEnt layout, reading an existing
release copy, errors, the config and prepare_data.py."""
import importlib.util
import json
import os
import pickle
import re

import cv2
import numpy as np
import pytest
from layouts import FAST, build_config_dataset, write_image

from debiascls.datasets import (CORRUPTION_TYPES, CorruptedCIFAR10,
                                DatasetError, generate_corrupted_cifar10)
from debiascls.datasets.cifar_source import (TRAIN_BATCHES, load_cifar10,
                                             read_batch, write_batch)
from debiascls.datasets.corrupted_cifar10 import (corrupt_split,
                                                  lff_bias_labels)

NAME = re.compile(r'^(\d{5})_(\d)_(\d)\.png$')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def write_fake_cifar(root, per_batch=10, n_test=20, seed=0):
    """Five data batches of ``per_batch`` random 32x32 images and a test
    batch, labels cycling over the 10 classes; returns (train, test)."""
    rng = np.random.default_rng(seed)
    folder = os.path.join(str(root), 'cifar-10-batches-py')
    parts = []
    for name in list(TRAIN_BATCHES) + ['test_batch']:
        n = n_test if name == 'test_batch' else per_batch
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = rng.permutation(np.arange(n) % 10)
        write_batch(os.path.join(folder, name), images, labels)
        parts.append((images, labels))
    train = (np.concatenate([p[0] for p in parts[:5]]),
             np.concatenate([p[1] for p in parts[:5]]))
    return train, parts[5]


@pytest.fixture(scope='module')
def cifar(tmp_path_factory):
    root = tmp_path_factory.mktemp('cifar')
    train, test = write_fake_cifar(root)
    return root, train, test


@pytest.fixture(scope='module')
def generated(tmp_path_factory, cifar):
    """A 5pct layout (with test/) from 50 train (10 valid) and 20 test
    images."""
    root = tmp_path_factory.mktemp('c10c') / 'cifar10c'
    generate_corrupted_cifar10(str(root), str(cifar[0]), ['5pct'],
                               valid_size=10, seed=3)
    return root


def _ds(root, split, **kw):
    kw.setdefault('valid_size', 10)
    kw.setdefault('seed', 3)
    return CorruptedCIFAR10(str(root), severity='5pct', split=split, **kw,
                            **FAST)


def _files(folder):
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(dirpath, name), 'rb') as f:
                out[os.path.relpath(os.path.join(dirpath, name),
                                    folder)] = f.read()
    return out


# --------------------------------------------------------------------- #
# LfF's bias assignment
# --------------------------------------------------------------------- #
def test_lff_bias_labels_counts_and_order():
    targets = np.repeat(np.arange(10), 1000)
    np.random.default_rng(0).shuffle(targets)
    bias = lff_bias_labels(targets, 1 - 0.05)
    for c in range(10):
        b = bias[targets == c]
        counts = np.bincount(b, minlength=10)
        assert counts[c] == 950 and counts.sum() == 1000
        assert set(counts[np.arange(10) != c]) <= {5, 6}  # 50 / 9 rounded
        # order-based: in the class's order, 0 .. c-1, then c, then c+1 ..
        assert (np.diff(b) >= 0).all()
    uniform = lff_bias_labels(targets, 0.1)
    for c in range(10):
        assert np.bincount(uniform[targets == c], minlength=10).tolist() == \
            [100] * 10
    # numpy's round-half-to-even of the cumulative milestones (LfF):
    # 10 samples, 0.5 % -> milestones round(0.0056 k) = 0, then 10 aligned
    assert (lff_bias_labels(np.full(10, 4), 0.995) == 4).all()


# --------------------------------------------------------------------- #
# The CIFAR-10 source
# --------------------------------------------------------------------- #
def test_cifar_batches_read_back(cifar, tmp_path):
    root, (images, labels), _ = cifar
    pools = load_cifar10(str(root))
    np.testing.assert_array_equal(pools['train'].images, images)
    np.testing.assert_array_equal(pools['train'].labels, labels)
    assert len(pools['test']) == 20
    # cifar_root may also be the cifar-10-batches-py folder itself
    same = load_cifar10(str(root / 'cifar-10-batches-py'))
    np.testing.assert_array_equal(same['test'].images, pools['test'].images)


def test_unsafe_or_malformed_batch_refused(tmp_path):

    class Payload:

        def __reduce__(self):
            return (os.system, ('echo unsafe',))

    evil = tmp_path / 'evil'
    evil.write_bytes(pickle.dumps({b'data': Payload()}, protocol=2))
    with pytest.raises(DatasetError, match='is not allowed') as e:
        read_batch(str(evil))
    assert str(evil) in str(e.value)
    bad = tmp_path / 'bad'
    bad.write_bytes(pickle.dumps({b'data': np.zeros((2, 10), np.uint8),
                                  b'labels': [0, 1]}, protocol=2))
    with pytest.raises(DatasetError, match='N x 3072 uint8'):
        read_batch(str(bad))
    bad.write_bytes(pickle.dumps({b'data': np.zeros((2, 3072), np.uint8),
                                  b'labels': [0, 12]}, protocol=2))
    with pytest.raises(DatasetError, match='label 12 of image 1'):
        read_batch(str(bad))
    bad.write_bytes(b'not a pickle')
    with pytest.raises(DatasetError, match='not a readable CIFAR-10'):
        read_batch(str(bad))


def test_missing_cifar_says_what_to_put_where(tmp_path, cifar):
    root = tmp_path / 'c10c'
    with pytest.raises(DatasetError) as e:
        CorruptedCIFAR10(str(root), severity='1pct', split='train')
    msg = str(e.value)
    assert 'no cifar_root was given' in msg
    assert str(root / '1pct' / 'align') in msg
    for name in ('data_batch_1', 'data_batch_5', 'test_batch', '--download',
                 'cifar-10-python.tar.gz'):
        assert name in msg
    partial = tmp_path / 'partial' / 'cifar-10-batches-py'
    partial.mkdir(parents=True)
    (partial / 'test_batch').write_bytes(
        (cifar[0] / 'cifar-10-batches-py' / 'test_batch').read_bytes())
    with pytest.raises(DatasetError, match='lacks data_batch_1, data_batch_2'):
        CorruptedCIFAR10(str(root), split='test',
                         cifar_root=str(tmp_path / 'partial'))
    assert not root.exists() or os.listdir(root) == []


# --------------------------------------------------------------------- #
# Generation
# --------------------------------------------------------------------- #
def test_generated_layout_and_counts(generated, cifar):
    root = generated
    assert sorted(os.listdir(root)) == ['5pct', 'test']
    assert sorted(os.listdir(root / '5pct')) == ['align', 'conflict',
                                                  'meta.json', 'valid']
    train, valid, test = (_ds(root, s) for s in ('train', 'valid', 'test'))
    assert (len(train), len(valid), len(test)) == (40, 10, 20)
    # valid holds class sub-folders (DisEnt's valid/*/*)
    for c in os.listdir(root / '5pct' / 'valid'):
        for name in os.listdir(root / '5pct' / 'valid' / c):
            assert NAME.match(name).group(2) == c
    for kind in ('align', 'conflict'):
        for c in os.listdir(root / '5pct' / kind):
            for name in os.listdir(root / '5pct' / kind / c):
                _, t, b = NAME.match(name).groups()
                assert t == c and (t == b) == (kind == 'align')
    meta = json.loads((root / '5pct' / 'meta.json').read_text())
    assert meta['corruptions'] == list(CORRUPTION_TYPES[0])
    assert (meta['level'], meta['seed'], meta['valid_size']) == (5, 3, 10)
    assert meta['conflict_ratio'] == 0.05 and meta['frost'] == 'procedural-v1'
    assert meta['train']['num_samples'] == 40
    test_meta = json.loads((root / 'test' / 'meta.json').read_text())
    assert 'valid_size' not in test_meta and test_meta['aligned_ratio'] == 0.1
    # test: LfF's evaluation assignment (2 images per class, ratio 0.1)
    test_labels = cifar[2][1]
    np.testing.assert_array_equal(
        np.sort(test.get_bias_labels()),
        np.sort(lff_bias_labels(test_labels, 0.1)))
    assert test.metainfo['bias_classes'] == CORRUPTION_TYPES[0]
    assert test.metainfo['classes'][0] == 'airplane'


def test_pixels_are_the_seeded_corruption_of_the_cifar_image(generated,
                                                             cifar):
    # valid = the 10 training images held out by the seed; each file is the
    # corruption of its CIFAR image with the documented seeding
    _, (images, labels), _ = cifar
    valid = _ds(generated, 'valid')
    order = np.random.default_rng(np.random.SeedSequence(
        [3, 0x43494641])).permutation(50)
    idx = np.sort(order[:10])
    bias = lff_bias_labels(labels[idx], 0.95)
    expected = corrupt_split(images[idx], idx, bias, CORRUPTION_TYPES[0], 5,
                             3, 0)
    for i in range(len(valid)):
        info = valid.get_data_info(i)
        k = int(NAME.match(os.path.basename(info['img_path'])).group(1))
        assert info['gt_label'] == labels[idx[k]]
        assert info['bias_label'] == bias[k]
        png = cv2.imread(info['img_path'], cv2.IMREAD_COLOR)[..., ::-1]
        np.testing.assert_array_equal(png, expected[k])
        assert not np.array_equal(png, images[idx[k]])


def test_determinism_and_seed(tmp_path, cifar):

    def gen(name, seed):
        generate_corrupted_cifar10(str(tmp_path / name), str(cifar[0]),
                                   ['1pct'], corruption_type=1, level=2,
                                   seed=seed, valid_size=10)
        return _files(tmp_path / name)

    a, b, c = gen('a', 0), gen('b', 0), gen('c', 1)
    assert len(a) == 40 + 10 + 20 + 2
    assert a == b and a != c


def test_existing_release_copy_needs_no_cifar(tmp_path):
    # a DisEnt-style copy: no meta.json, valid nested one level
    root = tmp_path / 'cifar10c'
    for rel in ('0.5pct/align/3/a_3_3.png', '0.5pct/align/0/b_0_0.png',
                '0.5pct/conflict/1/c_1_7.png', '0.5pct/valid/0/d_0_0.png',
                '0.5pct/valid/5/e_5_2.png', 'test/9/f_9_4.png'):
        write_image(root / rel, size=(32, 32))
    train = CorruptedCIFAR10(str(root), severity='0.5pct', split='train',
                             **FAST)
    assert len(train) == 3 and train.get_conflicting_mask().sum() == 1
    valid = CorruptedCIFAR10(str(root), severity='0.5pct', split='valid',
                             **FAST)
    assert sorted(valid.get_gt_labels().tolist()) == [0, 5]
    test = CorruptedCIFAR10(str(root), split='test', corruption_type=1,
                            **FAST)
    assert test.get_bias_labels().tolist() == [4]
    assert test.metainfo['bias_classes'] == CORRUPTION_TYPES[1]


def test_other_parameters_refused_and_bad_arguments(generated, tmp_path,
                                                   cifar):
    with pytest.raises(DatasetError, match='level=5 on disk but 3') as e:
        _ds(generated, 'train', level=3)
    assert str(generated / '5pct' / 'meta.json') in str(e.value)
    with pytest.raises(DatasetError, match='corruptions='):
        _ds(generated, 'test', corruption_type=1)
    # the test folder does not depend on the valid hold-out
    assert len(_ds(generated, 'test', valid_size=7)) == 20
    with pytest.raises(ValueError, match='level=6'):
        _ds(generated, 'train', level=6)
    with pytest.raises(ValueError, match='must be 0, 1'):
        _ds(generated, 'train', corruption_type=2)
    with pytest.raises(ValueError, match='10 distinct names'):
        _ds(generated, 'train', corruption_type=['Snow'] * 10)
    with pytest.raises(ValueError, match="unknown: \\['Rain'\\]"):
        _ds(generated, 'train', corruption_type=['Rain'] + list(
            CORRUPTION_TYPES[1][1:]))
    with pytest.raises(ValueError, match='severity="3pct"'):
        CorruptedCIFAR10(str(generated), severity='3pct')
    with pytest.raises(ValueError, match='valid_size=60'):
        generate_corrupted_cifar10(str(tmp_path / 'x'), str(cifar[0]),
                                   ['1pct'], valid_size=60)


def test_incomplete_folder(generated, tmp_path, cifar):
    root = tmp_path / 'c10c'
    generate_corrupted_cifar10(str(root), str(cifar[0]), ['2pct'],
                               valid_size=10, with_test=False)
    os.rename(root / '2pct' / 'valid', tmp_path / 'moved')
    with pytest.raises(DatasetError, match='incomplete'):
        CorruptedCIFAR10(str(root), severity='2pct', split='valid',
                         valid_size=10, cifar_root=str(cifar[0]))


def test_custom_corruption_list(tmp_path, cifar):
    names = list(CORRUPTION_TYPES[1][:5]) + list(CORRUPTION_TYPES[0][:5])
    ds = CorruptedCIFAR10(str(tmp_path / 'x'), severity='1pct', split='test',
                          corruption_type=names, cifar_root=str(cifar[0]),
                          valid_size=10, **FAST)
    assert ds.metainfo['bias_classes'] == tuple(names)
    meta = json.loads((tmp_path / 'x' / 'test' / 'meta.json').read_text())
    assert meta['corruptions'] == names


# --------------------------------------------------------------------- #
# Config and tool
# --------------------------------------------------------------------- #
def test_config_pipeline(tmp_path, cifar, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the config's cifar_root is relative
    root = tmp_path / 'cifar10c'
    generate_corrupted_cifar10(str(root), str(cifar[0]), ['1pct'],
                               valid_size=10)
    cfg, test = build_config_dataset('cifar10c.py', root, 'test')
    assert len(test) == 20 and test.split == 'test'
    assert cfg.data_preprocessor['mean'][0] == pytest.approx(0.4914 * 255)
    assert cfg.train_dataloader.dataset.cifar_root == 'data/cifar10'
    assert cfg.val_cfg.selection_metric == 'valid/conflicting_acc'
    # this tiny copy holds out 10 images, not the default 5,000
    cfg.train_dataloader.dataset.valid_size = 10
    from debiascls.registry import DATASETS
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(train) == 40
    for idx in (0, 39):
        item = train[idx]
        assert tuple(item['inputs'].shape) == (3, 32, 32)
        assert item['data_samples'] == dict(
            gt_label=int(train.get_gt_labels()[idx]),
            bias_label=int(train.get_bias_labels()[idx]), sample_idx=idx)


def test_prepare_data_cifar10c(tmp_path, cifar, capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        'prepare_data_tool', os.path.join(REPO, 'tools', 'data',
                                          'prepare_data.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / 'out'
    status = tool.main(['cifar10c', '--cifar-root', str(cifar[0]), '--out',
                        str(out), '--severities', '0.5pct', '--type', '1',
                        '--level', '3', '--valid-size', '10'])
    text = capsys.readouterr().out
    assert status == 0, text
    assert f'wrote   {out / "0.5pct"}: train 40 samples' in text
    assert f'wrote   {out / "test"}: test 20 samples' in text
    meta = json.loads((out / '0.5pct' / 'meta.json').read_text())
    assert meta['corruptions'] == list(CORRUPTION_TYPES[1])
    assert meta['level'] == 3
    status = tool.main(['cifar10c', '--out', str(tmp_path / 'none')])
    err = capsys.readouterr().err
    assert status == 1 and err.startswith('error: ')
    assert err.count('\n') == 1 and 'data_batch_1' in err
