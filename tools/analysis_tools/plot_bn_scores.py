"""IE Figure 2: BN scores of bias-aligned and bias-conflicting training
samples over a run.

``python tools/analysis_tools/plot_bn_scores.py WORK_DIR [--config CONFIG]
[--population candidate|all] [--out PNG] [--cfg-options k=v ...]``

Reads the per-sample BN scores s_t(x) (IE Eq. 2) from every
``WORK_DIR/iter_*.pth`` of an IE run and the *true* bias labels of the
training set (built from the run's config, by default the one
``tools/train.py`` dumped into WORK_DIR; training never reads them), and
plots the mean (+- one standard deviation) score of the bias-aligned and the
bias-conflicting samples of D_cand^BN (``--population all``: of every
training sample) against the iteration. Samples without a reference loss
(before T1) have score 0, as in the paper's figure. Writes the PNG
(default ``WORK_DIR/analysis/bn_scores.png``) and the numbers next to it
(``.json``: per checkpoint and group n, mean, std, quartiles; ``.csv``).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

from debiascls.apis import run_tool
from debiascls.engine.checkpoint import safe_torch_load
from debiascls.utils import ConfigError
from debiascls.visualization import write_csv, write_json, write_png
from debiascls.visualization.bn_scores import (GROUPS, bn_score_curve,
                                               bn_score_tables,
                                               checkpoint_iters,
                                               plot_bn_scores)
from debiascls.apis.run_files import (build_split_dataset,
                                               load_config, run_config_path)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work dir of an IE run '
                        '(iter_*.pth checkpoints)')
    parser.add_argument('--config', help='config of the run (default: the '
                        'one tools/train.py dumped into WORK_DIR)')
    parser.add_argument('--population', choices=['candidate', 'all'],
                        default='candidate', help='samples of D_cand^BN '
                        '(IE Fig. 2) or all training samples')
    parser.add_argument('--out', help='PNG to write (default: '
                        'WORK_DIR/analysis/bn_scores.png)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (e.g. data_root)')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    config = run_config_path(args.work_dir, args.config)
    checkpoints = checkpoint_iters(args.work_dir)
    if not checkpoints:
        raise FileNotFoundError(
            f'No iter_*.pth checkpoint in "{args.work_dir}"; pass the work '
            'dir of an IE run (keep its checkpoints with '
            'default_hooks.checkpoint.max_keep_ckpts=-1).')
    tables = []
    for iteration, path in checkpoints:
        table = bn_score_tables(
            safe_torch_load(path, map_location='cpu').get('state_dict', {}))
        if table is None:
            raise ConfigError(
                f'{path} has no per-sample BN scores (per_sample.bn_score, '
                'bn_candidate); pass the work dir of an IE run.')
        tables.append((iteration, table))
    cfg = load_config(config, args.cfg_options)
    dataset = build_split_dataset(cfg, 'train')
    curve = bn_score_curve(tables, dataset.get_conflicting_mask(),
                           dataset.get_bias_labels() >= 0, args.population)
    out = args.out or osp.join(args.work_dir, 'analysis', 'bn_scores.png')
    stem = osp.splitext(out)[0]
    where = 'D_cand^BN' if args.population == 'candidate' else 'D'
    write_png(plot_bn_scores(
        curve, f'{osp.basename(osp.normpath(args.work_dir))}: BN scores '
        f'in {where}'), out)
    result = dict(work_dir=args.work_dir, config=config,
                  population=args.population, curve=curve)
    write_json(result, stem + '.json')
    stats = ('n', 'mean', 'std', 'q25', 'median', 'q75')
    write_csv(['iter'] + [f'{g}_{s}' for g in GROUPS for s in stats],
              [[row['iter']] + [row[g][s] for g in GROUPS for s in stats]
               for row in curve], stem + '.csv')
    print(f'BN scores of {len(curve)} checkpoints ({where}): {out}')
    for row in curve:
        print(f"  iter {row['iter']}: aligned {row['aligned']['mean']:.4g} "
              f"(n={row['aligned']['n']}), conflicting "
              f"{row['conflicting']['mean']:.4g} "
              f"(n={row['conflicting']['n']})")
    return result


if __name__ == '__main__':
    sys.exit(run_tool(main))
