"""Tiny videos and frame folders, and tiny copies of the Kinetics-10 and
Mimetics-10 layouts, written under a test's ``tmp_path``; never the real
data. Imported by the video test modules of this folder.

Every frame carries its index: 8 vertical stripes (bit b of the index, white
= 1) over the top 32 rows, which survive lossy codecs, and a red band
(RGB (255, 0, 0)) over the bottom 16 rows, which shows the channel order.
"""
import csv
import json
import os
import re
from typing import Iterable, Sequence, Tuple

import cv2
import numpy as np

from debiascls.datasets import KINETICS10_CLASSES

H, W = 48, 64
#: Codec by container; both ship with opencv-python's FFmpeg on Linux.
FOURCC = {'.mp4': 'mp4v', '.mkv': 'MJPG', '.avi': 'MJPG', '.webm': 'MJPG'}


def code_frame(k: int, h: int = H, w: int = W) -> np.ndarray:
    """Frame ``k`` as an RGB uint8 image."""
    img = np.zeros((h, w, 3), np.uint8)
    for b in range(8):
        if (k >> b) & 1:
            img[:32, b * 8:(b + 1) * 8] = 255
    img[32:] = (255, 0, 0)
    return img


def read_code(img: np.ndarray) -> int:
    """The index a decoded RGB frame of :func:`code_frame` carries."""
    return sum(1 << b for b in range(8)
               if img[4:28, b * 8 + 2:b * 8 + 6].mean() > 127)


def write_video(path, n: int, fps: float = 30.0) -> str:
    """A video of frames ``code_frame(0..n-1)``; the codec follows the last
    extension. A ``.webm`` file holds an MJPG Matroska stream (WebM is
    Matroska; FFmpeg reads files by their content, and the WebM muxer takes
    VP8/VP9/AV1 only, which opencv-python need not encode)."""
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ext = os.path.splitext(path)[1]
    target = path[:-len(ext)] + '.tmp.mkv' if ext == '.webm' else path
    writer = cv2.VideoWriter(target, cv2.VideoWriter_fourcc(*FOURCC[ext]),
                             fps, (W, H))
    assert writer.isOpened(), path
    for k in range(n):
        writer.write(cv2.cvtColor(code_frame(k), cv2.COLOR_RGB2BGR))
    writer.release()
    if target != path:
        os.replace(target, path)
    assert os.path.getsize(path) > 0, path
    return path


def write_frames(folder, n: int, tmpl: str = 'img_{:05d}.jpg',
                 start: int = 1) -> str:
    """A frame folder ``tmpl.format(start + k)`` = ``code_frame(k)``."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    for k in range(n):
        name = os.path.join(folder, tmpl.format(start + k))
        assert cv2.imwrite(name, cv2.cvtColor(code_frame(k),
                                              cv2.COLOR_RGB2BGR)), name
    return folder


def truncate_avi(path, keep: int) -> None:
    """Cut an AVI (MJPG) after its first ``keep`` frame chunks; the header
    still reports the original frame count."""
    path = str(path)
    with open(path, 'rb') as f:
        data = f.read()
    movi = data.index(b'movi')
    starts = [m.start() for m in re.finditer(b'00dc', data[movi:])]
    with open(path, 'wb') as f:
        f.write(data[:movi + starts[keep]])


# --------------------------------------------------------------------- #
# Kinetics-10: {root}/{train,val}/<label_>/<key>.mp4 + kinetics-400.json
# --------------------------------------------------------------------- #
def kinetics_key(subset: str, c: int, j: int) -> str:
    yid = f'{subset[:2]}{c:02d}{j:02d}xYz-_'  # 11 characters
    return f'{yid}_{10 * j:06d}_{10 * j + 10:06d}'


#: File name pattern (of key / id) of each class's train videos: every
#: candidate of the official list, and a frame folder.
KINETICS_TRAIN_NAMES = {0: '{key}.mp4', 1: '{id}.mp4', 2: '{key}.mkv',
                        3: '{id}.mkv', 4: '{key}.mp4.mkv', 5: '{id}.mp4.mkv',
                        6: '{key}.mp4.webm', 7: '{id}.mp4.webm',
                        8: '{key}/', 9: '{id}/'}
N_TRAIN, N_FRAMES = 4, 12


def _media(folder: str, pattern: str, key: str, n: int) -> str:
    name = pattern.format(key=key, id=key[:-14])
    path = os.path.join(folder, name)
    if name.endswith('/'):
        write_frames(path, n)
        return path.rstrip('/')
    return write_video(path, n)


def write_kinetics_json(path, entries: Iterable[Tuple[str, str, str]]):
    """``entries``: (key, subset, label or None)."""
    database = {}
    for key, subset, label in entries:
        entry = {'subset': subset}
        if label is not None:
            entry['annotations'] = {'label': label, 'segment': [0.0, 10.0]}
        database[key] = entry
    labels = sorted({lab for _, _, lab in entries if lab})
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), 'w') as f:
        json.dump({'labels': labels, 'database': database}, f)


def make_kinetics(root) -> dict:
    """Ten classes, 4 train videos each (class c named as
    ``KINETICS_TRAIN_NAMES[c]``) and 1 val video each (an ``<id>/`` frame
    folder for class 0); plus an unused class, an unlabelled testing entry,
    and one val entry of class 9 without a video. Labels are spelled with
    spaces, except class 7's with underscores. Returns the expected
    layout."""
    root = str(root)
    entries, paths = [], {'train': {}, 'test': {}}
    for c, label in enumerate(KINETICS10_CLASSES):
        spelled = label.replace(' ', '_') if c == 7 else label
        folder = label.replace(' ', '_')
        for j in range(N_TRAIN):
            key = kinetics_key('training', c, j)
            entries.append((key, 'training', spelled))
            paths['train'][key] = _media(
                os.path.join(root, 'train', folder), KINETICS_TRAIN_NAMES[c],
                key, N_FRAMES)
        key = kinetics_key('validation', c, 0)
        entries.append((key, 'validation', spelled))
        paths['test'][key] = _media(os.path.join(root, 'val', folder),
                                    '{id}/' if c == 0 else '{key}.mp4', key,
                                    N_FRAMES)
    # noise the loader must ignore
    other = kinetics_key('training', 42, 0)
    entries.append((other, 'training', 'archery'))
    write_video(os.path.join(root, 'train', 'archery', other + '.mp4'), 4)
    entries.append((kinetics_key('testing', 0, 0), 'testing', None))
    missing = kinetics_key('validation', 9, 1)
    entries.append((missing, 'validation', KINETICS10_CLASSES[9]))
    write_kinetics_json(os.path.join(root, 'kinetics-400.json'), entries)
    return dict(paths=paths, missing=missing)


# --------------------------------------------------------------------- #
# Mimetics-10: {root}/data/<label>/<id>_<start:06d>_<end:06d>.mp4 + CSV
# --------------------------------------------------------------------- #
MIMETICS_HEADER = ['label', 'youtube_id', 'time_start', 'time_end', 'split',
                   'is_cc']


def write_mimetics_csv(path, rows: Sequence[Sequence],
                       header: Sequence[str] = MIMETICS_HEADER) -> None:
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def mimetics_name(yid: str, start: int, end: int) -> str:
    return f'{yid}_{start:06d}_{end:06d}'


def make_mimetics(root) -> dict:
    """Two clips per class of the 10 in the CSV (class 3's folder spelled
    with underscores, class 5's first clip a frame folder), rows of two
    other Mimetics classes, and a class-9 row without a video. Rows are not
    sorted by class. Returns the expected samples in file order."""
    root = str(root)
    rows, expected = [], []
    for c in reversed(range(10)):
        label = KINETICS10_CLASSES[c]
        folder = label.replace(' ', '_') if c == 3 else label
        for j in range(2):
            yid, start, end = f'mi{c:02d}{j}abcdef', 3 + j, 7 + 10 * j
            rows.append([label, yid, start, end, 'test', 0])
            name = mimetics_name(yid, start, end)
            base = os.path.join(root, 'data', folder, name)
            if c == 5 and j == 0:
                path = write_frames(base, N_FRAMES)
            else:
                path = write_video(base + '.mp4', N_FRAMES)
            expected.append((name, c, path))
        if c == 6:
            rows.append(['archery', 'zzzzzzzzzzz', 1, 2, 'test', 0])
            write_video(os.path.join(root, 'data', 'archery',
                                     mimetics_name('zzzzzzzzzzz', 1, 2)
                                     + '.mp4'), 4)
    rows.append(['bowling', 'yyyyyyyyyyy', 5, 6, 'test', 1])
    rows.append([KINETICS10_CLASSES[9], 'missing0000', 1, 3, 'test', 0])
    write_mimetics_csv(os.path.join(root, 'mimetics_v1.0.csv'), rows)
    return dict(expected=expected,
                missing=mimetics_name('missing0000', 1, 3))
