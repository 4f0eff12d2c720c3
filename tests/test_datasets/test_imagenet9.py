"""9-class ImageNet (ReBias): the 42 wnids and 9 classes, train / valid /
test from tiny copies of the ImageNet folder layout, the texture-cluster
file, ImageNet-A and ImageNet-C, the config (with its optional splits) and
the metric on a built test split."""
import os
import shutil

import numpy as np
import pytest
from imagenet_layouts import (OTHER_WNID, make_imagenet, make_imagenet_a,
                              make_imagenet_c, rebias_like_clusters,
                              val_rel_paths, write_cluster_csv)
from layouts import FAST, build_config_dataset, check_packed
from mmengine.config import Config
from mmengine.evaluator import Evaluator

from debiascls.apis import check_before_build, prepare_config
from debiascls.datasets import (IMAGENET9_CLASSES, IMAGENET9_WNIDS,
                                IMAGENET_A_WNIDS, IMAGENET_C_CORRUPTIONS,
                                DatasetError, ImageNet9, ImageNetA, ImageNetC)
from debiascls.datasets.imagenet9 import (IMAGENET9_ALL_WNIDS, WNID_TO_CLASS,
                                          valid_mask)
from debiascls.evaluation import DebiasAccuracy, TextureUnbiasedAccuracy
from debiascls.registry import DATASETS
from debiascls.utils import check_config_keys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
N_TRAIN, N_VAL = 4, 2


@pytest.fixture(scope='module')
def imagenet(tmp_path_factory):
    """A tiny ImageNet (4 train, 2 val images per wnid) with a ReBias-style
    cluster file at the default place; returns (root, {rel: clusters})."""
    root = make_imagenet(tmp_path_factory.mktemp('in') / 'imagenet',
                         N_TRAIN, N_VAL)
    clusters = rebias_like_clusters(val_rel_paths(root))
    write_cluster_csv(os.path.join(root, '9class_imagenet_val.csv'),
                      clusters)
    return root, clusters


def _ds(root, **kw):
    return ImageNet9(str(root), **kw, **FAST)


def _copy(imagenet, tmp_path):
    root = str(tmp_path / 'imagenet')
    shutil.copytree(imagenet[0], root)
    return root


# --------------------------------------------------------------------- #
# Classes and wnids (ReBias datasets/imagenet.py)
# --------------------------------------------------------------------- #
def test_the_42_wnids_and_9_classes():
    assert IMAGENET9_CLASSES == ('dog', 'cat', 'frog', 'turtle', 'bird',
                                 'monkey', 'fish', 'crab', 'insect')
    assert len(WNID_TO_CLASS) == 42 == len(set(IMAGENET9_ALL_WNIDS))
    sizes = [len(IMAGENET9_WNIDS[c]) for c in range(9)]
    assert sizes == [5, 5, 3, 5, 5, 5, 5, 4, 5]
    # A few rows of ReBias's CLASS_TO_INDEX / cluster file
    assert WNID_TO_CLASS['n01641577'] == 2  # bullfrog -> frog
    assert WNID_TO_CLASS['n02110958'] == 0  # pug -> dog
    assert WNID_TO_CLASS['n01981276'] == 7  # king crab -> crab
    assert WNID_TO_CLASS['n02219486'] == 8  # ant -> insect
    assert WNID_TO_CLASS['n02492035'] == 5  # capuchin -> monkey
    # ImageNet-A has 21 of them, no crab
    assert len(IMAGENET_A_WNIDS) == 21 and set(IMAGENET_A_WNIDS) <= set(
        WNID_TO_CLASS)
    assert 7 not in {WNID_TO_CLASS[w] for w in IMAGENET_A_WNIDS}
    assert len(IMAGENET_C_CORRUPTIONS) == 15


# --------------------------------------------------------------------- #
# Splits
# --------------------------------------------------------------------- #
def test_train_valid_test_splits(imagenet):
    root, clusters = imagenet
    train = _ds(root, split='train', valid_fraction=0.25)
    valid = _ds(root, split='valid', valid_fraction=0.25)
    test = _ds(root, split='test')
    # round(0.25 * 4) = 1 valid image per wnid; the other wnid is ignored
    assert (len(train), len(valid), len(test)) == (42 * 3, 42, 42 * N_VAL)
    paths = {s: [s_.get_data_info(i)['img_path'] for i in range(len(s_))]
             for s, s_ in (('train', train), ('valid', valid),
                           ('test', test))}
    assert not set(paths['train']) & set(paths['valid'])
    assert not any(OTHER_WNID in p for ps in paths.values() for p in ps)
    assert len(set(paths['train']) | set(paths['valid'])) == 42 * N_TRAIN
    assert paths['test'] == sorted(paths['test'])
    for ds in (train, valid, test):
        gt = ds.get_gt_labels()
        for i in (0, len(ds) - 1):
            wnid = os.path.basename(os.path.dirname(ds.get_data_info(i)[
                'img_path']))
            assert gt[i] == WNID_TO_CLASS[wnid]
        assert ds.metainfo['classes'] == IMAGENET9_CLASSES
    # every wnid contributes one valid image (stratified)
    per_class = np.bincount(valid.get_gt_labels(), minlength=9)
    assert per_class.tolist() == [len(IMAGENET9_WNIDS[c]) for c in range(9)]
    assert (train.get_bias_labels() == -1).all()
    assert (valid.get_bias_labels() == -1).all()
    assert 'texture_clusters' not in train.metainfo
    assert 'texture_clusters' not in valid.metainfo
    assert valid.test_mode and test.test_mode and not train.test_mode

    # test: bias = first clustering, all three in metainfo, in sample order
    rel = ['/'.join(p.split(os.sep)[-2:]) for p in paths['test']]
    expected = np.array([clusters[r] for r in rel]).T
    assert test.get_bias_labels().tolist() == expected[0].tolist()
    assert test.metainfo['texture_clusters'] == expected.tolist()
    assert test.metainfo['bias_attribute'] == 'texture'
    assert len(test.metainfo['bias_classes']) == 9
    gt = test.get_gt_labels()
    for c, aligned in enumerate(test.metainfo['aligned_bias']):
        counts = np.bincount(expected[0][gt == c], minlength=9)
        assert aligned == int(np.argmax(counts))


def test_valid_draw_is_seeded_and_stratified(imagenet):
    root, _ = imagenet

    def valid_paths(seed, fraction=0.5):
        ds = _ds(root, split='valid', valid_fraction=fraction,
                 data_seed=seed)
        return [ds.get_data_info(i)['img_path'] for i in range(len(ds))]

    assert valid_paths(0) == valid_paths(0)
    assert len(valid_paths(0)) == 42 * 2
    assert len({tuple(valid_paths(s)) for s in range(4)}) > 1
    # per wnid: round(f * n), halves up, each wnid's draw independent
    wnids = ['a0'] * 10 + ['a1'] * 3 + ['a2'] * 1
    wnids = ['n0000000' + w[1] for w in wnids]
    mask = valid_mask(wnids, 0.5, 0)
    assert [int(mask[:10].sum()), int(mask[10:13].sum()),
            int(mask[13:].sum())] == [5, 2, 1]
    assert valid_mask(wnids, 0.0, 0).sum() == 0
    mask_b = valid_mask(wnids[:10], 0.5, 0)
    assert (mask_b == mask[:10]).all()


def test_subset_keeps_clusters_in_sample_order(imagenet):
    root, _ = imagenet
    full = _ds(root, split='test')
    sub = _ds(root, split='test', indices=[5, 2, 70])
    table = np.array(full.metainfo['texture_clusters'])
    assert sub.metainfo['texture_clusters'] == table[:, [5, 2, 70]].tolist()
    sub2 = full.get_subset([1, 0])
    assert sub2.metainfo['texture_clusters'] == table[:, [1, 0]].tolist()
    assert sub2.get_bias_labels().tolist() == table[0, [1, 0]].tolist()


def test_cluster_file_path_is_configurable(imagenet, tmp_path):
    root, clusters = imagenet
    rel = val_rel_paths(root)
    other = {r: (c[2], c[0]) for r, c in clusters.items()}  # 2 clusterings
    path = write_cluster_csv(tmp_path / 'ours.csv', other,
                             header=('path', 'category', 'cluster1',
                                     'cluster2'))
    ds = _ds(root, split='test', cluster_file=path)
    assert len(ds.metainfo['texture_clusters']) == 2
    assert ds.get_bias_labels().tolist() == [clusters[r][2] for r in rel]
    # without a category column, and with more than 9 clusters
    path = write_cluster_csv(tmp_path / 'nocat.csv',
                             {r: (11, ) for r in rel},
                             header=('path', 'cluster1'))
    ds = _ds(root, split='test', cluster_file=path)
    assert len(ds.metainfo['bias_classes']) == 12
    assert ds.metainfo['aligned_bias'] == (11, ) * 9


# --------------------------------------------------------------------- #
# Errors name the path and the fix
# --------------------------------------------------------------------- #
def test_missing_root_and_folders(imagenet, tmp_path):
    missing = tmp_path / 'nope'
    with pytest.raises(DatasetError, match='nope.*does not exist.*val sorted'):
        _ds(missing, split='train')
    root = _copy(imagenet, tmp_path)
    shutil.rmtree(os.path.join(root, 'train', 'n02085620'))
    with pytest.raises(DatasetError,
                       match=r'train/n02085620" does not exist'):
        _ds(root, split='valid')
    os.makedirs(os.path.join(root, 'train', 'n02085620'))
    with pytest.raises(DatasetError, match='n02085620" holds no image'):
        _ds(root, split='train')
    shutil.rmtree(os.path.join(root, 'val'))
    with pytest.raises(DatasetError, match=r'imagenet/val" does not exist'):
        _ds(root, split='test')


def test_flat_val_folder_is_explained(tmp_path):
    root = tmp_path / 'imagenet'
    os.makedirs(root / 'val')
    (root / 'val' / 'ILSVRC2012_val_00000001.JPEG').write_bytes(b'x')
    with pytest.raises(DatasetError, match='holds the val images directly'):
        _ds(root, split='test')


def test_empty_image_file(imagenet, tmp_path):
    root = _copy(imagenet, tmp_path)
    folder = os.path.join(root, 'val', 'n01641577')
    bad = os.path.join(folder, sorted(os.listdir(folder))[0])
    open(bad, 'wb').close()
    with pytest.raises(DatasetError, match='is empty'):
        _ds(root, split='test')
    _ds(root, split='test', verify_files=False)


def test_cluster_file_errors(imagenet, tmp_path):
    root, clusters = imagenet
    with pytest.raises(DatasetError, match=r'missing\.csv" does not exist'
                       r'.*make_texture_clusters'):
        _ds(root, split='test', cluster_file=str(tmp_path / 'missing.csv'))
    rel = val_rel_paths(root)

    def check(rows, match, **kw):
        path = write_cluster_csv(tmp_path / 'c.csv', rows, **kw)
        with pytest.raises(DatasetError, match=match):
            _ds(root, split='test', cluster_file=path)

    short = dict(clusters)
    del short[rel[3]]
    check(short, f'1 of the {len(rel)} val images have no row.*{rel[3]}')
    extra = dict(clusters)
    extra['n01641577/ILSVRC2012_val_99999999.JPEG'] = (0, 0, 0)
    check(extra, '1 rows .* name no val image.*99999999')
    check(clusters, 'category "cat".*belongs to "frog"',
          categories={rel[0]: 'cat'})
    check(clusters, 'needs the columns path and cluster1',
          header=('path', 'category', 'c1', 'c2', 'c3'))
    bad = dict(clusters)
    bad[rel[0]] = (1, -2, 0)
    check(bad, "line 2 .* cluster2='-2'")
    empty = tmp_path / 'empty.csv'
    empty.write_text('path,category,cluster1\n')
    with pytest.raises(DatasetError, match='has no rows'):
        _ds(root, split='test', cluster_file=str(empty))
    dup = tmp_path / 'dup.csv'
    dup.write_text(f'path,cluster1\n{rel[0]},1\n{rel[0]},2\n')
    with pytest.raises(DatasetError, match='line 3 .* repeats the path'):
        _ds(root, split='test', cluster_file=str(dup))


def test_bad_arguments(imagenet):
    root, _ = imagenet
    with pytest.raises(ValueError, match='split="val"'):
        _ds(root, split='val')
    with pytest.raises(ValueError, match='valid_fraction=1'):
        _ds(root, split='train', valid_fraction=1)
    with pytest.raises(ValueError, match='data_seed=-1'):
        _ds(root, split='train', data_seed=-1)


# --------------------------------------------------------------------- #
# ImageNet-A and ImageNet-C
# --------------------------------------------------------------------- #
def test_imagenet_a(tmp_path):
    root = make_imagenet_a(tmp_path / 'imagenet-a', IMAGENET_A_WNIDS, n=2)
    ds = ImageNetA(root, **FAST)
    assert len(ds) == 42  # 21 wnids x 2; the other wnid is ignored
    gt = ds.get_gt_labels()
    assert np.bincount(gt, minlength=9).tolist() == [10, 2, 2, 2, 10, 4, 2,
                                                     0, 10]
    assert (ds.get_bias_labels() == -1).all()
    assert 'texture_clusters' not in ds.metainfo and ds.test_mode
    shutil.rmtree(os.path.join(root, 'n02655020'))
    with pytest.raises(DatasetError, match='n02655020" does not exist.*'
                       'imagenet-a.tar'):
        ImageNetA(root, **FAST)
    with pytest.raises(DatasetError, match='imagenet_a_root ".*nope" does '
                       'not exist'):
        ImageNetA(str(tmp_path / 'nope'), **FAST)
    with pytest.raises(ValueError, match='imagenet_a_root is not set'):
        ImageNetA(None)


def test_imagenet_c(tmp_path):
    root = make_imagenet_c(tmp_path / 'imagenet-c', ['fog', 'snow'], [1, 3],
                           n=1)
    ds = ImageNetC(root, corruptions=['snow', 'fog'], severities=[3, 1],
                   **FAST)
    assert len(ds) == 4 * 42
    infos = [ds.get_data_info(i) for i in (0, 42, 84, 167)]
    assert [(d['corruption'], d['severity']) for d in infos] == [
        ('snow', 3), ('snow', 1), ('fog', 3), ('fog', 1)]
    assert ds.get_gt_labels()[:42].tolist() == [
        WNID_TO_CLASS[w] for w in IMAGENET9_ALL_WNIDS]
    assert ds.metainfo['corruptions'] == ('snow', 'fog')
    assert (ds.get_bias_labels() == -1).all()
    one = ImageNetC(root, corruptions='fog', severities=3, **FAST)
    assert len(one) == 42
    with pytest.raises(DatasetError, match=r'fog/2" does not exist'):
        ImageNetC(root, corruptions=['fog'], severities=[2], **FAST)
    with pytest.raises(DatasetError, match=r'gaussian_noise/1" does not'):
        ImageNetC(root, **FAST)  # the default needs all 15 x 5
    # folders with different images: the mean would be wrong
    extra = os.path.join(root, 'snow', '1', 'n01641577', 'extra.JPEG')
    shutil.copy(os.path.join(root, 'snow', '3', 'n01641577',
                             'ILSVRC2012_val_00000000.JPEG'), extra)
    with pytest.raises(DatasetError, match='not the same files.*extra.JPEG'):
        ImageNetC(root, corruptions=['snow'], severities=[3, 1], **FAST)
    with pytest.raises(ValueError, match=r"\['blur'\] unknown"):
        ImageNetC(root, corruptions=['blur'])
    with pytest.raises(ValueError, match='severities'):
        ImageNetC(root, severities=[0])
    with pytest.raises(ValueError, match='imagenet_c_root is not set'):
        ImageNetC()


# --------------------------------------------------------------------- #
# Config and metric
# --------------------------------------------------------------------- #
def test_config_builds_every_split(imagenet):
    root, _ = imagenet
    # (valid: 5 % of 4 images per wnid rounds to none; see the next test)
    for split, size in (('train', 42 * 4), ('test', 84)):
        cfg, ds = build_config_dataset('imagenet9.py', root, split)
        assert len(ds) == size and isinstance(ds, ImageNet9)
        check_packed(ds[0], ds, 0)
    assert cfg.val_cfg.selection_metric == 'valid/acc'
    assert [m['type'] for m in cfg.val_evaluator] == [
        'DebiasAccuracy', 'TextureUnbiasedAccuracy']
    assert cfg.data_preprocessor == dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    assert cfg.train_dataloader.batch_size == 128
    # ImageNet-C is off (imagenet_c_root = None): dropped from test_cfg
    assert list(cfg.test_cfg.extra_splits) == ['imagenet_a']
    assert list(cfg.val_cfg.extra_splits) == ['imagenet_a']
    assert cfg.val_cfg.extra_splits.imagenet_a.dataset.imagenet_a_root == \
        'data/imagenet-a'


def test_config_optional_splits_and_shared_keys(imagenet, tmp_path):
    root, _ = imagenet
    base = os.path.join(REPO, 'configs', '_base_', 'datasets',
                        'imagenet9.py')
    leaf = tmp_path / 'leaf.py'
    ina = make_imagenet_a(tmp_path / 'ina', IMAGENET_A_WNIDS, n=1)
    leaf.write_text(
        f'_base_ = [{base!r}]\ndata_root = {root!r}\n'
        f'imagenet_a_root = {ina!r}\n'
        f"imagenet_c_root = {str(tmp_path / 'inc')!r}\n"
        'valid_fraction = 0.5\ndata_seed = 3\n')
    cfg = prepare_config(Config.fromfile(str(leaf)))
    check_config_keys(cfg)
    assert list(cfg.test_cfg.extra_splits) == ['imagenet_a', 'imagenet_c']
    assert cfg.test_cfg.extra_splits.imagenet_c.dataset.imagenet_c_root == \
        str(tmp_path / 'inc')
    # data_root is not pushed into the ImageNet-A/-C datasets
    assert 'data_root' not in cfg.test_cfg.extra_splits.imagenet_c.dataset
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        assert loader.dataset.valid_fraction == 0.5
        assert loader.dataset.data_seed == 3
    train = DATASETS.build(dict(cfg.train_dataloader.dataset, **FAST))
    valid = DATASETS.build(dict(cfg.val_dataloader.dataset, **FAST))
    assert (len(train), len(valid)) == (42 * 2, 42 * 2)
    ina_ds = DATASETS.build(cfg.val_cfg.extra_splits.imagenet_a.dataset)
    assert len(ina_ds) == 21
    check_packed(ina_ds[0], ina_ds, 0)
    # both optional roots off: both extra splits dropped
    cfg = Config.fromfile(base)
    cfg.imagenet_a_root = None
    prepare_config(cfg)
    assert not cfg.val_cfg.extra_splits and not cfg.test_cfg.extra_splits


def test_check_before_build_accepts_the_config():
    cfg = Config.fromfile(
        os.path.join(REPO, 'configs', '_base_', 'datasets', 'imagenet9.py'))
    cfg.model = dict(type='Vanilla')
    prepare_config(cfg)
    check_before_build(cfg)


def test_metric_on_the_built_test_split(imagenet):
    """The evaluator of the config on the test split's metainfo: ReBias's
    unbiased accuracy computed by hand from the cluster file."""
    root, _ = imagenet
    test = _ds(root, split='test')
    meta = test.metainfo
    gt = test.get_gt_labels()
    rng = np.random.default_rng(0)
    pred = np.where(rng.random(len(gt)) < 0.6, gt, (gt + 1) % 9)
    evaluator = Evaluator([DebiasAccuracy(),
                           TextureUnbiasedAccuracy(min_population=2)])
    evaluator.dataset_meta = meta
    order = rng.permutation(len(gt))  # batches in any order
    evaluator.process([
        dict(sample_idx=int(i), gt_label=int(gt[i]),
             pred_label=dict(model=int(pred[i])), main_model='model')
        for i in order
    ])
    metrics = evaluator.evaluate(len(gt))
    table = np.array(meta['texture_clusters'])
    per = []
    for clusters in table:
        accs = []
        for c in range(9):
            for k in range(9):
                cell = (gt == c) & (clusters == k)
                if cell.sum() >= 2:
                    accs.append(100.0 * (pred[cell] == gt[cell]).mean())
        per.append(np.mean(accs))
    assert metrics['texture_unbiased_acc'] == pytest.approx(np.mean(per))
    assert metrics['texture_unbiased_acc_2'] == pytest.approx(per[1])
    assert metrics['acc'] == pytest.approx(100.0 * (pred == gt).mean())
    # ImageNet-A's metainfo has no clusters: the metric reports nothing
    evaluator = Evaluator([TextureUnbiasedAccuracy()])
    evaluator.dataset_meta = ImageNetA.METAINFO
    evaluator.process([dict(sample_idx=0, gt_label=1, pred_label=1)])
    assert evaluator.evaluate(1) == {}
