"""Kinetics-10 (ReBias's layout, tiny generated copy) and the Kinetics-10 /
Mimetics-10 config end to end."""
import json
import os
import shutil

import numpy as np
import pytest
import torch
from layouts import FAST
from mmengine.config import Config
from mmengine.dataset import default_collate
from video_layouts import (N_TRAIN, kinetics_key, make_kinetics,
                           make_mimetics, write_kinetics_json)

from debiascls.apis import prepare_config
from debiascls.engine.runner.config_preparation import accepts
from debiascls.datasets import (KINETICS10_CLASSES, MIMETICS50_CLASSES,
                                DatasetError, Kinetics10, Mimetics10)
from debiascls.models import BiasDataPreprocessor
from debiascls.registry import DATASETS
from debiascls.utils import check_config_keys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture(scope='module')
def kinetics(tmp_path_factory):
    root = tmp_path_factory.mktemp('k') / 'kinetics400'
    layout = make_kinetics(root)
    layout['root'] = str(root)
    return layout


def _k(root, **kw):
    return Kinetics10(str(root), **kw, **FAST)


def _media_path(info):
    return info.get('video_path') or info.get('frame_dir')


def test_classes_are_every_fifth_mimetics_class():
    assert KINETICS10_CLASSES == (
        'canoeing or kayaking', 'climbing a rope', 'driving car',
        'golf driving', 'opening bottle', 'playing piano',
        'playing volleyball', 'shooting goal (soccer)', 'surfing water',
        'writing')
    # the clsannot order (every 5th line) equals the CSV's sorted labels
    # ([4::5]), so Kinetics-10 and Mimetics-10 share label indices
    assert list(MIMETICS50_CLASSES) == sorted(MIMETICS50_CLASSES)
    assert sorted(set(MIMETICS50_CLASSES))[4::5] == list(KINETICS10_CLASSES)
    assert len(MIMETICS50_CLASSES) == 50
    assert Kinetics10.METAINFO['classes'] == Mimetics10.METAINFO['classes']


def test_train_valid_test_splits(kinetics):
    root, paths = kinetics['root'], kinetics['paths']
    train = _k(root, split='train', valid_fraction=0.25)
    valid = _k(root, split='valid', valid_fraction=0.25)
    test = _k(root, split='test')
    assert (len(train), len(valid), len(test)) == (30, 10, 10)
    assert not train.test_mode and valid.test_mode and test.test_mode
    assert train.split_counts == dict(train=30, valid=10, annotated=51,
                                      missing=0, kept=30)
    assert test.split_counts == dict(test=11, annotated=51, missing=1,
                                     kept=10)
    # one valid video per class, train and valid partition the train set
    np.testing.assert_array_equal(valid.get_gt_labels(), np.arange(10))
    assert np.bincount(train.get_gt_labels()).tolist() == [3] * 10
    ids = {s: [ds.get_data_info(i)['video_id'] for i in range(len(ds))]
           for s, ds in (('train', train), ('valid', valid), ('test', test))}
    assert set(ids['train']) | set(ids['valid']) == set(paths['train'])
    assert not set(ids['train']) & set(ids['valid'])
    # sorted by label, then key
    order = [(int(train.get_gt_labels()[i]), k)
             for i, k in enumerate(ids['train'])]
    assert order == sorted(order)
    # every naming of the official candidate list, and frame folders
    for ds, split in ((train, 'train'), (valid, 'train'), (test, 'test')):
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            assert _media_path(info) == paths[split][info['video_id']]
            assert info['bias_label'] == -1 and info['sample_idx'] == i
    assert 'frame_dir' in train.get_data_info(int(np.flatnonzero(
        train.get_gt_labels() == 8)[0]))
    assert test.get_data_info(0)['frame_dir'].endswith(
        os.path.join('val', 'canoeing_or_kayaking',
                     kinetics_key('validation', 0, 0)[:-14]))
    assert (train.get_bias_labels() == -1).all()
    assert train.metainfo['classes'] == KINETICS10_CLASSES
    assert train.metainfo['bias_classes'] is None
    assert test.missing == [kinetics['missing']]


def test_valid_split_is_seeded_and_stratified(kinetics):
    root = kinetics['root']
    a = _k(root, split='valid', valid_fraction=0.5, data_seed=0)
    b = _k(root, split='valid', valid_fraction=0.5, data_seed=0)
    c = _k(root, split='valid', valid_fraction=0.5, data_seed=1)

    def ids(ds):
        return [ds.get_data_info(i)['video_id'] for i in range(len(ds))]

    assert ids(a) == ids(b) and ids(a) != ids(c)
    assert np.bincount(a.get_gt_labels()).tolist() == [N_TRAIN // 2] * 10
    whole = _k(root, split='train', valid_fraction=0)
    assert len(whole) == 10 * N_TRAIN
    with pytest.raises(DatasetError, match='valid_fraction=0.0 holds out'):
        _k(root, split='valid', valid_fraction=0)
    for bad in (1.0, -0.1, True):
        with pytest.raises(ValueError, match='valid_fraction'):
            _k(root, valid_fraction=bad)
    with pytest.raises(ValueError, match='data_seed'):
        _k(root, data_seed=-1)
    with pytest.raises(ValueError, match='split="val"'):
        _k(root, split='val')


def test_media_modes_and_missing_videos(kinetics):
    root = kinetics['root']
    frames = _k(root, split='train', media='frames', valid_fraction=0)
    assert sorted(set(frames.get_gt_labels().tolist())) == [8, 9]
    assert len(frames.missing) == 8 * N_TRAIN
    videos = _k(root, split='train', media='video', valid_fraction=0)
    assert 'video_path' in videos.get_data_info(0)
    assert len(videos) == 8 * N_TRAIN
    with pytest.raises(ValueError, match='media='):
        _k(root, media='rawframes')
    with pytest.raises(DatasetError) as err:
        _k(root, split='test', skip_missing=False)
    msg = str(err.value)
    assert kinetics['missing'] in msg
    assert os.path.join('val', 'writing', kinetics['missing'] + '.mp4') in msg
    assert 'skip_missing=True' in msg


def test_labels_spelled_with_underscores_match(kinetics):
    # class 7 is spelled "shooting_goal_(soccer)" in the JSON
    train = _k(kinetics['root'], split='train', valid_fraction=0)
    assert (train.get_gt_labels() == 7).sum() == N_TRAIN


def test_errors_name_the_path_and_the_fix(kinetics, tmp_path):
    with pytest.raises(DatasetError, match='data_root ".*nowhere" does not '
                       'exist.*docs/data_preparation.md'):
        _k(tmp_path / 'nowhere')
    with pytest.raises(DatasetError, match='annotation file .*other.json'):
        _k(kinetics['root'], ann_file='other.json')
    (tmp_path / 'bad.json').write_text('{"database": ')
    with pytest.raises(DatasetError, match='bad.json" is not valid JSON'):
        _k(kinetics['root'], ann_file=str(tmp_path / 'bad.json'))
    (tmp_path / 'nodb.json').write_text(json.dumps({'labels': []}))
    with pytest.raises(DatasetError, match='no "database"'):
        _k(kinetics['root'], ann_file=str(tmp_path / 'nodb.json'))
    with pytest.raises(DatasetError, match='class "flying kites" is not a '
                       'label of ".*kinetics-400.json"'):
        _k(kinetics['root'], classes=('canoeing or kayaking', 'flying kites'))
    with pytest.raises(DatasetError, match='Close labels: writing'):
        _k(kinetics['root'], classes=('writting', ))
    with pytest.raises(ValueError, match='distinct'):
        _k(kinetics['root'], classes=('writing', 'writing'))


def test_nothing_found_names_an_expected_path(tmp_path):
    root = tmp_path / 'k'
    key = kinetics_key('training', 0, 0)
    write_kinetics_json(root / 'kinetics-400.json',
                        [(kinetics_key('training', c, 0), 'training', label)
                         for c, label in enumerate(KINETICS10_CLASSES)])
    os.makedirs(root / 'train')
    with pytest.raises(DatasetError, match=r'none of the 1 videos.*'
                       r'train/canoeing_or_kayaking/' + key + r'\.mp4'):
        _k(root, split='train', valid_fraction=0,
           classes=KINETICS10_CLASSES[:1])


def test_unreadable_video_raises_when_loaded(kinetics, tmp_path):
    root = tmp_path / 'copy'
    shutil.copytree(kinetics['root'], root)
    test = _k(root, split='test', pipeline=[dict(type='OpenVideo')])
    path = test.get_data_info(3)['video_path']
    with open(path, 'wb') as f:
        f.write(b'\x00' * 64)
    with pytest.raises(DatasetError, match=os.path.basename(path)):
        test[3]
    os.remove(path)
    with pytest.raises(DatasetError, match='is missing'):
        test[3]


# ------------------------------------------------------------------ #
# The config: configs/_base_/datasets/kinetics10_mimetics10.py
# ------------------------------------------------------------------ #
def _config(tmp_path, kinetics_root, mimetics_root):
    leaf = tmp_path / 'leaf_kinetics10_mimetics10.py'
    bases = [os.path.join(REPO, 'configs', '_base_', 'datasets',
                          'kinetics10_mimetics10.py'),
             os.path.join(REPO, 'configs', '_base_', 'default_runtime.py')]
    leaf.write_text(f'_base_ = {bases!r}\n'
                    f'data_root = {str(kinetics_root)!r}\n'
                    f'mimetics_root = {str(mimetics_root)!r}\n'
                    'valid_fraction = 0.25\n')
    cfg = prepare_config(Config.fromfile(str(leaf)))
    check_config_keys(cfg)
    return cfg


def test_config_end_to_end(kinetics, tmp_path):
    mimetics_root = tmp_path / 'mimetics'
    make_mimetics(mimetics_root)
    cfg = _config(tmp_path, kinetics['root'], mimetics_root)
    assert cfg.train_dataloader.batch_size == 128
    assert cfg.val_cfg.selection_metric == 'valid/acc'
    # shared keys reach the datasets that take them, and only those
    kin = cfg.val_cfg.extra_splits.test_kinetics.dataset
    assert kin.data_root == kinetics['root'] and kin.split == 'test'
    assert cfg.test_cfg.extra_splits.test_kinetics.dataset.data_root == \
        kinetics['root']
    assert cfg.val_dataloader.dataset.valid_fraction == 0.25
    mim = cfg.test_dataloader.dataset
    assert mim.mimetics_root == str(mimetics_root) and 'data_root' not in mim
    assert not accepts(Mimetics10, 'data_root')
    assert not accepts(Kinetics10, 'mimetics_root')

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(FAST)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    valid = DATASETS.build(cfg.val_dataloader.dataset)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert isinstance(test, Mimetics10) and len(test) == 20
    assert (len(train), len(valid)) == (30, 10)

    np.random.seed(0)
    item = train[0]
    assert item['inputs'].shape == (3, 8, 224, 224)
    assert item['inputs'].dtype == torch.uint8
    assert item['data_samples'] == dict(
        gt_label=0, bias_label=-1, sample_idx=0)
    np.random.seed(0)
    assert torch.equal(train[0]['inputs'], item['inputs'])
    views = default_collate([valid[0], test[5]])
    assert views['inputs'].shape == (2, 10, 3, 8, 256, 256)
    assert views['data_samples']['gt_label'].tolist() == [
        0, int(test.get_gt_labels()[5])]

    pre = BiasDataPreprocessor(**cfg.data_preprocessor)
    out = pre(views, training=False)['inputs']
    # ReBias: (x / 255 - 0.45) / 0.225 on every channel
    expected = (views['inputs'].float() / 255 - 0.45) / 0.225
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)
    clips = pre(default_collate([train[1], train[2]]), training=True)
    assert clips['inputs'].shape == (2, 3, 8, 224, 224)
    assert 'bias_label' not in clips['data_samples']


def test_config_refuses_a_misspelt_root(kinetics, tmp_path):
    from debiascls.utils import ConfigError
    leaf = tmp_path / 'typo.py'
    base = os.path.join(REPO, 'configs', '_base_', 'datasets',
                        'kinetics10_mimetics10.py')
    leaf.write_text(f'_base_ = [{base!r}]\nmimetic_root = "x"\n')
    with pytest.raises(ConfigError, match='Did you mean "mimetics_root"'):
        check_config_keys(Config.fromfile(str(leaf)))
