"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

Evaluates the test split and the validation split (so that a selection rule
can be applied later), appends them to ``<work_dir>/results.jsonl`` and
prints the metrics. Arguments follow mmpretrain's ``tools/test.py``.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

from debiascls.apis import check_before_build, prepare_config, run_tool
from debiascls.engine.results import last_evaluation_summary
from debiascls.registry import RUNNERS
from debiascls.utils import (destroy_process_group_if_initialized,
                             init_cpu_process_group_if_needed)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a debiascls model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save the evaluation results')
    parser.add_argument(
        '--out', help='dump the per-sample predictions to this pickle file')
    parser.add_argument(
        '--show-dir',
        help='directory for the visualisations (Grad-CAM overlays, '
        'per-(class, bias) accuracy heat-maps); needs a config with a '
        'visualisation hook')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config')
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
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.launcher = args.launcher
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got "{args.out}".')
        evaluator = cfg.test_evaluator
        evaluators = list(evaluator) if isinstance(evaluator,
                                                   (list, tuple)) else [
                                                       evaluator
                                                   ]
        evaluators.append(dict(type='DumpResults', out_file_path=args.out))
        cfg.test_evaluator = evaluators
    if args.show_dir is not None:
        hooks = cfg.get('default_hooks', {})
        vis = hooks.get('visualization')
        if vis is None:
            raise KeyError(
                '--show-dir needs default_hooks.visualization in the config '
                '(see configs/_base_/default_runtime.py).')
        vis['enable'] = True
        vis['out_dir'] = args.show_dir
    return cfg


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg = merge_args(cfg, args)
    prepare_config(cfg)
    check_before_build(cfg)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'Checkpoint "{args.checkpoint}" does not exist; pass a .pth '
            'written by tools/train.py (e.g. work_dirs/<config>/iter_N.pth).')
    if args.launcher == 'pytorch':
        init_cpu_process_group_if_needed(cfg)
    runner = RUNNERS.build(cfg)
    metrics = runner.test()
    summary = last_evaluation_summary(runner.work_dir)
    if summary is not None and runner.rank == 0:
        runner.logger.info(summary)
    destroy_process_group_if_initialized()
    return metrics


if __name__ == '__main__':
    sys.exit(run_tool(main))
