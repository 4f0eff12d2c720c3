"""Tiny copies of the ImageNet, ImageNet-A and ImageNet-C layouts and of a
ReBias cluster file, written under a test's ``tmp_path`` (never the real
data). Imported by the 9-class ImageNet test modules."""
import csv
import os
from typing import Dict, Sequence

import cv2
import numpy as np

from debiascls.datasets.imagenet9 import (IMAGENET9_ALL_WNIDS,
                                          IMAGENET9_CLASSES, WNID_TO_CLASS)

#: A wnid outside the 42 (must be ignored).
OTHER_WNID = 'n04000000'


def write_jpeg(path: str, seed: int, size=(12, 16)) -> None:
    """A small random RGB JPEG (random, so Gram features differ)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (size[0], size[1], 3), dtype=np.uint8)
    assert cv2.imwrite(path, img), path


def make_imagenet(root, n_train: int = 4, n_val: int = 2,
                  wnids: Sequence[str] = IMAGENET9_ALL_WNIDS) -> str:
    """``root/train/<wnid>/<wnid>_<i>.JPEG`` and
    ``root/val/<wnid>/ILSVRC2012_val_<id>.JPEG`` for each wnid, plus one
    folder of a wnid outside the 42 in both."""
    root = str(root)
    k = 0
    for wnid in list(wnids) + [OTHER_WNID]:
        for i in range(n_train):
            write_jpeg(os.path.join(root, 'train', wnid,
                                    f'{wnid}_{i + 1}.JPEG'), k)
            k += 1
        for _ in range(n_val):
            write_jpeg(os.path.join(root, 'val', wnid,
                                    f'ILSVRC2012_val_{k:08d}.JPEG'), k)
            k += 1
    return root


def val_rel_paths(root) -> list:
    """``<wnid>/<file>`` of the val images of the 42 wnids, sorted."""
    out = []
    for wnid in IMAGENET9_ALL_WNIDS:
        folder = os.path.join(str(root), 'val', wnid)
        out.extend(f'{wnid}/{n}' for n in sorted(os.listdir(folder)))
    return out


def write_cluster_csv(path, rows: Dict[str, Sequence[int]],
                      header=('path', 'category', 'cluster1', 'cluster2',
                              'cluster3'),
                      categories: Dict[str, str] = None) -> str:
    """A cluster file in ReBias's format from ``{rel_path: clusters}``."""
    categories = categories or {}
    with open(str(path), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for rel, clusters in rows.items():
            category = categories.get(
                rel, IMAGENET9_CLASSES[WNID_TO_CLASS[rel.split('/')[0]]])
            row = [rel, category] if 'category' in header else [rel]
            writer.writerow(row + list(clusters))
    return str(path)


def rebias_like_clusters(rel_paths: Sequence[str], seed: int = 0,
                         k: int = 9) -> Dict[str, tuple]:
    """Three random clusterings (0-based ids < k) per image."""
    rng = np.random.default_rng(seed)
    return {rel: tuple(int(c) for c in rng.integers(0, k, size=3))
            for rel in rel_paths}


def make_imagenet_a(root, wnids: Sequence[str], n: int = 2) -> str:
    """``root/<wnid>/*.jpg`` for each wnid plus one wnid outside the 42."""
    root = str(root)
    for j, wnid in enumerate(list(wnids) + [OTHER_WNID]):
        for i in range(n):
            write_jpeg(os.path.join(root, wnid, f'{i}_{wnid}.jpg'), j * n + i)
    return root


def make_imagenet_c(root, corruptions: Sequence[str],
                    severities: Sequence[int], n: int = 1) -> str:
    """``root/<corruption>/<severity>/<wnid>/*.JPEG`` for the 42 wnids."""
    root = str(root)
    for corruption in corruptions:
        for severity in severities:
            for wnid in IMAGENET9_ALL_WNIDS:
                for i in range(n):
                    write_jpeg(os.path.join(
                        root, corruption, str(severity), wnid,
                        f'ILSVRC2012_val_{i:08d}.JPEG'), i, size=(8, 8))
    return root
