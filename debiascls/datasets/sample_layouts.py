"""Small synthetic *stand-ins* for the real-world data sets (BFFHQ, Dogs &
Cats, BAR, Waterbirds), written in exactly the on-disk layout of each
official release, so that a config can be run end to end before the real
data is at hand (``python tools/data/prepare_data.py sample-layout ...``).

They are NOT the data sets: the images are coloured noise with a patch, a
few hundred of them, and any accuracy obtained on them says nothing about
the real data. Every copy carries a ``SAMPLE_LAYOUT.txt`` marker saying so.

The images (RGB, ``size`` x ``size``; PNG, or JPEG for BAR and Waterbirds as
their releases) are learnable in a small way: the bias value sets the
background colour (easy), the class sets a bright square at a
class-specific position (harder), plus pixel noise. Everything derives from
``seed``; each part of a copy (aligned train images, the conflicting ones of
a severity, valid, test) has its own random stream and file ids, so a part
does not depend on which severities are written.

Counts. The train split has ``aligned_per_class`` bias-aligned images per
class and, per severity of ratio ``r``, ``max(round(r * n / (1 - r)), K)``
bias-conflicting ones (``n`` aligned images in all, ``K`` classes: at least
one per class; halves rounded up), spread evenly over the classes and, within
a class, over its non-aligned bias values. Valid and test have
``valid_per_cell`` / ``test_per_cell`` images per (class, bias) cell. The
layouts (see the loaders' modules):

- BFFHQ: ``{sev}/align|conflict/<c>/<id>_<t>_<b>.png``; ``valid/`` and
  ``test/`` flat and shared by the severities; the aligned images are the
  same in every severity.
- Dogs & Cats: ``{sev}/align|conflict/<c>/``, ``{sev}/valid/`` (flat; the
  same images in every severity), ``test/<c>/``; PNG.
- BAR: ``train/align/<c>/`` (shared), ``train/conflict/{sev}/<c>/``,
  ``valid/<c>/``, ``test/<c>/``; names ``<action>_<id>_<t>_<b>.jpg``. The
  loader sets the bias of a train conflict image to ``(t + 1) mod 6``
  whatever its name says, so those images are drawn (and named) with that
  bias value.
- Waterbirds: ``metadata.csv`` (``img_id,img_filename,y,split,place,
  place_filename``, split 0/1/2 = train/valid/test) and species folders of
  JPEGs. The standard train split is written with as many conflicting
  images as the highest requested severity needs (the loader subsamples the
  lower severities itself, as with the real release).
"""
import csv
import os
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from debiascls.utils.fileio import atomic_dir
from .bar import BAR, BAR_ACTIONS
from .bffhq import BFFHQ
from .dogs_and_cats import DogsAndCats
from .waterbirds import Waterbirds, conflicting_count, severity_ratio

MARKER = 'SAMPLE_LAYOUT.txt'
#: The loader class of each data set.
SAMPLE_DATASETS = {
    'bffhq': BFFHQ,
    'dogs_and_cats': DogsAndCats,
    'bar': BAR,
    'waterbirds': Waterbirds,
}
#: Image format of each data set (as the releases).
_EXT = dict(bffhq='png', dogs_and_cats='png', bar='jpg', waterbirds='jpg')
_ID_WIDTH = 5
_JPEG_QUALITY = 95
#: Two species folders per Waterbirds class (landbird, waterbird).
WB_SPECIES = (('094.White_breasted_Nuthatch', '026.Bronzed_Cowbird'),
              ('001.Black_footed_Albatross', '059.California_Gull'))
#: Two Places categories per Waterbirds place (land, water).
WB_PLACES = (('b/bamboo_forest', 'f/forest/broadleaf'),
             ('o/ocean', 'l/lake/natural'))


def _num(meta: dict) -> Tuple[int, int]:
    return len(meta['classes']), len(meta['bias_classes'])


def _palette(num_bias: int) -> np.ndarray:
    """``num_bias`` well separated, mid-bright background colours (RGB)."""
    hues = (np.arange(num_bias) * 180 // num_bias).astype(np.uint8)
    hsv = np.stack([hues, np.full_like(hues, 170),
                    np.full_like(hues, 150)], axis=1)[None]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0].astype(np.int16)


def _positions(num_classes: int) -> List[Tuple[float, float]]:
    """Class-specific centres (fractions of the side) of the bright patch."""
    grid = [(0.25, 0.25), (0.75, 0.75), (0.25, 0.75), (0.75, 0.25),
            (0.5, 0.25), (0.5, 0.75), (0.25, 0.5), (0.75, 0.5), (0.5, 0.5)]
    if num_classes > len(grid):
        raise ValueError(f'at most {len(grid)} classes, not {num_classes}.')
    return grid[:num_classes]


def render(targets: Sequence[int], biases: Sequence[int], num_classes: int,
           num_bias: int, size: int,
           rng: np.random.Generator) -> np.ndarray:
    """Images (N, size, size, 3) uint8 RGB: background colour of the bias
    value with a per-image jitter, a bright square (side ``size // 4``) near
    the class position, pixel noise."""
    n = len(targets)
    palette = _palette(num_bias)
    colour = palette[np.asarray(biases, int)] + rng.integers(
        -20, 21, size=(n, 3))
    imgs = np.empty((n, size, size, 3), np.int16)
    imgs[:] = colour[:, None, None, :]
    side = max(size // 4, 2)
    jitter = max(size // 16, 1)
    centres = _positions(num_classes)
    shifts = rng.integers(-jitter, jitter + 1, size=(n, 2))
    brightness = rng.integers(200, 256, size=n)
    for i, (t, (dy, dx)) in enumerate(zip(targets, shifts)):
        cy, cx = centres[t]
        y0 = int(np.clip(round(cy * size) - side // 2 + dy, 0, size - side))
        x0 = int(np.clip(round(cx * size) - side // 2 + dx, 0, size - side))
        patch = imgs[i, y0:y0 + side, x0:x0 + side]
        # blended 3:1 with the background: bright, but keeps a tint
        imgs[i, y0:y0 + side, x0:x0 + side] = (3 * brightness[i] + patch) // 4
    imgs += rng.normal(0, 12, size=imgs.shape).astype(np.int16)
    return np.clip(imgs, 0, 255).astype(np.uint8)


def _conflict_total(n_aligned: int, severity: str, num_classes: int) -> int:
    return max(conflicting_count(n_aligned, severity_ratio(severity)),
               num_classes)


def _conflict_cells(total: int, num_classes: int, num_bias: int,
                    aligned: Sequence[int],
                    dataset: str) -> List[Tuple[int, int]]:
    """``(target, bias)`` of ``total`` conflicting samples: even over the
    classes (the first ones get the remainder), within a class cycling over
    its non-aligned bias values (BAR: the loader's ``(t + 1) mod 6``)."""
    cells = []
    for c in range(num_classes):
        count = total // num_classes + (c < total % num_classes)
        if dataset == 'bar':
            others = [(c + 1) % len(BAR_ACTIONS)]
        else:
            others = [b for b in range(num_bias) if b != aligned[c]]
        cells.extend((c, others[j % len(others)]) for j in range(count))
    return cells


class _Part:
    """Images drawn together from one random stream: ``samples`` are
    ``(file id, target, bias)``; ``stream`` keys the stream (with the seed),
    so a part does not depend on which other parts are written."""

    def __init__(self, stream: Tuple[int, ...],
                 cells: Sequence[Tuple[int, int]], ids: '_Ids') -> None:
        self.stream = stream
        self.samples = [(i, t, b) for i, (t, b) in zip(ids.take(len(cells)),
                                                       cells)]


class _Ids:
    """Running file ids over the canonical order of the parts."""

    def __init__(self, start: int = 0) -> None:
        self.next = start

    def take(self, n: int) -> range:
        ids = range(self.next, self.next + n)
        self.next += n
        return ids


def _name(dataset: str, idx: int, target: int, bias: int) -> str:
    """``<id>_<t>_<b>.<ext>`` (BAR: ``<action>_<id>_<t>_<b>.jpg``)."""
    stem = f'{idx:0{_ID_WIDTH}d}_{target}_{bias}.{_EXT[dataset]}'
    if dataset == 'bar':
        return f'{BAR_ACTIONS[target]}_{stem}'
    return stem


def _cells(num_classes: int, num_bias: int,
           per_cell: int) -> List[Tuple[int, int]]:
    return [(t, b) for t in range(num_classes) for b in range(num_bias)
            for _ in range(per_cell)]


# A placement: (part, folder relative to root, class sub-folders or flat).
Placement = Tuple[_Part, str, bool]


def _folder_plan(dataset: str, severities: Sequence[str],
                 aligned_per_class: int, valid_per_cell: int,
                 test_per_cell: int) -> List[Tuple[str, List[Placement]]]:
    """``[(split key, placements)]`` of a folder layout. Every severity of
    the loader gets its ids (so ids do not depend on the requested ones);
    only the requested ones are placed."""
    loader = SAMPLE_DATASETS[dataset]
    num_classes, num_bias = _num(loader.METAINFO)
    aligned = loader.METAINFO['aligned_bias']
    ids = _Ids()
    align = _Part((1, ), [(c, aligned[c]) for c in range(num_classes)
                          for _ in range(aligned_per_class)], ids)
    n_aligned = len(align.samples)
    conflict = {
        sev: _Part((2, k), _conflict_cells(
            _conflict_total(n_aligned, sev, num_classes), num_classes,
            num_bias, aligned, dataset), ids)
        for k, sev in enumerate(loader.SEVERITIES)
    }
    valid = _Part((3, ), _cells(num_classes, num_bias, valid_per_cell), ids)
    test = _Part((4, ), _cells(num_classes, num_bias, test_per_cell), ids)

    plan = []
    for sev in severities:
        if dataset == 'bar':
            plan.append((f'train/{sev}', [
                (align, 'train/align', True),
                (conflict[sev], f'train/conflict/{sev}', True)]))
        else:
            plan.append((f'train/{sev}', [
                (align, f'{sev}/align', True),
                (conflict[sev], f'{sev}/conflict', True)]))
        if dataset == 'dogs_and_cats':
            plan.append((f'valid/{sev}', [(valid, f'{sev}/valid', False)]))
    if dataset != 'dogs_and_cats':
        plan.append(('valid', [(valid, 'valid', dataset == 'bar')]))
    plan.append(('test', [(test, 'test', dataset != 'bffhq')]))
    return plan


def _waterbirds_plan(severities: Sequence[str], aligned_per_class: int,
                     valid_per_cell: int, test_per_cell: int
                     ) -> Tuple[List[Tuple[str, List[Placement]]],
                                List[dict]]:
    """The plan and the rows of ``metadata.csv`` (``img_id`` from 1; the
    conflicting train rows last, so the others do not depend on the
    severities)."""
    num_classes, num_bias = _num(Waterbirds.METAINFO)
    aligned = Waterbirds.METAINFO['aligned_bias']
    n_aligned = aligned_per_class * num_classes
    n_conflict = max(_conflict_total(n_aligned, sev, num_classes)
                     for sev in severities)
    ids = _Ids(start=1)
    align = _Part((1, ), [(c, aligned[c]) for c in range(num_classes)
                          for _ in range(aligned_per_class)], ids)
    valid = _Part((3, ), _cells(num_classes, num_bias, valid_per_cell), ids)
    test = _Part((4, ), _cells(num_classes, num_bias, test_per_cell), ids)
    conflict = _Part((2, ), _conflict_cells(n_conflict, num_classes,
                                            num_bias, aligned, 'waterbirds'),
                     ids)
    rows = []
    for part, split in ((align, 0), (valid, 1), (test, 2), (conflict, 0)):
        for i, y, place in part.samples:
            rows.append(dict(
                img_id=i, img_filename=_wb_filename(i, y), y=y, split=split,
                place=place,
                place_filename=f'/{WB_PLACES[place][i % 2]}/{i:08d}.jpg'))
    plan = [('train', [(align, '', True), (conflict, '', True)]),
            ('valid', [(valid, '', True)]), ('test', [(test, '', True)])]
    return plan, rows


def _wb_filename(idx: int, y: int) -> str:
    """``<species dir>/<Species_Name>_<id>.jpg`` (two species per class)."""
    species = WB_SPECIES[y][idx % 2]
    return f'{species}/{species.split(".", 1)[1]}_{idx:0{_ID_WIDTH}d}.jpg'


def _path(dataset: str, folder: str, nested: bool, idx: int, target: int,
          bias: int) -> str:
    """The path of a sample relative to the root."""
    if dataset == 'waterbirds':
        return _wb_filename(idx, target)
    name = _name(dataset, idx, target, bias)
    return '/'.join([folder, str(target), name] if nested else [folder, name])


def _counts(samples: Sequence[Tuple[int, int]], aligned: Sequence[int]
            ) -> Dict[str, int]:
    n_aligned = sum(b == aligned[t] for t, b in samples)
    return dict(num_samples=len(samples), num_aligned=n_aligned,
                num_conflicting=len(samples) - n_aligned)


def _marker_text(dataset: str, seed: int, severities: Sequence[str],
                 params: dict, counts: dict) -> str:
    name = SAMPLE_DATASETS[dataset].__name__
    lines = [
        f'GENERATED STAND-IN for {name} -- NOT the {name} data set.',
        '',
        'Written by debiascls (write_sample_layout; tools/data/prepare_data.py'
        ' sample-layout) in the on-disk layout of the official release, for '
        'smoke tests of the code only. The images are synthetic (background '
        'colour = bias value, bright square at a class-specific position = '
        'class, plus noise). Accuracies, losses and any other numbers '
        f'obtained on this copy mean nothing about the real {name} data set.',
        '',
        f'dataset: {dataset}',
        f'seed: {seed}',
        f'severities: {" ".join(severities)}',
    ]
    lines += [f'{k}: {v}' for k, v in params.items()]
    lines.append('counts:')
    for key, c in counts.items():
        lines.append(f'  {key}: {c["num_samples"]} samples '
                     f'({c["num_aligned"]} aligned, {c["num_conflicting"]} '
                     'conflicting)')
    return '\n'.join(lines) + '\n'


def _encode(img: np.ndarray, ext: str) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY] if ext == 'jpg' else []
    ok, buf = cv2.imencode('.' + ext, img[..., ::-1], params)
    if not ok:
        raise RuntimeError(f'could not encode a .{ext} image.')
    return buf.tobytes()


def _check_root(root: str, marker_text: str) -> bool:
    """True if ``root`` holds this very copy; False if it is absent or an
    empty folder; ValueError if it holds anything else."""
    if not os.path.lexists(root):
        return False
    if not os.path.isdir(root):
        raise ValueError(f'"{root}" exists and is not a folder; refusing to '
                         'write a sample layout there. Use another root.')
    entries = os.listdir(root)
    if not entries:
        return False
    marker = os.path.join(root, MARKER)
    if not os.path.isfile(marker):
        raise ValueError(
            f'"{root}" is not empty and has no {MARKER}: it may hold the '
            'real data set or other files, which a stand-in copy never '
            'overwrites. Use another root (an absent or empty folder).')
    with open(marker, encoding='utf-8') as f:
        on_disk = f.read()
    if on_disk != marker_text:
        raise ValueError(
            f'"{root}" already holds a different stand-in copy (see '
            f'"{marker}"); existing files are never overwritten. Use another '
            'root, or delete the folder to write this one.')
    return True


def write_sample_layout(dataset: str,
                        root: str,
                        severities: Optional[Sequence[str]] = None,
                        seed: int = 0,
                        aligned_per_class: int = 40,
                        valid_per_cell: int = 4,
                        test_per_cell: int = 4,
                        size: int = 64) -> Dict[str, Dict[str, int]]:
    """Write a small synthetic stand-in of ``dataset`` in the layout of its
    official release under ``root`` (see the module docstring). Not the
    data set: a :data:`MARKER` file at the root says so.

    The copy is written into a temporary folder next to ``root`` and renamed
    to ``root`` when complete, so it is complete or absent. If ``root``
    already holds the same copy (same marker text) nothing is written.

    Args:
        dataset: ``'bffhq'``, ``'dogs_and_cats'``, ``'bar'`` or
            ``'waterbirds'``.
        root: The copy's folder (``data_root`` of the configs); absent or
            an empty folder.
        severities: Severities to write (default: every one the loader
            accepts). Waterbirds: the train split gets enough conflicting
            images for the highest one; the loader subsamples the others.
        seed: Seed of the images (``numpy.random.default_rng``).
        aligned_per_class: Bias-aligned train images per class.
        valid_per_cell: Valid images per (class, bias) cell.
        test_per_cell: Test images per (class, bias) cell.
        size: Side of the square images in pixels (>= 16).

    Returns:
        ``{split key: dict(num_samples, num_aligned, num_conflicting)}`` as
        the loader will read them: keys ``'train/<sev>'``, ``'valid'``
        (Dogs & Cats: ``'valid/<sev>'``) and ``'test'``; Waterbirds
        ``'train'`` (the standard split, before the loader's subsampling),
        ``'valid'`` and ``'test'``.

    Raises:
        ValueError: A bad argument, or ``root`` holds anything but this copy
            (the message names the path).
    """
    if dataset not in SAMPLE_DATASETS:
        raise ValueError(f'dataset={dataset!r} is not one of '
                         f'{tuple(SAMPLE_DATASETS)}.')
    loader = SAMPLE_DATASETS[dataset]
    if severities is None:
        severities = list(loader.SEVERITIES)
    elif isinstance(severities, str):
        severities = [severities]
    bad = [s for s in severities if s not in loader.SEVERITIES]
    if bad or not severities:
        raise ValueError(f'severities={list(severities)!r}: the {dataset} '
                         f'loader accepts {loader.SEVERITIES}.')
    severities = [s for s in loader.SEVERITIES if s in severities]
    for key, value, low in (('seed', seed, 0),
                            ('aligned_per_class', aligned_per_class, 1),
                            ('valid_per_cell', valid_per_cell, 1),
                            ('test_per_cell', test_per_cell, 1),
                            ('size', size, 16)):
        if isinstance(value, bool) or not isinstance(
                value, (int, np.integer)) or value < low:
            raise ValueError(f'{key}={value!r} must be an integer >= {low}.')
    root = str(root)
    num_classes, num_bias = _num(loader.METAINFO)
    aligned = loader.METAINFO['aligned_bias']
    ext = _EXT[dataset]

    rows = None
    if dataset == 'waterbirds':
        plan, rows = _waterbirds_plan(severities, aligned_per_class,
                                      valid_per_cell, test_per_cell)
    else:
        plan = _folder_plan(dataset, severities, aligned_per_class,
                            valid_per_cell, test_per_cell)
    counts = {
        key: _counts([(t, b) for part, _, _ in placements
                      for _, t, b in part.samples], aligned)
        for key, placements in plan
    }
    params = dict(aligned_per_class=int(aligned_per_class),
                  valid_per_cell=int(valid_per_cell),
                  test_per_cell=int(test_per_cell), size=int(size))
    marker_text = _marker_text(dataset, int(seed), severities, params,
                               counts)
    if _check_root(root, marker_text):
        return counts

    # every part is drawn and encoded once, then written to its folders
    folders: Dict[int, Tuple[_Part, List[Tuple[str, bool]]]] = {}
    for _, placements in plan:
        for part, folder, nested in placements:
            entry = folders.setdefault(id(part), (part, []))
            if (folder, nested) not in entry[1]:
                entry[1].append((folder, nested))
    ds_code = list(SAMPLE_DATASETS).index(dataset)
    if os.path.isdir(root):  # empty: replaced by the rename
        os.rmdir(root)
    with atomic_dir(root) as tmp:
        for part, places in folders.values():
            rng = np.random.default_rng([int(seed), ds_code, *part.stream])
            imgs = render([t for _, t, _ in part.samples],
                          [b for _, _, b in part.samples], num_classes,
                          num_bias, int(size), rng)
            for (idx, t, b), img in zip(part.samples, imgs):
                data = _encode(img, ext)
                for folder, nested in places:
                    path = os.path.join(
                        tmp, _path(dataset, folder, nested, idx, t, b))
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, 'wb') as f:
                        f.write(data)
        if rows is not None:
            with open(os.path.join(tmp, 'metadata.csv'), 'w',
                      encoding='utf-8', newline='') as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]),
                                        lineterminator='\n')
                writer.writeheader()
                writer.writerows(rows)
        with open(os.path.join(tmp, MARKER), 'w', encoding='utf-8') as f:
            f.write(marker_text)
    return counts
