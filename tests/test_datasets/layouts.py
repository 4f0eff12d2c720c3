"""Tiny copies of the on-disk layouts of the real-world data sets (BFFHQ,
Dogs & Cats, BAR, Waterbirds), written under a test's ``tmp_path``; never
the real data. Imported by the test modules of this folder."""
import csv
import os
from typing import Iterable, Sequence, Tuple

import cv2
import numpy as np

from debiascls.apis import prepare_config

#: Dataset keyword arguments for tests: mmengine's serialisation runs
#: gc.collect() (~0.2 s per dataset), which the tiny copies do not need.
FAST = dict(serialize_data=False)


def write_image(path, value: int = 0, size: Tuple[int, int] = (16, 16)):
    """A small RGB image (PNG or JPEG by the extension) filled with
    ``value``; parent folders are created."""
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    img = np.full((size[0], size[1], 3), value % 256, np.uint8)
    img[: size[0] // 2] = (value * 7) % 256  # not uniform
    assert cv2.imwrite(str(path), img), path


def write_images(root, rel_paths: Iterable[str], **kw) -> None:
    for i, rel in enumerate(rel_paths):
        write_image(os.path.join(str(root), rel), value=10 * i, **kw)


def rel_paths(ds, root) -> list:
    """The sample paths of ``ds`` relative to ``root``, in dataset order."""
    return [
        os.path.relpath(ds.get_data_info(i)['img_path'], str(root))
        for i in range(len(ds))
    ]


# --------------------------------------------------------------------- #
# BFFHQ: {sev}/align|conflict/<c>/*, valid/* (shared), test/* (flat)
# --------------------------------------------------------------------- #
BFFHQ_TRAIN = {
    '0.5pct': ['0.5pct/align/0/00003_0_0.png', '0.5pct/align/0/00001_0_0.png',
               '0.5pct/align/1/00002_1_1.png',
               '0.5pct/conflict/1/00004_1_0.png'],
    '1pct': ['1pct/align/0/00001_0_0.png', '1pct/align/1/00002_1_1.png',
             '1pct/conflict/0/00006_0_1.png',
             '1pct/conflict/1/00004_1_0.png'],
}
BFFHQ_VALID = ['valid/00011_1_0.png', 'valid/00010_0_0.png',
               'valid/00012_1_1.png']
BFFHQ_TEST = ['test/00023_1_1.png', 'test/00020_0_1.png',
              'test/00021_0_0.jpg', 'test/00022_1_0.png']


def make_bffhq(root, severities: Sequence[str] = ('0.5pct', '1pct'),
               size=(16, 16)):
    for sev in severities:
        write_images(root, BFFHQ_TRAIN[sev], size=size)
    write_images(root, BFFHQ_VALID + BFFHQ_TEST, size=size)
    return root


# --------------------------------------------------------------------- #
# Dogs & Cats: {sev}/align|conflict/<c>/*, {sev}/valid/* (flat), test/<c>/*
# --------------------------------------------------------------------- #
DNC_TRAIN = {
    '1pct': ['1pct/align/0/00002_0_0.png', '1pct/align/0/00000_0_0.png',
             '1pct/align/1/00001_1_1.png', '1pct/conflict/1/00003_1_0.png'],
    '5pct': ['5pct/align/0/00000_0_0.png', '5pct/align/1/00001_1_1.png',
             '5pct/conflict/0/00004_0_1.png',
             '5pct/conflict/1/00003_1_0.png'],
}
DNC_VALID = {
    '1pct': ['1pct/valid/00011_1_1.png', '1pct/valid/00010_0_0.png'],
    '5pct': ['5pct/valid/00010_0_0.png', '5pct/valid/00012_0_1.png'],
}
DNC_TEST = ['test/1/00021_1_0.png', 'test/0/00020_0_0.png',
            'test/0/00022_0_1.jpg']


def make_dogs_and_cats(root, severities: Sequence[str] = ('1pct', '5pct'),
                       size=(16, 16)):
    for sev in severities:
        write_images(root, DNC_TRAIN[sev] + DNC_VALID[sev], size=size)
    write_images(root, DNC_TEST, size=size)
    return root


# --------------------------------------------------------------------- #
# BAR: train/align/<c>/*, train/conflict/{sev}/<c>/*, valid/<c>/*, test/<c>/*
# The bias values in the train file names are deliberately "wrong": the
# loader must overwrite them from the folder.
# --------------------------------------------------------------------- #
BAR_ALIGN = ['train/align/0/climbing_0_0_3.jpg',
             'train/align/3/racing_5_3_1.jpg',
             'train/align/5/vaulting_2_5_5.jpg']
BAR_CONFLICT = {
    '1pct': ['train/conflict/1pct/2/fishing_7_2_2.jpg'],
    '5pct': ['train/conflict/5pct/2/fishing_7_2_2.jpg',
             'train/conflict/5pct/5/vaulting_9_5_0.jpg'],
}
BAR_VALID = ['valid/1/diving_1_1_4.png', 'valid/0/climbing_1_0_0.png']
BAR_TEST = ['test/4/throwing_3_4_4.png', 'test/1/diving_0_1_2.png']


def make_bar(root, severities: Sequence[str] = ('1pct', '5pct'),
             size=(16, 16)):
    write_images(root, BAR_ALIGN + BAR_VALID + BAR_TEST, size=size)
    for sev in severities:
        write_images(root, BAR_CONFLICT[sev], size=size)
    return root


# --------------------------------------------------------------------- #
# Waterbirds: metadata.csv of the standard release
# --------------------------------------------------------------------- #
WB_HEADER = ['img_id', 'img_filename', 'y', 'split', 'place',
             'place_filename']
WB_SPECIES = {0: '094.White_breasted_Nuthatch',
              1: '001.Black_footed_Albatross'}


def wb_rows(groups) -> list:
    """Metadata rows from ``{(split, y, place): count}``, ids in order."""
    rows = []
    for (split, y, place), count in groups.items():
        for _ in range(count):
            i = len(rows) + 1
            rows.append(dict(
                img_id=i,
                img_filename=f'{WB_SPECIES[y]}/bird_{i:05d}.jpg',
                y=y, split=split, place=place,
                place_filename=f'/b/bamboo_forest/{i:08d}.jpg'))
    return rows


def write_metadata(root, rows, header: Sequence[str] = WB_HEADER,
                   images: bool = True, size=(16, 16)):
    os.makedirs(str(root), exist_ok=True)
    with open(os.path.join(str(root), 'metadata.csv'), 'w',
              newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(header),
                                extrasaction='ignore')
        writer.writeheader()
        writer.writerows(rows)
    if images:
        write_images(root, [r['img_filename'] for r in rows], size=size)
    return root


def build_config_dataset(config: str, data_root, split: str = 'train'):
    """The ``split`` dataset of a shipped dataset base config, with
    ``data_root`` pointing at a tiny copy: a leaf config (written next to
    ``data_root``) inherits the base config and the default runtime, as the
    method configs do, and goes through ``Config.fromfile`` and
    ``prepare_config`` as in the runner."""
    from mmengine.config import Config

    from debiascls.registry import DATASETS
    from debiascls.utils import check_config_keys
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    bases = [os.path.join(repo, 'configs', '_base_', 'datasets', config),
             os.path.join(repo, 'configs', '_base_', 'default_runtime.py')]
    leaf = os.path.join(os.path.dirname(str(data_root)), f'leaf_{config}')
    with open(leaf, 'w') as f:
        f.write(f'_base_ = {bases!r}\ndata_root = {str(data_root)!r}\n')
    cfg = prepare_config(Config.fromfile(leaf))
    check_config_keys(cfg)
    loader = {'train': 'train_dataloader', 'valid': 'val_dataloader',
              'test': 'test_dataloader'}[split]
    return cfg, DATASETS.build(cfg[loader].dataset)


def check_packed(item, ds, idx: int) -> None:
    """A sample after the config's pipeline: 3x224x224 uint8 + labels."""
    import torch
    assert set(item) == {'inputs', 'data_samples'}
    assert item['inputs'].dtype == torch.uint8
    assert tuple(item['inputs'].shape) == (3, 224, 224)
    assert item['data_samples'] == dict(
        gt_label=int(ds.get_gt_labels()[idx]),
        bias_label=int(ds.get_bias_labels()[idx]), sample_idx=idx)
