"""Waterbirds: the standard metadata.csv release (tiny copies), IE's bias
severities by seeded subsampling, and the BiasEnsemble-style folder."""
from fractions import Fraction

import numpy as np
import pytest
from layouts import (FAST, WB_HEADER, build_config_dataset, check_packed,
                     make_dogs_and_cats, rel_paths, wb_rows, write_metadata)

from debiascls.datasets import DatasetError, Waterbirds
from debiascls.datasets.waterbirds import (allocate, conflicting_count,
                                           severity_ratio)

#: (split, y, place) -> count. Train: 398 aligned, 30 conflicting
#: (22 landbirds on water, 8 waterbirds on land).
GROUPS = {(0, 0, 0): 300, (0, 0, 1): 22, (0, 1, 0): 8, (0, 1, 1): 98,
          (1, 0, 0): 3, (1, 0, 1): 3, (1, 1, 0): 2, (1, 1, 1): 2,
          (2, 0, 0): 4, (2, 0, 1): 4, (2, 1, 0): 3, (2, 1, 1): 3}
#: severity -> (conflicting kept, per class)
EXPECTED = {'0.5pct': (2, (1, 1)), '1pct': (4, (3, 1)),
            '2pct': (8, (6, 2)), '5pct': (21, (15, 6))}


@pytest.fixture(scope='module')
def meta_root(tmp_path_factory):
    """Metadata only (no images): the datasets use verify_files=False."""
    root = tmp_path_factory.mktemp('wb') / 'waterbird_complete95_forest2water2'
    return write_metadata(root, wb_rows(GROUPS), images=False)


def _wb(root, **kw):
    kw.setdefault('verify_files', False)
    return Waterbirds(str(root), **kw, **FAST)


def _conflicting_paths(ds):
    return {ds.get_data_info(int(i))['img_path']
            for i in np.flatnonzero(ds.get_conflicting_mask())}


def test_standard_splits(meta_root):
    train = _wb(meta_root, split='train')
    assert len(train) == 428
    assert train.get_conflicting_mask().sum() == 30
    assert train.subsample_counts is None
    paths = rel_paths(train, meta_root)
    assert paths == sorted(paths)
    assert paths[0] == '001.Black_footed_Albatross/bird_00323.jpg'
    valid = _wb(meta_root, split='valid')
    test = _wb(meta_root, split='test')
    assert (len(valid), len(test)) == (10, 14)
    assert valid.test_mode and test.test_mode and not train.test_mode
    # y and place are the labels; species folder 001 holds waterbirds (y=1)
    assert test.get_gt_labels().tolist() == [1] * 6 + [0] * 8
    assert test.get_bias_labels().tolist() == [0] * 3 + [1] * 3 + [0] * 4 \
        + [1] * 4
    assert test.get_conflicting_mask().sum() == 7
    assert test.metainfo['classes'] == ('landbird', 'waterbird')
    assert test.metainfo['bias_classes'] == ('land', 'water')
    assert test.metainfo['bias_attribute'] == 'place'
    assert test.metainfo['aligned_bias'] == (0, 1)


@pytest.mark.parametrize('severity', sorted(EXPECTED))
def test_severity_gives_the_exact_requested_count(meta_root, severity):
    wanted, per_class = EXPECTED[severity]
    ds = _wb(meta_root, severity=severity, split='train', data_seed=3)
    conflicting = ds.get_conflicting_mask()
    assert len(ds) == 398 + wanted and conflicting.sum() == wanted
    assert conflicting.sum() / len(ds) == pytest.approx(
        float(severity_ratio(severity)), abs=0.5 / len(ds))
    gt = ds.get_gt_labels()
    assert tuple(np.bincount(gt[conflicting], minlength=2)) == per_class
    assert ds.get_aligned_mask().sum() == 398  # every aligned sample kept
    assert ds.subsample_counts == dict(
        aligned=398, conflicting_available=30, conflicting=wanted,
        conflicting_per_class=per_class)
    paths = rel_paths(ds, meta_root)
    assert paths == sorted(paths)


def test_subsampling_is_deterministic_and_seeded(meta_root):
    def picked(seed):
        return _conflicting_paths(
            _wb(meta_root, severity='2pct', split='train', data_seed=seed))
    assert picked(0) == picked(0)
    assert picked(7) == picked(7)
    draws = [frozenset(picked(seed)) for seed in range(5)]
    assert len(set(draws)) > 1
    assert picked(0) <= _conflicting_paths(_wb(meta_root, split='train'))


def test_valid_and_test_are_never_subsampled(meta_root):
    for split in ('valid', 'test'):
        ref = rel_paths(_wb(meta_root, split=split), meta_root)
        for severity in ('0.5pct', '5pct'):
            for seed in (0, 1):
                ds = _wb(meta_root, severity=severity, split=split,
                         data_seed=seed)
                assert rel_paths(ds, meta_root) == ref
                assert ds.subsample_counts is None


def test_counts_of_the_standard_release():
    # The numbers documented in waterbirds.py and docs/data_preparation.md
    # (4,555 aligned; 184 landbirds on water, 56 waterbirds on land).
    table = {'0.5pct': (23, [18, 5]), '1pct': (46, [35, 11]),
             '2pct': (93, [71, 22]), '5pct': (240, [184, 56])}
    for severity, (n, per_class) in table.items():
        assert conflicting_count(4555, severity_ratio(severity)) == n
        assert allocate(n, [184, 56]) == per_class
    assert severity_ratio('0.5pct') == Fraction(1, 200)
    assert conflicting_count(99, Fraction(1, 100)) == 1  # 1.0
    assert conflicting_count(1, Fraction(1, 3)) == 1  # 0.5 rounds up
    assert allocate(3, [1, 1, 1]) == [1, 1, 1]
    assert allocate(1, [2, 2]) == [1, 0]  # ties to the lower class
    with pytest.raises(ValueError):
        allocate(5, [2, 2])


def test_too_few_conflicting_samples(tmp_path):
    groups = {(0, 0, 0): 300, (0, 1, 1): 98, (0, 0, 1): 3}
    root = write_metadata(tmp_path, wb_rows(groups), images=False)
    assert len(_wb(root, severity='0.5pct', split='train')) == 400
    with pytest.raises(DatasetError, match='needs 4 bias-conflicting') as e:
        _wb(root, severity='1pct', split='train')
    assert 'only 3' in str(e.value) and str(tmp_path) in str(e.value)


def test_missing_files(tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(DatasetError) as e:
        _wb(missing, split='train')
    assert f'data_root "{missing}" does not exist' in str(e.value)
    assert 'waterbird_complete95_forest2water2.tar.gz' in str(e.value)
    with pytest.raises(DatasetError) as e:
        _wb(tmp_path, split='train')
    assert f'"{tmp_path / "metadata.csv"}" does not exist' in str(e.value)
    rows = wb_rows({(0, 0, 0): 2, (1, 1, 1): 1, (2, 0, 1): 1})
    write_metadata(tmp_path, rows)
    gone = tmp_path / rows[1]['img_filename']
    gone.unlink()
    with pytest.raises(DatasetError, match='is missing') as e:
        Waterbirds(str(tmp_path), split='train', **FAST)
    assert str(gone) in str(e.value)
    # the other splits do not need that file
    assert len(Waterbirds(str(tmp_path), split='test', **FAST)) == 1


@pytest.mark.parametrize('column, value, needle', [
    ('y', 2, "y='2'"), ('place', 'water', "place='water'"),
    ('split', 3, "split='3'"), ('y', '', "y=''"),
])
def test_bad_metadata_values(tmp_path, column, value, needle):
    rows = wb_rows({(0, 0, 0): 2, (2, 1, 1): 2})
    rows[2][column] = value
    write_metadata(tmp_path, rows, images=False)
    with pytest.raises(DatasetError, match='line 4 of') as e:
        _wb(tmp_path, split='test')
    assert needle in str(e.value)
    assert str(tmp_path / 'metadata.csv') in str(e.value)


def test_bad_metadata_header_and_arguments(tmp_path):
    write_metadata(tmp_path, wb_rows({(0, 0, 0): 1}),
                   header=[h for h in WB_HEADER if h != 'place'],
                   images=False)
    with pytest.raises(DatasetError, match='no column') as e:
        _wb(tmp_path, split='train')
    assert 'place' in str(e.value)
    with pytest.raises(ValueError, match='severity="3pct"'):
        _wb(tmp_path, severity='3pct')
    with pytest.raises(ValueError, match='layout="csv"'):
        _wb(tmp_path, layout='csv')
    with pytest.raises(ValueError, match='data_seed=-1'):
        _wb(tmp_path, data_seed=-1)
    with pytest.raises(ValueError, match='split="val"'):
        _wb(tmp_path, split='val')


def test_folder_layout(tmp_path):
    root = make_dogs_and_cats(tmp_path / 'waterbirds')
    train = Waterbirds(str(root), severity='5pct', split='train',
                       layout='folder', **FAST)
    assert rel_paths(train, root) == [
        '5pct/align/0/00000_0_0.png', '5pct/align/1/00001_1_1.png',
        '5pct/conflict/0/00004_0_1.png', '5pct/conflict/1/00003_1_0.png']
    assert train.get_conflicting_mask().tolist() == [False, False, True,
                                                    True]
    assert train.metainfo['classes'] == ('landbird', 'waterbird')
    test = Waterbirds(str(root), split='test', layout='folder', **FAST)
    assert len(test) == 3
    with pytest.raises(DatasetError, match='does not exist') as e:
        Waterbirds(str(root), severity='2pct', split='train',
                   layout='folder', **FAST)
    assert f'"{root / "2pct" / "align"}"' in str(e.value)
    with pytest.raises(ValueError, match='needs a severity'):
        Waterbirds(str(root), split='valid', layout='folder', **FAST)


def test_base_config_builds_and_loads_a_sample(tmp_path):
    groups = {(0, 0, 0): 5, (0, 1, 1): 3, (0, 0, 1): 1, (1, 0, 0): 1,
              (1, 1, 0): 1, (2, 0, 1): 1, (2, 1, 1): 1}
    root = write_metadata(tmp_path / 'waterbird_complete95_forest2water2',
                          wb_rows(groups), size=(20, 30))
    cfg, ds = build_config_dataset('waterbirds.py', root)
    assert isinstance(ds, Waterbirds) and ds.severity == '1pct'
    assert ds.layout == 'metadata' and ds.data_seed == 0
    # 1 % of a train set with 8 aligned samples: no conflicting one
    assert len(ds) == 8 and ds.subsample_counts['conflicting'] == 0
    assert cfg.val_cfg.selection_metric == 'valid/balanced_acc'
    assert cfg.num_classes == 2
    check_packed(ds[0], ds, 0)
    _, valid = build_config_dataset('waterbirds.py', root, 'valid')
    assert len(valid) == 2
    check_packed(valid[1], valid, 1)
