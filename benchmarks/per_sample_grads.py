"""Per-sample gradients: torch.func against one backward pass per sample.

Times :func:`debiascls.models.utils.per_sample_grad.per_sample_ce_grads`
(``vmap`` over ``grad``, in chunks) and the loop of single-sample backward
passes of the official PGD code on the same model, weights and batches, in
interleaved rounds of one run, and checks that the two agree.

Usage::

    python benchmarks/per_sample_grads.py [--model pgd_convnet1]
        [--batch-size 256] [--chunk-size N] [--batches 4] [--rounds 3]
        [--device cuda]
        [--out work_dirs/benchmarks/per_sample_grads.json]

Models: ``pgd_convnet1`` (PGD's Simple ConvNet-1 on 3x28x28, what PGD scores
on the MNIST variants), ``convnet_digits`` (our SynthDigits ConvNet), ``mlp_cmnist`` (LfF's MLP,
what PGD's comparisons on Colored MNIST use here),
``resnet18`` (3x224x224; slow on a CPU).
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from debiascls.utils.fileio import atomic_write_text  # noqa: E402
from debiascls.models import ImageClassifier  # noqa: E402
from debiascls.models.utils.per_sample_grad import (  # noqa: E402
    auto_chunk_size, num_grad_dims, per_sample_ce_grads,
    per_sample_ce_grads_loop)

MODELS = {
    'pgd_convnet1': (dict(type='PGDConvNet'), 28),
    'convnet_digits': (dict(type='ConvNet', channels=(8, 16, 32)), 28),
    'mlp_cmnist': (dict(type='MLP', in_channels=3, in_size=28,
                        hidden_dims=(100, 100, 100)), 28),
    'resnet18': (dict(type='ResNet18'), 224),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', default='pgd_convnet1', choices=MODELS)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--chunk-size', type=int,
                        help="default: PGD's (auto_chunk_size)")
    parser.add_argument('--batches', type=int, default=4)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--device', default='cpu',
                        help="e.g. 'cuda' (timings synchronise it)")
    parser.add_argument('--out',
                        default='work_dirs/benchmarks/per_sample_grads.json')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.manual_seed(0)
    backbone, size = MODELS[args.model]
    device = torch.device(args.device)

    def sync() -> None:
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    model = ImageClassifier(
        backbone=backbone, head=dict(type='GAPLinearHead',
                                     num_classes=10)).eval().to(device)
    chunk = args.chunk_size or auto_chunk_size(num_grad_dims(model), device)
    batches = [(torch.randn(args.batch_size, 3, size, size, device=device),
                torch.randint(0, 10, (args.batch_size, ), device=device))
               for _ in range(args.batches)]
    per_sample_ce_grads(model, *batches[0], chunk_size=chunk)
    per_sample_ce_grads_loop(model, *(t[:2] for t in batches[0]))
    times = dict(vmap=[], loop=[])
    max_diff = 0.0
    for _ in range(args.rounds):
        sync()
        start = time.perf_counter()
        fast = [per_sample_ce_grads(model, x, y, chunk_size=chunk)
                for x, y in batches]
        sync()
        times['vmap'].append(time.perf_counter() - start)
        start = time.perf_counter()
        slow = [per_sample_ce_grads_loop(model, x, y) for x, y in batches]
        sync()
        times['loop'].append(time.perf_counter() - start)
        max_diff = max(max_diff, max(float((a - b).abs().max())
                                     for a, b in zip(fast, slow)))
    # Max pooling routes a gradient to the largest of 4 values; where two
    # are within float32 rounding (1e-8 apart), batched and single-sample
    # convolutions may pick different ones, and the first layers' gradients
    # of that sample differ by ~1e-3. In float64 such near-ties vanish:
    # the agreement there shows the two methods compute the same thing.
    x, y = batches[0]
    model64 = copy.deepcopy(model).double()
    diff64 = float((per_sample_ce_grads(
        model64, x.double(), y, chunk_size=chunk) -
        per_sample_ce_grads_loop(model64, x.double(), y)).abs().max())
    n = args.batch_size * args.batches
    median = {k: statistics.median(v) for k, v in times.items()}
    dims = fast[0].shape[1]
    where = (torch.cuda.get_device_name(device) if device.type == 'cuda'
             else f'{torch.get_num_threads()} CPU threads')
    print(f'{args.model}: {n} samples x {dims} parameters, {where}, '
          f'median of {args.rounds} rounds')
    print(f'  torch.func (vmap over grad, chunks of {chunk}): '
          f'{1000 * median["vmap"] / n:.2f} ms / sample')
    print(f'  loop of single-sample backward passes: '
          f'{1000 * median["loop"] / n:.2f} ms / sample')
    print(f'  speed-up {median["loop"] / median["vmap"]:.1f}x; largest '
          f'difference {max_diff:.2e} (float64, first batch: '
          f'{diff64:.2e})')
    atomic_write_text(json.dumps(dict(
        model=args.model, samples=n, dims=dims, device=where,
        threads=torch.get_num_threads(), chunk_size=chunk, seconds=times,
        median=median,
        speedup=median['loop'] / median['vmap'], max_abs_diff=max_diff,
        max_abs_diff_float64=diff64),
        indent=1), args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
