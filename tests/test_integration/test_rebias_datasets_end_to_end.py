"""The 9-class ImageNet and Kinetics-10 -> Mimetics-10 configs through the
real tools, on tiny generated copies of the on-disk layouts.

For each data set, ReBias (the method with the most moving parts: the
kernel-radius hook, HSIC on features or logits) trains, checkpoints, resumes
(same final weights and metrics as the uninterrupted run) and is tested with
``tools/test.py``; Vanilla, Biased (G alone), LearnedMixin+H and RUBi (and
PGD in its ImageNet setting) each
train through ``tools/train.py`` with a checkpoint and a final evaluation of
every split and are tested with ``tools/test.py``. (Resuming those methods
exactly is covered on Biased MNIST by test_rebias_end_to_end.py; what is
data-set specific, the pipelines' random draws, is covered here by ReBias.)
"""
import shutil
import sys
from pathlib import Path

import pytest
import torch

from debiascls.datasets import IMAGENET_A_WNIDS
from debiascls.engine.checkpoint import safe_torch_load
from debiascls.engine.results import read_results

from tiny_run import REPO, python_tool, run_tool

sys.path.insert(0, str(REPO / 'tests' / 'test_datasets'))
from imagenet_layouts import (make_imagenet, make_imagenet_a,  # noqa: E402
                              make_imagenet_c, rebias_like_clusters,
                              val_rel_paths, write_cluster_csv)
from video_layouts import make_kinetics, make_mimetics  # noqa: E402

METHODS = ('rebias', 'vanilla', 'biased-g', 'learned-mixin-h', 'rubi')
#: Other papers' configs on the same layouts (PGD's ImageNet setting).
EXTRA = {'imagenet9': ['pgd_imagenet9-pgd'], 'kinetics10-mimetics10': []}


def _loaders(names):
    opts = []
    for name in names:
        opts += [f'{name}.batch_size=4', f'{name}.num_workers=0',
                 f'{name}.persistent_workers=False']
    return opts


def _imagenet(tmp):
    root = make_imagenet(tmp / 'in', n_train=3, n_val=1)
    csv = write_cluster_csv(tmp / 'in' / '9class_imagenet_val.csv',
                            rebias_like_clusters(val_rel_paths(root)))
    make_imagenet_a(tmp / 'in-a', wnids=IMAGENET_A_WNIDS, n=1)
    make_imagenet_c(tmp / 'in-c', corruptions=['fog'], severities=[1])
    test_splits = ['test_cfg.extra_splits.imagenet_a',
                   'test_cfg.extra_splits.imagenet_c']
    opts = [
        f'data_root={root}', f'imagenet_a_root={tmp}/in-a',
        f'imagenet_c_root={tmp}/in-c', 'valid_fraction=0.34',
        f'test_dataloader.dataset.cluster_file={csv}',
        'test_cfg.extra_splits.imagenet_c.dataset.corruptions=[fog]',
        'test_cfg.extra_splits.imagenet_c.dataset.severities=[1]',
        # 42 test images: count every (class, cluster) cell
        'val_evaluator.1.min_population=1',
        'test_evaluator.1.min_population=1',
        # small images: RandomResizedCrop 32, Resize 36 + CenterCrop 32
        'train_dataloader.dataset.pipeline.1.size=32',
        'val_dataloader.dataset.pipeline.1.size=36',
        'val_dataloader.dataset.pipeline.2.size=32',
        'test_dataloader.dataset.pipeline.1.size=36',
        'test_dataloader.dataset.pipeline.2.size=32',
    ] + _loaders(['train_dataloader', 'val_dataloader', 'test_dataloader',
                  'val_cfg.extra_splits.imagenet_a'] + test_splits)
    for split in ('val_cfg.extra_splits.imagenet_a', *test_splits):
        opts += [f'{split}.dataset.pipeline.1.size=36',
                 f'{split}.dataset.pipeline.2.size=32']
    return 'imagenet9', opts, {'valid', 'test', 'imagenet_a'}


def _action(tmp):
    make_kinetics(tmp / 'k')
    make_mimetics(tmp / 'm')
    opts = [
        f'data_root={tmp}/k', f'mimetics_root={tmp}/m', 'valid_fraction=0.25',
        # 24x32 frames: short side 24-28, crop 24 (train) or 24 (test)
        'train_dataloader.dataset.pipeline.3.scale=[24,28]',
        'train_dataloader.dataset.pipeline.4.size=24',
        # 2 test views instead of 10
        'val_dataloader.dataset.pipeline.1.num_clips=2',
        'test_dataloader.dataset.pipeline.1.num_clips=2',
    ]
    for loader in ('val_dataloader', 'test_dataloader',
                   'val_cfg.extra_splits.test_kinetics',
                   'test_cfg.extra_splits.test_kinetics'):
        opts += [f'{loader}.dataset.pipeline.3.scale=24',
                 f'{loader}.dataset.pipeline.4.size=24']
    for loader in ('val_cfg.extra_splits.test_kinetics',
                   'test_cfg.extra_splits.test_kinetics'):
        opts.append(f'{loader}.dataset.pipeline.1.num_clips=2')
    opts += _loaders(['train_dataloader', 'val_dataloader', 'test_dataloader',
                      'val_cfg.extra_splits.test_kinetics',
                      'test_cfg.extra_splits.test_kinetics'])
    return 'kinetics10-mimetics10', opts, {'valid', 'test', 'test_kinetics'}


def _final(work_dir, mode):
    return {r['split']: r['metrics']
            for r in read_results(str(Path(work_dir) / 'results.jsonl'))
            if r['mode'] == mode}


CASES = [(prepare, name)
         for prepare, setting in ((_imagenet, 'imagenet9'),
                                  (_action, 'kinetics10-mimetics10'))
         for name in [f'{m}_{setting}' for m in METHODS] + EXTRA[setting]]


@pytest.mark.parametrize('prepare,name', CASES,
                         ids=[name for _, name in CASES])
def test_config_trains_resumes_and_tests(prepare, name, tmp_path):
    setting, data_opts, splits = prepare(tmp_path)
    budget = ['train_cfg.max_iters=4', 'train_cfg.val_interval=4',
              'default_hooks.checkpoint.interval=2',
              'default_hooks.checkpoint.max_keep_ckpts=-1',
              'default_hooks.logger.interval=1']
    method = name.split('_')[0]
    config = str(REPO / 'configs' / 'methods' / f'{name}.py')
    opts = data_opts + budget
    if method == 'learned-mixin-h':  # G for 2 iterations, then f
        opts += ['model.pretrain_epochs=None', 'model.pretrain_iters=2']
    if method == 'pgd':  # no ImageNet weights offline; a small K; scores
        # on the head's gradients (all of ResNet18's take minutes on a CPU)
        opts += ['classifier.backbone.pretrained=None', 'model.num_dims=8',
                 'model.grad_params=[head]', 'train_dataloader.batch_size=4']
    full = tmp_path / method / 'full'
    proc = run_tool(python_tool('train.py', config, '--work-dir',
                                str(full), '--cfg-options', *opts), REPO)
    final = _final(full, 'val')
    assert set(final) == splits, method
    if method == 'rebias':
        log = proc.stdout + proc.stderr
        assert 'KernelRadiusHook: RBF radii at iteration 0' in log
        resumed = tmp_path / method / 'resumed'
        resumed.mkdir()
        shutil.copy(full / 'iter_2.pth', resumed / 'iter_2.pth')
        proc = run_tool(
            python_tool('train.py', config, '--work-dir', str(resumed),
                        '--resume', str(resumed / 'iter_2.pth'),
                        '--cfg-options', *opts), REPO)
        assert 'radii restored from the checkpoint' in (proc.stdout +
                                                        proc.stderr)
        a = safe_torch_load(str(full / 'iter_4.pth'))['state_dict']
        b = safe_torch_load(str(resumed / 'iter_4.pth'))['state_dict']
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), key
        assert not bool(a['kernel_radii'].eq(1).all())  # median radii
        assert _final(resumed, 'val') == final
    test_dir = tmp_path / method / 'test'
    run_tool(python_tool('test.py', config, str(full / 'iter_4.pth'),
                         '--work-dir', str(test_dir), '--cfg-options',
                         *opts), REPO)
    tested = _final(test_dir, 'test')
    assert tested['test'] == final['test'], method
    if setting == 'imagenet9':
        assert 'imagenet_c' in tested and 'acc' in tested['imagenet_c']
        assert 'texture_unbiased_acc' in tested['test']
