"""BFFHQ read from a tiny copy of the BiasEnsemble release layout."""
import os

import pytest
from layouts import (FAST, build_config_dataset, check_packed, make_bffhq,
                     rel_paths, write_image)

from debiascls.datasets import BFFHQ, DatasetError


@pytest.fixture
def root(tmp_path):
    return make_bffhq(tmp_path / 'bffhq')


def test_train_split_per_severity(root):
    ds = BFFHQ(str(root), severity='0.5pct', split='train', **FAST)
    assert rel_paths(ds, root) == [
        '0.5pct/align/0/00001_0_0.png', '0.5pct/align/0/00003_0_0.png',
        '0.5pct/align/1/00002_1_1.png', '0.5pct/conflict/1/00004_1_0.png']
    assert ds.get_gt_labels().tolist() == [0, 0, 1, 1]
    assert ds.get_bias_labels().tolist() == [0, 0, 1, 0]
    assert ds.get_conflicting_mask().tolist() == [False, False, False, True]
    assert [ds.get_data_info(i)['sample_idx'] for i in range(4)] == [0, 1, 2,
                                                                    3]
    assert not ds.test_mode
    other = BFFHQ(str(root), severity='1pct', split='train', **FAST)
    assert rel_paths(other, root) == [
        '1pct/align/0/00001_0_0.png', '1pct/align/1/00002_1_1.png',
        '1pct/conflict/0/00006_0_1.png', '1pct/conflict/1/00004_1_0.png']
    assert other.get_conflicting_mask().sum() == 2


def test_metainfo():
    meta = BFFHQ.METAINFO
    assert meta['classes'] == ('young', 'old')
    assert meta['bias_attribute'] == 'gender'
    assert meta['bias_classes'] == ('female', 'male')
    assert meta['aligned_bias'] == (0, 1)


def test_valid_is_shared_by_all_severities(root):
    dss = [BFFHQ(str(root), severity=s, split='valid', **FAST)
           for s in ('0.5pct', '1pct', None)]
    expected = ['valid/00010_0_0.png', 'valid/00011_1_0.png',
                'valid/00012_1_1.png']
    for ds in dss:
        assert rel_paths(ds, root) == expected
        assert ds.get_gt_labels().tolist() == [0, 1, 1]
        assert ds.get_bias_labels().tolist() == [0, 0, 1]
        assert ds.test_mode
    # A severity whose train folders are absent still reads the shared
    # valid split (it is not under the severity folder).
    ds = BFFHQ(str(root), severity='5pct', split='valid', **FAST)
    assert len(ds) == 3


def test_full_test_split_and_the_official_filter(root):
    full = BFFHQ(str(root), severity='1pct', split='test', **FAST)
    assert rel_paths(full, root) == [
        'test/00020_0_1.png', 'test/00021_0_0.jpg', 'test/00022_1_0.png',
        'test/00023_1_1.png']
    assert full.get_conflicting_mask().tolist() == [True, False, True, False]
    official = BFFHQ(str(root), split='test', conflicting_only_test=True,
                     **FAST)
    assert rel_paths(official, root) == ['test/00020_0_1.png',
                                         'test/00022_1_0.png']
    assert official.get_conflicting_mask().all()
    # The option only filters the test split.
    valid = BFFHQ(str(root), split='valid', conflicting_only_test=True,
                  **FAST)
    assert len(valid) == 3


def test_conflicting_only_test_without_conflicting_images(tmp_path):
    write_image(tmp_path / 'test/00000_0_0.png')
    with pytest.raises(DatasetError, match='has no samples'):
        BFFHQ(str(tmp_path), split='test', conflicting_only_test=True,
              **FAST)


def test_missing_root_and_folders(root, tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(DatasetError) as e:
        BFFHQ(str(missing), severity='1pct', split='train', **FAST)
    assert f'data_root "{missing}" does not exist' in str(e.value)
    assert 'bffhq.zip' in str(e.value)
    with pytest.raises(DatasetError, match='does not exist') as e:
        BFFHQ(str(root), severity='2pct', split='train', **FAST)
    msg = str(e.value)
    assert f'"{root / "2pct" / "align"}"' in msg
    assert 'severity "2pct"' in msg
    assert f'"{root / "valid"}/"' in msg  # says where everything goes
    for name in os.listdir(root / 'test'):
        (root / 'test' / name).unlink()
    with pytest.raises(DatasetError, match='no image files') as e:
        BFFHQ(str(root), split='test', **FAST)
    assert str(root / 'test') in str(e.value)


def test_bad_arguments(root):
    with pytest.raises(ValueError, match='severity="3pct"'):
        BFFHQ(str(root), severity='3pct', split='train', **FAST)
    with pytest.raises(ValueError, match='severity="3pct"'):
        BFFHQ(str(root), severity='3pct', split='test', **FAST)
    with pytest.raises(ValueError, match='split needs a severity'):
        BFFHQ(str(root), split='train', **FAST)
    with pytest.raises(ValueError, match='split="val"'):
        BFFHQ(str(root), severity='1pct', split='val', **FAST)


def test_bad_file_names_and_labels(root):
    bad = root / 'valid' / 'face.png'
    write_image(bad)
    with pytest.raises(DatasetError, match='Cannot parse') as e:
        BFFHQ(str(root), split='valid', **FAST)
    assert str(bad) in str(e.value)
    bad.unlink()
    out = root / 'valid' / '00013_2_0.png'
    write_image(out)
    with pytest.raises(DatasetError, match='gt_label 2 of sample 3') as e:
        BFFHQ(str(root), split='valid', **FAST)
    assert str(out) in str(e.value) and 'out of range [0, 2)' in str(e.value)
    out.unlink()
    out = root / 'test' / '00030_1_2.png'
    write_image(out)
    with pytest.raises(DatasetError, match='bias_label 2') as e:
        BFFHQ(str(root), split='test', **FAST)
    assert str(out) in str(e.value)


def test_base_config_builds_and_loads_a_sample(root):
    cfg, ds = build_config_dataset('bffhq.py', root)
    assert isinstance(ds, BFFHQ) and ds.severity == '1pct' and len(ds) == 4
    assert cfg.val_cfg.selection_metric == 'valid/conflicting_acc'
    assert cfg.num_classes == 2
    assert cfg.data_preprocessor.mean == pytest.approx(
        [0.4914 * 255, 0.4822 * 255, 0.4465 * 255])
    assert cfg.data_preprocessor.std == pytest.approx(
        [0.2023 * 255, 0.1994 * 255, 0.2010 * 255])
    check_packed(ds[2], ds, 2)
    _, test = build_config_dataset('bffhq.py', root, 'test')
    assert len(test) == 4 and not test.conflicting_only_test
    check_packed(test[1], test, 1)
