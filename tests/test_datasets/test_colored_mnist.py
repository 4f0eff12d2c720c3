import json
import os
import re

import cv2
import numpy as np
import pytest

from debiascls.datasets import ColoredMNIST, DatasetError
from debiascls.datasets.color_bias import (LFF_COLORS, allocate,
                                           assign_bias_total,
                                           lff_bias_labels,
                                           release_conflicting)
from debiascls.datasets.colored_mnist import generate_colored_mnist
from debiascls.datasets.mnist_source import load_mnist_splits

NAME = re.compile(r'^(\d{5})_(\d)_(\d)\.png$')


def _files(folder):
    """{relative path: bytes} of every file under ``folder``."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, 'rb') as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


def _rgb(path):
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]


def test_generated_layout(tmp_path, t10k_root):
    root = tmp_path / 'cmnist'
    train = ColoredMNIST(str(root), severity='5pct', split='train',
                         mnist_root=str(t10k_root))
    # train generates its severity folder and the shared test folder
    assert sorted(os.listdir(root)) == ['5pct', 'test']
    assert sorted(os.listdir(root / '5pct')) == ['align', 'conflict',
                                                  'meta.json', 'valid']
    for kind in ('align', 'conflict'):
        for c in os.listdir(root / '5pct' / kind):
            for name in os.listdir(root / '5pct' / kind / c):
                _, t, b = NAME.match(name).groups()
                assert t == c and (t == b) == (kind == 'align')
    valid_names = os.listdir(root / '5pct' / 'valid')
    assert all(NAME.match(n) for n in valid_names)  # flat: no sub-folders
    assert sorted(os.listdir(root / 'test')) == ['0', '1', '2', '3', '4', '5',
                                                 '6', '7', '8', '9',
                                                 'meta.json']
    for c in range(10):
        for name in os.listdir(root / 'test' / str(c)):
            assert NAME.match(name).group(2) == str(c)
    # 200 t10k digits split 0.7 / 0.1 / 0.2
    valid = ColoredMNIST(str(root), severity='5pct', split='valid')
    test = ColoredMNIST(str(root), severity='5pct', split='test')
    assert (len(train), len(valid), len(test)) == (140, 20, 40)
    assert len(valid_names) == 20
    meta = json.loads((root / '5pct' / 'meta.json').read_text())
    assert meta['source'] == 't10k' and meta['seed'] == 0
    assert meta['split_fractions'] == [0.7, 0.1, 0.2]
    assert meta['color_std'] == 0.005 and meta['conflict_ratio'] == 0.05
    assert meta['train']['num_samples'] == 140
    assert meta['train']['num_conflicting'] == int(
        train.get_conflicting_mask().sum())
    assert 'valid_size' not in meta  # unused by a t10k-only source
    test_meta = json.loads((root / 'test' / 'meta.json').read_text())
    assert test_meta['test'] == dict(
        num_samples=40, num_aligned=int(test.get_aligned_mask().sum()),
        num_conflicting=int(test.get_conflicting_mask().sum()))


def test_conflicting_counts_and_pixels(tmp_path, t10k_root):
    root = tmp_path / 'cmnist'
    train = ColoredMNIST(str(root), severity='5pct', split='train',
                         mnist_root=str(t10k_root), seed=4)
    pools = load_mnist_splits(str(t10k_root), seed=4)
    gt, bias = train.get_gt_labels(), train.get_bias_labels()
    # the release's share: 2,449 of 55,000 -> round(140 * 0.04453) = 6,
    # allotted to the classes by size (largest remainder)
    total = release_conflicting('5pct', len(gt))
    assert total == 6 == int((gt != bias).sum())
    sizes = [int((pools['train'].labels == c).sum()) for c in range(10)]
    per_class = allocate(total, sizes)
    for c in range(10):
        assert (gt == c).sum() == sizes[c]
        assert ((gt == c) & (bias != c)).sum() == per_class[c]
    # each file is digit i of the train pool, coloured with its bias colour
    # (truncated to uint8 as LfF's generator does)
    for i in range(len(train)):
        info = train.get_data_info(i)
        index = int(NAME.match(os.path.basename(info['img_path'])).group(1))
        digit = pools['train'].images[index].astype(float)
        assert pools['train'].labels[index] == info['gt_label']
        img = _rgb(info['img_path']).astype(float)
        expected = digit[..., None] * LFF_COLORS[info['bias_label']]
        # jitter std 0.005 of 255: far below 8 grey levels
        assert np.abs(img - expected).max() <= 8
        assert (img[digit == 0] == 0).all()


def test_release_counts_on_55000_digits():
    """The four severity folders of the DisEnt/BE release."""
    assert [release_conflicting(s, 55000) for s in
            ('0.5pct', '1pct', '2pct', '5pct')] == [249, 491, 986, 2449]
    labels = np.arange(55000) % 10
    bias = assign_bias_total(labels, 491, 10, np.random.default_rng(0))
    assert int((bias != labels).sum()) == 491
    # conflicting colours balanced over the 9 other colours per class
    for c in range(10):
        counts = np.bincount(bias[(labels == c) & (bias != c)], minlength=10)
        assert counts[c] == 0
        others = np.delete(counts, c)
        assert others.max() - others.min() <= 1


def test_lff_protocol(tmp_path, fake_mnist):
    mnist = tmp_path / 'mnist'
    fake_mnist(mnist, n_test=100, n_train=200)
    root = tmp_path / 'cmnist_lff'
    kw = dict(mnist_root=str(mnist), severity='5pct', protocol='lff')
    train = ColoredMNIST(str(root), split='train', **kw)
    test = ColoredMNIST(str(root), split='test', **kw)
    # every training digit, no valid folder, the test digits
    assert (len(train), len(test)) == (200, 100)
    assert sorted(os.listdir(root / '5pct')) == ['align', 'conflict',
                                                 'meta.json']
    assert json.loads((root / '5pct' / 'meta.json').read_text())[
        'protocol'] == 'lff'
    # LfF's order-based assignment: 20 digits per class at 95 % aligned ->
    # block ends round(20 * cumsum([.95 or .05/9 ...])): one conflicting
    # sample per class
    gt, bias = train.get_gt_labels(), train.get_bias_labels()
    assert int((gt != bias).sum()) == 10
    pools = load_mnist_splits(str(mnist), 0, valid_size=0)
    np.testing.assert_array_equal(
        np.sort(bias), np.sort(lff_bias_labels(pools['train'].labels, 0.95)))
    # test: 10 % of each colour within each class (10 digits per class)
    gt, bias = test.get_gt_labels(), test.get_bias_labels()
    for c in range(10):
        assert np.bincount(bias[gt == c], minlength=10).tolist() == [1] * 10
    with pytest.raises(DatasetError, match='no validation split'):
        ColoredMNIST(str(root), split='valid', **kw)
    # the other protocol's folder is refused, not silently reused
    with pytest.raises(DatasetError, match="protocol='lff' on disk"):
        ColoredMNIST(str(root), split='train', mnist_root=str(mnist),
                     severity='5pct')


def test_lff_bias_labels_are_order_based():
    # class 3 of 20 at 90 % aligned: shares 0.1 / 9 for colours 0-2 and 4-9,
    # 0.9 for colour 3; block ends round(20 * cumsum) = 0, 0, 1, 19, 19,
    # 19, 19, 20, 20, 20 (half to even); sample k takes the first colour
    # whose end exceeds k: colour 2, then 3 (18 samples), then 7.
    labels = np.full(20, 3)
    assert lff_bias_labels(labels, 0.9).tolist() == [2] + [3] * 18 + [7]
    # classes are assigned independently, in data order: two samples per
    # class at 50 %: class 0's ends 1, 1, 1, 1, 1, 2, ... give colours 0, 5;
    # class 3's ends 0, 0, 0, 1, 1, 2, ... give 3, 5
    mixed = np.array([0, 3, 0, 3])
    assert lff_bias_labels(mixed, 0.5).tolist() == [0, 3, 5, 5]


def test_test_split_colours_balanced_per_class(tmp_path, fake_mnist):
    mnist = tmp_path / 'mnist'
    fake_mnist(mnist, 500)  # 100 test digits, about 10 per class
    test = ColoredMNIST(str(tmp_path / 'cm'), split='test',
                        mnist_root=str(mnist))
    gt, bias = test.get_gt_labels(), test.get_bias_labels()
    assert len(gt) == 100
    for c in range(10):
        counts = np.bincount(bias[gt == c], minlength=10)
        assert counts.max() - counts.min() <= 1


def test_determinism(tmp_path, t10k_root):

    def gen(name, seed):
        generate_colored_mnist(str(tmp_path / name), str(t10k_root), ['1pct'],
                               seed=seed)
        return _files(tmp_path / name)

    a, b, c = gen('a', 0), gen('b', 0), gen('c', 1)
    assert len(a) == 140 + 20 + 40 + 2
    assert a == b
    assert a != c
    # another seed gives another split of the digits and other colours
    assert set(a) != set(c)


def test_existing_layout_needs_no_mnist(tmp_path, t10k_root):
    root = tmp_path / 'cmnist'
    first = ColoredMNIST(str(root), severity='2pct', split='valid',
                         mnist_root=str(t10k_root))
    again = ColoredMNIST(str(root), severity='2pct', split='valid')
    assert again.mnist_root is None
    np.testing.assert_array_equal(first.get_gt_labels(),
                                  again.get_gt_labels())
    np.testing.assert_array_equal(first.get_bias_labels(),
                                  again.get_bias_labels())
    # the train split of the same severity exists too
    assert len(ColoredMNIST(str(root), severity='2pct', split='train')) == 140


def test_missing_mnist_says_what_to_put_where(tmp_path):
    root = tmp_path / 'cmnist'
    with pytest.raises(DatasetError) as e:
        ColoredMNIST(str(root), severity='1pct', split='train')
    msg = str(e.value)
    assert 'no mnist_root was given' in msg
    assert str(root / '1pct' / 'align') in msg
    for name in ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'):
        assert name in msg
    assert '--download' in msg
    assert not root.exists() or os.listdir(root) == []
    with pytest.raises(DatasetError, match='does not exist') as e:
        ColoredMNIST(str(root), split='test',
                     mnist_root=str(tmp_path / 'no_mnist'))
    assert str(tmp_path / 'no_mnist') in str(e.value)
    # a folder with only the image file of a pair is not usable
    (tmp_path / 'half').mkdir()
    (tmp_path / 'half' / 't10k-images-idx3-ubyte.gz').write_bytes(b'')
    with pytest.raises(DatasetError, match='has no MNIST IDX image\\+label'):
        ColoredMNIST(str(root), split='test', mnist_root=str(tmp_path /
                                                             'half'))


def test_other_generation_parameters_refused(tmp_path, t10k_root):
    root = tmp_path / 'cmnist'
    ColoredMNIST(str(root), severity='1pct', split='train',
                 mnist_root=str(t10k_root))
    with pytest.raises(DatasetError) as e:
        ColoredMNIST(str(root), severity='1pct', split='train',
                     color_std=0.01)
    assert 'color_std=0.005 on disk but 0.01 requested' in str(e.value)
    assert str(root / '1pct' / 'meta.json') in str(e.value)
    with pytest.raises(DatasetError, match='seed=0 on disk but 3'):
        ColoredMNIST(str(root), split='test', seed=3)
    # generating a new severity next to them checks the existing test/
    with pytest.raises(DatasetError, match='color_std'):
        ColoredMNIST(str(root), severity='2pct', split='train',
                     mnist_root=str(t10k_root), color_std=0.02)
    assert not (root / '2pct').exists()
    # nothing left to generate: the existing folders are still checked
    with pytest.raises(DatasetError, match='color_std=0.005 on disk but 0.02'):
        generate_colored_mnist(str(root), None, ['1pct'], color_std=0.02)
    assert generate_colored_mnist(str(root), None, ['1pct']) == {}


def test_full_mnist_source_uses_valid_size(tmp_path, fake_mnist):
    mnist = tmp_path / 'mnist'
    fake_mnist(mnist, n_test=50, n_train=120, suffix='')
    root = tmp_path / 'cmnist'
    kw = dict(mnist_root=str(mnist), valid_size=20, severity='1pct')
    train = ColoredMNIST(str(root), split='train', **kw)
    valid = ColoredMNIST(str(root), split='valid', **kw)
    test = ColoredMNIST(str(root), split='test', **kw)
    assert (len(train), len(valid), len(test)) == (100, 20, 50)
    meta = json.loads((root / '1pct' / 'meta.json').read_text())
    assert meta['source'] == 'train+t10k' and meta['valid_size'] == 20
    assert 'split_fractions' not in meta
    with pytest.raises(DatasetError, match='valid_size=20 on disk but 30'):
        ColoredMNIST(str(root), split='train', **dict(kw, valid_size=30))


def test_torchvision_folder_layout_is_found(tmp_path, fake_mnist):
    raw = tmp_path / 'mnist' / 'MNIST' / 'raw'
    fake_mnist(raw, n_test=50, suffix='')
    test = ColoredMNIST(str(tmp_path / 'cm'), split='test',
                        mnist_root=str(tmp_path / 'mnist'))
    assert len(test) == 10  # 0.2 of 50


def test_incomplete_layout_and_bad_severity(tmp_path, t10k_root):
    root = tmp_path / 'cmnist'
    ColoredMNIST(str(root), severity='1pct', split='train',
                 mnist_root=str(t10k_root))
    os.rename(root / '1pct' / 'valid', tmp_path / 'moved')
    with pytest.raises(DatasetError, match='incomplete') as e:
        ColoredMNIST(str(root), severity='1pct', split='valid',
                     mnist_root=str(t10k_root))
    assert str(root / '1pct') in str(e.value)
    with pytest.raises(ValueError, match='severity="3pct"'):
        ColoredMNIST(str(root), severity='3pct')
    with pytest.raises(ValueError, match='Unknown Colored MNIST severity'):
        generate_colored_mnist(str(root), str(t10k_root), ['3pct'])


def test_other_mnist_source_refused(tmp_path, t10k_root, fake_mnist):
    root = tmp_path / 'cmnist'
    ColoredMNIST(str(root), split='test', mnist_root=str(t10k_root))
    full = tmp_path / 'full'
    fake_mnist(full, n_test=50, n_train=60)
    with pytest.raises(DatasetError) as e:
        ColoredMNIST(str(root), split='test', mnist_root=str(full),
                     valid_size=10)
    assert "source='t10k' on disk but 'train+t10k' requested" in str(e.value)
