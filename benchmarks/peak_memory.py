"""Peak memory of every algorithm's training step, relative to Vanilla.

Each algorithm (and phase, as in ``benchmarks/step_time.py``) runs in a
fresh process that builds it from its shipped config, loads the same
training batches, primes its per-sample state and then takes ``--steps``
training steps. Reported per algorithm:

- on the CPU: the peak resident set size of the process during the steps
  (``VmHWM``, reset just before them through ``/proc/self/clear_refs``) and
  the *training increment*, the peak during the steps minus the resident
  size just before them (activations, gradients, optimizer moments, the
  per-sample state's updates); the ratio is taken on the increments, since
  the Python, PyTorch and data parts are the same in every process;
- on CUDA (``--device cuda``): ``torch.cuda.max_memory_allocated`` over the
  steps, and the memory allocated before them (models, batches).

``--family rebias`` measures ReBias and its baselines instead (Vanilla,
Biased G, LearnedMixin+H in f's phase, RUBi, ReBias), built from their
Biased MNIST configs and fed random 28x28 batches of ``--batch``, as
``benchmarks/rebias_step_time.py`` does.

Usage::

    python benchmarks/peak_memory.py [--dataset synthdigits] [--severity 1pct]
        [--steps 5] [--device cpu|cuda] [--out work_dirs/benchmarks/peak_memory.json]
    python benchmarks/peak_memory.py --family rebias [--batch 64]
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
from typing import Dict

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from debiascls.utils.fileio import atomic_write_text  # noqa: E402

MIB = 1024 * 1024
#: The ReBias family's setting (``--family rebias``).
REBIAS_SETTING = 'biased_mnist_rho0.997'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='synthdigits')
    parser.add_argument('--severity', default='1pct')
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
    parser.add_argument('--family', default='lff', choices=('lff', 'rebias'),
                        help='lff: the LfF family, CosFairNet and PGD on '
                        '--dataset; rebias: ReBias and its baselines on '
                        'Biased MNIST-sized random batches')
    parser.add_argument('--batch', type=int, default=64,
                        help='batch size of --family rebias')
    parser.add_argument('--out',
                        default='work_dirs/benchmarks/peak_memory.json')
    parser.add_argument('--child', nargs=2, metavar=('METHOD', 'PHASE'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def current_rss() -> int:
    """Resident set size of this process in bytes (Linux ``/proc``)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize()


def peak_rss() -> int:
    """Peak resident set size of this process in bytes (``VmHWM``)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current size (Linux >= 4.0), so the peak of
    the steps is not hidden by an earlier one; False where not allowed."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def measure(args: argparse.Namespace) -> Dict[str, float]:
    """In the child process: one algorithm, one phase."""
    import torch
    from mmengine.dataset import default_collate

    from benchmarks.step_time import build, prime
    from debiascls.registry import DATASETS

    method, phase = args.child
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    device = torch.device(args.device)
    if args.family == 'rebias':
        from benchmarks import rebias_step_time
        model, optim = rebias_step_time.build(
            f'{method}_{REBIAS_SETTING}.py', args.device)
        batches = rebias_step_time.batches((args.batch, 3, 28, 28), 10,
                                           args.steps, args.device,
                                           generator)
    else:
        cfg, model, optim = build(method, args.dataset, args.severity)
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=cfg.train_dataloader.batch_size,
            shuffle=True, drop_last=True, collate_fn=default_collate,
            generator=generator)
        batches = [b for _, b in zip(range(args.steps), loader)]
        model.to(device)
        prime(model, dataset, generator, phase == '1')
    model.train()
    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        reset = reset_peak_rss()
        before = current_rss()
    start_peak = peak_rss()
    for batch in batches:
        model.train_step(batch, optim)
    if device.type == 'cuda':
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
        return dict(before_mib=before / MIB, peak_mib=peak / MIB,
                    increment_mib=(peak - before) / MIB)
    peak = peak_rss()
    # without the reset, an earlier peak (building, loading) can hide the
    # steps' own: the increment is then only a lower bound (flagged)
    return dict(before_mib=before / MIB, peak_mib=peak / MIB,
                increment_mib=(peak - before) / MIB,
                lower_bound=not reset and peak == start_peak)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(measure(args)))
        return 0
    from benchmarks.step_time import METHODS, PHASES, config_path
    if args.family == 'rebias':
        from benchmarks.rebias_step_time import METHODS
        PHASES = {}
        setting = REBIAS_SETTING
        args.dataset, args.severity = setting.rsplit('_', 1)
    else:
        setting = f'{args.dataset}_{args.severity}'
    results, skipped = {}, []
    for method in METHODS:
        if not osp.isfile(config_path(method, args.dataset, args.severity)):
            skipped.append(method)
            continue
        for index, (suffix, _) in enumerate(
                PHASES.get(method, [('', False)])):
            cmd = [sys.executable, osp.abspath(__file__), '--dataset',
                   args.dataset, '--severity', args.severity, '--steps',
                   str(args.steps), '--device', args.device, '--family',
                   args.family, '--batch', str(args.batch), '--child',
                   method, str(index)]
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True,
                                  text=True)
            if proc.returncode != 0:
                raise SystemExit(f'{method}{suffix} failed:\n'
                                 f'{proc.stderr[-3000:]}')
            results[method + suffix] = json.loads(
                proc.stdout.strip().splitlines()[-1])
    base = results['vanilla']['increment_mib']
    kind = 'CUDA allocated' if args.device == 'cuda' else 'CPU resident'
    batch = f', random batches of {args.batch}' if (
        args.family == 'rebias') else ''
    print(f'{setting}, {args.steps} steps{batch}, {kind} memory (MiB)')
    print('| algorithm | before the steps | peak | training increment '
          '| increment / Vanilla\'s |')
    print('|---|---|---|---|---|')
    for name, r in results.items():
        flag = ' (lower bound)' if r.get('lower_bound') else ''
        print(f'| {name} | {r["before_mib"]:.0f} | {r["peak_mib"]:.0f} | '
              f'{r["increment_mib"]:.1f}{flag} | '
              f'{r["increment_mib"] / base:.2f} |')
    for method in skipped:
        print(f'{method}: no config for {setting}, not measured')
    atomic_write_text(
        json.dumps(dict(setting=setting, family=args.family,
                        device=args.device, steps=args.steps,
                        results=results, skipped=skipped,
                        ratio={k: v['increment_mib'] / base
                               for k, v in results.items()}), indent=1),
        args.out)
    print(f'written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
