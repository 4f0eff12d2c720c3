"""Is the embedded default biased, and is its shape learnable?

Trains Vanilla with the shipped configs through ``tools/train.py`` and
reports the final test metrics:

- ``vanilla_synthdigits_1pct``: conflicting accuracy must be at least 30
  points below aligned accuracy (a measurably biased model);
- ``vanilla_synthdigits_unbiased``: accuracy must reach 90 % (shape is
  learnable);
- with ``--mnist-root``, ``vanilla_cmnist_1pct`` on real MNIST digits (e.g.
  the 10,000 t10k digits of ``../shared/data/mnist``, split 0.7/0.1/0.2).

Usage::

    python benchmarks/vanilla_bias_check.py [--mnist-root ../shared/data/mnist]
        [--work-dir work_dirs/benchmarks] [--cfg-options k=v ...]

Prints one row per run (wall time, test metrics) and exits with status 1 if
a criterion fails. Timings are wall-clock of the whole ``tools/train.py``
run (data generation, training, validation) on this machine.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from debiascls.engine.results import read_results  # noqa: E402


def train(config: str, work_dir: str, options) -> dict:
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'),
           osp.join(REPO, 'configs', 'methods', config + '.py'),
           '--work-dir', work_dir]
    if options:
        cmd += ['--cfg-options', *options]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f'{config} failed:\n{proc.stderr[-3000:]}')
    records = list(read_results(osp.join(work_dir, 'results.jsonl')))
    last = max(r['iter'] for r in records if r['mode'] == 'val')
    test = next(r for r in records
                if r['mode'] == 'val' and r['iter'] == last
                and r['split'] == 'test')
    return dict(config=config, iter=last, wall_s=round(wall, 1),
                **{k: round(v, 2) for k, v in test['metrics'].items()
                   if '/' not in k})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/benchmarks')
    parser.add_argument('--mnist-root', help='MNIST IDX files for Colored '
                        'MNIST (skipped without)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to every run')
    args = parser.parse_args(argv)
    runs = [('vanilla_synthdigits_1pct', []),
            ('vanilla_synthdigits_unbiased', [])]
    if args.mnist_root:
        runs.append(('vanilla_cmnist_1pct', [
            f'mnist_root={osp.abspath(args.mnist_root)}',
            f'data_root={osp.abspath(osp.join(args.work_dir, "data_cmnist"))}'
        ]))
    rows = []
    for config, options in runs:
        row = train(config, osp.join(args.work_dir, config),
                    options + args.cfg_options)
        rows.append(row)
        print(json.dumps(row), flush=True)
    biased, unbiased = rows[0], rows[1]
    gap = biased['aligned_acc'] - biased['conflicting_acc']
    checks = {
        f'1pct: aligned - conflicting = {gap:.1f} >= 30': gap >= 30,
        f'unbiased: test acc = {unbiased["acc"]:.1f} >= 90':
        unbiased['acc'] >= 90,
    }
    for text, ok in checks.items():
        print(('PASS ' if ok else 'FAIL ') + text)
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'vanilla_bias_check.json'), 'w') as f:
        json.dump(dict(rows=rows, checks=checks), f, indent=1)
    return 0 if all(checks.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
