"""One config per data set of the CosFairNet and PGD papers through the real
tools, on tiny generated copies in each data set's on-disk layout: train,
checkpoint, resume from the checkpoint (same final weights, per-sample
tables and metrics) and ``tools/test.py``."""
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
import torch

from debiascls.engine.checkpoint import safe_torch_load
from debiascls.engine.results import read_results

from tiny_run import REPO, python_tool, run_tool

# The fake sources of the dataset tests (written under tmp_path).
sys.path.insert(0, str(REPO / 'tests' / 'test_datasets'))
from test_cartoon import write_cartoons  # noqa: E402
from test_celeba import write_celeba  # noqa: E402
from test_corrupted_cifar10 import write_fake_cifar  # noqa: E402


def _datasets_conftest():
    spec = importlib.util.spec_from_file_location(
        'datasets_conftest', REPO / 'tests' / 'test_datasets' / 'conftest.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


write_fake_mnist = _datasets_conftest().write_fake_mnist


#: ImageNet weights are not on the test machines.
NO_IMAGENET = 'classifier.backbone.pretrained=None'


def _loaders(*pairs):
    opts = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.batch_size=4', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
        opts += [f'{loader}.dataset.{k}={v}' for k, v in pairs]
    return opts


def _cifar10c(tmp):
    write_fake_cifar(tmp / 'cifar', per_batch=10, n_test=20)
    return ('cosfairnet_cifar10c_5pct', [
        f'data_root={tmp}/c10c', f'cifar_root={tmp}/cifar'
    ] + _loaders(('valid_size', 10)))


def _pgd_cmnist(tmp):
    write_fake_mnist(tmp / 'mnist', 200)
    return ('pgd_pgdcmnist-a1e-4_5pct',
            [f'data_root={tmp}/pcm', f'mnist_root={tmp}/mnist'] + _loaders())


def _wmnist(tmp):
    write_fake_mnist(tmp / 'mnist', 200)
    write_fake_mnist(tmp / 'fashion', 200, seed=5)
    return ('pgd_wmnist-d8_5pct', [
        f'data_root={tmp}/wm', f'mnist_root={tmp}/mnist',
        f'fashion_mnist_root={tmp}/fashion'
    ] + _loaders())


def _cartoon(tmp):
    write_cartoons(tmp / 'cartoon', n=300)
    return ('pgd_cartoon_5pct', [f'data_root={tmp}/cartoon'] + _loaders())


def _celeba(tmp):
    write_celeba(tmp / 'celeba')
    return ('pgd_celeba_makeup-male',
            [f'data_root={tmp}/celeba', NO_IMAGENET] + _loaders())


def _dogs_and_cats(tmp):
    from debiascls.datasets import write_sample_layout
    write_sample_layout('dogs_and_cats', str(tmp / 'dnc'),
                        aligned_per_class=6, size=32)
    return ('cosfairnet_dogs_and_cats_1pct',
            [f'data_root={tmp}/dnc', NO_IMAGENET] + _loaders())


@pytest.mark.parametrize(
    'prepare',
    [_cifar10c, _pgd_cmnist, _wmnist, _cartoon, _celeba, _dogs_and_cats],
    ids=lambda f: f.__name__.strip('_'))
def test_config_trains_resumes_and_tests(prepare, tmp_path):
    name, opts = prepare(tmp_path)
    config = str(REPO / 'configs' / 'methods' / f'{name}.py')
    opts = opts + [
        'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'default_hooks.logger.interval=1',
    ]
    if name.startswith('pgd'):  # a small per-class dimension set
        opts.append('model.num_dims=8')
    full = tmp_path / 'full'
    run_tool(python_tool('train.py', config, '--work-dir', str(full),
                         '--cfg-options', *opts), REPO)
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(full / 'iter_2.pth', resumed / 'iter_2.pth')
    run_tool(python_tool('train.py', config, '--work-dir', str(resumed),
                         '--resume', str(resumed / 'iter_2.pth'),
                         '--cfg-options', *opts), REPO)
    a = safe_torch_load(str(full / 'iter_4.pth'))['state_dict']
    b = safe_torch_load(str(resumed / 'iter_4.pth'))['state_dict']
    for key in a:
        assert torch.equal(a[key], b[key]), key

    def final(work_dir, mode):
        return {r['split']: r['metrics']
                for r in read_results(str(Path(work_dir) / 'results.jsonl'))
                if r['mode'] == mode}

    assert final(resumed, 'val') == final(full, 'val')
    run_tool(python_tool('test.py', config, str(full / 'iter_4.pth'),
                         '--work-dir', str(tmp_path / 'test'),
                         '--cfg-options', *opts), REPO)
    assert final(tmp_path / 'test', 'test')['test'] == final(full,
                                                              'val')['test']
