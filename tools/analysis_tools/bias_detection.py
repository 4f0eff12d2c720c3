"""Bias-detection table of a checkpoint (IE Table 2).

``python tools/analysis_tools/bias_detection.py CONFIG CHECKPOINT [--json FILE]
[--denoising WORK_DIR/denoising.npz] [--cfg-options k=v ...]``

Reads the per-sample tables of the checkpoint (BiasEnsemble's D^A, IE's
D_cand^BN and the BN scores that define D^BN) and the *true* bias labels of
the training set (which training never sees), and prints, per set, its size,
its bias-aligned / bias-conflicting members, the conflicting fraction and
the recall of each group, then IE Table 2's columns. With ``--denoising``,
also what PGD's de-noising module kept of the clean-label aligned, clean
minority and noisy-label samples (PGD Table 16).
"""
import argparse
import json
import sys

import numpy as np
from mmengine.config import Config, DictAction

from debiascls.apis import prepare_config, run_tool
from debiascls.engine.checkpoint import safe_torch_load
from debiascls.engine.fileio import atomic_write_text
from debiascls.evaluation.bias_detection import (denoising_stats,
                                                 detection_stats, ie_table2,
                                                 sets_from_state)
from debiascls.registry import DATASETS
from debiascls.utils import ConfigError


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config the checkpoint was '
                        'trained with')
    parser.add_argument('checkpoint', help='a checkpoint of LfF+BE or IE')
    parser.add_argument('--json', help='also write the numbers to this file')
    parser.add_argument('--denoising', help="a DenoisingHook cache "
                        "(work_dir/denoising.npz) to report on")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (e.g. data_root)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    prepare_config(cfg)
    checkpoint = safe_torch_load(args.checkpoint, map_location='cpu')
    sets = sets_from_state(checkpoint.get('state_dict', {}))
    if not sets and not args.denoising:
        raise ConfigError(
            f'{args.checkpoint} holds no bias-detection sets (per-sample '
            'tables "amplified" / "bn_candidate"); use a checkpoint of an '
            'LfF+BE or IE run.')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    bias = dataset.get_bias_labels()
    known = bias >= 0
    conflicting = dataset.get_conflicting_mask()
    n = len(bias)
    if any(len(m) != n for m in sets.values()):
        raise ConfigError(
            f'{args.checkpoint} was trained on {len(next(iter(sets.values())))}'
            f' samples, the config\'s training set has {n}: pass the '
            'config (and --cfg-options) of the run.')
    rows = {name: detection_stats(mask, conflicting, known)
            for name, mask in sets.items()}
    header = ('set', 'size', 'BA', 'BC', 'BC fraction %', 'BC recall %',
              'BA recall %')
    print(f'Training set: {n} samples, {int((known & ~conflicting).sum())} '
          f'bias-aligned, {int(conflicting.sum())} bias-conflicting.')
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    for name, r in rows.items():
        print(f"| {name} | {r['size']} | {r['aligned']} | {r['conflicting']}"
              f" | {r['conflicting_fraction']:.2f} | "
              f"{r['conflicting_recall']:.2f} | {r['aligned_recall']:.2f} |")
    result = dict(checkpoint=args.checkpoint, sets=rows)
    if 'D^BN' in sets:
        t2 = ie_table2(sets['D_cand^BN'], sets['D^BN'], conflicting, known)
        result['ie_table2'] = t2
        print('\nIE Table 2: D_cand^BN - D^BN (BA, BC) = '
              f"({t2['excluded_aligned']}, {t2['excluded_conflicting']}); "
              f"D^BN / D (%) (BA, BC) = ({t2['bn_aligned_pct']:.2f}, "
              f"{t2['bn_conflicting_pct']:.2f})")
    if args.denoising:
        with np.load(args.denoising, allow_pickle=False) as cache:
            clean = cache['clean'].astype(bool)
        if len(clean) != n:
            raise ConfigError(f'{args.denoising} is for {len(clean)} '
                              f'samples, the training set has {n}.')
        clean_labels = dataset.get_clean_labels()
        conflicting_clean = known & (
            bias != dataset.aligned_bias_of(clean_labels))
        kept = denoising_stats(clean, dataset.get_noisy_mask(),
                               conflicting_clean)
        result['denoising'] = kept
        print('\nDe-noising (kept / total): ' + ', '.join(
            f"{k} {v['kept']} / {v['total']}" for k, v in kept.items()))
    if args.json:
        atomic_write_text(json.dumps(result, indent=1), args.json)


if __name__ == '__main__':
    sys.exit(run_tool(main))
