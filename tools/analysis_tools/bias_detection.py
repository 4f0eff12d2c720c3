"""Bias-detection table of a checkpoint (IE Table 2).

``python tools/analysis_tools/bias_detection.py CONFIG CHECKPOINT [--json FILE]
[--denoising WORK_DIR/denoising.npz] [--pgd-scores WORK_DIR/pgd_scores.npz]
[--cfg-options k=v ...]``

Reads the per-sample tables of the checkpoint (BiasEnsemble's D^A, IE's
D_cand^BN and the BN scores that define D^BN, PGD's sampling probabilities
p_s) and the *true* bias labels of the training set (which training never
sees), and prints, per set, its size, its bias-aligned / bias-conflicting
members, the conflicting fraction (precision for BC) and the recall of each
group, then IE Table 2's columns. For PGD (a checkpoint after its scoring
step, or ``--pgd-scores``), the samples it up-weights are a set by two rules
(debiascls.evaluation.bias_detection.pgd_upweighted_sets): p_s above its
mean (drawn more often than uniform sampling would) and the |BC| samples of
highest p_s (precision = recall). With ``--denoising``, also what PGD's
de-noising module kept of the clean-label aligned, clean minority and
noisy-label samples (PGD Table 16).
"""
import argparse
import sys

import numpy as np
from mmengine.config import Config, DictAction

from debiascls.apis import prepare_config, run_tool
from debiascls.engine.checkpoint import safe_torch_load
from debiascls.utils.fileio import atomic_write_text, strict_json
from debiascls.evaluation.bias_detection import (denoising_stats,
                                                 detection_stats, ie_table2,
                                                 pgd_upweighted_sets,
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
    parser.add_argument('--pgd-scores', help="PGD's scores "
                        "(work_dir/pgd_scores.npz, float64) to report on "
                        "instead of the checkpoint's sampling probabilities "
                        "(float32: p_s below 1e-45 tie at 0)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (e.g. data_root)')
    return parser.parse_args(argv)


def pgd_probabilities(state, args):
    """PGD's p_s (``--pgd-scores``, else the checkpoint's table once its
    scores are computed) and where they came from; ``(None, None)`` for
    other methods."""
    if args.pgd_scores:
        with np.load(args.pgd_scores, allow_pickle=False) as scores:
            if 'sampling_prob' not in scores:
                raise ConfigError(
                    f'{args.pgd_scores} has no "sampling_prob" array; pass '
                    "the pgd_scores.npz PGDScoringHook writes to the work "
                    'dir.')
            return scores['sampling_prob'].astype(np.float64), \
                args.pgd_scores
    table = state.get('per_sample.sampling_prob')
    ready = state.get('scores_ready')
    if table is None:
        return None, None
    if ready is None or not bool(ready):
        print(f'{args.checkpoint}: PGD has not scored the samples yet '
              '(checkpoint before its step 2); no PGD rows.')
        return None, None
    return table.cpu().numpy().astype(np.float64), args.checkpoint


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    prepare_config(cfg)
    checkpoint = safe_torch_load(args.checkpoint, map_location='cpu')
    state = checkpoint.get('state_dict', {})
    sets = sets_from_state(state)
    prob, prob_source = pgd_probabilities(state, args)
    if not sets and prob is None and not args.denoising:
        raise ConfigError(
            f'{args.checkpoint} holds no bias-detection sets (per-sample '
            'tables "amplified" / "bn_candidate", or PGD\'s '
            '"sampling_prob" after its scoring step); use a checkpoint of '
            'an LfF+BE, IE or PGD run, or pass --pgd-scores.')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    bias = dataset.get_bias_labels()
    known = bias >= 0
    conflicting = dataset.get_conflicting_mask()
    n = len(bias)
    if prob is not None:
        if len(prob) != n:
            raise ConfigError(
                f'{prob_source} holds p_s of {len(prob)} samples, the '
                f"config's training set has {n}: pass the config (and "
                '--cfg-options) of the run.')
        sets.update(pgd_upweighted_sets(prob, int(conflicting.sum())))
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
    if prob is not None:
        result['pgd_scores'] = prob_source
        print(f'PGD rows: p_s from {prob_source}; "p_s > mean" = drawn more '
              'often than by uniform sampling, "top-k" = the k = #BC = '
              f'{int(conflicting.sum())} samples of highest p_s (precision = '
              'recall).')
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
        atomic_write_text(strict_json(result, indent=1), args.json)


if __name__ == '__main__':
    sys.exit(run_tool(main))
