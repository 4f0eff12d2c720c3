"""Mimetics-10 (ReBias's unbiased action test set; tiny generated copy)."""
import os

import numpy as np
import pytest
import torch
from layouts import FAST
from video_layouts import (make_mimetics, mimetics_name, write_mimetics_csv,
                           write_video)

from debiascls.datasets import KINETICS10_CLASSES, DatasetError, Mimetics10
from debiascls.registry import DATASETS

TEST_PIPELINE = [
    dict(type='OpenVideo'),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=10,
         test_mode=True),
    dict(type='DecodeFrames'),
    dict(type='VideoShortSideScale', scale=256),
    dict(type='VideoUniformCrop', size=256, position='start'),
    dict(type='PackVideoInputs')
]


@pytest.fixture(scope='module')
def mimetics(tmp_path_factory):
    root = tmp_path_factory.mktemp('m') / 'mimetics'
    layout = make_mimetics(root)
    layout['root'] = str(root)
    return layout


def _m(root, **kw):
    return Mimetics10(str(root), **kw, **FAST)


def test_samples_labels_and_order(mimetics):
    ds = _m(mimetics['root'])
    expected = mimetics['expected']
    assert len(ds) == len(expected) == 20
    assert ds.test_mode and ds.split == 'test'
    assert ds.metainfo['classes'] == KINETICS10_CLASSES
    for i, (name, label, path) in enumerate(expected):  # file order
        info = ds.get_data_info(i)
        assert info['video_id'] == name
        assert info['gt_label'] == label and info['bias_label'] == -1
        assert info.get('video_path', info.get('frame_dir')) == path
    # class 3's folder is spelled with underscores, class 5's first clip is
    # a frame folder
    paths = [ds._describe(i) for i in range(len(ds))]
    assert any(os.sep + 'golf_driving' + os.sep in p for p in paths)
    assert sum('frame_dir' in ds.get_data_info(i) for i in range(20)) == 1
    assert ds.split_counts == dict(annotated=21, missing=1, kept=20)
    assert ds.missing == [mimetics['missing']]
    assert (ds.get_bias_labels() == -1).all()
    assert np.bincount(ds.get_gt_labels()).tolist() == [2] * 10
    assert ds.mimetics_root == mimetics['root']


def test_registry_and_pipeline(mimetics):
    ds = DATASETS.build(dict(type='Mimetics10', mimetics_root=mimetics['root'],
                             pipeline=TEST_PIPELINE, **FAST))
    item = ds[0]
    assert item['inputs'].shape == (10, 3, 8, 256, 256)
    assert item['inputs'].dtype == torch.uint8
    assert item['data_samples'] == dict(gt_label=9, bias_label=-1,
                                        sample_idx=0)
    frames = next(i for i in range(len(ds))
                  if 'frame_dir' in ds.get_data_info(i))
    assert ds[frames]['inputs'].shape == (10, 3, 8, 256, 256)


def test_media_modes_and_custom_classes(mimetics):
    frames = _m(mimetics['root'], media='frames')
    assert len(frames) == 1 and frames.get_gt_labels().tolist() == [5]
    videos = _m(mimetics['root'], media='video')
    assert len(videos) == 19
    two = _m(mimetics['root'], classes=('writing', 'driving car'))
    assert two.get_gt_labels().tolist() == [0, 0, 1, 1]
    assert two.metainfo['classes'] == ('writing', 'driving car')
    with pytest.raises(ValueError, match='metainfo.classes'):
        _m(mimetics['root'], metainfo=dict(classes=('writing', )))


def test_missing_and_bad_inputs(mimetics, tmp_path):
    root = mimetics['root']
    with pytest.raises(DatasetError) as err:
        _m(root, skip_missing=False)
    assert os.path.join('data', 'writing', mimetics['missing'] + '.mp4') \
        in str(err.value)
    with pytest.raises(DatasetError, match='mimetics_root ".*nope" does not '
                       'exist'):
        _m(tmp_path / 'nope')
    with pytest.raises(DatasetError, match='annotation file ".*other.csv"'):
        _m(root, ann_file='other.csv')
    with pytest.raises(ValueError, match='split="train"'):
        _m(root, split='train')
    with pytest.raises(DatasetError, match='class "juggling fire" is not a '
                       'label of ".*mimetics_v1.0.csv"'):
        _m(root, classes=('writing', 'juggling fire'))
    with pytest.raises(TypeError):
        Mimetics10(data_root=root)  # the root is mimetics_root


def test_malformed_csv(tmp_path):
    root = tmp_path / 'm'
    write_mimetics_csv(root / 'no_times.csv', [['writing', 'abc', 1]],
                       header=['label', 'youtube_id', 'time_start'])
    with pytest.raises(DatasetError, match=r"lacks the column\(s\) "
                       r"\['time_end'\]"):
        _m(root, ann_file='no_times.csv')
    write_mimetics_csv(root / 'float.csv',
                       [[c, 'abc', '1.5', 3, 'test', 0]
                        for c in KINETICS10_CLASSES])
    with pytest.raises(DatasetError,
                       match="line 2 of .*float.csv.*whole seconds.*'1.5'"):
        _m(root, ann_file='float.csv')
    write_mimetics_csv(root / 'short.csv', [['writing', 'abc']])
    with pytest.raises(DatasetError, match='line 2 .*too few fields'):
        _m(root, ann_file='short.csv')


def test_nothing_found_names_an_expected_path(tmp_path):
    root = tmp_path / 'm'
    rows = [[c, f'id{i:09d}', 1, 2, 'test', 0]
            for i, c in enumerate(KINETICS10_CLASSES)]
    write_mimetics_csv(root / 'mimetics_v1.0.csv', rows)
    write_video(root / 'data' / 'writing' / 'unrelated.mp4', 3)
    expected = os.path.join('data', 'canoeing or kayaking',
                            mimetics_name('id000000000', 1, 2) + '.mp4')
    with pytest.raises(DatasetError) as err:
        _m(root)
    assert 'none of the 10 videos' in str(err.value)
    assert expected in str(err.value)
