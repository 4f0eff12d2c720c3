"""SynthDigits: an offline twin of Colored MNIST that needs no download.

Digits 0-9 are rendered with OpenCV's Hershey fonts and distorted (scale,
aspect, shear, rotation, position, elastic stroke displacement, brightness),
then coloured exactly as Colored MNIST (LfF's 10 colours on the strokes).
The rendered digits are shared by all severities, which differ only in their
colours. Everything derives from one seed and is cached in the
DisEnt/BiasEnsemble folder layout under ``{data_root}/seed{seed}``.
"""
import dataclasses
import functools
import os
from typing import Dict, Iterable, Optional, Tuple

import cv2
import numpy as np

from debiascls.registry import DATASETS
from debiascls.utils.fileio import atomic_dir
from .base_dataset import DatasetError
from .bias_folder import BiasFolderDataset, split_dirs
from .color_bias import (LFF_COLOR_NAMES, SEVERITY_RATIOS, assign_bias,
                         colorize_foreground)
from .colored_mnist import (DEFAULT_COLOR_STD, DIGIT_CLASSES, severity_key,
                            split_counts, write_split_folder)
from .generation import check_meta, run_on_rank0, write_meta

#: Conflicting ratio of each SynthDigits severity ('unbiased': colours
#: uniform, as LfF's skew 0.9).
SYNTH_SEVERITIES: Dict[str, float] = dict(SEVERITY_RATIOS, unbiased=0.9)

#: Default sizes: 12,000 train digits (1,200 per class), 2,000 valid, and a
#: test set of 30 digits per (class, colour) cell (3,000).
DEFAULT_TRAIN_SIZE = 12000
DEFAULT_VALID_SIZE = 2000
DEFAULT_TEST_PER_CELL = 30

_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX,
          cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
          cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
          cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
#: Stroke widths of the templates (pixels at a glyph height of 48).
_THICKNESSES = (3, 4, 5, 6, 7)
_TEMPLATE_SIZE = 96
_GLYPH_HEIGHT = 48.0
_CHUNK = 256  # samples per vectorised block (keeps arrays in cache)


@dataclasses.dataclass(frozen=True)
class SynthJitter:
    """Random distortions of a rendered digit (uniform ranges).

    Attributes:
        rotation: Max rotation in degrees.
        shear: Max horizontal shear (slant) factor.
        scale: Range of the digit height relative to ``height``.
        aspect: Max log aspect-ratio change.
        shift: Max translation of the centre in pixels.
        elastic: Std (pixels) of the displacement at the control points of a
            smooth random field that bends the strokes.
        elastic_grid: Control points per side of that field.
        gain: Range of the peak intensity (fraction of 255).
        height: Nominal digit height in pixels (MNIST: a 20-pixel box).
    """
    rotation: float = 12.0
    shear: float = 0.35
    scale: Tuple[float, float] = (0.8, 1.15)
    aspect: float = 0.2
    shift: float = 2.0
    elastic: float = 1.2
    elastic_grid: int = 4
    gain: Tuple[float, float] = (0.85, 1.0)
    height: float = 20.0


@functools.lru_cache(maxsize=1)
def _templates() -> Tuple[np.ndarray, np.ndarray]:
    """Blurred glyphs for every (digit, font, italic, thickness), shape
    (10 * T, S, S) float32 ordered by digit, and per glyph its box centre
    (x, y) and height."""
    glyphs, boxes = [], []
    s = _TEMPLATE_SIZE
    for digit in range(10):
        for font in _FONTS:
            for italic in (0, cv2.FONT_ITALIC):
                for thickness in _THICKNESSES:
                    canvas = np.zeros((s, s), np.uint8)
                    (w, h), _ = cv2.getTextSize(str(digit), font | italic,
                                                1.0, 1)
                    font_scale = _GLYPH_HEIGHT / h
                    origin = (s // 2 - int(w * font_scale / 2),
                              s // 2 + int(_GLYPH_HEIGHT / 2))
                    cv2.putText(canvas, str(digit), origin, font | italic,
                                font_scale, 255, thickness, cv2.LINE_AA)
                    x, y, bw, bh = cv2.boundingRect(canvas)
                    # Pre-blur: the glyph is later shrunk ~2.4x by remap.
                    glyphs.append(
                        cv2.GaussianBlur(canvas, (0, 0),
                                         1.0).astype(np.float32))
                    boxes.append((x + bw / 2, y + bh / 2, max(bh, 1)))
    return np.stack(glyphs), np.asarray(boxes, np.float64)


def _interp_matrix(size: int, grid: int) -> np.ndarray:
    """(size, grid) linear interpolation of ``grid`` control points spread
    over ``size`` pixels."""
    pos = np.linspace(0, grid - 1, size)
    lo = np.clip(np.floor(pos).astype(int), 0, grid - 2)
    frac = pos - lo
    mat = np.zeros((size, grid), np.float32)
    mat[np.arange(size), lo] = 1 - frac
    mat[np.arange(size), lo + 1] = frac
    return mat


def render_digits(labels: np.ndarray,
                  rng: np.random.Generator,
                  jitter: SynthJitter = SynthJitter(),
                  size: int = 28) -> np.ndarray:
    """Render one distorted grayscale digit per label.

    Each sample picks a glyph (font, italic, stroke width) and a random
    affine map (rotation x shear x anisotropic scale, translation) combined
    with a smooth elastic displacement; one ``cv2.remap`` per sample
    resamples the glyph.

    Returns:
        (N, size, size) uint8, white strokes on black.
    """
    labels = np.asarray(labels, dtype=np.int64)
    glyphs, boxes = _templates()
    n, per_digit = len(labels), len(glyphs) // 10
    glyph = labels * per_digit + rng.integers(0, per_digit, n)
    angle = np.deg2rad(rng.uniform(-jitter.rotation, jitter.rotation, n))
    shear = rng.uniform(-jitter.shear, jitter.shear, n)
    scale = jitter.height * rng.uniform(*jitter.scale, n) / boxes[glyph, 2]
    aspect = np.exp(rng.uniform(-jitter.aspect, jitter.aspect, n))
    centre = size / 2 - 0.5 + rng.uniform(-jitter.shift, jitter.shift, (n, 2))
    grid = jitter.elastic_grid
    field = rng.normal(0, jitter.elastic, (n, 2, grid, grid)).astype(
        np.float32)
    gain = rng.uniform(*jitter.gain, n)

    # Forward map q -> R (q - box centre) + centre, R = rot @ shear @ scale;
    # remap needs the inverse, evaluated at the displaced output pixels.
    cos, sin = np.cos(angle), np.sin(angle)
    a = scale * aspect  # x scale
    b = scale / aspect  # y scale
    fwd = np.empty((n, 2, 2))
    fwd[:, 0, 0] = cos * a
    fwd[:, 0, 1] = (cos * shear - sin) * b
    fwd[:, 1, 0] = sin * a
    fwd[:, 1, 1] = (sin * shear + cos) * b
    inv = np.linalg.inv(fwd)
    offset = (boxes[glyph, :2] - np.einsum('nij,nj->ni', inv, centre))
    inv, offset = inv.astype(np.float32), offset.astype(np.float32)

    interp = _interp_matrix(size, grid)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    out = np.empty((n, size, size), np.float32)
    for start in range(0, n, _CHUNK):
        sl = slice(start, start + _CHUNK)
        disp = interp @ field[sl] @ interp.T  # (c, 2, size, size)
        x, y = xs + disp[:, 0], ys + disp[:, 1]
        m, o = inv[sl, :, :, None, None], offset[sl, :, None, None]
        map_x = m[:, 0, 0] * x + m[:, 0, 1] * y + o[:, 0]
        map_y = m[:, 1, 0] * x + m[:, 1, 1] * y + o[:, 1]
        for j, g in enumerate(glyph[sl]):
            out[start + j] = cv2.remap(glyphs[g], map_x[j], map_y[j],
                                       cv2.INTER_LINEAR)
    peak = np.maximum(out.reshape(n, -1).max(1), 1.0)
    out *= (255.0 * gain / peak).astype(np.float32)[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def synth_digits_dir(data_root: str, seed: int,
                     train_size: int = DEFAULT_TRAIN_SIZE,
                     valid_size: int = DEFAULT_VALID_SIZE,
                     test_per_cell: int = DEFAULT_TEST_PER_CELL) -> str:
    """``{data_root}/seed{seed}``, with the sizes appended when they are not
    the defaults (so that small test copies never shadow the real one)."""
    name = f'seed{seed}'
    if (train_size, valid_size, test_per_cell) != (DEFAULT_TRAIN_SIZE,
                                                   DEFAULT_VALID_SIZE,
                                                   DEFAULT_TEST_PER_CELL):
        name += f'_n{train_size}-{valid_size}-{test_per_cell}'
    return os.path.join(data_root, name)


def _params(seed: int, train_size: int, valid_size: int, test_per_cell: int,
            color_std: float, jitter: Optional[SynthJitter]) -> dict:
    params = dict(
        seed=int(seed),
        train_size=int(train_size),
        valid_size=int(valid_size),
        test_per_cell=int(test_per_cell),
        color_std=float(color_std))
    if jitter is not None:
        params['jitter'] = {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(jitter).items()
        }
    return params


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, 0x5D, *keys]))


def generate_synth_digits(
        root: str,
        severities: Iterable[str] = tuple(SYNTH_SEVERITIES),
        seed: int = 0,
        train_size: int = DEFAULT_TRAIN_SIZE,
        valid_size: int = DEFAULT_VALID_SIZE,
        test_per_cell: int = DEFAULT_TEST_PER_CELL,
        color_std: float = DEFAULT_COLOR_STD,
        jitter: SynthJitter = SynthJitter(),
        with_test: bool = True) -> Dict[str, dict]:
    """Write the missing ``{severity}/`` folders and ``test/`` of one
    SynthDigits copy into ``root`` (e.g. ``data/synthdigits/seed0``).

    Train and valid digits are rendered once and coloured per severity
    (exactly ``round(ratio * n_c)`` conflicting per class, colours balanced
    over the 9 others); the test set has exactly ``test_per_cell`` digits in
    every (class, colour) cell. Each folder is written atomically.

    Returns:
        ``{folder: meta}`` of the folders written now.
    """
    severities = list(severities)
    for sev in severities:
        if sev not in SYNTH_SEVERITIES:
            raise ValueError(f'Unknown SynthDigits severity "{sev}"; use '
                             f'{tuple(SYNTH_SEVERITIES)}.')
    if min(train_size, valid_size) < 10 or test_per_cell < 1:
        raise ValueError('SynthDigits needs train_size and valid_size >= 10 '
                         f'and test_per_cell >= 1, got {train_size}, '
                         f'{valid_size}, {test_per_cell}.')
    params = _params(seed, train_size, valid_size, test_per_cell, color_std,
                     jitter)
    todo = [s for s in severities if not os.path.isdir(os.path.join(root, s))]
    test_dir = os.path.join(root, 'test')
    for existing in [os.path.join(root, s) for s in severities
                     if s not in todo] + [test_dir]:
        if os.path.isdir(existing):
            check_meta(existing, params, 'SynthDigits')
    written = {}
    if todo:
        pools = {}
        for i, (name, n) in enumerate((('train', train_size),
                                       ('valid', valid_size))):
            rng = _rng(seed, 1, i)
            labels = rng.permutation(np.arange(n) % 10)
            pools[name] = (labels, render_digits(labels, rng, jitter))
        for sev in todo:
            ratio = SYNTH_SEVERITIES[sev]
            rng = _rng(seed, 2, severity_key(sev))
            final = os.path.join(root, sev)
            with atomic_dir(final) as tmp:
                meta = dict(params, generator='SynthDigits', severity=sev,
                            conflict_ratio=ratio)
                for name, layout in (('train', 'align_conflict'),
                                     ('valid', 'flat')):
                    labels, digits = pools[name]
                    bias = assign_bias(labels, ratio, 10, rng)
                    images = colorize_foreground(digits, bias, color_std, rng)
                    out = tmp if name == 'train' else os.path.join(tmp, name)
                    write_split_folder(out, images, labels, bias, layout)
                    meta[name] = split_counts(labels, bias)
                write_meta(tmp, meta)
            written[final] = meta
    if with_test and not os.path.isdir(test_dir):
        rng = _rng(seed, 3)
        cells = np.arange(100 * test_per_cell) % 100
        order = rng.permutation(len(cells))
        labels, bias = cells[order] // 10, cells[order] % 10
        images = colorize_foreground(
            render_digits(labels, rng, jitter), bias, color_std, rng)
        with atomic_dir(test_dir) as tmp:
            write_split_folder(tmp, images, labels, bias, 'classes')
            meta = dict(params, generator='SynthDigits')
            meta['test'] = split_counts(labels, bias)
            write_meta(tmp, meta)
        written[test_dir] = meta
    return written


@DATASETS.register_module()
class SynthDigits(BiasFolderDataset):
    """Rendered, coloured digits in the Colored MNIST layout; generated from
    ``seed`` on first use (rank 0, atomically), no download needed.

    Args:
        data_root: Cache root; the layout is ``{data_root}/seed{seed}/``
            (``_n{train}-{valid}-{per_cell}`` is appended for non-default
            sizes).
        severity: '0.5pct', '1pct', '2pct', '5pct' (conflicting ratio of
            train and valid) or 'unbiased' (uniform colours).
        split: 'train', 'valid' (biased like train) or 'test' (exactly
            ``test_per_cell`` samples per (class, colour) cell).
        seed: Seed of the rendering and colouring.
        train_size: Training digits (shared by all severities).
        valid_size: Validation digits.
        test_per_cell: Test digits per (class, colour) cell.
        color_std: Std of the per-sample colour jitter.
        **kwargs: Passed to :class:`BiasFolderDataset`.
    """

    SEVERITIES = tuple(SYNTH_SEVERITIES)
    METAINFO = dict(
        classes=DIGIT_CLASSES,
        bias_attribute='color',
        bias_classes=LFF_COLOR_NAMES,
        aligned_bias=tuple(range(10)))

    def __init__(self,
                 data_root: str = 'data/synthdigits',
                 severity: str = '1pct',
                 split: str = 'train',
                 seed: int = 0,
                 train_size: int = DEFAULT_TRAIN_SIZE,
                 valid_size: int = DEFAULT_VALID_SIZE,
                 test_per_cell: int = DEFAULT_TEST_PER_CELL,
                 color_std: float = DEFAULT_COLOR_STD,
                 **kwargs) -> None:
        self.seed = seed
        self.train_size = train_size
        self.valid_size = valid_size
        self.test_per_cell = test_per_cell
        self.color_std = color_std
        super().__init__(
            data_root=data_root, severity=severity, split=split, **kwargs)

    @property
    def layout_root(self) -> str:
        return synth_digits_dir(self.data_root, self.seed, self.train_size,
                                self.valid_size, self.test_per_cell)

    def generate_hint(self) -> str:
        return ('It is generated automatically; to (re)create it run: python '
                'tools/data/prepare_data.py synthdigits --out '
                f'{self.data_root} --seed {self.seed} (see '
                'docs/data_preparation.md).')

    def prepare_layout(self) -> None:
        folder = os.path.join(
            self.layout_root,
            'test' if self.split == 'test' else self.severity)
        params = _params(self.seed, self.train_size, self.valid_size,
                         self.test_per_cell, self.color_std, None)
        if not self.split_ready():
            if os.path.isdir(folder):
                missing = [
                    d for d, _ in split_dirs(self.layout_root, self.split,
                                             self.severity)
                    if not os.path.isdir(d)
                ]
                raise DatasetError(
                    f'{self._where()}: "{folder}" is incomplete (no '
                    f'{", ".join(missing)}). Delete it to regenerate it.')

            def generate() -> None:
                generate_synth_digits(
                    self.layout_root,
                    [] if self.split == 'test' else [self.severity],
                    seed=self.seed,
                    train_size=self.train_size,
                    valid_size=self.valid_size,
                    test_per_cell=self.test_per_cell,
                    color_std=self.color_std)

            def missing_error() -> DatasetError:
                return DatasetError(
                    f'{self._where()}: "{folder}" does not exist after rank 0 '
                    f'generated it (is {self.data_root} on a shared file '
                    f'system?). {self.generate_hint()}')

            run_on_rank0(self.split_ready, generate, missing_error)
        check_meta(folder, params, 'SynthDigits')
