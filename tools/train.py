"""Train a model: ``python tools/train.py CONFIG [options]``.

Arguments follow mmpretrain's ``tools/train.py``.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction

from debiascls.apis import check_before_build, prepare_config, run_tool
from debiascls.engine.results import last_evaluation_summary
from debiascls.registry import RUNNERS
from debiascls.utils import (ConfigError,
                             destroy_process_group_if_initialized,
                             init_cpu_process_group_if_needed)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a debiascls model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If a checkpoint path is given, resume from it; without a path, '
        'resume from the latest checkpoint in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the total batch size')
    parser.add_argument(
        '--seed', type=int, default=None, help='random seed (overrides '
        'randomness.seed of the config)')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='do not pin memory in the data loaders')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='do not keep data-loader workers alive between epochs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'train_cfg.max_iters=1000 model.classifier.backbone.pretrained=x.pth')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if not torch.cuda.is_available():
            raise ConfigError(
                '--amp needs a GPU: mmengine\'s AmpOptimWrapper runs on CUDA '
                '(or NPU/MLU) only. Drop --amp to train on the CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.seed is not None:
        cfg.randomness = dict(cfg.get('randomness', {}), seed=args.seed)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader is None:
            continue
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers:
            loader['persistent_workers'] = False
    cfg.launcher = args.launcher
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg = merge_args(cfg, args)
    prepare_config(cfg)
    check_before_build(cfg)
    if args.launcher == 'pytorch':
        init_cpu_process_group_if_needed(cfg)
    runner = RUNNERS.build(cfg)
    runner.train()
    summary = last_evaluation_summary(runner.work_dir)
    if summary is not None and runner.rank == 0:
        runner.logger.info(summary)
    destroy_process_group_if_initialized()


if __name__ == '__main__':
    sys.exit(run_tool(main))
