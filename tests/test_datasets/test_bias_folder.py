import os

import cv2
import numpy as np
import pytest

from debiascls.datasets import (BiasFolderDataset, DatasetError, format_name,
                                parse_labels)


def _png(path, value=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), np.full((4, 4, 3), value, np.uint8))


def _layout(root):
    """A tiny DisEnt-style layout with two classes."""
    for rel in ['1pct/align/0/00000_0_0.png', '1pct/align/1/00003_1_1.png',
                '1pct/align/1/00001_1_1.png', '1pct/conflict/0/00002_0_1.png',
                '1pct/valid/00001_1_0.png', '1pct/valid/00000_0_0.png',
                '1pct/valid/extra/00007_1_1.png',
                'test/1/00001_1_0.png', 'test/0/00000_0_1.png',
                'test/0/00002_0_0.png']:
        _png(root / rel)
    # ignored: not an image, and an image directly in a nested folder
    (root / '1pct/align/0/notes.txt').write_text('x')
    _png(root / '1pct/align/00009_0_0.png')
    return root


@pytest.mark.parametrize('name,expected', [
    ('00012_3_7.png', (3, 7)),
    ('a/b/00012_3_7.png', (3, 7)),
    ('img_x_10_2.jpg', (10, 2)),
    ('1_2_3.JPEG', (2, 3)),
])
def test_parse_labels(name, expected):
    assert parse_labels(name) == expected


@pytest.mark.parametrize('name', ['foo.png', '00012_3.png', 'a_-1_2.png',
                                  'a_1_b.png', 'a_1_2'])
def test_parse_labels_rejects_bad_names(name):
    with pytest.raises(DatasetError, match='Cannot parse') as e:
        parse_labels(name)
    assert f'"{name}"' in str(e.value)


def test_format_name():
    assert format_name(12, 3, 7) == '00012_3_7.png'
    assert format_name(12, 3, 7, width=3, ext='jpg') == '012_3_7.jpg'
    assert format_name(123456, 0, 9) == '123456_0_9.png'
    assert parse_labels(format_name(5, 8, 2)) == (8, 2)


def test_train_split_sorted_labels_and_masks(tmp_path):
    root = _layout(tmp_path)
    ds = BiasFolderDataset(str(root), severity='1pct', split='train')
    rel = [os.path.relpath(ds.get_data_info(i)['img_path'], root)
           for i in range(len(ds))]
    assert rel == ['1pct/align/0/00000_0_0.png', '1pct/align/1/00001_1_1.png',
                   '1pct/align/1/00003_1_1.png',
                   '1pct/conflict/0/00002_0_1.png']
    assert [ds.get_data_info(i)['sample_idx'] for i in range(4)] == [0, 1, 2,
                                                                    3]
    assert ds.get_gt_labels().tolist() == [0, 1, 1, 0]
    assert ds.get_bias_labels().tolist() == [0, 1, 1, 1]
    assert ds.get_aligned_mask().tolist() == [True, True, True, False]
    assert ds.get_conflicting_mask().tolist() == [False, False, False, True]
    assert ds.get_cat_ids(3) == [0]
    assert ds.metainfo['classes'] == ('0', '1')
    assert ds.metainfo['bias_classes'] == ('0', '1')
    assert ds.num_classes == 2 and ds.num_bias_classes == 2
    assert not ds.test_mode


def test_valid_is_flat_and_test_ignores_severity(tmp_path):
    root = _layout(tmp_path)
    valid = BiasFolderDataset(str(root), severity='1pct', split='valid')
    assert [os.path.relpath(valid.get_data_info(i)['img_path'], root)
            for i in range(len(valid))] == [
                '1pct/valid/00000_0_0.png', '1pct/valid/00001_1_0.png',
                '1pct/valid/extra/00007_1_1.png']
    assert valid.get_conflicting_mask().tolist() == [False, True, False]
    assert valid.test_mode
    test = BiasFolderDataset(str(root), split='test')
    assert test.get_gt_labels().tolist() == [0, 0, 1]
    assert test.get_bias_labels().tolist() == [1, 0, 0]
    assert test.get_aligned_mask().tolist() == [False, True, False]


def test_aligned_bias_metainfo_defines_alignment(tmp_path):
    root = _layout(tmp_path)
    ds = BiasFolderDataset(
        str(root), split='test', metainfo=dict(aligned_bias=(1, 0)))
    # class 0 is aligned with bias 1, class 1 with bias 0
    assert ds.get_aligned_mask().tolist() == [True, False, True]
    assert ds.get_conflicting_mask().tolist() == [False, True, False]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='split="val"'):
        BiasFolderDataset(str(tmp_path), severity='1pct', split='val')
    with pytest.raises(ValueError, match='needs a severity'):
        BiasFolderDataset(str(tmp_path), split='train')


def test_missing_directory(tmp_path):
    root = _layout(tmp_path)
    with pytest.raises(DatasetError, match='does not exist') as e:
        BiasFolderDataset(str(root), severity='2pct', split='train')
    assert f'"{root / "2pct" / "align"}"' in str(e.value)
    assert 'severity "2pct"' in str(e.value)
    with pytest.raises(DatasetError, match='does not exist') as e:
        BiasFolderDataset(str(tmp_path / 'nowhere'), split='test')
    assert str(tmp_path / 'nowhere' / 'test') in str(e.value)


def test_empty_folder(tmp_path):
    for sub in ('5pct/align/0', '5pct/conflict'):
        os.makedirs(tmp_path / sub)
    (tmp_path / '5pct/align/0/readme.txt').write_text('not an image')
    with pytest.raises(DatasetError, match='no image files') as e:
        BiasFolderDataset(str(tmp_path), severity='5pct', split='train')
    assert str(tmp_path / '5pct' / 'align') in str(e.value)
    assert str(tmp_path / '5pct' / 'conflict') in str(e.value)


def test_badly_named_file(tmp_path):
    root = _layout(tmp_path)
    bad = root / '1pct/conflict/1/cat.png'
    _png(bad)
    with pytest.raises(DatasetError, match='Cannot parse') as e:
        BiasFolderDataset(str(root), severity='1pct', split='train')
    assert str(bad) in str(e.value)


def test_label_out_of_range(tmp_path):
    root = _layout(tmp_path)
    with pytest.raises(DatasetError, match='gt_label 1 of sample 1') as e:
        BiasFolderDataset(
            str(root), severity='1pct', split='train',
            metainfo=dict(classes=('zero', )))
    assert str(root / '1pct/align/1/00001_1_1.png') in str(e.value)
    assert 'out of range [0, 1)' in str(e.value)
    with pytest.raises(DatasetError, match='bias_label 1 of sample 0') as e:
        BiasFolderDataset(
            str(root), split='test',
            metainfo=dict(classes=('0', '1'), bias_classes=('red', )))
    assert str(root / 'test/0/00000_0_1.png') in str(e.value)


@pytest.mark.parametrize('serialize_data', [True, False])
def test_empty_split(tmp_path, serialize_data):
    root = _layout(tmp_path)
    with pytest.raises(DatasetError, match='has no samples') as e:
        BiasFolderDataset(str(root), split='test', indices=0,
                          serialize_data=serialize_data)
    assert '"test" split' in str(e.value) and str(root) in str(e.value)


def test_indices_and_lazy_init(tmp_path):
    root = _layout(tmp_path)
    ds = BiasFolderDataset(str(root), severity='1pct', split='train',
                           indices=[3, 0])
    assert ds.get_gt_labels().tolist() == [0, 0]
    assert ds.get_bias_labels().tolist() == [1, 0]
    assert ds.get_data_info(0)['img_path'].endswith('00002_0_1.png')
    assert ds.get_data_info(0)['sample_idx'] == 0
    lazy = BiasFolderDataset(str(root), split='test', lazy_init=True)
    assert not lazy._fully_initialized
    assert len(lazy) == 3  # __len__ initialises


def test_broken_files_found_before_training(tmp_path):
    root = _layout(tmp_path)
    path = root / '1pct/align/1/00003_1_1.png'
    path.write_bytes(path.read_bytes()[:-12])  # IEND chunk cut off
    with pytest.raises(DatasetError, match='is truncated') as e:
        BiasFolderDataset(str(root), severity='1pct', split='train')
    assert f'"{path}"' in str(e.value)
    # without the check, the file fails when it is loaded
    ds = BiasFolderDataset(str(root), severity='1pct', split='train',
                           verify_files=False,
                           pipeline=[dict(type='LoadImageFromFile')])
    assert ds[0]['img'].shape == (4, 4, 3)
    with pytest.raises(DatasetError, match='is corrupt') as e:
        ds[2]
    assert f'"{path}"' in str(e.value)
    path.write_bytes(b'')
    with pytest.raises(DatasetError, match='is empty'):
        BiasFolderDataset(str(root), severity='1pct', split='train')
