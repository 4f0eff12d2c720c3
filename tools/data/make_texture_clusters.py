"""Texture clusters of the 9-class ImageNet val images (ReBias Appendix F):
Gram matrices of VGG16 relu1_2 features, mini-batch k-means (k = 9) with
three seeds, written as a cluster file in ReBias's format
(``path,category,cluster1,cluster2,cluster3``) for the ImageNet9 test split.

``python tools/data/make_texture_clusters.py --data-root data/imagenet
--out data/imagenet/9class_imagenet_val_ours.csv [--weights vgg16.pth]``

The VGG16 weights are read from ``--weights`` or torchvision's cache and
never downloaded unless ``--allow-download`` is given. See
debiascls/datasets/texture_clusters.py for the recipe (and the paper/code
difference in the layer) and docs/data_preparation.md.
"""
import argparse
import os
import sys
import time

from debiascls.datasets.base_dataset import DatasetError
from debiascls.datasets.texture_clusters import (DEFAULT_K, DEFAULT_SEEDS,
                                                 KMEANS_BATCH_SIZE,
                                                 TEXTURE_LAYERS,
                                                 make_texture_clusters,
                                                 torchvision_vgg16_path)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Texture clusters of the 9-class ImageNet val images '
        '(ReBias), written as a cluster file.')
    parser.add_argument(
        '--data-root',
        required=True,
        help='the ImageNet folder whose val/<wnid>/ holds the val images')
    parser.add_argument('--out', required=True, help='cluster file to write')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace --out if it exists (default: refuse)')
    parser.add_argument(
        '--weights',
        help='torchvision vgg16 state dict (.pth); default: torchvision\'s '
        f'cache, {torchvision_vgg16_path()}')
    parser.add_argument(
        '--allow-download',
        action='store_true',
        help='download the torchvision VGG16 weights into its cache if '
        'missing (needs internet; off by default)')
    parser.add_argument(
        '--layer',
        default='relu1_2',
        choices=sorted(TEXTURE_LAYERS),
        help='VGG16 feature layer: relu1_2 (the paper) or conv3_3 (ReBias\'s '
        'make_clusters.py) (default: %(default)s)')
    parser.add_argument(
        '--k', type=int, default=DEFAULT_K,
        help='number of clusters (default: %(default)s)')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=list(DEFAULT_SEEDS),
        help='one clustering per seed (default: %(default)s)')
    parser.add_argument(
        '--kmeans-batch-size',
        type=int,
        default=KMEANS_BATCH_SIZE,
        help='mini-batch size of k-means (default: %(default)s)')
    parser.add_argument(
        '--batch-size', type=int, default=32,
        help='images per VGG16 forward (default: %(default)s)')
    parser.add_argument(
        '--resize', type=int, default=256,
        help='shorter edge of the images before the crop (default: '
        '%(default)s, as ReBias)')
    parser.add_argument(
        '--crop', type=int, default=224,
        help='centre crop (default: %(default)s, as ReBias)')
    parser.add_argument(
        '--device', default='cpu', help='e.g. cpu or cuda (default: cpu)')
    parser.add_argument(
        '--num-workers', type=int, default=4,
        help='image-loading workers (default: %(default)s)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    if os.path.exists(args.out) and not args.overwrite:
        print(f'error: "{args.out}" exists; pass --overwrite to replace it '
              'or choose another --out.', file=sys.stderr)
        return 1
    try:
        summary = make_texture_clusters(
            args.data_root,
            args.out,
            weights=args.weights,
            allow_download=args.allow_download,
            layer=args.layer,
            k=args.k,
            seeds=args.seeds,
            batch_size=args.batch_size,
            device=args.device,
            num_workers=args.num_workers,
            kmeans_batch_size=args.kmeans_batch_size,
            resize=args.resize,
            crop=args.crop)
    except (DatasetError, FileNotFoundError, ValueError) as e:
        message = ' '.join(str(e).split())
        print(f'error: {message}', file=sys.stderr)
        return 1
    print(f'wrote   {summary["out"]}: {summary["images"]} images, '
          f'{len(args.seeds)} clusterings (seeds {args.seeds}), k={args.k}, '
          f'VGG16 {summary["layer"]} Gram features of dimension '
          f'{summary["feature_dim"]}')
    for seed, sizes in zip(args.seeds, summary['cluster_sizes']):
        print(f'  seed {seed}: cluster sizes {sizes}')
    print(f'Use it with test_dataloader.dataset.cluster_file={args.out}')
    print(f'Done in {time.perf_counter() - start:.1f} s.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
