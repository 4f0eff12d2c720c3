"""BAR read from a tiny copy of the BiasEnsemble release layout."""
import pytest
from layouts import (FAST, build_config_dataset, check_packed, make_bar,
                     rel_paths, write_image)

from debiascls.datasets import BAR, DatasetError


@pytest.fixture
def root(tmp_path):
    return make_bar(tmp_path / 'bar')


def test_train_bias_labels_are_overwritten_from_the_folder(root):
    ds = BAR(str(root), severity='5pct', split='train', **FAST)
    assert rel_paths(ds, root) == [
        'train/align/0/climbing_0_0_3.jpg', 'train/align/3/racing_5_3_1.jpg',
        'train/align/5/vaulting_2_5_5.jpg',
        'train/conflict/5pct/2/fishing_7_2_2.jpg',
        'train/conflict/5pct/5/vaulting_9_5_0.jpg']
    assert ds.get_gt_labels().tolist() == [0, 3, 5, 2, 5]
    # align => bias = target (the file names say 3 and 1 for the first two);
    # conflict => bias = (target + 1) mod 6, whatever the file name says
    assert ds.get_bias_labels().tolist() == [0, 3, 5, 3, 0]
    assert ds.get_conflicting_mask().tolist() == [False] * 3 + [True] * 2
    one = BAR(str(root), severity='1pct', split='train', **FAST)
    assert len(one) == 4
    assert rel_paths(one, root)[:3] == rel_paths(ds, root)[:3]  # shared
    assert one.get_bias_labels().tolist() == [0, 3, 5, 3]


def test_valid_and_test_keep_the_file_name_labels(root):
    for severity in ('1pct', '5pct', None):
        valid = BAR(str(root), severity=severity, split='valid', **FAST)
        assert rel_paths(valid, root) == ['valid/0/climbing_1_0_0.png',
                                          'valid/1/diving_1_1_4.png']
        assert valid.get_gt_labels().tolist() == [0, 1]
        assert valid.get_bias_labels().tolist() == [0, 4]
    test = BAR(str(root), split='test', **FAST)
    assert rel_paths(test, root) == ['test/1/diving_0_1_2.png',
                                     'test/4/throwing_3_4_4.png']
    assert test.get_gt_labels().tolist() == [1, 4]
    assert test.get_bias_labels().tolist() == [2, 4]
    assert test.test_mode


def test_metainfo():
    meta = BAR.METAINFO
    assert meta['classes'] == ('climbing', 'diving', 'fishing', 'racing',
                               'throwing', 'vaulting')
    assert meta['bias_attribute'] == 'place'
    assert meta['bias_classes'] == ('rock_wall', 'underwater',
                                    'water_surface', 'paved_track',
                                    'playing_field', 'sky')
    assert meta['aligned_bias'] == (0, 1, 2, 3, 4, 5)


def test_bad_input(root, tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(DatasetError) as e:
        BAR(str(missing), split='test', **FAST)
    assert f'data_root "{missing}" does not exist' in str(e.value)
    assert 'bar.zip' in str(e.value)
    for name in ('2', '5'):
        for f in (root / 'train/conflict/5pct' / name).iterdir():
            f.unlink()
        (root / 'train/conflict/5pct' / name).rmdir()
    (root / 'train/conflict/5pct').rmdir()
    with pytest.raises(DatasetError, match='does not exist') as e:
        BAR(str(root), severity='5pct', split='train', **FAST)
    assert f'"{root / "train" / "conflict" / "5pct"}"' in str(e.value)
    assert 'severity "5pct"' in str(e.value)
    with pytest.raises(ValueError, match='severity="2pct"'):
        BAR(str(root), severity='2pct', split='valid', **FAST)
    with pytest.raises(ValueError, match='split needs a severity'):
        BAR(str(root), split='train', **FAST)
    bad = root / 'valid' / '2' / 'fishing.png'
    write_image(bad)
    with pytest.raises(DatasetError, match='Cannot parse') as e:
        BAR(str(root), split='valid', **FAST)
    assert str(bad) in str(e.value)
    out = root / 'train/conflict/1pct/5/x_1_6_0.png'
    write_image(out)
    with pytest.raises(DatasetError, match='gt_label 6') as e:
        BAR(str(root), severity='1pct', split='train', **FAST)
    assert str(out) in str(e.value) and 'out of range [0, 6)' in str(e.value)


def test_base_config_builds_and_loads_a_sample(root):
    cfg, ds = build_config_dataset('bar.py', root)
    assert isinstance(ds, BAR) and ds.severity == '1pct' and len(ds) == 4
    assert cfg.num_classes == 6
    assert cfg.val_cfg.selection_metric == 'valid/acc'
    check_packed(ds[3], ds, 3)
    _, test = build_config_dataset('bar.py', root, 'test')
    check_packed(test[1], test, 1)
