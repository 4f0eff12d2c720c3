"""Datasets built from config dicts through the registry, with a pipeline."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import DefaultScope

from debiascls.datasets import BiasedMNIST, SynthDigits
from debiascls.registry import DATASETS

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
TINY = dict(train_size=40, valid_size=20, test_per_cell=1)


@pytest.fixture(scope='module')
def synth_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('synth'))


def _cfg(data_root, split='train', **kw):
    return dict(type='SynthDigits', data_root=data_root, severity='5pct',
                split=split, pipeline=PIPELINE, **TINY, **kw)


def _check_item(item, ds, idx):
    assert set(item) == {'inputs', 'data_samples'}
    assert item['inputs'].dtype == torch.uint8
    assert item['inputs'].shape == (3, 28, 28)
    assert item['data_samples'] == dict(
        gt_label=int(ds.get_gt_labels()[idx]),
        bias_label=int(ds.get_bias_labels()[idx]), sample_idx=idx)


def test_build_from_config_dict_without_default_scope(synth_root, monkeypatch):
    # outside a Runner (no default scope), the dataset must still find
    # debiascls's transforms; other tests may have left a scope behind
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())
    assert DefaultScope.get_current_instance() is None
    ds = DATASETS.build(_cfg(synth_root))
    assert isinstance(ds, SynthDigits) and len(ds) == 40
    for idx in (0, 17, 39):
        _check_item(ds[idx], ds, idx)
    batch = default_collate([ds[i] for i in range(4)])
    assert batch['inputs'].shape == (4, 3, 28, 28)
    assert batch['data_samples']['gt_label'].tolist() == \
        ds.get_gt_labels()[:4].tolist()
    assert batch['data_samples']['sample_idx'].tolist() == [0, 1, 2, 3]


def test_build_from_mmengine_config(synth_root, tmp_path):
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(
        f'pipeline = {PIPELINE!r}\n'
        f'dataset = dict(type="SynthDigits", data_root={synth_root!r}, '
        'severity="5pct", split="test", pipeline=pipeline, train_size=40, '
        'valid_size=20, test_per_cell=1)\n')
    cfg = Config.fromfile(str(cfg_file))
    ds = DATASETS.build(cfg.dataset)
    assert len(ds) == 100 and ds.test_mode
    _check_item(ds[99], ds, 99)


def test_subset_and_indices_keep_labels(synth_root):
    full = DATASETS.build(_cfg(synth_root))
    gt, bias = full.get_gt_labels(), full.get_bias_labels()
    picked = [5, 0, 33, 12]
    sub = full.get_subset(picked)
    assert len(sub) == 4
    np.testing.assert_array_equal(sub.get_gt_labels(), gt[picked])
    np.testing.assert_array_equal(sub.get_bias_labels(), bias[picked])
    np.testing.assert_array_equal(sub.get_aligned_mask(),
                                  full.get_aligned_mask()[picked])
    for j, i in enumerate(picked):
        assert sub.get_data_info(j)['img_path'] == \
            full.get_data_info(i)['img_path']
        _check_item(sub[j], sub, j)  # sample_idx: position in the subset
        np.testing.assert_array_equal(sub[j]['inputs'], full[i]['inputs'])
    # the full dataset's cached labels are not affected
    np.testing.assert_array_equal(full.get_gt_labels(), gt)
    via_indices = DATASETS.build(_cfg(synth_root, indices=picked))
    np.testing.assert_array_equal(via_indices.get_gt_labels(), gt[picked])
    np.testing.assert_array_equal(via_indices.get_bias_labels(),
                                  bias[picked])
    first = DATASETS.build(_cfg(synth_root, indices=3))
    np.testing.assert_array_equal(first.get_gt_labels(), gt[:3])
    clone = copy.deepcopy(sub)
    np.testing.assert_array_equal(clone.get_gt_labels(), gt[picked])


def test_biased_mnist_built_and_subset(tmp_path, fake_mnist):
    fake_mnist(tmp_path / 'mnist', 200)
    ds = DATASETS.build(
        dict(type='BiasedMNIST', data_root=str(tmp_path / 'bm'), rho=0.99,
             split='train', mnist_root=str(tmp_path / 'mnist'),
             pipeline=PIPELINE))
    assert isinstance(ds, BiasedMNIST) and len(ds) == 140
    _check_item(ds[7], ds, 7)
    sub = ds.get_subset([9, 2])
    np.testing.assert_array_equal(sub.get_gt_labels(),
                                  ds.get_gt_labels()[[9, 2]])
    np.testing.assert_array_equal(sub[0]['inputs'], ds[9]['inputs'])
    _check_item(sub[1], sub, 1)
