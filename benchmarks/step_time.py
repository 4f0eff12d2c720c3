"""Training-step time of each algorithm relative to Vanilla, in one run.

Builds every algorithm from its shipped config for one setting, feeds all of
them the same pre-loaded training batches, and times ``train_step`` (the
forward passes, the losses, the per-sample state updates, every optimizer
step and, for IE, loading the x^BN batch) in interleaved rounds, so machine
noise hits every algorithm alike. Reported: the median time per step and
its ratio to Vanilla's. IE is timed in its guided phase (from T2 on) and
before it; LfF+BE and IE get D^A, D_cand^BN and BN scores drawn at random
(their step time does not depend on which samples are members), so no
committee is trained here; its cost is reported separately, in Vanilla
steps (``num_models * num_iters`` GCE steps of one model). CosFairNet's step
includes its second, per-layer update. PGD is timed in step 1 (f_b with GCE)
and step 3 (f_d with CE on the batches its sampler would draw, here the same
batches); its step 2 (per-sample gradients of every training sample) and the
rejection sampler are timed by ``benchmarks/pgd_pipeline_time.py``. A method
without a config for the setting is skipped with a note.

Usage::

    python benchmarks/step_time.py [--dataset synthdigits] [--severity 1pct]
        [--steps 30] [--rounds 5] [--out work_dirs/benchmarks/step_time.json]
"""
import argparse
import ctypes
import json
import os.path as osp
import statistics
import sys
import time

import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from debiascls.apis import prepare_config  # noqa: E402
from debiascls.utils.fileio import atomic_write_text  # noqa: E402
from debiascls.engine.optimizers import \
    MultiModelOptimWrapperConstructor  # noqa: E402
from debiascls.datasets.in_memory import InMemoryStore  # noqa: E402
from debiascls.models import DisEnt  # noqa: E402
from debiascls.registry import DATASETS, MODELS  # noqa: E402

METHODS = ('vanilla', 'lff', 'lff_be', 'ie', 'cosfairnet', 'pgd', 'disent',
           'disent_be')
#: Algorithms timed in two phases: (name suffix, phase flag) pairs.
PHASES = {
    'ie': [(' (before T2)', False), (' (guided)', True)],
    'pgd': [(' (step 1: f_b, GCE)', False), (' (step 3: f_d)', True)],
    'disent': [(' (before the swap)', False), (' (swap)', True)],
    'disent_be': [(' (before the swap)', False), (' (swap)', True)],
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='synthdigits')
    parser.add_argument('--severity', default='1pct')
    parser.add_argument('--steps', type=int, default=30,
                        help='steps per algorithm and round')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--adaptive-malloc', action='store_true',
                        help="keep glibc's adaptive trim/mmap thresholds "
                        '(see pin_malloc_thresholds)')
    parser.add_argument('--methods', nargs='+', default=list(METHODS),
                        choices=METHODS, help='algorithms to time '
                        '(default: all; vanilla is always timed)')
    parser.add_argument('--out',
                        default='work_dirs/benchmarks/step_time.json')
    return parser.parse_args(argv)


def pin_malloc_thresholds() -> bool:
    """Fix glibc's trim threshold at 1 GiB and its mmap threshold at its
    32 MiB maximum (both adapt to the allocations otherwise).

    Here 13 algorithms share one heap; with the adaptive thresholds the
    heap is trimmed after and re-faulted during every step of the larger
    ones (measured 2026-12-04: LfF 2.93x and IE guided 4.93x Vanilla),
    which a training process, holding one algorithm, does not pay (its
    logged steps on the same ConvNet: LfF+BE 2.0x Vanilla). Returns
    whether both were set (False off glibc)."""
    try:
        libc = ctypes.CDLL('libc.so.6')
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return (libc.mallopt(m_trim_threshold, 1 << 30) == 1
            and libc.mallopt(m_mmap_threshold, 32 << 20) == 1)


def config_path(method: str, dataset_name: str, severity: str) -> str:
    return osp.join(REPO, 'configs', 'methods',
                    f'{method}_{dataset_name}_{severity}.py')


def build(method: str, dataset_name: str, severity: str):
    cfg = Config.fromfile(config_path(method, dataset_name, severity))
    prepare_config(cfg)
    model = MODELS.build(
        dict(cfg.model, data_preprocessor=cfg.get('data_preprocessor')))
    model.init_weights()
    optim = MultiModelOptimWrapperConstructor.from_optim_wrapper_cfg(
        cfg.optim_wrapper)(model)
    return cfg, model, optim


def prime(model, dataset, generator: torch.Generator, guided: bool,
          store=None) -> None:
    """Per-sample state as after the committee (or PGD's scoring) and some
    training; ``guided``: IE's guided phase, PGD's step 3, DisEnt's swap.
    ``store``: the in-memory training split (IE loads x^BN from it)."""
    model.prepare_train(dataset, store)
    model._hooks_checked = True  # no Runner, no hooks: we drive it here
    if isinstance(model, DisEnt):  # the swap from iteration curr_step + 1
        model.curr_step = -1 if guided else 10**9
    state = model.per_sample
    if hasattr(model, 'scores_ready'):  # PGD
        model.phase_begins = dict(debias=0 if guided else 10**9)
        if guided:
            n = state.num_samples
            model.load_sampling_probs({
                key: torch.rand(n, generator=generator).numpy()
                for key in ('sampling_prob', 'pgd_score', 'magnitude',
                            'direction')
            })
        return
    if state is None or 'amplified' not in state.table_names:
        return
    n = state.num_samples
    state.fill('amplified', torch.rand(n, generator=generator) < 0.9)
    state.fill('bn_candidate', torch.rand(n, generator=generator) < 0.1)
    model.bias_sets_ready.fill_(True)
    if model.phase_names:  # IE
        state.assign('bn_score', torch.arange(n),
                     torch.rand(n, generator=generator) - 0.3)
        model.phase_begins = dict(bn_reference=0,
                                  guidance=0 if guided else 10**9)


def main(argv=None) -> int:
    args = parse_args(argv)
    pinned = False if args.adaptive_malloc else pin_malloc_thresholds()
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    base_cfg, _, _ = build('vanilla', args.dataset, args.severity)
    dataset = DATASETS.build(base_cfg.train_dataloader.dataset)
    # as the train loop does: the decoded split where the config asks
    store = (InMemoryStore.from_dataset(dataset) if
             base_cfg.train_dataloader.get('in_memory') is not None else None)
    batch_size = base_cfg.train_dataloader.batch_size
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=True, drop_last=True,
        collate_fn=__import__('mmengine').dataset.default_collate,
        generator=generator)
    batches = [b for _, b in zip(range(args.steps), loader)]

    runs = {}
    skipped = []
    methods = ['vanilla'] + [m for m in args.methods if m != 'vanilla']
    for method in methods:
        if not osp.isfile(config_path(method, args.dataset, args.severity)):
            skipped.append(method)
            continue
        variants = [(method + suffix, flag)
                    for suffix, flag in PHASES.get(method, [('', False)])]
        for name, guided in variants:
            _, model, optim = build(method, args.dataset, args.severity)
            prime(model, dataset, generator, guided, store)
            model.train()
            for batch in batches[:3]:  # warm-up
                model.train_step(batch, optim)
            runs[name] = (model, optim)

    times = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (model, optim) in runs.items():
            start = time.perf_counter()
            for batch in batches:
                model.train_step(batch, optim)
            times[name].append((time.perf_counter() - start) / len(batches))
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median['vanilla']
    committee = [h for h in Config.fromfile(osp.join(
        REPO, 'configs', '_base_', 'methods', 'ie.py')).custom_hooks
                 if h['type'] == 'BiasCommitteeHook'][0]
    committee_steps = committee['num_models'] * committee['num_iters']

    print(f'{args.dataset} {args.severity}, batch {batch_size}, '
          f'{torch.get_num_threads()} threads, median of {args.rounds} '
          f'rounds of {args.steps} steps, malloc thresholds '
          f'{"pinned" if pinned else "adaptive"}')
    print('| algorithm | ms / step | ratio to Vanilla |')
    print('|---|---|---|')
    for name, value in median.items():
        print(f'| {name} | {1000 * value:.1f} | {value / base:.2f} |')
    for method in skipped:
        name = osp.basename(
            config_path(method, args.dataset, args.severity))
        print(f'{method}: no config {name}, not timed')
    print(f'BiasEnsemble committee (LfF+BE, IE): {committee_steps} GCE steps '
          f'of one model before training, about {committee_steps} Vanilla '
          'steps.')
    atomic_write_text(
        json.dumps(dict(
            setting=f'{args.dataset}_{args.severity}',
            batch_size=batch_size, threads=torch.get_num_threads(),
            steps=args.steps, rounds=args.rounds,
            seconds_per_step=times, median=median,
            ratio={k: v / base for k, v in median.items()},
            committee_steps=committee_steps, skipped=skipped,
            malloc_pinned=pinned), indent=1),
        args.out)
    print(f'written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
