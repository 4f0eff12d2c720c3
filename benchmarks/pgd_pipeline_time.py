"""Wall time of PGD's whole pipeline relative to Vanilla, in one run.

PGD trains ``f_b`` (step 1), scores every training sample with per-sample
gradients (step 2), then trains ``f_d`` (step 3). This script times, through
``tools/train.py`` on the same data:

- Vanilla for ``--iters`` iterations, with its own training pipeline and
  with PGD's (PGD trains with augmentations that Vanilla's configs do not
  use; "the same data" is the second, as the paper's Vanilla uses the same
  augmentations);
- PGD with each stage as long as Vanilla's training (``2 x iters``; the
  paper's protocol, "the same epochs" per model: its Table 14 reports 3.1x),
  with f_b on augmented images (the default, as the official code) and on
  the raw ones (``bias_pipeline='test'``, the paper's text);
- PGD within Vanilla's budget (``iters``, the two stages halving it; how our
  comparisons run it),

and prints the ratios, the time of step 2 (from PGD's log) and writes a JSON
file. Evaluation is switched off so that only training is timed.

Usage::

    python benchmarks/pgd_pipeline_time.py --mnist-root ../shared/data/mnist
        [--iters 2000] [--model-base mlp_cmnist]
"""
import argparse
import json
import os.path as osp
import re
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from debiascls.utils.fileio import atomic_write_text  # noqa: E402
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from compare_methods import with_model_base  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='cmnist')
    parser.add_argument('--severity', default='1pct')
    parser.add_argument('--iters', type=int, default=2000)
    parser.add_argument('--mnist-root')
    parser.add_argument('--model-base', default='mlp_cmnist',
                        help='a file of configs/_base_/models/ (all runs)')
    parser.add_argument('--work-dir', default='work_dirs/benchmarks/pgd_time')
    parser.add_argument('--out',
                        default='work_dirs/benchmarks/pgd_pipeline_time.json')
    return parser.parse_args(argv)


def with_train_pipeline_of(leaf: str, source: str) -> None:
    """Append ``source``'s training pipeline to the leaf config ``leaf``."""
    from mmengine.config import Config
    pipeline = Config.fromfile(source).train_dataloader.dataset.pipeline
    with open(leaf, 'a') as f:
        f.write(f'train_dataloader = dict(dataset=dict(pipeline='
                f'{[dict(t) for t in pipeline]!r}))\n')


def run(config: str, work_dir: str, options) -> float:
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
           '--work-dir', work_dir, '--no-validate', '--cfg-options',
           *options]
    start = time.perf_counter()
    with open(osp.join(work_dir, 'stdout.log'), 'w') as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=log,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f'{" ".join(cmd)} failed; see {work_dir}')
    return time.perf_counter() - start


def scoring_seconds(work_dir: str) -> float:
    """Seconds from the scoring hook's "per-sample gradients" line to its
    "sampling probabilities" line (step 2)."""
    stamps = []
    with open(osp.join(work_dir, 'stdout.log')) as f:
        for line in f:
            if re.search(r'PGDScoringHook: (per-sample gradients|sampling '
                         r'probabilities:)', line):
                m = re.search(r'(\d\d):(\d\d):(\d\d)', line)
                h, mi, s = map(int, m.groups())
                stamps.append(3600 * h + 60 * mi + s)
    return float(stamps[-1] - stamps[0]) if len(stamps) >= 2 else float('nan')


def main(argv=None) -> int:
    args = parse_args(argv)
    common = ['default_hooks.checkpoint.interval=100000',
              'default_hooks.logger.interval=500']
    if args.mnist_root:
        common.append(f'mnist_root={osp.abspath(args.mnist_root)}')
    def config_of(method: str) -> str:
        return osp.join(REPO, 'configs', 'methods',
                        f'{method}_{args.dataset}_{args.severity}.py')

    # name: (method, iterations, train with PGD's pipeline, extra options)
    raw_f_b = ['custom_hooks.0.bias_pipeline=test']
    runs = {
        'vanilla': ('vanilla', args.iters, False, []),
        "vanilla (PGD's augmentations)": ('vanilla', args.iters, True, []),
        'pgd (each stage = Vanilla)': ('pgd', 2 * args.iters, False, []),
        'pgd (each stage = Vanilla, f_b on raw images)':
        ('pgd', 2 * args.iters, False, raw_f_b),
        'pgd (same budget)': ('pgd', args.iters, False, []),
    }
    walls, scoring = {}, {}
    for name, (method, iters, pgd_pipeline, extra) in runs.items():
        work_dir = osp.join(args.work_dir, re.sub(r'[^a-z0-9]+', '_',
                                                  name.lower()).strip('_'))
        config = with_model_base(config_of(method), args.model_base,
                                 work_dir)
        if pgd_pipeline:
            with_train_pipeline_of(config, config_of('pgd'))
        walls[name] = run(config, work_dir,
                          common + [f'train_cfg.max_iters={iters}'] + extra)
        if method == 'pgd':
            scoring[name] = scoring_seconds(work_dir)
    base = walls['vanilla']
    same_data = walls["vanilla (PGD's augmentations)"]
    print(f'{args.dataset} {args.severity}, {args.model_base}, Vanilla '
          f'{args.iters} iterations (wall time of tools/train.py, no '
          'evaluation):')
    for name, wall in walls.items():
        extra = (f', of which step 2 (scoring) {scoring[name]:.0f} s'
                 if name in scoring else '')
        print(f'  {name}: {wall:.0f} s, {wall / base:.2f}x Vanilla, '
              f'{wall / same_data:.2f}x Vanilla with the same '
              f'augmentations{extra}')
    atomic_write_text(json.dumps(dict(
        dataset=args.dataset, severity=args.severity, iters=args.iters,
        model_base=args.model_base, wall_s=walls, scoring_s=scoring,
        ratio={k: v / base for k, v in walls.items()},
        ratio_same_augmentations={k: v / same_data
                                  for k, v in walls.items()}), indent=1),
        args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
