"""Do the results move? Every registered algorithm trained for ``--iters``
iterations (seed 0) on tiny generated data through ``tools/train.py``,
uninterrupted and resumed from the middle, fingerprinted bit for bit.

For each method the script records a SHA-256 of every tensor of the final
checkpoint's ``state_dict`` and optimizer state, and every metric that
``results.jsonl`` holds (valid and test, at every evaluation); a resumed run
(the middle checkpoint copied into a fresh work dir, ``--resume``) must give
the same fingerprints as the uninterrupted run.

``--baseline-ref REF`` answers "did a change move any result?": it checks
REF out into a scratch worktree, runs *REF's* copy of this script there
(its own configs and option names), then this one, and compares the two
records method by method. ``--baseline FILE`` compares with a record
written earlier on the same kind of machine (float results depend on the
CPU's kernels and the torch build).

Data: SynthDigits (200 training digits at 5pct, batches of 16) for the
LfF family and PGD; Biased MNIST at rho 0.99 from 200 random IDX "digits"
for ReBias, RUBi and LearnedMixin+H. Stages are shortened as the tests do
(a committee of 3-iteration models, IE's T1/T2 and DisEnt's curr_step in
the run's first and second thirds, a 3-iteration noise model).

Usage::

    python benchmarks/equality_check.py [--methods vanilla lff ...]
        [--iters 300] [--out work_dirs/equality/record.json]
        [--baseline-ref 0a9729e | --baseline FILE]
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from debiascls.datasets.idx import write_idx  # noqa: E402
from debiascls.engine.checkpoint import safe_torch_load  # noqa: E402
from debiascls.utils.fileio import atomic_write_text  # noqa: E402


def methods(iters: int) -> Dict[str, dict]:
    """``{method: dict(config, options, data)}`` for every registered
    algorithm (and the variants whose code paths differ)."""
    third = iters // 3
    committee = ['custom_hooks.0.num_iters=3',
                 'custom_hooks.0.valid_interval=2']
    disent = [f'model.curr_step={third}', f'param_scheduler.0.begin={third}',
              f'param_scheduler.0.step_size={third}']
    digits = {
        'vanilla': [], 'lff': [], 'lff_be': committee,
        'ie': committee + [f'model.t1={third}', f'model.t2={2 * third}'],
        'cosfairnet': [], 'pgd': [], 'pgd-official': [],
        'pgd-denoise': ['custom_hooks.0.num_iters=3'],
        'disent': disent, 'disent_be': committee + disent,
    }
    table = {
        name: dict(config=f'configs/methods/{name}_synthdigits_1pct.py',
                   options=opts, data='synthdigits')
        for name, opts in digits.items()
    }
    narrow = ['classifier.backbone.channels=[4,8]']
    for name, opts in (('rebias', narrow), ('rubi', narrow),
                       ('learned-mixin-h', narrow + [
                           'model.pretrain_epochs=None',
                           f'model.pretrain_iters={third}'])):
        table[name] = dict(
            config=f'configs/methods/{name}_biased_mnist_rho0.99.py',
            options=opts + ['biased_classifiers.0.backbone.channels=[4,8]'],
            data='biased_mnist')
    return table


def data_options(kind: str, data_dir: str, iters: int) -> List[str]:
    """The shortened schedule and the tiny data of ``kind``."""
    mid = iters // 2
    opts = [f'train_cfg.max_iters={iters}',
            f'train_cfg.val_interval={iters // 3}',
            f'default_hooks.checkpoint.interval={mid}',
            'default_hooks.checkpoint.max_keep_ckpts=-1',
            'default_hooks.logger.interval=50']
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    for loader in loaders:
        opts += [f'{loader}.batch_size=16', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    if kind == 'synthdigits':
        opts += [f'data_root={data_dir}/synthdigits', 'severity=5pct']
        for loader in loaders:
            opts += [f'{loader}.dataset.train_size=200',
                     f'{loader}.dataset.valid_size=100',
                     f'{loader}.dataset.test_per_cell=1']
    else:
        opts += [f'data_root={data_dir}/biased_mnist',
                 f'mnist_root={data_dir}/mnist', 'rho=0.99']
        for loop in ('val_cfg', 'test_cfg'):
            opts += [f'{loop}.extra_splits.test_biased.batch_size=16',
                     f'{loop}.extra_splits.test_biased.num_workers=0']
    return opts


def write_random_mnist(root: str, n: int = 200) -> None:
    """A t10k-only MNIST copy (split into train/valid/test by the data
    set): ``n`` random 28x28 "digits", every class equally often."""
    rng = np.random.default_rng(0)
    images = rng.integers(1, 256, size=(n, 28, 28), dtype=np.uint8)
    images[rng.random((n, 28, 28)) < 0.5] = 0
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    write_idx(osp.join(root, 't10k-images-idx3-ubyte.gz'), images)
    write_idx(osp.join(root, 't10k-labels-idx1-ubyte.gz'), labels)


def fingerprint(obj) -> object:
    """SHA-256 of every tensor (dtype, shape and bytes) in a nested
    structure; other leaves as they are."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        digest = hashlib.sha256(t.view(torch.uint8).numpy().tobytes())
        return f'{t.dtype}{list(obj.shape)}:{digest.hexdigest()[:16]}'
    if isinstance(obj, dict):
        return {str(k): fingerprint(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [fingerprint(v) for v in obj]
    return obj if isinstance(obj, (int, float, str, bool, type(None))) \
        else repr(obj)


def record_run(work_dir: str, iters: int) -> dict:
    ckpt = safe_torch_load(osp.join(work_dir, f'iter_{iters}.pth'))
    with open(osp.join(work_dir, 'results.jsonl'), encoding='utf-8') as f:
        results = [json.loads(line) for line in f if line.strip()]
    return dict(state_dict=fingerprint(ckpt['state_dict']),
                optimizer=fingerprint(ckpt.get('optimizer')),
                results=[dict(mode=r['mode'], split=r['split'],
                              iter=r['iter'], metrics=r['metrics'])
                         for r in results])


def train(code: str, args: List[str], log: str) -> None:
    """``tools/train.py args`` of the checkout ``code``."""
    env = dict(os.environ, PYTHONPATH=code, OMP_NUM_THREADS='1')
    with open(log, 'w', encoding='utf-8') as f:
        proc = subprocess.run(
            [sys.executable, osp.join(code, 'tools', 'train.py'), *args],
            cwd=code, env=env, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log, encoding='utf-8') as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{" ".join(args[:1])} failed (exit '
                           f'{proc.returncode}), log {log}:\n{tail}')


def record(names: List[str], iters: int, scratch: str,
           code: str = REPO) -> dict:
    """Train every method with the checkout ``code``, uninterrupted and
    resumed; its fingerprints."""
    data_dir = osp.join(scratch, 'data')
    if not osp.isdir(osp.join(data_dir, 'mnist')):
        write_random_mnist(osp.join(data_dir, 'mnist'))
    table, out = methods(iters), {}
    for name in names:
        spec = table[name]
        opts = data_options(spec['data'], data_dir, iters) + spec['options']
        full = osp.join(scratch, name, 'full')
        resumed = osp.join(scratch, name, 'resumed')
        shutil.rmtree(osp.join(scratch, name), ignore_errors=True)
        os.makedirs(resumed)
        print(f'{name}: {iters} iterations ...', flush=True)
        train(code, [spec['config'], '--work-dir', full, '--seed', '0',
               '--cfg-options', *opts], osp.join(scratch, f'{name}.log'))
        mid = f'iter_{iters // 2}.pth'
        shutil.copy(osp.join(full, mid), osp.join(resumed, mid))
        print(f'{name}: resumed from {mid} ...', flush=True)
        train(code, [spec['config'], '--work-dir', resumed, '--seed', '0',
               '--resume', osp.join(resumed, mid), '--cfg-options', *opts],
              osp.join(scratch, f'{name}-resumed.log'))
        a, b = record_run(full, iters), record_run(resumed, iters)
        b['results'] = [r for r in b['results'] if r['iter'] > iters // 2]
        tail = [r for r in a['results'] if r['iter'] > iters // 2]
        out[name] = dict(a, resume_exact=(
            a['state_dict'] == b['state_dict']
            and a['optimizer'] == b['optimizer'] and tail == b['results']))
    return out


def compare(base: dict, new: dict) -> List[str]:
    """One line per method: equal, or what differs."""
    lines = []
    for name in sorted(set(base) | set(new)):
        if name not in base or name not in new:
            lines.append(f'{name}: only in the '
                         f'{"new" if name in new else "baseline"} record')
            continue
        a, b, diffs = base[name], new[name], []
        for part in ('state_dict', 'optimizer'):
            if a[part] != b[part]:
                if isinstance(a[part], dict) and isinstance(b[part], dict):
                    keys = sorted(k for k in set(a[part]) | set(b[part])
                                  if a[part].get(k) != b[part].get(k))
                    diffs.append(f'{part} ({len(keys)}: {keys[:4]})')
                else:
                    diffs.append(part)
        if a['results'] != b['results']:
            diffs.append('metrics')
        if not b['resume_exact']:
            diffs.append('resume not exact')
        lines.append(f'{name}: ' + ('bit-identical, resume exact'
                                    if not diffs else
                                    'DIFFERS: ' + ', '.join(diffs)))
    return lines


def baseline_at(ref: str, names: List[str], iters: int,
                scratch: str) -> dict:
    """REF's record, written by REF's copy of this script (its configs
    and option names), or by this one on REF's code where REF predates
    it."""
    tree = osp.join(scratch, 'baseline-tree')
    subprocess.run(['git', '-C', REPO, 'worktree', 'add', '--detach', '-f',
                    tree, ref], check=True, capture_output=True)
    try:
        script = osp.join(tree, 'benchmarks', 'equality_check.py')
        if not osp.isfile(script):
            return record(names, iters, osp.join(scratch, 'baseline-runs'),
                          code=tree)
        out = osp.join(scratch, 'baseline.json')
        subprocess.run([
            sys.executable, script, '--iters', str(iters), '--out', out,
            '--scratch', osp.join(scratch, 'baseline-runs'), '--methods',
            *names
        ], check=True)
        with open(out, encoding='utf-8') as f:
            return json.load(f)['methods']
    finally:
        subprocess.run(['git', '-C', REPO, 'worktree', 'remove', '--force',
                        tree], capture_output=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', nargs='+', default=None,
                        help='default: all')
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--out', default='work_dirs/equality/record.json')
    parser.add_argument('--scratch', help='work dirs of the runs (default: '
                        'a temporary folder, removed)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--baseline-ref', help='git ref to compare with')
    group.add_argument('--baseline', help='a record to compare with')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = args.methods or list(methods(args.iters))
    unknown = sorted(set(names) - set(methods(args.iters)))
    if unknown:
        raise SystemExit(f'equality_check: unknown methods {unknown}; '
                         f'choose from {sorted(methods(args.iters))}')
    scratch = args.scratch or tempfile.mkdtemp(prefix='equality-')
    try:
        base: Optional[dict] = None
        if args.baseline_ref:
            base = baseline_at(args.baseline_ref, names, args.iters, scratch)
        elif args.baseline:
            with open(args.baseline, encoding='utf-8') as f:
                base = {k: v for k, v in json.load(f)['methods'].items()
                        if k in names}
        new = record(names, args.iters, osp.join(scratch, 'runs'))
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    atomic_write_text(json.dumps(dict(iters=args.iters, torch=torch.__version__,
                                      methods=new), indent=1), args.out)
    print(f'record written to {args.out}')
    lines = compare(base, new) if base is not None else [
        f'{name}: resume {"exact" if r["resume_exact"] else "NOT EXACT"}'
        for name, r in new.items()
    ]
    print('\n'.join(lines))
    failed = any('DIFFERS' in line or 'NOT EXACT' in line or 'only in' in line
                 for line in lines)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
