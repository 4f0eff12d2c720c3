"""Generate the data sets of debiascls into their on-disk layouts.

``python tools/data/prepare_data.py DATASET [options]`` with DATASET one of
``synthdigits``, ``cmnist``, ``biased_mnist``, ``cifar10c``, ``pgd_cmnist``,
``watermarked_mnist``; ``sample-layout
{bffhq,dogs_and_cats,bar,waterbirds} --out DIR`` writes a small synthetic
stand-in (not the data) in the layout of a real-world data set, for smoke
runs before the real data is at hand.

The datasets also generate missing data on first use; this tool does it ahead
of time (e.g. before a multi-node run) and reports what it wrote. Existing
folders are kept. See docs/data_preparation.md.
"""
import argparse
import glob
import os
import shlex
import sys
import time

from debiascls.datasets.base_dataset import DatasetError
from debiascls.datasets.biased_mnist import (TRAIN_RHOS, biased_mnist_dir,
                                             generate_biased_mnist)
from debiascls.datasets.color_bias import SEVERITY_RATIOS
from debiascls.datasets.colored_mnist import (DEFAULT_COLOR_STD, PROTOCOLS,
                                              colored_mnist_params,
                                              generate_colored_mnist)
from debiascls.datasets.corrupted_cifar10 import (CIFAR10C_SEVERITIES,
                                                  DEFAULT_LEVEL,
                                                  DEFAULT_VALID_SIZE as
                                                  CIFAR_VALID_SIZE,
                                                  corruption_names,
                                                  generate_corrupted_cifar10)
from debiascls.datasets.corruptions import CORRUPTIONS
from debiascls.datasets.generation import check_meta
from debiascls.datasets.mnist_source import (DEFAULT_SPLIT_FRACTIONS,
                                             DEFAULT_VALID_SIZE, source_kind)
from debiascls.datasets.pgd_colored_mnist import (PGD_COLOR_NOISE,
                                                  PGD_SEVERITIES,
                                                  PGD_SPLIT_FRACTIONS,
                                                  generate_pgd_colored_mnist)
from debiascls.datasets.sample_layouts import (MARKER, SAMPLE_DATASETS,
                                               write_sample_layout)
from debiascls.datasets.synth_digits import (DEFAULT_TEST_PER_CELL,
                                             DEFAULT_TRAIN_SIZE,
                                             DEFAULT_VALID_SIZE as
                                             SYNTH_VALID_SIZE,
                                             SYNTH_SEVERITIES,
                                             generate_synth_digits,
                                             synth_digits_dir)
from debiascls.datasets.waterbirds import conflicting_count, severity_ratio
from debiascls.datasets.watermarked_mnist import (WATERMARK_OFFSETS,
                                                  fashion_source_kind,
                                                  generate_watermarked_mnist)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

SOURCES = {
    'train+t10k': 'full MNIST (train-* and t10k-*)',
    't10k': 'test-only MNIST (t10k-*, split into train/valid/test by seed)',
}


def _add_mnist_args(parser: argparse.ArgumentParser,
                    valid_size: bool = True,
                    fractions=DEFAULT_SPLIT_FRACTIONS) -> None:
    parser.add_argument(
        '--mnist-root',
        default='data/mnist',
        help='folder with the MNIST IDX files: train-*-ubyte[.gz] and '
        't10k-*-ubyte[.gz], or only the two t10k files (also looked up in '
        'MNIST/raw below it) (default: %(default)s)')
    parser.add_argument(
        '--download',
        action='store_true',
        help='fetch MNIST with torchvision into --mnist-root if missing '
        '(needs internet)')
    if valid_size:
        parser.add_argument(
            '--valid-size',
            type=int,
            default=DEFAULT_VALID_SIZE,
            help='training digits held out as valid, full MNIST only '
            '(default: %(default)s)')
    parser.add_argument(
        '--split-fractions',
        type=float,
        nargs=3,
        default=list(fractions),
        metavar=('TRAIN', 'VALID', 'TEST'),
        help='train/valid/test fractions of a t10k-only source (default: '
        f'{" ".join(f"{f:g}" for f in fractions)})')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate debiascls data sets (see '
        'docs/data_preparation.md)')
    sub = parser.add_subparsers(dest='dataset', required=True)

    p = sub.add_parser(
        'synthdigits', help='SynthDigits: rendered, coloured digits (offline)')
    p.add_argument('--out', default='data/synthdigits',
                   help='data_root of the configs (default: %(default)s); '
                   'the copy is written to OUT/seed{SEED}')
    p.add_argument('--seed', type=int, default=0, help='generation seed')
    p.add_argument('--severities', nargs='+', default=list(SYNTH_SEVERITIES),
                   choices=list(SYNTH_SEVERITIES), metavar='SEVERITY',
                   help=f'any of {", ".join(SYNTH_SEVERITIES)} '
                   '(default: all)')
    p.add_argument('--train-size', type=int, default=DEFAULT_TRAIN_SIZE,
                   help='training digits (default: %(default)s)')
    p.add_argument('--valid-size', type=int, default=SYNTH_VALID_SIZE,
                   help='validation digits (default: %(default)s)')
    p.add_argument('--test-per-cell', type=int,
                   default=DEFAULT_TEST_PER_CELL,
                   help='test digits per (class, colour) cell (default: '
                   '%(default)s)')

    p = sub.add_parser('cmnist', help='Colored MNIST (LfF/DisEnt layout)')
    _add_mnist_args(p)
    p.add_argument('--out', default='data/cmnist',
                   help='data_root of the configs (default: %(default)s)')
    p.add_argument('--severities', nargs='+', default=list(SEVERITY_RATIOS),
                   choices=list(SEVERITY_RATIOS), metavar='SEVERITY',
                   help=f'any of {", ".join(SEVERITY_RATIOS)} '
                   '(default: all)')
    p.add_argument('--seed', type=int, default=0, help='generation seed')
    p.add_argument('--color-std', type=float, default=DEFAULT_COLOR_STD,
                   help='std of the per-sample colour jitter (default: '
                   '%(default)s, LfF severity 4)')
    p.add_argument('--protocol', choices=PROTOCOLS, default='disent',
                   help="'disent': the DisEnt/BiasEnsemble release (55,000 "
                   "train, valid, test; the configs' data/cmnist); 'lff': "
                   "LfF's generator (60,000 train, test only; the configs' "
                   'data/cmnist_lff) (default: %(default)s)')

    p = sub.add_parser('biased_mnist', help='Biased MNIST (ReBias)')
    _add_mnist_args(p)
    p.add_argument('--out', default='data/biased_mnist',
                   help='data_root of the configs (default: %(default)s)')
    p.add_argument('--rho', type=float, nargs='+', default=list(TRAIN_RHOS),
                   help='colour-label correlation(s) of train/valid '
                   '(default: %(default)s)')
    p.add_argument('--seed', type=int, default=0, help='generation seed')

    p = sub.add_parser(
        'cifar10c',
        help='Corrupted CIFAR-10 (LfF protocol, DisEnt layout) from the '
        'CIFAR-10 python batches')
    p.add_argument(
        '--cifar-root',
        default='data/cifar10',
        help='folder holding cifar-10-batches-py/ (data_batch_1..5, '
        'test_batch), or that folder itself (default: %(default)s)')
    p.add_argument('--download', action='store_true',
                   help='fetch CIFAR-10 with torchvision into --cifar-root if '
                   'missing (needs internet)')
    p.add_argument('--out', default='data/cifar10c',
                   help='data_root of the configs (default: %(default)s)')
    p.add_argument('--severities', nargs='+',
                   default=list(CIFAR10C_SEVERITIES),
                   choices=list(CIFAR10C_SEVERITIES), metavar='SEVERITY',
                   help=f'any of {", ".join(CIFAR10C_SEVERITIES)} '
                   '(default: all)')
    kind = p.add_mutually_exclusive_group()
    kind.add_argument('--type', type=int, choices=(0, 1), default=0,
                      help="LfF's corruption list: 0 = Snow .. Saturate, 1 = "
                      'Gaussian Noise .. Original (default: %(default)s)')
    kind.add_argument('--corruptions', nargs=10, metavar='NAME',
                      choices=list(CORRUPTIONS),
                      help='10 corruption names instead of --type (bias '
                      f'label = position): {", ".join(CORRUPTIONS)}')
    p.add_argument('--level', type=int, default=DEFAULT_LEVEL,
                   choices=(1, 2, 3, 4, 5),
                   help="corruption level; LfF's Severity{s} folders use "
                   's + 1 (default: %(default)s = its published Severity4)')
    p.add_argument('--seed', type=int, default=0, help='generation seed')
    p.add_argument('--valid-size', type=int, default=CIFAR_VALID_SIZE,
                   help='training images held out as valid (default: '
                   '%(default)s)')

    def add_pgd_args(p, default_out):
        _add_mnist_args(p, valid_size=False,
                        fractions=PGD_SPLIT_FRACTIONS)
        p.add_argument('--out', default=default_out,
                       help='data_root of the configs (default: %(default)s)')
        p.add_argument('--severities', nargs='+',
                       default=list(PGD_SEVERITIES),
                       choices=list(PGD_SEVERITIES), metavar='SEVERITY',
                       help=f'any of {", ".join(PGD_SEVERITIES)} (minority '
                       'ratio; default: all)')
        p.add_argument('--seed', type=int, default=0, help='generation seed')

    p = sub.add_parser('pgd_cmnist', help="PGD's Colored MNIST")
    add_pgd_args(p, 'data/pgd_cmnist')
    p.add_argument('--color-noise', type=float, default=PGD_COLOR_NOISE,
                   help='std of the per-sample colour deviation (default: '
                   "%(default)s, PGD's code)")

    p = sub.add_parser('watermarked_mnist',
                       help="PGD's Watermarked MNIST (MNIST + Fashion-MNIST)")
    add_pgd_args(p, 'data/watermarked_mnist')
    p.add_argument(
        '--fashion-mnist-root',
        default='data/fashion_mnist',
        help='folder with the Fashion-MNIST IDX files (same names as '
        "MNIST's; also looked up in FashionMNIST/raw below it) "
        '(default: %(default)s)')
    p.add_argument('--max-offset', type=int, default=WATERMARK_OFFSETS[0],
                   help='α, the largest watermark offset in pixels (PGD: 8 '
                   'or 16; default: %(default)s)')

    p = sub.add_parser(
        'sample-layout',
        help='a small synthetic STAND-IN (not the data) in the on-disk '
        'layout of a real-world data set, for smoke runs')
    p.add_argument('name', choices=list(SAMPLE_DATASETS), metavar='DATASET',
                   help=f'one of {", ".join(SAMPLE_DATASETS)}')
    p.add_argument('--out', required=True,
                   help='folder of the copy (absent or empty; the data_root '
                   'to pass to the config)')
    p.add_argument('--seed', type=int, default=0, help='generation seed')
    p.add_argument('--aligned-per-class', type=int, default=40,
                   help='bias-aligned train images per class (default: '
                   '%(default)s)')
    p.add_argument('--size', type=int, default=64,
                   help='image side in pixels (default: %(default)s)')
    return parser.parse_args(argv)


def _counts(c: dict) -> str:
    return (f'{c["num_samples"]} samples ({c["num_aligned"]} aligned, '
            f'{c["num_conflicting"]} conflicting)')


def _report_folders(written: dict, expected: list) -> None:
    for folder in expected:
        meta = written.get(folder)
        if meta is None:
            print(f'  kept    {folder} (exists)')
            continue
        parts = [f'{s} {_counts(meta[s])}' for s in ('train', 'valid', 'test')
                 if s in meta]
        print(f'  wrote   {folder}: ' + '; '.join(parts))


def _source(mnist_root: str) -> str:
    kind = source_kind(mnist_root)
    return f'{SOURCES.get(kind, "no MNIST files")} in {mnist_root}'


def run_synthdigits(args) -> None:
    root = synth_digits_dir(args.out, args.seed, args.train_size,
                            args.valid_size, args.test_per_cell)
    print(f'SynthDigits, seed {args.seed}, into {root}')
    written = generate_synth_digits(
        root, args.severities, seed=args.seed, train_size=args.train_size,
        valid_size=args.valid_size, test_per_cell=args.test_per_cell)
    _report_folders(written, [os.path.join(root, s) for s in args.severities]
                    + [os.path.join(root, 'test')])


def run_cmnist(args) -> None:
    print(f'Colored MNIST ({args.protocol} protocol), seed {args.seed}, '
          f'colour std {args.color_std:g}, into {args.out}')
    written = generate_colored_mnist(
        args.out, args.mnist_root, args.severities, seed=args.seed,
        color_std=args.color_std, valid_size=args.valid_size,
        split_fractions=args.split_fractions, download=args.download,
        needed_by='prepare_data.py cmnist', protocol=args.protocol)
    if written:
        print(f'  source  {_source(args.mnist_root)}')
    _report_folders(written, [os.path.join(args.out, s)
                              for s in args.severities]
                    + [os.path.join(args.out, 'test')])


def run_biased_mnist(args) -> None:
    print(f'Biased MNIST, seed {args.seed}, into {args.out}')
    for rho in args.rho:
        folder = biased_mnist_dir(args.out, rho, args.seed)
        written = generate_biased_mnist(
            args.out, args.mnist_root, rho, seed=args.seed,
            valid_size=args.valid_size, split_fractions=args.split_fractions,
            download=args.download, needed_by='prepare_data.py biased_mnist')
        if not written:
            # refuse a folder generated with other parameters, as the
            # dataset does when it loads it
            params = colored_mnist_params(args.seed, 0.0,
                                          source_kind(args.mnist_root),
                                          args.valid_size,
                                          args.split_fractions)
            params.pop('color_std')
            check_meta(folder, params, 'prepare_data.py biased_mnist')
            print(f'  kept    {folder} (exists)')
            continue
        print(f'  wrote   {folder} from {_source(args.mnist_root)}')
        for split, counts in written.items():
            print(f'          {split}: {_counts(counts)}')


def run_cifar10c(args) -> None:
    names = corruption_names(args.corruptions or args.type)
    kind = (f'type {args.type}' if not args.corruptions else 'corruptions')
    print(f'Corrupted CIFAR-10, {kind} ({", ".join(names)}), level '
          f'{args.level}, seed {args.seed}, into {args.out}')
    written = generate_corrupted_cifar10(
        args.out, args.cifar_root, args.severities,
        corruption_type=list(names), level=args.level, seed=args.seed,
        valid_size=args.valid_size, download=args.download,
        needed_by='prepare_data.py cifar10c')
    if written:
        print(f'  source  CIFAR-10 python batches in {args.cifar_root}')
    _report_folders(written, [os.path.join(args.out, s)
                              for s in args.severities]
                    + [os.path.join(args.out, 'test')])


def run_pgd_cmnist(args) -> None:
    print(f"PGD's Colored MNIST, seed {args.seed}, colour noise std "
          f'{args.color_noise:g}, into {args.out}')
    written = generate_pgd_colored_mnist(
        args.out, args.mnist_root, args.severities, seed=args.seed,
        color_noise=args.color_noise, split_fractions=args.split_fractions,
        download=args.download, needed_by='prepare_data.py pgd_cmnist')
    if written:
        print(f'  source  {_source(args.mnist_root)}')
    _report_folders(written, [os.path.join(args.out, s)
                              for s in args.severities]
                    + [os.path.join(args.out, 'test')])


def run_watermarked_mnist(args) -> None:
    print(f"PGD's Watermarked MNIST, seed {args.seed}, max offset "
          f'{args.max_offset}, into {args.out}')
    written = generate_watermarked_mnist(
        args.out, args.mnist_root, args.fashion_mnist_root, args.severities,
        seed=args.seed, max_offset=args.max_offset,
        split_fractions=args.split_fractions, download=args.download,
        needed_by='prepare_data.py watermarked_mnist')
    if written:
        fashion = SOURCES.get(fashion_source_kind(args.fashion_mnist_root),
                              'no files').replace('MNIST', 'Fashion-MNIST')
        print(f'  source  {_source(args.mnist_root)}')
        print(f'  source  {fashion} in {args.fashion_mnist_root}')
    _report_folders(written, [os.path.join(args.out, s)
                              for s in args.severities]
                    + [os.path.join(args.out, 'test')])


def _method_config(name: str):
    """A shipped method config of data set ``name`` at 1pct (IE first)."""
    for method in ('ie', 'vanilla', 'lff', 'lff_be'):
        path = os.path.join('configs', 'methods', f'{method}_{name}_1pct.py')
        if os.path.isfile(os.path.join(REPO, path)):
            return path
    found = sorted(glob.glob(os.path.join(REPO, 'configs', 'methods',
                                          f'*_{name}_*.py')))
    return os.path.relpath(found[0], REPO) if found else None


def run_sample_layout(args) -> None:
    loader = SAMPLE_DATASETS[args.name].__name__
    existed = os.path.isfile(os.path.join(args.out, MARKER))
    print(f'Stand-in {loader} copy (synthetic, NOT the {loader} data set), '
          f'seed {args.seed}, into {args.out}')
    counts = write_sample_layout(
        args.name, args.out, seed=args.seed,
        aligned_per_class=args.aligned_per_class, size=args.size)
    if existed:
        print(f'  kept    {args.out} (the same stand-in copy exists)')
    else:
        for key, c in counts.items():
            print(f'  wrote   {key}: {_counts(c)}')
        if args.name == 'waterbirds':
            n_aligned = counts['train']['num_aligned']
            for sev in SAMPLE_DATASETS['waterbirds'].SEVERITIES:
                n = conflicting_count(n_aligned, severity_ratio(sev))
                print(f'  loader  train/{sev} (subsampled by Waterbirds): '
                      f'{n_aligned + n} samples ({n_aligned} aligned, {n} '
                      'conflicting)')
    print(f'  marker  {os.path.join(args.out, MARKER)}')
    print('Synthetic images in the layout of the release, for smoke runs '
          'only: numbers obtained on them mean nothing about '
          f'{loader}.')
    config = _method_config(args.name)
    options = (f'--cfg-options data_root={shlex.quote(args.out)} '
               'classifier.backbone.pretrained=None')
    if config is None:
        print(f'Next: no method config for {args.name} ships in '
              'configs/methods/; write one on '
              f'configs/_base_/datasets/{args.name}.py and run python '
              f'tools/train.py CONFIG {options}')
    else:
        print(f'Next: python tools/train.py {config} {options}')


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    runner = {'synthdigits': run_synthdigits, 'cmnist': run_cmnist,
              'biased_mnist': run_biased_mnist, 'cifar10c': run_cifar10c,
              'pgd_cmnist': run_pgd_cmnist,
              'watermarked_mnist': run_watermarked_mnist,
              'sample-layout': run_sample_layout}[args.dataset]
    try:
        runner(args)
    except (DatasetError, ValueError) as e:
        message = ' '.join(str(e).split())
        print(f'error: {message}', file=sys.stderr)
        return 1
    print(f'Done in {time.perf_counter() - start:.1f} s.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
