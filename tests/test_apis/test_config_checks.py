"""Config preparation and the checks before anything is built."""
import pytest
from mmengine.config import Config

from debiascls.apis import check_before_build, prepare_config
from debiascls.utils import ConfigError

CMNIST = 'configs/methods/vanilla_cmnist_0.5pct.py'
BIASED_MNIST = 'configs/methods/vanilla_biased_mnist_rho0.999.py'


def _datasets(cfg):
    return [cfg.train_dataloader.dataset, cfg.val_dataloader.dataset,
            cfg.test_dataloader.dataset]


def test_shared_keys_reach_every_split_but_explicit_values_win():
    cfg = Config.fromfile(BIASED_MNIST)
    cfg.merge_from_dict({'mnist_root': '/m',
                         'test_dataloader.dataset.rho': 0.5})
    prepare_config(cfg)
    datasets = _datasets(cfg) + [
        cfg.val_cfg.extra_splits.test_biased.dataset,
        cfg.test_cfg.extra_splits.test_biased.dataset
    ]
    assert [d.mnist_root for d in datasets] == ['/m'] * 5
    assert [d.data_root for d in datasets] == ['data/biased_mnist'] * 5
    # The leaf config's rho everywhere except where a split sets its own.
    assert [d.rho for d in datasets] == [0.999, 0.999, 0.5, 0.999, 0.999]


def test_leaf_severity_and_keys_the_dataset_does_not_take():
    cfg = Config.fromfile(CMNIST)
    prepare_config(cfg)
    assert {d.severity for d in _datasets(cfg)} == {'0.5pct'}
    # SynthDigits takes no mnist_root: it is not added.
    cfg = Config.fromfile('configs/methods/vanilla_synthdigits_2pct.py')
    cfg.mnist_root = '/m'
    prepare_config(cfg)
    assert all('mnist_root' not in d for d in _datasets(cfg))
    assert {d.severity for d in _datasets(cfg)} == {'2pct'}


def test_without_cuda_distributed_runs_use_gloo(monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = prepare_config(Config.fromfile(CMNIST))
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'


@pytest.mark.parametrize('key, value, needles', [
    ('trian_cfg', {'max_iters': 1}, ['"trian_cfg"', '"train_cfg"']),
    ('model.type', 'LfFF', ['model.type', '"LfFF"']),
    ('train_dataloader.dataset.type', 'ColoredMINST',
     ['train_dataloader.dataset.type', 'Did you mean "ColoredMNIST"']),
    ('custom_hooks', [dict(type='BiasComitteeHook')],
     ['custom_hooks.0.type', 'Did you mean "BiasCommitteeHook"']),
    # hooks whose work the algorithms do themselves now
    ('custom_hooks', [dict(type='TrainPhaseHook')],
     ['custom_hooks.0: TrainPhaseHook no longer exists', 'model.t1']),
    ('custom_hooks', [dict(type='BiasCommitteeHook'),
                      dict(type='LinearRampHook', attr='lambda_main')],
     ['custom_hooks.1: LinearRampHook', 'ramps lambda_main']),
    ('custom_hooks', [dict(type='PerSampleScoreHook')],
     ['custom_hooks.0: PerSampleScoreHook', 'end of each step']),
])
def test_bad_configs_are_named_before_building(key, value, needles):
    cfg = Config.fromfile(CMNIST)
    cfg.merge_from_dict({key: value})
    prepare_config(cfg)
    with pytest.raises(ConfigError) as info:
        check_before_build(cfg)
    for needle in needles:
        assert needle in str(info.value)


def test_label_noise_reaches_datasets_through_their_kwargs():
    from mmengine.config import Config

    from debiascls.apis import prepare_config
    cfg = Config(dict(
        label_noise=0.1,
        train_dataloader=dict(dataset=dict(type='BFFHQ', split='train')),
        val_dataloader=dict(dataset=dict(type='SynthDigits', split='valid')),
        test_dataloader=dict(dataset=dict(type='BaseBiasDataset'))))
    prepare_config(cfg)
    # BFFHQ and SynthDigits take it through **kwargs (BaseBiasDataset's
    # argument; only the train split applies it).
    assert cfg.train_dataloader.dataset.label_noise == 0.1
    assert cfg.val_dataloader.dataset.label_noise == 0.1
    assert cfg.test_dataloader.dataset.label_noise == 0.1


def test_the_algorithm_checks_the_rest_of_the_config():
    # DisEnt's StepLR must begin at its curr_step (BaseDebiasAlgorithm.
    # check_config, called here for the configured algorithm)
    cfg = Config.fromfile('configs/methods/disent_cmnist_1pct.py')
    check_before_build(cfg)
    cfg.merge_from_dict({'model.curr_step': 5000})
    with pytest.raises(ConfigError, match='curr_step=5000.*begins at 10000'):
        check_before_build(cfg)
