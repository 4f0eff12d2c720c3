"""Step time of ReBias and its baselines relative to Vanilla, and the cost
of the 3D-ResNet18 against the 2D-ResNet18 on 8-frame clips, in one run.

Builds every algorithm from its shipped config (Biased MNIST and
Kinetics-10 -> Mimetics-10 networks), feeds all of them the same random
batches and times ``train_step`` (forward passes, losses, every optimizer
step) in interleaved rounds, so machine noise hits every algorithm alike.
For the action networks it also times one forward and backward pass of F
(3D-ResNet18) and G (2D-ResNet18) alone. Reported: the median time per step
and its ratio to Vanilla's (to G's for the backbones); a JSON file keeps
every measurement.

Usage::

    python benchmarks/rebias_step_time.py [--mnist-batch 256]
        [--clip-batch 8] [--clip-size 112] [--steps 5] [--rounds 3]
        [--device cpu|cuda] [--out work_dirs/benchmarks/rebias_step_time.json]

On a CPU keep the clips small (``--clip-batch 2 --clip-size 112``); the
paper's clips are 8 x 3 x 224 x 224 in batches of 128.
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import time
from typing import Callable, Dict, List

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmengine.config import Config  # noqa: E402

from debiascls.apis import prepare_config  # noqa: E402
from debiascls.utils.fileio import atomic_write_text  # noqa: E402
from debiascls.engine.optimizers import \
    MultiModelOptimWrapperConstructor  # noqa: E402
from debiascls.registry import MODELS  # noqa: E402

METHODS = ('vanilla', 'biased-g', 'learned-mixin-h', 'rubi', 'rebias')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--mnist-batch', type=int, default=256)
    parser.add_argument('--clip-batch', type=int, default=2)
    parser.add_argument('--clip-size', type=int, default=112)
    parser.add_argument('--steps', type=int, default=5,
                        help='steps per algorithm and round')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--out', default='work_dirs/benchmarks/rebias_step_time.json')
    return parser.parse_args(argv)


def build(config: str, device: str):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'methods', config))
    prepare_config(cfg)
    model = MODELS.build(
        dict(cfg.model, data_preprocessor=cfg.get('data_preprocessor')))
    model.to(device)
    optim = MultiModelOptimWrapperConstructor.from_optim_wrapper_cfg(
        cfg.optim_wrapper)(model)
    if model.phase_names:  # LearnedMixin: time f's phase
        model.phase_begins = dict(main=0)
    model._hooks_checked = True  # no Runner here: we drive the schedule
    model.train()
    return model, optim


def batches(shape, num_classes: int, n: int, device: str,
            generator: torch.Generator) -> List[dict]:
    return [
        dict(inputs=torch.randint(0, 256, (shape[0], ) + tuple(shape[1:]),
                                  dtype=torch.uint8, generator=generator
                                  ).to(device),
             data_samples=dict(
                 gt_label=torch.randint(0, num_classes, (shape[0], ),
                                        generator=generator).to(device),
                 sample_idx=torch.arange(shape[0]).to(device)))
        for _ in range(n)
    ]


def interleaved(runs: Dict[str, Callable[[], None]], steps: int,
                rounds: int, device: str) -> Dict[str, List[float]]:
    """Seconds per step of each run, one value per round."""
    for fn in runs.values():  # warm-up
        fn()
    times: Dict[str, List[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                fn()
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            times[name].append((time.perf_counter() - start) / steps)
    return times


def step_runs(setting: str, shape, num_classes: int, args,
              generator) -> Dict[str, Callable[[], None]]:
    data = batches(shape, num_classes, 2, args.device, generator)
    runs = {}
    for method in METHODS:
        model, optim = build(f'{method}_{setting}.py', args.device)
        state = {'i': 0}

        def step(model=model, optim=optim, state=state):
            model.train_step(data[state['i'] % len(data)], optim)
            state['i'] += 1

        runs[method] = step
    return runs


def backbone_runs(args, generator) -> Dict[str, Callable[[], None]]:
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', '_base_', 'models', 'resnet3d18_kinetics.py'))
    clips = torch.randn(args.clip_batch, 3, 8, args.clip_size,
                        args.clip_size, generator=generator).to(args.device)
    runs = {}
    for name, net_cfg in (('3D-ResNet18 (F)', cfg.classifier),
                          ('2D-ResNet18 (G)', cfg.biased_classifiers[0])):
        net = MODELS.build(dict(net_cfg.to_dict(), head=dict(
            type='GAPLinearHead', num_classes=10))).to(args.device).train()

        def fwd_bwd(net=net):
            net.zero_grad()
            net(clips).sum().backward()

        runs[name] = fwd_bwd
    return runs


def table(title: str, times: Dict[str, List[float]], base: str) -> Dict:
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f'\n{title}')
    print(f'| run | ms / step | ratio to {base} |')
    print('|---|---|---|')
    for name, value in median.items():
        print(f'| {name} | {1000 * value:.1f} | '
              f'{value / median[base]:.2f} |')
    return dict(seconds=times, median=median,
                ratio={k: v / median[base] for k, v in median.items()})


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    print(f'device {args.device}, {torch.get_num_threads()} threads, median '
          f'of {args.rounds} rounds of {args.steps} steps')
    out = {}
    times = interleaved(
        step_runs('biased_mnist_rho0.997', (args.mnist_batch, 3, 28, 28),
                  10, args, generator), args.steps, args.rounds,
        args.device)
    out['biased_mnist'] = table(
        f'Biased MNIST networks, batch {args.mnist_batch} (LearnedMixin+H: '
        "f's phase)", times, 'vanilla')
    clip = (args.clip_batch, 3, 8, args.clip_size, args.clip_size)
    times = interleaved(backbone_runs(args, generator), args.steps,
                        args.rounds, args.device)
    out['action_backbones'] = table(
        f'Forward + backward on clips {clip}', times, '2D-ResNet18 (G)')
    times = interleaved(
        step_runs('kinetics10-mimetics10', clip, 10, args, generator),
        args.steps, args.rounds, args.device)
    out['action_steps'] = table(f'Action steps, clips {clip}', times,
                                'vanilla')
    out.update(device=args.device, threads=torch.get_num_threads(),
               steps=args.steps, rounds=args.rounds,
               mnist_batch=args.mnist_batch, clip=list(clip))
    atomic_write_text(json.dumps(out, indent=1), args.out)
    print(f'\nwritten to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
