"""Framework overhead: debiascls against a hand-written PyTorch loop of the
same model, data and optimizer, as ratios measured in one run.

Two levels, for Vanilla and LfF on one setting (``--setting``, e.g. the
README's default ``synthdigits_1pct`` or ``cmnist_1pct`` with the papers'
MLPs):

- **step**: ``algorithm.train_step`` (data preprocessor, per-sample state,
  optimizer wrappers) against the same computation written out in plain
  PyTorch, on the same pre-loaded batches, in interleaved rounds;
- **run**: ``tools/train.py`` for ``--iters`` iterations (Runner, hooks,
  logging, checkpoints, the seeded sampler, the data path of the config)
  against a plain loop, both without evaluation, alternated ``--repeats``
  times. Where the config decodes the training split into memory
  (``in_memory``), the plain loop indexes the same uint8 tensors with a
  ``torch.randperm`` per epoch; otherwise it iterates a ``DataLoader`` of the
  same dataset, batch size and workers.

The plain LfF mirrors debiascls's (and the official code's): GCE for f_b,
per-sample EMAs of both CE losses (first visit stores the raw loss)
normalised by the class-wise maximum, ``w = l_b / (l_b + l_d)``.

Usage::

    python benchmarks/framework_overhead.py [--setting cmnist_1pct]
        [--cfg-options mnist_root=../shared/data/mnist] [--iters 300]
        [--repeats 2] [--steps 30] [--rounds 5]
        [--out work_dirs/benchmarks/framework_overhead.json]
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dataset import default_collate  # noqa: E402

from debiascls.apis import prepare_config  # noqa: E402
from debiascls.utils.fileio import atomic_write_text  # noqa: E402
from debiascls.engine.optimizers import \
    MultiModelOptimWrapperConstructor  # noqa: E402
from debiascls.registry import DATASETS, MODELS  # noqa: E402

METHODS = ('vanilla', 'lff')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--setting', default='synthdigits_1pct')
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument(
        '--out', default='work_dirs/benchmarks/framework_overhead.json')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides of both configs (e.g. '
                        'data_root, mnist_root)')
    return parser.parse_args(argv)


def config(method: str, setting: str, options=()) -> Config:
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'methods', f'{method}_{setting}.py'))
    if options:
        cfg.merge_from_dict(_options(options))
    prepare_config(cfg)
    return cfg


def _options(options) -> dict:
    """``key=value`` strings parsed as ``--cfg-options`` would be."""
    out = {}
    for option in options:
        key, value = option.split('=', 1)
        out[key] = DictAction._parse_iterable(value)
    return out


class PlainLfF:
    """LfF in plain PyTorch (two models, two Adam optimizers)."""

    def __init__(self, f_b, f_d, lr: float, num_samples: int,
                 labels: torch.Tensor, q: float = 0.7,
                 alpha: float = 0.7) -> None:
        self.f_b, self.f_d = f_b, f_d
        self.opt_b = torch.optim.Adam(f_b.parameters(), lr=lr)
        self.opt_d = torch.optim.Adam(f_d.parameters(), lr=lr)
        self.ema = {k: torch.zeros(num_samples) for k in ('b', 'd')}
        self.seen = {k: torch.zeros(num_samples, dtype=torch.bool)
                     for k in ('b', 'd')}
        self.labels = labels
        self.num_classes = int(labels.max()) + 1
        self.q, self.alpha = q, alpha

    def _ema(self, key: str, idx: torch.Tensor, loss: torch.Tensor):
        old = self.ema[key][idx]
        new = torch.where(self.seen[key][idx],
                          self.alpha * old + (1 - self.alpha) * loss, loss)
        self.ema[key][idx] = new
        self.seen[key][idx] = True
        class_max = torch.zeros(self.num_classes).scatter_reduce(
            0, self.labels, self.ema[key], 'amax')
        return new / class_max[self.labels[idx]].clamp_min(1e-12)

    def step(self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor):
        logits_b, logits_d = self.f_b(x), self.f_d(x)
        ce_b = F.cross_entropy(logits_b, y, reduction='none')
        ce_d = F.cross_entropy(logits_d, y, reduction='none')
        l_b = self._ema('b', idx, ce_b.detach())
        l_d = self._ema('d', idx, ce_d.detach())
        weight = l_b / (l_b + l_d + 1e-8)
        p_y = logits_b.softmax(1).gather(1, y.view(-1, 1)).squeeze(1)
        loss_b = (ce_b * self.q * p_y.detach().pow(self.q)).mean()
        loss_d = (ce_d * weight).mean()
        self.opt_b.zero_grad()
        loss_b.backward()
        self.opt_b.step()
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()


def plain_net(classifier_cfg) -> torch.nn.Module:
    """The classifier written out in plain PyTorch where it is an MLP (the
    papers' Colored MNIST models: ``nn.Sequential`` of Linear + ReLU with
    the official /255 input scale, as LfF's ``module/mlp.py``), else
    debiascls's module."""
    backbone = classifier_cfg['backbone']
    if backbone['type'] != 'MLP':
        return MODELS.build(classifier_cfg)
    layers, width = [torch.nn.Flatten()], 3 * 28 * 28
    for hidden in backbone['hidden_dims']:
        layers += [torch.nn.Linear(width, hidden), torch.nn.ReLU()]
        width = hidden
    layers.append(torch.nn.Linear(width, classifier_cfg['head']['num_classes']))
    scale = backbone.get('input_scale', 1.0)
    net = torch.nn.Sequential(*layers)
    return net if scale == 1.0 else torch.nn.Sequential(_Scale(scale), net)


class _Scale(torch.nn.Module):

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def plain_step(method: str, cfg: Config, dataset) -> Callable:
    torch.manual_seed(0)
    net = lambda: plain_net(cfg.model.classifier)  # noqa: E731
    lr = cfg.optim_wrapper.optimizer.lr
    mean = torch.tensor(cfg.data_preprocessor['mean']).view(1, -1, 1, 1)
    std = torch.tensor(cfg.data_preprocessor['std']).view(1, -1, 1, 1)
    if method == 'vanilla':
        model = net().train()
        opt = torch.optim.Adam(model.parameters(), lr=lr)

        def step(batch):
            x = (batch['inputs'].float() - mean) / std
            loss = F.cross_entropy(model(x),
                                   batch['data_samples']['gt_label'])
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step
    labels = torch.as_tensor(dataset.get_gt_labels())
    lff = PlainLfF(net().train(), net().train(), lr, len(dataset), labels)

    def step(batch):
        x = (batch['inputs'].float() - mean) / std
        samples = batch['data_samples']
        lff.step(x, samples['gt_label'], samples['sample_idx'])

    return step


def framework_step(method: str, cfg: Config, dataset) -> Callable:
    torch.manual_seed(0)
    model = MODELS.build(
        dict(cfg.model, data_preprocessor=cfg.get('data_preprocessor')))
    optim = MultiModelOptimWrapperConstructor.from_optim_wrapper_cfg(
        cfg.optim_wrapper)(model)
    model.prepare_train(dataset)
    model._hooks_checked = True  # no Runner: no hooks to drive a schedule
    model.train()
    return lambda batch: model.train_step(batch, optim)


def time_steps(args, dataset, batches) -> Dict:
    runs = {}
    for method in METHODS:
        cfg = config(method, args.setting, args.cfg_options)
        runs[f'{method} plain'] = plain_step(method, cfg, dataset)
        runs[f'{method} debiascls'] = framework_step(method, cfg, dataset)
    for fn in runs.values():  # warm-up
        for batch in batches[:3]:
            fn(batch)
    times: Dict[str, List[float]] = {k: [] for k in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            for batch in batches:
                fn(batch)
            times[name].append((time.perf_counter() - start) / len(batches))
    return times


PLAIN_RUN = r'''
import sys, time, torch, torch.nn.functional as F
sys.path.insert(0, {repo!r})
sys.path.insert(0, {bench!r})
from mmengine.dataset import default_collate
from framework_overhead import config, plain_step
from debiascls.datasets.in_memory import InMemoryStore
from debiascls.registry import DATASETS
from debiascls.utils.threads import apply_num_threads, auto_threads
cfg = config({method!r}, {setting!r}, {options!r})
loader_cfg = cfg.train_dataloader
dataset = DATASETS.build(loader_cfg.dataset)
step = plain_step({method!r}, cfg, dataset)
g = torch.Generator().manual_seed(0)
bs = loader_cfg.batch_size
if loader_cfg.get('in_memory') is not None:
    # the decoded split as plain tensors, batches by indexing
    apply_num_threads(auto_threads(0))  # what tools/train.py does
    store = InMemoryStore.from_dataset(dataset)
    x, y = store.inputs, store.samples['gt_label']
    idx_all = store.samples['sample_idx']
    n = len(y)

    def batches():
        while True:
            perm = torch.randperm(n, generator=g)
            for i in range(0, n - bs + 1, bs):
                j = perm[i:i + bs]
                yield dict(inputs=x[j], data_samples=dict(
                    gt_label=y[j], sample_idx=idx_all[j]))
    stream = batches()
else:
    apply_num_threads(auto_threads(loader_cfg.num_workers))
    sampler = torch.utils.data.RandomSampler(
        dataset, replacement=True, num_samples=10 ** 9, generator=g)
    stream = iter(torch.utils.data.DataLoader(
        dataset, batch_size=bs, sampler=sampler,
        num_workers=loader_cfg.num_workers, collate_fn=default_collate,
        persistent_workers=loader_cfg.num_workers > 0))
start = time.perf_counter()
for i, batch in zip(range({iters}), stream):
    step(batch)
print('WALL', time.perf_counter() - start)
'''


def run_once(method: str, args, plain: bool, work: str) -> float:
    """Seconds of one training run (the process start and imports
    excluded: measured inside the process for the plain loop, from the
    first to the last iteration's log line for tools/train.py)."""
    if plain:
        code = PLAIN_RUN.format(repo=REPO, bench=osp.dirname(__file__),
                                method=method, setting=args.setting,
                                options=list(args.cfg_options),
                                iters=args.iters)
        out = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                             capture_output=True, text=True, check=True)
        return float(out.stdout.split('WALL')[-1])
    work_dir = osp.join(work, f'{method}_{time.time_ns()}')
    cmd = [
        sys.executable, osp.join(REPO, 'tools', 'train.py'),
        osp.join(REPO, 'configs', 'methods', f'{method}_{args.setting}.py'),
        '--work-dir', work_dir, '--cfg-options', *args.cfg_options,
        f'train_cfg.max_iters={args.iters}',
        f'train_cfg.val_interval={10 * args.iters}', 'val_cfg=None',
        'val_dataloader=None', 'val_evaluator=None',
        f'default_hooks.checkpoint.interval={args.iters}'
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-2000:] + proc.stderr[-2000:])
    total = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    # the Runner logs its own wall time of the training loop
    stamp = [line for line in log.splitlines() if 'Iter(train)' in line]
    shutil.rmtree(work_dir, ignore_errors=True)
    return _train_span(stamp) or total


def _train_span(lines: List[str]):
    """Seconds between the first and the last ``Iter(train)`` log line,
    scaled to the whole run (the first line comes after one logging
    interval)."""
    import re
    times = []
    for line in lines:
        m = re.search(r'Iter\(train\) \[\s*(\d+)/(\d+)\].*?time: ([\d.]+)',
                      line)
        if m:
            times.append(float(m.group(3)))
    if not times:
        return None
    return statistics.mean(times) * _ITERS[0]


_ITERS = [0]


def main(argv=None) -> int:
    args = parse_args(argv)
    _ITERS[0] = args.iters
    cfg = config('vanilla', args.setting, args.cfg_options)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=cfg.train_dataloader.batch_size, shuffle=True,
        collate_fn=default_collate,
        generator=torch.Generator().manual_seed(0))
    batches = [b for _, b in zip(range(args.steps), loader)]
    print(f'{args.setting}, batch {cfg.train_dataloader.batch_size}, '
          f'{torch.get_num_threads()} threads')
    step_times = time_steps(args, dataset, batches)
    median = {k: statistics.median(v) for k, v in step_times.items()}
    print(f'\nStep (median of {args.rounds} rounds of {args.steps} steps, '
          'same pre-loaded batches):')
    print('| method | plain PyTorch ms | debiascls ms | ratio |')
    print('|---|---|---|---|')
    ratios = {}
    for method in METHODS:
        plain, ours = median[f'{method} plain'], median[f'{method} debiascls']
        ratios[f'{method} step'] = ours / plain
        print(f'| {method} | {1000 * plain:.1f} | {1000 * ours:.1f} | '
              f'{ours / plain:.3f} |')
    run_times: Dict[str, List[float]] = {}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.repeats):
            for method in METHODS:
                for plain in (True, False):
                    key = f'{method} {"plain" if plain else "debiascls"}'
                    run_times.setdefault(key, []).append(
                        run_once(method, args, plain, work))
    print(f'\nRun ({args.iters} iterations with data loading, median of '
          f'{args.repeats}; tools/train.py: mean logged iteration time x '
          'iterations, no evaluation):')
    print('| method | plain PyTorch s | tools/train.py s | ratio |')
    print('|---|---|---|---|')
    for method in METHODS:
        plain = statistics.median(run_times[f'{method} plain'])
        ours = statistics.median(run_times[f'{method} debiascls'])
        ratios[f'{method} run'] = ours / plain
        print(f'| {method} | {plain:.1f} | {ours:.1f} | {ours / plain:.3f} |')
    atomic_write_text(json.dumps(dict(
        setting=args.setting, threads=torch.get_num_threads(),
        step_seconds=step_times, run_seconds=run_times, ratios=ratios),
        indent=1), args.out)
    print(f'\nwritten to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
