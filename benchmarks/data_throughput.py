"""Data-loading throughput of a config's training loader, in one run.

Builds the training dataloader of a config the way the Runner does and
counts the samples per second it delivers (no model, no training), for each
number of workers and with the image cache of ``LoadImageFromFile`` off and
on, in interleaved rounds so that machine noise hits every variant alike.
Reported: the median samples per second and the ratio to the config's own
setting (its ``num_workers`` and ``cache_mb``), plus the CPU time the
loading costs per batch in the main process with 0 workers.

Usage::

    python benchmarks/data_throughput.py [--config configs/methods/vanilla_synthdigits_1pct.py]
        [--workers 0 1 2] [--batches 40] [--rounds 3]
        [--cfg-options k=v ...] [--out work_dirs/benchmarks/data_throughput.json]
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from debiascls.apis import prepare_config  # noqa: E402
from debiascls.utils.fileio import atomic_write_text  # noqa: E402
from debiascls.apis import register_all_modules  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config', default='configs/methods/vanilla_synthdigits_1pct.py')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--batches', type=int, default=40,
                        help='batches timed per variant and round (after '
                        'a warm-up that fills the caches)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument(
        '--out', default='work_dirs/benchmarks/data_throughput.json')
    return parser.parse_args(argv)


def loader_cfg(cfg: Config, workers: int, cache: bool) -> dict:
    """The training dataloader config with ``workers`` workers and the image
    cache of every ``LoadImageFromFile`` switched on (the config's size, or
    1 GiB where it has none) or off."""
    dl = copy.deepcopy(cfg.train_dataloader)
    dl.num_workers = workers
    dl.persistent_workers = workers > 0
    for step in dl.dataset.get('pipeline', []):
        if step.get('type') == 'LoadImageFromFile':
            step['cache_mb'] = (step.get('cache_mb') or 1024) if cache else 0
    return dl


def samples_per_second(loader, batches: int) -> float:
    """Samples per second over ``batches`` batches of an iterator that has
    already run one epoch (warm caches and workers)."""
    iterator = iter(loader)
    n = 0
    start = time.perf_counter()
    for _ in range(batches):
        batch = next(iterator)
        n += len(batch['inputs'])
    return n / (time.perf_counter() - start)


def main(argv=None) -> int:
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    prepare_config(cfg)
    own_workers = cfg.train_dataloader.num_workers
    own_cache = any(
        (step.get('cache_mb') or 0) > 0
        for step in cfg.train_dataloader.dataset.get('pipeline', [])
        if step.get('type') == 'LoadImageFromFile')
    variants = [(w, c) for w in args.workers for c in (False, True)]
    loaders = {}
    for workers, cache in variants:
        loader = Runner.build_dataloader(
            loader_cfg(cfg, workers, cache), seed=0)
        # warm-up: starts the workers and fills their caches (each worker
        # caches the samples it loads; three epochs reach ~95 % of them)
        epoch = len(loader.dataset) // loader.batch_size + 1
        samples_per_second(loader, 3 * epoch if cache and workers else epoch)
        loaders[(workers, cache)] = loader
    rates: Dict[str, List[float]] = {}
    for _ in range(args.rounds):
        for key in variants:
            name = f'workers={key[0]} cache={"on" if key[1] else "off"}'
            rates.setdefault(name, []).append(
                samples_per_second(loaders[key], args.batches))
    median = {k: statistics.median(v) for k, v in rates.items()}
    own = f'workers={own_workers} cache={"on" if own_cache else "off"}'
    reference = median.get(own)
    batch = cfg.train_dataloader.batch_size
    print(f'{args.config}: training loader, batch {batch}, median of '
          f'{args.rounds} rounds of {args.batches} batches')
    print('| loader | samples / s | ms / batch | ratio to the config\'s |')
    print('|---|---|---|---|')
    for name, rate in median.items():
        ratio = f'{rate / reference:.2f}' if reference else 'n/a'
        mark = ' (config)' if name == own else ''
        print(f'| {name}{mark} | {rate:.0f} | {1000 * batch / rate:.1f} | '
              f'{ratio} |')
    atomic_write_text(json.dumps(dict(
        config=args.config, batch_size=batch, rounds=args.rounds,
        batches=args.batches, config_loader=own, samples_per_second=rates,
        median=median), indent=1), args.out)
    print(f'written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
