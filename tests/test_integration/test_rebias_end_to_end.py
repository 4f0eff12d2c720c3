"""ReBias, RUBi, LearnedMixin+H and the "Biased" row (G alone) on a tiny
Biased MNIST through the real tools: train, checkpoint, resume (same final
weights and metrics), ``tools/test.py``; what each logs."""
import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from debiascls.engine.checkpoint import safe_torch_load
from debiascls.engine.results import read_results

from tiny_run import REPO, python_tool, run_tool


def _write_fake_mnist():
    spec = importlib.util.spec_from_file_location(
        'datasets_conftest', REPO / 'tests' / 'test_datasets' / 'conftest.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_fake_mnist


@pytest.fixture(scope='module')
def mnist_root(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp('mnist')
    _write_fake_mnist()(root, 200)
    return str(root)


def _options(tmp_path, mnist_root, extra=()):
    opts = [
        f'data_root={tmp_path}/bm', f'mnist_root={mnist_root}', 'rho=0.99',
        'train_cfg.max_iters=6', 'train_cfg.val_interval=6',
        'default_hooks.checkpoint.interval=3',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'default_hooks.logger.interval=1'
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.batch_size=8', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    opts += [f'test_cfg.extra_splits.test_biased.{k}' for k in (
        'batch_size=8', 'num_workers=0')]
    opts += [f'val_cfg.extra_splits.test_biased.{k}' for k in (
        'batch_size=8', 'num_workers=0')]
    # a narrow F keeps the 7x7 convolutions at 28x28 fast
    opts += ['classifier.backbone.channels=[4,8]',
             'biased_classifiers.0.backbone.channels=[4,8]']
    return opts + list(extra)


def _final(work_dir, mode):
    return {r['split']: r['metrics']
            for r in read_results(str(Path(work_dir) / 'results.jsonl'))
            if r['mode'] == mode}


def _logged(work_dir):
    path = next(Path(work_dir).glob('*/vis_data/scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f if '"lr"' in line
                or 'loss' in line]


METHODS = {
    'rebias': [],
    'rubi': [],
    # G pre-trained for 2 iterations, then f trains on the mixture
    # (one epoch of the 140 training digits is 18 batches: the pre-training
    # length is given in iterations here)
    'learned-mixin-h': ['model.pretrain_epochs=None', 'model.pretrain_iters=2'],
    'biased-g': ['classifier.backbone.channels=[4,8]'],
}


@pytest.mark.parametrize('method', list(METHODS))
def test_train_resume_and_test(method, tmp_path, mnist_root):
    config = str(REPO / 'configs' / 'methods' /
                 f'{method}_biased_mnist_rho0.99.py')
    opts = _options(tmp_path, mnist_root, METHODS[method])
    full = tmp_path / 'full'
    run_tool(python_tool('train.py', config, '--work-dir', str(full),
                         '--cfg-options', *opts), REPO)
    final = _final(full, 'val')
    assert set(final) == {'valid', 'test', 'test_biased'}
    a = safe_torch_load(str(full / 'iter_6.pth'))['state_dict']
    if method == 'biased-g':
        # G alone: F's network with 1x1 kernels
        assert a['models.classifier.backbone.layers.0.weight'].shape[-1] == 1
    else:
        # f is the algorithm's model; G is evaluated alongside, prefixed
        assert 'g/unbiased_acc' in final['test']
        assert a['models.f.backbone.layers.0.weight'].shape[-1] == 7
        assert a['models.g.backbone.layers.0.weight'].shape[-1] == 1
    logged = [r for r in _logged(full) if 'iter' in r]
    keys = set().union(*logged)
    if method == 'rebias':
        assert {'hsic/g', 'loss_f', 'loss_g', 'sigma_f', 'sigma_g'} <= keys
        assert bool(a['kernel_radii'].eq(1).all())
    if method == 'rubi':
        assert {'loss_qm', 'loss_qo'} <= keys
        assert 'models.g.rubi_classifier.weight' in a
    if method == 'learned-mixin-h':
        assert 'models.f.mixin_gate.weight' in a
        phases = {r['iter']: r.get('phase_main') for r in logged}
        assert phases[1] == 0 and phases[6] == 1

    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(full / 'iter_3.pth', resumed / 'iter_3.pth')
    run_tool(python_tool('train.py', config, '--work-dir', str(resumed),
                         '--resume', str(resumed / 'iter_3.pth'),
                         '--cfg-options', *opts), REPO)
    b = safe_torch_load(str(resumed / 'iter_6.pth'))['state_dict']
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert _final(resumed, 'val') == final

    run_tool(python_tool('test.py', config, str(full / 'iter_6.pth'),
                         '--work-dir', str(tmp_path / 'test'),
                         '--cfg-options', *opts), REPO)
    tested = _final(tmp_path / 'test', 'test')
    assert tested['test'] == final['test']
    assert tested['test_biased'] == final['test_biased']
