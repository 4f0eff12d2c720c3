"""PGD Figure 14: PGD's sampling probability p_s per (class, bias) cell.

``python tools/analysis_tools/plot_sampling_probs.py CONFIG WORK_DIR
[--scores FILE] [--out PNG] [--cfg-options k=v ...]``

Reads p_s of every training sample from ``WORK_DIR/pgd_scores.npz`` (written
by PGDScoringHook after PGD's step 2) and the class and *true* bias labels
of the training set built from CONFIG (training never reads the bias
labels), and draws two heat-maps: the mean p_s of each (class, bias) cell
with its size n, and the cell's share of the draws (sum of its p_s over the
sum of all, %; the draws of both PGD samplers are proportional to p_s).
Samples outside PGD's de-noised pool count with p_s = 0. Writes the PNG
(default ``WORK_DIR/analysis/sampling_probs.png``) and the numbers next to
it (``.json`` matrices; ``.csv`` one row per cell).
"""
import argparse
import os.path as osp
import sys

import numpy as np
from mmengine.config import DictAction

from debiascls.apis import run_tool
from debiascls.utils import ConfigError
from debiascls.visualization import write_csv, write_json, write_png
from debiascls.apis.run_files import (build_split_dataset,
                                               load_config)
from debiascls.visualization.sampling_probs import (cell_sampling_stats,
                                                    plot_sampling_probs)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config of the PGD run')
    parser.add_argument('work_dir', help='its work dir (pgd_scores.npz)')
    parser.add_argument('--scores', help='the scores file (default: '
                        'WORK_DIR/pgd_scores.npz)')
    parser.add_argument('--out', help='PNG to write (default: '
                        'WORK_DIR/analysis/sampling_probs.png)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (e.g. data_root)')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    path = args.scores or osp.join(args.work_dir, 'pgd_scores.npz')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'"{path}" does not exist: PGDScoringHook writes it after PGD\'s '
            'step 2 (model.bias_iters); pass the work dir of a PGD run past '
            'that step, or --scores FILE.')
    with np.load(path, allow_pickle=False) as scores:
        if 'sampling_prob' not in scores:
            raise ConfigError(f'{path} has no "sampling_prob" array; pass '
                              'the pgd_scores.npz PGDScoringHook writes.')
        prob = scores['sampling_prob'].astype(np.float64)
    cfg = load_config(args.config, args.cfg_options)
    dataset = build_split_dataset(cfg, 'train')
    gt, bias = dataset.get_gt_labels(), dataset.get_bias_labels()
    if len(prob) != len(gt):
        raise ConfigError(
            f'{path} holds p_s of {len(prob)} samples, the training set of '
            f'{args.config} has {len(gt)}: pass the config (and '
            '--cfg-options) of the run.')
    meta = dataset.metainfo
    classes, bias_names = meta.get('classes'), meta.get('bias_classes')
    num_classes = len(classes) if classes else int(gt.max()) + 1
    num_bias = len(bias_names) if bias_names else int(bias.max()) + 1
    stats = cell_sampling_stats(prob, gt, bias, num_classes, num_bias)
    out = args.out or osp.join(args.work_dir, 'analysis',
                               'sampling_probs.png')
    stem = osp.splitext(out)[0]
    write_png(plot_sampling_probs(
        stats, classes, bias_names,
        osp.basename(osp.normpath(args.work_dir))), out)
    result = dict(scores=path, config=args.config, classes=classes,
                  bias_classes=bias_names, **stats)
    write_json(result, stem + '.json')
    write_csv(['class', 'bias', 'count', 'mean', 'std', 'share',
               'uniform_share'],
              [[c, b] + [stats[k][c, b] for k in
                         ('count', 'mean', 'std', 'share', 'uniform_share')]
               for c in range(num_classes) for b in range(num_bias)],
              stem + '.csv')
    aligned = dataset.get_aligned_mask()
    conflicting = dataset.get_conflicting_mask()
    print(f'p_s of {len(prob)} samples: mean {prob[aligned].mean():.3g} '
          f'(bias-aligned, n={int(aligned.sum())}), '
          + (f'{prob[conflicting].mean():.3g} (bias-conflicting, '
             f'n={int(conflicting.sum())})' if conflicting.any() else
             'no bias-conflicting sample') + f': {out}')
    return result


if __name__ == '__main__':
    sys.exit(run_tool(main))
