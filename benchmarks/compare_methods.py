"""Methods x seeds on one setting, with the same budget for all.

Trains ``<method>_<dataset>_<severity>.py`` for every method and seed through
``tools/train.py`` (a finished run is skipped, an unfinished one resumed),
then prints, per method, the mean and standard deviation over seeds of the
test metrics under three selection rules: ``last``,
``best-valid-<metric>`` (held-out selection) and ``oracle-test-<metric>``
(the papers' protocol, labelled), and writes everything to a JSON file. For
LfF+BE and IE it also prints the bias-detection table of the last checkpoint
(IE Table 2, measured with the true bias labels). LfF+BE and IE runs of
the same setting and seed share one committee: a finished run's
``bias_committee.npz`` is copied into the next one, whose
``BiasCommitteeHook`` uses it only if its fingerprint matches.

Usage::

    python benchmarks/compare_methods.py --dataset synthdigits \\
        --severity 1pct --methods vanilla lff lff_be ie --seeds 0 1 2
    python benchmarks/compare_methods.py --dataset cmnist --severity 1pct \\
        --mnist-root ../shared/data/mnist --cfg-options \\
        train_cfg.max_iters=5000 model.t1=100 model.t2=1000

``--cfg-options`` applies to every run (``model.t1``/``model.t2`` are
dropped for methods without them).
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import time
from typing import Dict, List

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from debiascls.utils.fileio import atomic_write_text  # noqa: E402
from debiascls.engine.results import RESULTS_FILE, read_results  # noqa
from debiascls.evaluation.selection import select  # noqa: E402

IE_ONLY = ('model.t1', 'model.t2', 'model.alpha_l', 'model.alpha_s',
           'model.tau')
COMMITTEE_ONLY = ('custom_hooks.0.', )
COMMITTEE_CACHE = 'bias_committee.npz'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='synthdigits')
    parser.add_argument('--severity', default='1pct')
    parser.add_argument('--methods', nargs='+',
                        default=['vanilla', 'lff', 'lff_be', 'ie'])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--metric', default='conflicting_acc',
                        help='metric of the table and of the rules')
    parser.add_argument('--mnist-root', help='MNIST IDX folder (cmnist)')
    parser.add_argument('--work-dir', default='work_dirs/compare')
    parser.add_argument('--out', help='JSON file (default: in --work-dir)')
    parser.add_argument('--cfg-options', nargs='+', default=[])
    parser.add_argument('--tag', default='',
                        help='suffix of the run folders (e.g. a sweep value)')
    parser.add_argument(
        '--model-base',
        help='train every method with this classifier (a file of '
        'configs/_base_/models/, e.g. mlp_cmnist) instead of its own; '
        'method keys that name layers are kept (see --cfg-options)')
    return parser.parse_args(argv)


def options_for(method: str, options: List[str]) -> List[str]:
    kept = []
    for opt in options:
        if method != 'ie' and opt.startswith(IE_ONLY):
            continue
        if method in ('vanilla', 'lff') and opt.startswith(COMMITTEE_ONLY):
            continue
        kept.append(opt)
    return kept


def finished(work_dir: str, max_iters: int) -> bool:
    path = osp.join(work_dir, RESULTS_FILE)
    if not osp.isfile(path):
        return False
    return any(r.get('mode') == 'val' and r.get('iter') == max_iters
               for r in read_results(path))


def train(config: str, work_dir: str, seed: int, options: List[str]) -> float:
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
           '--work-dir', work_dir, '--seed', str(seed)]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')
    if options:
        cmd += ['--cfg-options', *options]
    os.makedirs(work_dir, exist_ok=True)
    start = time.perf_counter()
    with open(osp.join(work_dir, 'stdout.log'), 'a') as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=log,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f'{" ".join(cmd)} failed; see {work_dir}/stdout.log')
    return time.perf_counter() - start


def reuse_committee(work_root: str, setting: str, seed: int,
                    work_dir: str) -> None:
    """Copy a committee cache (``bias_committee.npz``) of the same setting
    and seed from another method's or tag's run into ``work_dir``.

    The copy is only a candidate: :class:`BiasCommitteeHook` checks its
    fingerprint (labels, seed, committee settings, biased model, optimizer)
    and trains the committee again if any of them differs.
    """
    target = osp.join(work_dir, COMMITTEE_CACHE)
    if osp.isfile(target):
        return
    pattern = osp.join(work_root, setting + '*', '*', f'seed{seed}',
                       COMMITTEE_CACHE)
    for source in sorted(glob.glob(pattern)):
        os.makedirs(work_dir, exist_ok=True)
        shutil.copyfile(source, target + '.tmp')
        os.replace(target + '.tmp', target)
        print(f'{work_dir}: committee cache copied from {source} (used only '
              'if its fingerprint matches)', flush=True)
        return


def with_model_base(config: str, model_base: str, work_dir: str) -> str:
    """A leaf config inheriting ``config`` with the classifier and data
    preprocessor of ``configs/_base_/models/<model_base>.py``."""
    from mmengine.config import Config
    base = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models', model_base + '.py'))
    # _delete_: the base's classifier replaces the config's (a ConvNet's
    # `channels` must not be merged into an MLP's arguments)
    classifier = dict(_delete_=True, **base.classifier.to_dict())
    lines = [f'_base_ = [{config!r}]', f'classifier = {classifier!r}']
    if base.get('data_preprocessor') is not None:
        preprocessor = dict(_delete_=True, **base.data_preprocessor.to_dict())
        lines.append(f'data_preprocessor = {preprocessor!r}')
    os.makedirs(work_dir, exist_ok=True)
    leaf = osp.join(work_dir, osp.basename(config))
    with open(leaf, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return leaf


def max_iters_of(config: str, options: List[str]) -> int:
    for opt in options:
        if opt.startswith('train_cfg.max_iters='):
            return int(opt.split('=', 1)[1])
    from mmengine.config import Config
    return int(Config.fromfile(config).train_cfg.max_iters)


def bias_detection(config: str, work_dir: str,
                   options: List[str]) -> Dict:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    out = osp.join(work_dir, 'bias_detection.json')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'analysis_tools',
                                    'bias_detection.py'), config, checkpoint,
           '--json', out]
    denoising = osp.join(work_dir, 'denoising.npz')
    if osp.isfile(denoising):
        cmd += ['--denoising', denoising]
    data_opts = [o for o in options if o.split('=')[0] in (
        'data_root', 'mnist_root', 'severity', 'label_noise',
        'label_noise_seed')]
    if data_opts:
        cmd += ['--cfg-options', *data_opts]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    with open(out) as f:
        return json.load(f)


def summarize(values: List[float]) -> str:
    if not values:
        return '-'
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f'{mean:.2f} ± {std:.2f}'


def main(argv=None) -> int:
    args = parse_args(argv)
    options = list(args.cfg_options)
    if args.mnist_root:
        options.append(f'mnist_root={osp.abspath(args.mnist_root)}')
    setting = f'{args.dataset}_{args.severity}'
    rules = ['last', f'best-valid-{args.metric}', f'oracle-test-{args.metric}']
    runs: Dict[str, Dict] = {}
    for method in args.methods:
        config = osp.join(REPO, 'configs', 'methods',
                          f'{method}_{setting}.py')
        method_opts = options_for(method, options)
        max_iters = max_iters_of(config, method_opts)
        for seed in args.seeds:
            work_dir = osp.join(args.work_dir, setting + args.tag, method,
                                f'seed{seed}')
            wall = None
            run_config = config
            if args.model_base:
                run_config = with_model_base(
                    config, args.model_base,
                    osp.join(args.work_dir, setting + args.tag, 'configs'))
            if not finished(work_dir, max_iters):
                if method in ('lff_be', 'ie'):
                    reuse_committee(args.work_dir, setting, seed, work_dir)
                wall = train(run_config, work_dir, seed, method_opts)
            records = list(read_results(osp.join(work_dir, RESULTS_FILE)))
            entry = dict(method=method, seed=seed, work_dir=work_dir,
                         wall_s=wall, options=method_opts,
                         rules={r: select(records, r) for r in rules})
            if method in ('lff_be', 'ie') or 'denoise' in method:
                entry['bias_detection'] = bias_detection(
                    run_config, work_dir, method_opts)
            runs[f'{method}/seed{seed}'] = entry
            test = entry['rules']['last']['splits']['test']
            print(f'{method} seed {seed}: test {args.metric} (last) '
                  f'{test[args.metric]:.2f}', flush=True)

    print(f'\n{setting}, {len(args.seeds)} seeds, test metrics, '
          'mean ± std over seeds')
    header = ['method'] + [
        f'{args.metric} ({r}{", oracle" if r.startswith("oracle") else ""})'
        for r in rules
    ] + ['aligned_acc (last)', 'unbiased_acc (last)']
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    table = {}
    for method in args.methods:
        entries = [runs[f'{method}/seed{s}'] for s in args.seeds]
        row = {}
        for rule in rules:
            row[rule] = [e['rules'][rule]['splits']['test'][args.metric]
                         for e in entries]
        for metric in ('aligned_acc', 'unbiased_acc'):
            row[metric] = [e['rules']['last']['splits']['test'][metric]
                           for e in entries]
        table[method] = row
        cells = [summarize(row[r]) for r in rules] + [
            summarize(row['aligned_acc']), summarize(row['unbiased_acc'])]
        print(f'| {method} | ' + ' | '.join(cells) + ' |')

    detection = {k: v['bias_detection'] for k, v in runs.items()
                 if 'bias_detection' in v}
    if detection:
        print('\nBias detection at the last iteration (true bias labels): '
              'set size, BC fraction %, BC recall %, BA recall %')
        for key, result in detection.items():
            for name, s in result['sets'].items():
                print(f"  {key} {name}: {s['size']}, "
                      f"{s['conflicting_fraction']:.2f}, "
                      f"{s['conflicting_recall']:.2f}, "
                      f"{s['aligned_recall']:.2f}")
            if 'denoising' in result:
                print(f'  {key} de-noising kept / total: ' + ', '.join(
                    f"{k} {v['kept']} / {v['total']}"
                    for k, v in result['denoising'].items()))
    out = args.out or osp.join(args.work_dir, f'{setting}{args.tag}.json')
    atomic_write_text(json.dumps(dict(
        setting=setting, seeds=args.seeds, metric=args.metric,
        options=options, table=table, runs=runs), indent=1), out)
    print(f'\nwritten to {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
