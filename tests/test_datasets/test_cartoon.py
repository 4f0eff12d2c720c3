"""Cartoon Set (PGD's hair colour / face colour benchmark): tiny generated
copies in the release layout (cs*.png + cs*.csv), the class merge, the
seeded splits and subsampling, errors and the config."""
import os

import numpy as np
import pytest
from layouts import FAST, build_config_dataset, check_packed, write_image

from debiascls.datasets import CartoonSet, DatasetError
from debiascls.datasets.cartoon import read_cartoon_attributes
from debiascls.datasets.waterbirds import conflicting_count, severity_ratio

HAIR = (0, 0, 1, 1, 2, 2, 3, 3, -1, -1)
FACE = (0, 0, 1, 1, 2, 2, 3, 3, -1, -1, -1)


def write_cartoons(root, n=400, seed=0, subfolders=0, images=True,
                   aligned=False):
    """``n`` cartoons with uniformly random hair (10) and face (11) colour
    variants (the same variant for both with ``aligned``); returns
    ``{png path: (hair, face)}``."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        folder = os.path.join(str(root), str(i % subfolders)) \
            if subfolders else str(root)
        os.makedirs(folder, exist_ok=True)
        hair, face = int(rng.integers(10)), int(rng.integers(11))
        face = hair if aligned else face
        stem = os.path.join(folder, f'cs{i:06x}{seed}')
        with open(stem + '.csv', 'w') as f:
            f.write(f'"eye_angle", {i % 3}, 3\n"face_color", {face}, 11\n'
                    f'"hair", {i % 111}, 111\n"hair_color", {hair}, 10\n'
                    '"glasses_color", 2, 7\n')
        if images:
            write_image(stem + '.png', value=10 * hair + face, size=(8, 8))
        else:
            open(stem + '.png', 'wb').close()
        out[stem + '.png'] = (hair, face)
    return out


@pytest.fixture(scope='module')
def cartoons(tmp_path_factory):
    root = tmp_path_factory.mktemp('cartoon') / 'cartoonset10k'
    return root, write_cartoons(root)


def _ct(root, split, **kw):
    kw.setdefault('verify_files', False)
    kw.setdefault('severity', '10pct')
    return CartoonSet(str(root), split=split, **kw, **FAST)


def _paths(ds):
    return [ds.get_data_info(i)['img_path'] for i in range(len(ds))]


def test_merge_and_labels(cartoons):
    root, attrs = cartoons
    kept = {p for p, (h, f) in attrs.items() if HAIR[h] >= 0 and FACE[f] >= 0}
    splits = {s: _ct(root, s) for s in ('train', 'valid', 'test')}
    for ds in splits.values():
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            hair, face = attrs[info['img_path']]
            assert (info['gt_label'], info['bias_label']) == (HAIR[hair],
                                                               FACE[face])
        assert _paths(ds) == sorted(_paths(ds))
    paths = [set(_paths(ds)) for ds in splits.values()]
    assert not (paths[0] & paths[1] or paths[0] & paths[2]
                or paths[1] & paths[2])
    assert set.union(*paths) <= kept
    counts = splits['train'].split_counts
    assert counts['kept'] == len(kept)
    assert len(splits['test']) == counts['test'] == round(0.2 * len(kept))
    assert splits['train'].metainfo['classes'][1] == 'hair 2-3'
    assert splits['test'].metainfo['bias_attribute'] == 'face_color'


def test_subsampling_per_class(cartoons):
    root, _ = cartoons
    train, valid = _ct(root, 'train'), _ct(root, 'valid')
    test = _ct(root, 'test')
    gt = np.concatenate([train.get_gt_labels(), valid.get_gt_labels()])
    conflicting = np.concatenate([train.get_conflicting_mask(),
                                  valid.get_conflicting_mask()])
    for c in range(4):
        n_aligned = int(((gt == c) & ~conflicting).sum())
        assert n_aligned > 0
        assert ((gt == c) & conflicting).sum() == conflicting_count(
            n_aligned, severity_ratio('10pct'))
    assert conflicting.sum() > 0
    assert len(valid) == round(0.1 * (len(train) + len(valid)))
    # the test split is not subsampled: about 3/4 conflicting
    assert test.get_conflicting_mask().mean() > 0.5
    # every aligned cartoon outside test is in train or valid
    assert (~conflicting).sum() == train.split_counts['aligned']
    low = _ct(root, 'train', severity='0.5pct')
    assert low.get_conflicting_mask().sum() <= 4
    assert set(_paths(_ct(root, 'test', severity='0.5pct'))) == set(
        _paths(test))  # test does not depend on the severity


def test_seed_determinism_and_subfolders(cartoons, tmp_path):
    root, _ = cartoons
    assert _paths(_ct(root, 'train')) == _paths(_ct(root, 'train'))
    assert _paths(_ct(root, 'train')) != _paths(_ct(root, 'train',
                                                    data_seed=1))
    # cartoonset100k: sub-folders 0/ .. 9/
    big = tmp_path / 'cartoonset100k'
    attrs = write_cartoons(big, n=200, subfolders=3, images=False)
    ds = _ct(big, 'test')
    assert len(ds) and all(p in attrs for p in _paths(ds))
    assert ds.split_counts['kept'] == sum(
        HAIR[h] >= 0 and FACE[f] >= 0 for h, f in attrs.values())


def test_errors(tmp_path):
    with pytest.raises(DatasetError, match='does not exist') as e:
        _ct(tmp_path / 'none', 'train')
    assert 'cartoonset100k.tgz' in str(e.value)
    root = tmp_path / 'ct'
    write_cartoons(root, n=30, images=False)
    png = sorted(root.glob('*.png'))[0]
    # verify_files: an empty image is reported when it is selected
    with pytest.raises(DatasetError, match='is empty'):
        for split in ('train', 'valid', 'test'):
            _ct(root, split, verify_files=True)
    # too few conflicting cartoons for the severity
    few = tmp_path / 'few'
    write_cartoons(few, n=400, images=False, aligned=True)
    with pytest.raises(DatasetError, match='bias-conflicting cartoons'):
        _ct(few, 'train', severity='1pct')
    png.with_suffix('.csv').write_text('"hair_color", 12, 10\n')
    with pytest.raises(DatasetError, match='Line 1 of'):
        _ct(root, 'train')
    png.with_suffix('.csv').write_text('"hair_color", 1, 9\n"face_color", '
                                       '1, 11\n')
    with pytest.raises(DatasetError, match='has 9 variants'):
        _ct(root, 'train')
    png.with_suffix('.csv').write_text('"hair_color", 1, 10\n')
    with pytest.raises(DatasetError, match='no "face_color" line'):
        _ct(root, 'train')
    png.with_suffix('.csv').unlink()
    with pytest.raises(DatasetError, match='has no attribute file'):
        _ct(root, 'train')
    with pytest.raises(ValueError, match='severity="2pct"'):
        _ct(root, 'train', severity='2pct')
    with pytest.raises(ValueError, match='target_map'):
        _ct(root, 'train', target_map=(0, 2, -1, -1, -1, -1, -1, -1, -1, -1))


def test_attribute_file_and_custom_maps(tmp_path):
    root = tmp_path / 'ct'
    attrs = write_cartoons(root, n=300, images=False, seed=2)
    first = sorted(root.glob('*.csv'))[0]
    parsed = read_cartoon_attributes(str(first))
    assert parsed['hair'][1] == 111 and parsed['glasses_color'] == (2, 7)
    # two hair classes (variants 0-4 / 5-9) against two face classes
    ds = _ct(root, 'test', target_map=(0,) * 5 + (1,) * 5,
             bias_map=(0,) * 5 + (1,) * 6)
    assert ds.metainfo['classes'] == ('hair_color 0/1/2/3/4',
                                      'hair_color 5/6/7/8/9')
    assert ds.metainfo['aligned_bias'] == (0, 1)
    for i in range(len(ds)):
        hair, face = attrs[ds.get_data_info(i)['img_path']]
        assert ds.get_gt_labels()[i] == (hair >= 5)
        assert ds.get_bias_labels()[i] == (face >= 5)


def test_config_pipeline(cartoons):
    root, _ = cartoons
    cfg, test = build_config_dataset('cartoon.py', root, 'test')
    assert cfg.num_classes == 4 and cfg.data_seed == 0
    assert cfg.val_cfg.selection_metric == 'valid/acc'
    check_packed(test[0], test, 0)
    assert cfg.train_dataloader.dataset.severity == '1pct'
    from debiascls.registry import DATASETS
    train = DATASETS.build(cfg.train_dataloader.dataset)
    check_packed(train[len(train) - 1], train, len(train) - 1)
