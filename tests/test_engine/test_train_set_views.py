"""The training set rebuilt with the test pipeline, which PGD's scoring and
de-noising hooks use to score raw images."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from debiascls.engine.hooks.denoising_hook import DenoisingHook
from debiascls.engine.hooks.train_set_views import \
    train_set_with_test_pipeline
from debiascls.registry import DATASETS

AUGMENT = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomRotation', degrees=90),
    dict(type='PackInputs')
]
RAW = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


@pytest.fixture
def runner(tmp_path):
    from debiascls.datasets.synth_digits import (generate_synth_digits,
                                                 synth_digits_dir)
    root = str(tmp_path)
    generate_synth_digits(synth_digits_dir(root, 0, 40, 100, 1), ['5pct'],
                          train_size=40, valid_size=100, test_per_cell=1)
    dataset = dict(type='SynthDigits', data_root=root, severity='5pct',
                   split='train', train_size=40, valid_size=100,
                   test_per_cell=1, pipeline=AUGMENT)
    cfg = Config(dict(train_dataloader=dict(dataset=dataset),
                      test_pipeline=RAW))
    return SimpleNamespace(
        cfg=cfg,
        train_dataloader=SimpleNamespace(dataset=DATASETS.build(dataset)))


def test_same_samples_through_the_test_pipeline(runner):
    raw = train_set_with_test_pipeline(runner, 'Hook')
    augmented = runner.train_dataloader.dataset
    assert len(raw) == len(augmented) == 40
    torch.manual_seed(0)
    for i in (0, 17, 39):
        a, b = raw[i], raw[i]
        assert torch.equal(a['inputs'], b['inputs'])  # no augmentation
        assert a['data_samples']['sample_idx'] == i
        assert (a['data_samples']['gt_label'] ==
                augmented[i]['data_samples']['gt_label'])
    # The runner's own training set still augments.
    assert any(not torch.equal(augmented[0]['inputs'], augmented[0]['inputs'])
               for _ in range(5))


def test_missing_test_pipeline_is_a_clear_error(runner):
    runner.cfg.pop('test_pipeline')
    with pytest.raises(KeyError, match='DenoisingHook.*test_pipeline'):
        train_set_with_test_pipeline(runner, 'DenoisingHook')


def test_denoising_score_pipeline_option():
    with pytest.raises(ValueError, match='score_pipeline'):
        DenoisingHook(score_pipeline='raw')
    assert DenoisingHook(score_pipeline='test').score_pipeline == 'test'
