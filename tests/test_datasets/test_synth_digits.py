import json
import os

import cv2
import numpy as np
import pytest

from debiascls.datasets import (DatasetError, SynthDigits,
                                generate_synth_digits, render_digits)
from debiascls.datasets.color_bias import LFF_COLORS
from debiascls.datasets.synth_digits import synth_digits_dir

SEVERITIES = ('0.5pct', '1pct', '2pct', '5pct', 'unbiased')
# conflicting samples per class: round(ratio * n_c), halves up, computed
# by hand for 50 train and 10 valid digits per class
TRAIN_CONFLICTING = {'0.5pct': 0, '1pct': 1, '2pct': 1, '5pct': 3,
                     'unbiased': 45}
VALID_CONFLICTING = {'0.5pct': 0, '1pct': 0, '2pct': 0, '5pct': 1,
                     'unbiased': 9}
SIZES = dict(train_size=500, valid_size=100, test_per_cell=2)


@pytest.fixture(scope='module')
def synth_root(tmp_path_factory):
    """All severities of a small SynthDigits copy (seed 0)."""
    data_root = tmp_path_factory.mktemp('synth')
    generate_synth_digits(synth_digits_dir(str(data_root), 0, **SIZES),
                          seed=0, **SIZES)
    return str(data_root)


def _files(folder):
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, 'rb') as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


def test_layout_dir_naming(tmp_path):
    assert synth_digits_dir('d', 0) == os.path.join('d', 'seed0')
    assert synth_digits_dir('d', 3, 40, 20, 1) == os.path.join(
        'd', 'seed3_n40-20-1')
    assert synth_digits_dir('d', 0, 12000, 2000, 5) == os.path.join(
        'd', 'seed0_n12000-2000-5')
    ds = SynthDigits(str(tmp_path), severity='1pct', split='valid', seed=3,
                     train_size=40, valid_size=20, test_per_cell=1)
    assert ds.layout_root == str(tmp_path / 'seed3_n40-20-1')
    assert sorted(os.listdir(tmp_path)) == ['seed3_n40-20-1']
    assert sorted(os.listdir(tmp_path / 'seed3_n40-20-1')) == ['1pct',
                                                             'test']
    assert len(ds) == 20


def test_severity_ratios_exact_per_class(synth_root):
    for sev in SEVERITIES:
        for split, expected, n_c in (('train', TRAIN_CONFLICTING, 50),
                                     ('valid', VALID_CONFLICTING, 10)):
            ds = SynthDigits(synth_root, severity=sev, split=split, **SIZES)
            gt, conf = ds.get_gt_labels(), ds.get_conflicting_mask()
            assert len(ds) == 10 * n_c
            for c in range(10):
                assert (gt == c).sum() == n_c
                assert (conf & (gt == c)).sum() == expected[sev], (sev, split)
        meta = json.loads(
            open(os.path.join(synth_digits_dir(synth_root, 0, **SIZES), sev,
                              'meta.json')).read())
        assert meta['train']['num_conflicting'] == 10 * TRAIN_CONFLICTING[sev]
        assert meta['severity'] == sev


def test_unbiased_severity_has_uniform_colours(synth_root):
    ds = SynthDigits(synth_root, severity='unbiased', split='train', **SIZES)
    cells = np.zeros((10, 10), int)
    np.add.at(cells, (ds.get_gt_labels(), ds.get_bias_labels()), 1)
    # 45 conflicting spread over 9 colours (5 each) + 5 aligned
    assert (cells == 5).all()


def test_test_split_exact_cells(synth_root):
    ds = SynthDigits(synth_root, severity='5pct', split='test', **SIZES)
    cells = np.zeros((10, 10), int)
    np.add.at(cells, (ds.get_gt_labels(), ds.get_bias_labels()), 1)
    assert (cells == 2).all()
    assert ds.test_mode


def test_digits_shared_by_severities(synth_root):
    """Severities differ only in colour: the grey digits are identical."""
    a = SynthDigits(synth_root, severity='1pct', split='train', **SIZES)
    b = SynthDigits(synth_root, severity='unbiased', split='train', **SIZES)

    def intensities(ds):
        """Grey level of every pixel, by least squares on the mean colour
        of each sample's bias label."""
        out = {}
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            img = cv2.imread(info['img_path'], cv2.IMREAD_COLOR)[..., ::-1]
            c = LFF_COLORS[info['bias_label']]
            index = os.path.basename(info['img_path']).split('_')[0]
            out[index] = img.astype(float) @ c / (c @ c)
        return out

    ia, ib = intensities(a), intensities(b)
    assert sorted(ia) == sorted(ib) and len(ia) == 500
    keys = sorted(ia)
    same = np.array([np.abs(ia[k] - ib[k]).max() for k in keys])
    assert same.max() <= 12  # colour jitter (std 0.005) and rounding
    shifted = np.array([np.abs(ia[k] - ib[keys[i - 1]]).mean()
                        for i, k in enumerate(keys)])
    assert shifted.min() > 10  # other digits are far apart


def test_generation_deterministic_from_seed(tmp_path):
    kw = dict(severities=['1pct'], train_size=40, valid_size=20,
              test_per_cell=1)
    generate_synth_digits(str(tmp_path / 'a'), seed=0, **kw)
    generate_synth_digits(str(tmp_path / 'b'), seed=0, **kw)
    generate_synth_digits(str(tmp_path / 'c'), seed=1, **kw)
    a, b, c = (_files(tmp_path / n) for n in 'abc')
    assert len(a) == 40 + 20 + 100 + 2
    assert a == b
    assert sum(a[k] != c.get(k) for k in a) > 100


def test_existing_layout_kept_and_checked(tmp_path):
    kw = dict(train_size=40, valid_size=20, test_per_cell=1)
    ds = SynthDigits(str(tmp_path), severity='2pct', split='train', **kw)
    path = ds.get_data_info(0)['img_path']
    mtime = os.stat(path).st_mtime_ns
    again = SynthDigits(str(tmp_path), severity='2pct', split='train', **kw)
    assert os.stat(path).st_mtime_ns == mtime  # not regenerated
    np.testing.assert_array_equal(again.get_bias_labels(),
                                  ds.get_bias_labels())
    with pytest.raises(DatasetError, match='color_std=0.005 on disk but 0.05'):
        SynthDigits(str(tmp_path), severity='2pct', split='train',
                    color_std=0.05, **kw)
    os.rename(os.path.join(ds.layout_root, '2pct', 'valid'),
              tmp_path / 'moved')
    with pytest.raises(DatasetError, match='incomplete'):
        SynthDigits(str(tmp_path), severity='2pct', split='valid', **kw)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='train_size and valid_size >= 10'):
        generate_synth_digits(str(tmp_path), train_size=5)
    with pytest.raises(ValueError, match='Unknown SynthDigits severity'):
        generate_synth_digits(str(tmp_path), severities=['10pct'])
    with pytest.raises(ValueError, match='severity="10pct"'):
        SynthDigits(str(tmp_path), severity='10pct')


def test_render_digits():
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3, 3, 3])
    out = render_digits(labels, np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.shape == (14, 28, 28)
    # peak intensity = 255 * gain, gain in [0.85, 1]
    peaks = out.reshape(14, -1).max(1)
    assert (peaks >= 216).all()
    ink = (out > 64).reshape(14, -1).mean(1)
    assert (ink > 0.03).all() and (ink < 0.5).all()
    # strokes stay inside the image: the 1-pixel border is nearly empty
    border = np.concatenate([out[:, 0], out[:, -1], out[:, :, 0],
                             out[:, :, -1]], axis=1)
    assert (border > 64).mean() < 0.05
    # the five 3s all differ
    threes = out[labels == 3].astype(int)
    for i in range(5):
        for j in range(i + 1, 5):
            assert np.abs(threes[i] - threes[j]).sum() > 1000
    again = render_digits(labels, np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)
    assert not np.array_equal(out,
                              render_digits(labels,
                                            np.random.default_rng(1)))
