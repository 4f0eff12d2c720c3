"""Dogs & Cats read from a tiny copy of the BiasEnsemble release layout."""
import pytest
from layouts import (FAST, build_config_dataset, check_packed,
                     make_dogs_and_cats, rel_paths, write_image)

from debiascls.datasets import DatasetError, DogsAndCats


@pytest.fixture
def root(tmp_path):
    return make_dogs_and_cats(tmp_path / 'dogs_and_cats')


def test_splits_counts_labels_and_order(root):
    train = DogsAndCats(str(root), severity='1pct', split='train', **FAST)
    assert rel_paths(train, root) == [
        '1pct/align/0/00000_0_0.png', '1pct/align/0/00002_0_0.png',
        '1pct/align/1/00001_1_1.png', '1pct/conflict/1/00003_1_0.png']
    assert train.get_gt_labels().tolist() == [0, 0, 1, 1]
    assert train.get_bias_labels().tolist() == [0, 0, 1, 0]
    assert train.get_conflicting_mask().tolist() == [False] * 3 + [True]
    train5 = DogsAndCats(str(root), severity='5pct', split='train', **FAST)
    assert len(train5) == 4 and train5.get_conflicting_mask().sum() == 2
    # valid is per severity and flat
    valid = DogsAndCats(str(root), severity='1pct', split='valid', **FAST)
    assert rel_paths(valid, root) == ['1pct/valid/00010_0_0.png',
                                      '1pct/valid/00011_1_1.png']
    valid5 = DogsAndCats(str(root), severity='5pct', split='valid', **FAST)
    assert valid5.get_conflicting_mask().tolist() == [False, True]
    # test is shared and has class folders
    test = DogsAndCats(str(root), severity='5pct', split='test', **FAST)
    assert rel_paths(test, root) == ['test/0/00020_0_0.png',
                                     'test/0/00022_0_1.jpg',
                                     'test/1/00021_1_0.png']
    assert test.get_bias_labels().tolist() == [0, 1, 0]
    assert test.test_mode and valid.test_mode and not train.test_mode


def test_metainfo(root):
    ds = DogsAndCats(str(root), split='test', **FAST)
    assert ds.metainfo['classes'] == ('cat', 'dog')
    assert ds.metainfo['bias_attribute'] == 'color'
    assert ds.metainfo['bias_classes'] == ('dark', 'bright')
    assert ds.metainfo['aligned_bias'] == (0, 1)


def test_bad_input(root, tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(DatasetError) as e:
        DogsAndCats(str(missing), severity='1pct', split='train', **FAST)
    assert f'data_root "{missing}" does not exist' in str(e.value)
    assert 'dogs_and_cats.zip' in str(e.value)
    (root / '5pct' / 'valid' / '00010_0_0.png').unlink()
    (root / '5pct' / 'valid' / '00012_0_1.png').unlink()
    (root / '5pct' / 'valid').rmdir()
    with pytest.raises(DatasetError, match='does not exist') as e:
        DogsAndCats(str(root), severity='5pct', split='valid', **FAST)
    assert f'"{root / "5pct" / "valid"}"' in str(e.value)
    assert f'"{root / "5pct" / "conflict"}/<c>/"' in str(e.value)
    with pytest.raises(ValueError, match='severity="2pct"'):
        DogsAndCats(str(root), severity='2pct', split='train', **FAST)
    with pytest.raises(ValueError, match='needs a severity'):
        DogsAndCats(str(root), split='valid', **FAST)
    bad = root / '1pct' / 'align' / '1' / 'dog.png'
    write_image(bad)
    with pytest.raises(DatasetError, match='Cannot parse') as e:
        DogsAndCats(str(root), severity='1pct', split='train', **FAST)
    assert str(bad) in str(e.value)
    out = root / 'test' / '1' / '00030_1_3.png'
    write_image(out)
    with pytest.raises(DatasetError, match='bias_label 3') as e:
        DogsAndCats(str(root), split='test', **FAST)
    assert str(out) in str(e.value) and 'out of range [0, 2)' in str(e.value)


def test_base_config_builds_and_loads_a_sample(root):
    cfg, ds = build_config_dataset('dogs_and_cats.py', root)
    assert isinstance(ds, DogsAndCats) and ds.severity == '1pct'
    assert len(ds) == 4 and cfg.num_classes == 2
    assert cfg.val_cfg.selection_metric == 'valid/conflicting_acc'
    assert cfg.train_dataloader.batch_size == 64
    check_packed(ds[3], ds, 3)
    _, valid = build_config_dataset('dogs_and_cats.py', root, 'valid')
    check_packed(valid[0], valid, 0)
