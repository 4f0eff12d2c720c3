"""Check the data sets of a config: samples per (class, bias) cell.

``python tools/data/check_dataset.py CONFIG [--cfg-options k=v ...]
[--splits train valid test ...]``

Builds each split's dataset as ``tools/train.py`` does (after
``debiascls.apis.prepare_config``) and prints, per split, the number of
samples in every (class, bias) cell with the class and bias names of the
dataset's metainfo (``*``: bias-aligned cells), the totals, the share of
bias-conflicting samples among those with a known bias, the samples whose
bias is unknown and, with label noise, the flipped labels. A wrong layout
ends with the dataset's own error (``error: ...``, exit status 1).

Generated data sets (SynthDigits, Colored MNIST, Biased MNIST, ...) create
a missing layout on first use, as in training; this tool reports every
folder it created that way (with its ``meta.json``), or that nothing was
generated.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Set, Tuple

import numpy as np
from mmengine.config import Config, DictAction

from debiascls.apis import check_before_build, prepare_config, run_tool
from debiascls.engine.runner.config_preparation import dataset_configs
from debiascls.datasets.base_dataset import UNKNOWN_BIAS
from debiascls.datasets.generation import META_FILE
from debiascls.datasets.sample_layouts import MARKER
from debiascls.registry import DATASETS
from debiascls.utils import ConfigError

#: Above this many bias values a split is summarised per class (total,
#: aligned, conflicting, unknown) instead of one column per bias value.
MAX_BIAS_COLUMNS = 20


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, e.g. data_root=PATH')
    parser.add_argument(
        '--splits', nargs='+',
        help='splits to check (default: all of the config: train, the '
        'validation split, test and any extra_splits)')
    return parser.parse_args(argv)


def config_splits(cfg: Config) -> Dict[str, dict]:
    """``{split name: dataset config}`` in the order training sees them."""
    names = {
        'train_dataloader.dataset': 'train',
        'val_dataloader.dataset':
        (cfg.get('val_cfg') or {}).get('split_name', 'valid'),
        'test_dataloader.dataset':
        (cfg.get('test_cfg') or {}).get('split_name', 'test'),
    }
    splits: Dict[str, dict] = {}
    for where, dataset in dataset_configs(cfg):
        if where in names:
            name = names[where]
        else:  # '<loop>.extra_splits.<name>.dataset'
            name = where.split('.')[-2]
        # val and test share a split name only if they are the same data
        splits.setdefault(name, dataset)
    return splits


def _roots(dataset_cfg: dict) -> List[str]:
    return sorted({
        v for k, v in dataset_cfg.items()
        if k.endswith('root') and isinstance(v, str) and v
    })


def _snapshot(roots: List[str], depth: int = 2) -> Set[str]:
    """Directories under ``roots`` down to ``depth`` levels (generated
    folders appear at most two levels below their root)."""
    found: Set[str] = set()
    for root in roots:
        level = [root] if osp.isdir(root) else []
        found.update(level)
        for _ in range(depth):
            below = []
            for folder in level:
                try:
                    with os.scandir(folder) as entries:
                        below += [
                            e.path for e in entries
                            if e.is_dir() and not e.name.startswith('.tmp')
                        ]
                except OSError:
                    continue
            found.update(below)
            level = below
    return found


def _generated_report(new: Set[str]) -> List[str]:
    # report the top-most new folders only
    tops = sorted(d for d in new
                  if not any(d.startswith(o + os.sep) for o in new))
    lines = []
    for top in tops:
        metas = [osp.join(top, META_FILE)] + sorted(
            osp.join(d, META_FILE) for d in new
            if d.startswith(top + os.sep))
        details = []
        for path in metas:
            if osp.isfile(path):
                with open(path, encoding='utf-8') as f:
                    meta = json.load(f)
                keys = ('generator', 'severity', 'seed', 'rho', 'source')
                what = ', '.join(f'{k}={meta[k]}' for k in keys if k in meta)
                counts = ', '.join(
                    f'{split}: {meta[split]["num_samples"]} samples'
                    for split in ('train', 'valid', 'test')
                    if isinstance(meta.get(split), dict)
                    and 'num_samples' in meta[split])
                details.append(f'{osp.relpath(path, top)} ({what}'
                               f'{"; " + counts if counts else ""})')
        lines.append(f'generated "{top}"' +
                     (': ' + '; '.join(details) if details else ''))
    return lines


def cell_counts(dataset) -> Tuple[np.ndarray, np.ndarray, List[str],
                                  List[str]]:
    """``(counts (C, B), unknown (C,), class names, bias names)``."""
    gt = np.asarray(dataset.get_gt_labels())
    bias = np.asarray(dataset.get_bias_labels())
    meta = dataset.metainfo
    classes = list(meta.get('classes') or [])
    bias_names = list(meta.get('bias_classes') or [])
    num_classes = max(len(classes), int(gt.max()) + 1 if gt.size else 0)
    known = bias != UNKNOWN_BIAS
    num_bias = max(len(bias_names),
                   int(bias[known].max()) + 1 if known.any() else 0)
    classes += [str(i) for i in range(len(classes), num_classes)]
    bias_names += [str(i) for i in range(len(bias_names), num_bias)]
    counts = np.zeros((num_classes, num_bias), dtype=np.int64)
    np.add.at(counts, (gt[known], bias[known]), 1)
    unknown = np.bincount(gt[~known], minlength=num_classes)
    return counts, unknown, classes, bias_names


def _table(rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        '  '.join(c.rjust(w) if i else c.ljust(w)
                  for i, (c, w) in enumerate(zip(r, widths))) for r in rows
    ]
    lines.insert(1, '-' * len(lines[0]))
    lines.insert(len(lines) - 1, '-' * len(lines[0]))
    return '\n'.join(lines)


def describe(name: str, dataset) -> str:
    counts, unknown, classes, bias_names = cell_counts(dataset)
    aligned_bias = np.asarray(
        dataset.aligned_bias_of(np.arange(len(classes))))
    aligned_cell = np.zeros_like(counts, dtype=bool)
    for c, b in enumerate(aligned_bias.tolist()):
        if 0 <= b < counts.shape[1]:
            aligned_cell[c, b] = True
    aligned = np.where(aligned_cell, counts, 0).sum(1)
    conflicting = counts.sum(1) - aligned
    total = counts.sum(1) + unknown
    attribute = dataset.metainfo.get('bias_attribute') or 'bias'
    has_unknown = bool(unknown.sum())
    if counts.shape[1] <= MAX_BIAS_COLUMNS:
        header = ['class \\ ' + attribute] + bias_names + (
            ['unknown'] if has_unknown else []) + ['total']
        rows = [header]
        for c, cls in enumerate(classes):
            cells = [
                f'{n}*' if aligned_cell[c, b] else str(n)
                for b, n in enumerate(counts[c].tolist())
            ]
            rows.append([cls] + cells + (
                [str(unknown[c])] if has_unknown else []) + [str(total[c])])
        rows.append(['total'] + [str(n) for n in counts.sum(0).tolist()] +
                    ([str(unknown.sum())] if has_unknown else []) +
                    [str(total.sum())])
        legend = '(*: bias-aligned cell)'
    else:
        rows = [['class', 'aligned', 'conflicting', 'unknown', 'total']]
        for c, cls in enumerate(classes):
            rows.append([cls, str(aligned[c]), str(conflicting[c]),
                         str(unknown[c]), str(total[c])])
        rows.append(['total', str(aligned.sum()), str(conflicting.sum()),
                     str(unknown.sum()), str(total.sum())])
        legend = (f'({counts.shape[1]} {attribute} values: per class '
                  'counts only)')
    known = int(counts.sum())
    ratio = (f'{100.0 * conflicting.sum() / known:.2f} % '
             f'({conflicting.sum()} of {known} with a known {attribute})'
             if known else f'undefined (no sample has a known {attribute})')
    lines = [
        f'== {name}: {type(dataset).__name__}, {len(dataset)} samples, '
        f'{len(classes)} classes x {len(bias_names)} {attribute} values '
        f'{legend}',
        _table(rows),
        f'aligned: {aligned.sum()}, conflicting: {conflicting.sum()}, '
        f'unknown {attribute}: {unknown.sum()}',
        f'bias-conflicting ratio: {ratio}',
    ]
    empty = [classes[c] for c in np.flatnonzero(total == 0)]
    if empty:
        lines.append(f'warning: no samples of class(es) {", ".join(empty)}')
    if hasattr(dataset, 'get_noisy_mask'):
        flipped = int(np.asarray(dataset.get_noisy_mask()).sum())
        if flipped:
            lines.append(f'label noise: {flipped} labels flipped '
                         '(the counts above use the flipped labels)')
    return '\n'.join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    prepare_config(cfg)
    check_before_build(cfg)
    available = config_splits(cfg)
    wanted = args.splits or list(available)
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise ConfigError(
            f'--splits {" ".join(unknown)}: {args.config} has no such split;'
            f' its splits: {", ".join(available)}.')
    for name in wanted:
        dataset_cfg = available[name]
        roots = _roots(dataset_cfg)
        before = _snapshot(roots)
        dataset = DATASETS.build(dataset_cfg)
        dataset.full_init()
        generated = _generated_report(_snapshot(roots) - before)
        for line in generated:
            print(f'[{name}] {line}')
        where = ', '.join(f'"{r}"' for r in roots) or 'in memory'
        if not generated:
            print(f'[{name}] read from {where} (nothing generated)')
        for root in roots:
            if osp.isfile(osp.join(root, MARKER)):
                print(f'[{name}] warning: "{root}" is a sample layout (see '
                      f'{osp.join(root, MARKER)}), a stand-in, not the real '
                      'data set')
        print(describe(name, dataset))
        print()


if __name__ == '__main__':
    sys.exit(run_tool(main))
