"""Image corruptions of Corrupted CIFAR-10 (LfF protocol), for 32x32 RGB.

The corruptions of Hendrycks & Dietterich (ICLR 2019) as re-parameterised
for 32x32 images by LfF (alinlab/LfF ``data/corrupted_cifar10_protocol.py``):
the numeric tables per level below are LfF's. They are
re-implemented here with numpy and OpenCV only (LfF uses scikit-image,
SciPy, Wand/ImageMagick and PIL), so pixels differ slightly from LfF's where
a library routine is emulated; each function says how.

Every function has the signature ``f(img, level, rng) -> img``:

- ``img``: HxWx3 uint8 RGB (any size; LfF's are 32x32);
- ``level``: 1..5, Hendrycks' severity *level*. LfF's folder tag
  ``Severity{s}`` calls level ``s + 1`` (``make_dataset.py``), so LfF's
  published ``Severity4`` data uses level 5;
- ``rng``: a :class:`numpy.random.Generator`, the only source of randomness
  (LfF draws from the global ``np.random``), so a corruption is a pure
  function of its inputs.

The result is HxWx3 uint8. As in LfF (``np.array(img).astype(np.uint8)`` on
the float result), values are converted by **truncation**, not rounding,
except where LfF's own result is already 8-bit (JPEG, Pixelate, Motion Blur,
and the motion-blurred snow layer, rounded by ImageMagick/PIL).

Deviations from LfF (documented in docs/data_preparation.md):

- Frost: LfF blends crops of six frost photographs (``data/resource/
  frost*.png|jpg``) that we cannot ship. We blend crops of five procedural
  frost textures (:func:`frost_textures`: thin bright ice needles and
  blurred rime on a pale blue-white tint), generated deterministically from
  fixed seeds. Same blending weights as LfF.
- Motion Blur (and the snow layer): ImageMagick's ``MotionBlurImage`` is
  emulated (one-sided Gaussian kernel of width ``2 ceil(radius) + 1`` along
  the angle, edge pixels repeated), not called.
- Glass Blur: LfF's pixel "swap" assigns through numpy views and therefore
  only *copies* the neighbour into the pixel (the neighbour is unchanged);
  we reproduce that behaviour, vectorised (with LfF's ``max_delta`` = 1 the
  sources are never already-modified pixels, so the result is identical to
  the sequential loop).
- Gaussian filters (scikit-image ``gaussian``) use OpenCV kernels of the
  same radius (truncate 4 sigma, 3 sigma for Elastic) and border modes;
  SciPy's ``zoom`` / ``map_coordinates`` (order 1) are computed with the same
  coordinate conventions in numpy / ``cv2.remap``.
"""
import collections
import functools
import math
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np

Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

LEVELS = (1, 2, 3, 4, 5)


# --------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------- #
def _param(table: Sequence, level: int, name: str):
    if isinstance(level, bool) or level not in LEVELS:
        raise ValueError(f'{name}: level={level!r} must be one of {LEVELS}.')
    return table[level - 1]


def _check_image(img: np.ndarray, name: str) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'{name}: expected an HxWx3 uint8 RGB image, got '
                         f'{img.dtype} {img.shape}.')
    return img


def _unit(img: np.ndarray) -> np.ndarray:
    """uint8 -> float64 in [0, 1]."""
    return img.astype(np.float64) / 255.0


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 by clipping and truncation (LfF's cast)."""
    return (np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _round_uint8(x: np.ndarray) -> np.ndarray:
    """0..255 floats -> uint8, rounded (8-bit library outputs)."""
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def _gaussian(x: np.ndarray, sigma: float, truncate: float = 4.0,
              border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """Gaussian filter over the two spatial axes (scikit-image ``gaussian``
    with ``mode='nearest'``, i.e. edge pixels repeated, by default)."""
    if sigma <= 0:
        return x.copy()
    radius = int(truncate * sigma + 0.5)
    k = 2 * radius + 1
    out = cv2.GaussianBlur(x, (k, k), sigmaX=sigma, sigmaY=sigma,
                           borderType=border)
    if x.ndim == 3 and out.ndim == 2:
        out = out[..., None]
    return out


def _linear_zoom_matrix(size: int, factor: float) -> np.ndarray:
    """(round(size * factor), size) matrix of order-1 interpolation with
    SciPy ``ndimage.zoom``'s mapping (corner pixel centres aligned)."""
    out = int(round(size * factor))
    if out == 1 or size == 1:
        pos = np.zeros(out)
    else:
        pos = np.arange(out) * (size - 1) / (out - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, size - 1)
    hi = np.minimum(lo + 1, size - 1)
    frac = pos - lo
    mat = np.zeros((out, size))
    mat[np.arange(out), lo] += 1 - frac
    mat[np.arange(out), hi] += frac
    return mat


def clipped_zoom(x: np.ndarray, factor: float) -> np.ndarray:
    """Zoom into the centre of an HxWxC (square) array by ``factor`` >= 1,
    keeping its size: crop the centre ``ceil(h / factor)`` square, enlarge it
    bilinearly and cut the centre ``h`` square (LfF's ``clipped_zoom``)."""
    h = x.shape[0]
    ch = int(np.ceil(h / factor))
    top = (h - ch) // 2
    crop = x[top:top + ch, top:top + ch].astype(np.float64)
    mat = _linear_zoom_matrix(ch, factor)
    rows = np.tensordot(mat, crop, axes=(1, 0))  # (out, ch, C)
    zoomed = np.tensordot(mat, rows, axes=(1, 1)).transpose(1, 0, 2)
    trim = (zoomed.shape[0] - h) // 2
    return zoomed[trim:trim + h, trim:trim + h]


def motion_blur_kernel(radius: float, sigma: float,
                       angle: float) -> List[Tuple[int, int, float]]:
    """``(dx, dy, weight)`` taps of ImageMagick's motion blur: a one-sided
    Gaussian of width ``2 ceil(radius) + 1`` along ``angle`` degrees."""
    width = int(2 * math.ceil(radius) + 1)
    i = np.arange(width, dtype=np.float64)
    weights = np.exp(-(i * i) / (2.0 * sigma * sigma))
    weights /= weights.sum()
    rad = math.radians(angle)
    dx = np.ceil(i * math.cos(rad) - 0.5).astype(int)
    dy = np.ceil(i * math.sin(rad) - 0.5).astype(int)
    return [(int(a), int(b), float(w)) for a, b, w in zip(dx, dy, weights)]


def _motion_blur(x: np.ndarray, radius: float, sigma: float,
                 angle: float) -> np.ndarray:
    """Motion blur of an HxW or HxWxC float array (0..255), edge pixels
    repeated beyond the border; returns floats (round to store)."""
    taps = motion_blur_kernel(radius, sigma, angle)
    pad = max(max(abs(dx), abs(dy)) for dx, dy, _ in taps)
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (x.ndim - 2)
    padded = np.pad(x.astype(np.float64), widths, mode='edge')
    h, w = x.shape[:2]
    out = np.zeros(x.shape, np.float64)
    for dx, dy, weight in taps:
        out += weight * padded[pad + dy:pad + dy + h, pad + dx:pad + dx + w]
    return out


def _rgb_hsv(x: np.ndarray) -> np.ndarray:
    """[0, 1] RGB -> HSV (H in degrees, S and V in [0, 1]), float32."""
    return cv2.cvtColor(x.astype(np.float32), cv2.COLOR_RGB2HSV)


def _hsv_rgb(hsv: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(hsv.astype(np.float32), cv2.COLOR_HSV2RGB).astype(
        np.float64)


def plasma_fractal(rng: np.random.Generator, mapsize: int = 32,
                   wibbledecay: float = 3.0) -> np.ndarray:
    """A (mapsize, mapsize) height map in [0, 1] by the diamond-square
    algorithm (as in LfF's ``fog``: wibble starts at 100, each random offset
    is ``wibble * U(-wibble, wibble)``, wibble is divided by ``wibbledecay``
    at every scale; the map wraps around)."""
    if mapsize & (mapsize - 1):
        raise ValueError(f'plasma_fractal: mapsize={mapsize} must be a power '
                         'of two.')
    heights = np.zeros((mapsize, mapsize), np.float64)
    step = mapsize
    wibble = 100.0

    def displaced(values: np.ndarray) -> np.ndarray:
        return values / 4 + wibble * rng.uniform(-wibble, wibble,
                                                   values.shape)

    while step >= 2:
        half = step // 2
        # squares: centre of each square = mean of its corners + noise
        corners = heights[0:mapsize:step, 0:mapsize:step]
        total = corners + np.roll(corners, -1, axis=0)
        total = total + np.roll(total, -1, axis=1)
        heights[half:mapsize:step, half:mapsize:step] = displaced(total)
        # diamonds: edge midpoints = mean of their four neighbours + noise
        centres = heights[half:mapsize:step, half:mapsize:step]
        corners = heights[0:mapsize:step, 0:mapsize:step]
        around = (centres + np.roll(centres, 1, axis=0) + corners +
                  np.roll(corners, -1, axis=1))
        heights[0:mapsize:step, half:mapsize:step] = displaced(around)
        around = (centres + np.roll(centres, 1, axis=1) + corners +
                  np.roll(corners, -1, axis=0))
        heights[half:mapsize:step, 0:mapsize:step] = displaced(around)
        step //= 2
        wibble /= wibbledecay
    heights -= heights.min()
    return heights / heights.max()


FROST_TEXTURE_SIZE = 128
FROST_TEXTURE_COUNT = 5
#: Tint of the procedural frost (RGB in [0, 1]): pale blue-white ice.
FROST_TINT = (0.86, 0.93, 1.0)


@functools.lru_cache(maxsize=1)
def frost_textures() -> Tuple[np.ndarray, ...]:
    """Five deterministic procedural frost textures, 128x128x3 uint8 RGB.

    Stand-ins for LfF's frost photographs (not shippable): a cloudy rime
    layer (blurred noise) plus a few hundred thin anti-aliased ice needles
    with short side branches, on a pale blue-white tint. Fixed seeds: the
    textures are part of the protocol, not of a dataset's seed.
    """
    size = FROST_TEXTURE_SIZE
    textures = []
    for k in range(FROST_TEXTURE_COUNT):
        rng = np.random.default_rng(np.random.SeedSequence([0xF2057, k]))
        rime = rng.normal(0.0, 1.0, (size, size)).astype(np.float32)
        rime = cv2.GaussianBlur(rime, (0, 0), 6.0,
                                borderType=cv2.BORDER_REFLECT)
        rime = (rime - rime.min()) / max(float(np.ptp(rime)), 1e-6)
        needles = np.zeros((size, size), np.float32)
        for _ in range(220 + 40 * k):
            x0, y0 = rng.uniform(0, size, 2)
            angle = rng.uniform(0, 2 * np.pi)
            length = rng.uniform(4, 28)
            value = float(rng.uniform(0.35, 1.0))
            x1 = x0 + length * np.cos(angle)
            y1 = y0 + length * np.sin(angle)
            cv2.line(needles, (int(x0 * 16), int(y0 * 16)),
                     (int(x1 * 16), int(y1 * 16)), value, 1, cv2.LINE_AA, 4)
            for _ in range(int(rng.integers(0, 3))):  # side branches
                t = rng.uniform(0.2, 0.9)
                bx, by = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                b_angle = angle + rng.choice([-1, 1]) * rng.uniform(0.5, 1.1)
                b_len = length * rng.uniform(0.15, 0.4)
                cv2.line(needles, (int(bx * 16), int(by * 16)),
                         (int((bx + b_len * np.cos(b_angle)) * 16),
                          int((by + b_len * np.sin(b_angle)) * 16)),
                         value * 0.8, 1, cv2.LINE_AA, 4)
        needles = cv2.GaussianBlur(needles, (0, 0), 0.6)
        value = np.clip(0.3 + 0.45 * rime + 0.6 * np.minimum(needles, 1.0),
                        0.0, 1.0)
        rgb = value[..., None] * np.asarray(FROST_TINT, np.float32)
        textures.append(_round_uint8(rgb * 255.0))
    return tuple(textures)


def _disk(radius: float, alias_blur: float) -> np.ndarray:
    """LfF's defocus kernel: an aliased disk on a 17x17 grid (radius <= 8)
    smoothed by a small Gaussian, normalised."""
    if radius <= 8:
        grid = np.arange(-8, 9)
        ksize = (3, 3)
    else:
        grid = np.arange(-int(radius), int(radius) + 1)
        ksize = (5, 5)
    xx, yy = np.meshgrid(grid, grid)
    disk = np.asarray((xx ** 2 + yy ** 2) <= radius ** 2, dtype=np.float32)
    disk /= disk.sum()
    return cv2.GaussianBlur(disk, ksize, sigmaX=alias_blur)


# --------------------------------------------------------------------- #
# Type 1: noise and blur
# --------------------------------------------------------------------- #
def gaussian_noise(img, level, rng):
    """``clip(x + N(0, c^2))``, c = 0.04 .. 0.10 per channel value."""
    c = _param([0.04, 0.06, 0.08, 0.09, 0.10], level, 'gaussian_noise')
    x = _unit(_check_image(img, 'gaussian_noise'))
    return _to_uint8(x + rng.normal(0.0, c, size=x.shape))


def shot_noise(img, level, rng):
    """Poisson noise: ``Poisson(x * c) / c``, c = 500 .. 50."""
    c = _param([500, 250, 100, 75, 50], level, 'shot_noise')
    x = _unit(_check_image(img, 'shot_noise'))
    return _to_uint8(rng.poisson(x * c) / c)


def impulse_noise(img, level, rng):
    """Salt-and-pepper noise on a fraction c = 0.01 .. 0.07 of the channel
    values, half salt (1) and half pepper (0) (scikit-image
    ``random_noise(mode='s&p')``)."""
    c = _param([0.01, 0.02, 0.03, 0.05, 0.07], level, 'impulse_noise')
    x = _unit(_check_image(img, 'impulse_noise'))
    flipped = rng.random(x.shape) < c
    salted = rng.random(x.shape) < 0.5
    x = x.copy()
    x[flipped & salted] = 1.0
    x[flipped & ~salted] = 0.0
    return _to_uint8(x)


def speckle_noise(img, level, rng):
    """Multiplicative noise: ``x + x * N(0, c^2)``, c = 0.06 .. 0.2."""
    c = _param([0.06, 0.1, 0.12, 0.16, 0.2], level, 'speckle_noise')
    x = _unit(_check_image(img, 'speckle_noise'))
    return _to_uint8(x + x * rng.normal(0.0, c, size=x.shape))


def gaussian_blur(img, level, rng):
    """Gaussian filter of sigma 0.4 .. 1 (no randomness)."""
    c = _param([0.4, 0.6, 0.7, 0.8, 1.0], level, 'gaussian_blur')
    return _to_uint8(_gaussian(_unit(_check_image(img, 'gaussian_blur')), c))


def defocus_blur(img, level, rng):
    """Convolution with a smoothed disk of radius 0.3 .. 1.5 (OpenCV
    ``filter2D``, reflected border, as LfF)."""
    radius, alias = _param([(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2),
                            (1.5, 0.1)], level, 'defocus_blur')
    x = _unit(_check_image(img, 'defocus_blur'))
    kernel = _disk(radius, alias).astype(np.float64)
    return _to_uint8(cv2.filter2D(x, -1, kernel))


def glass_blur(img, level, rng):
    """Gaussian blur, local pixel shuffling, Gaussian blur again.

    The shuffle visits pixels (h, w) from the bottom-right corner and gives
    each the value of a random neighbour (h + dy, w + dx), dx, dy in
    ``[-max_delta, max_delta)``; LfF's swap through numpy views leaves the
    neighbour unchanged (a copy, not a swap), reproduced here.
    """
    sigma, delta, iterations = _param(
        [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)],
        level, 'glass_blur')
    x = _to_uint8(_gaussian(_unit(_check_image(img, 'glass_blur')), sigma))
    h, w = x.shape[:2]
    rows = np.arange(h - delta, delta, -1)
    cols = np.arange(w - delta, delta, -1)
    hh, ww = np.meshgrid(rows, cols, indexing='ij')
    for _ in range(iterations):
        offsets = rng.integers(-delta, delta, size=(hh.size, 2))
        dx = offsets[:, 0].reshape(hh.shape)
        dy = offsets[:, 1].reshape(hh.shape)
        # With delta = 1 (all of LfF's levels) every source pixel comes
        # earlier in the scan than the pixels already written, so a gather
        # from the unmodified image equals LfF's sequential loop.
        x[hh, ww] = x[hh + dy, ww + dx]
    return _to_uint8(_gaussian(x.astype(np.float64) / 255.0, sigma))


def motion_blur(img, level, rng):
    """Motion blur (radius, sigma) = (6, 1) .. (9, 2.5) in a direction drawn
    from U(-45, 45) degrees (ImageMagick's kernel, emulated)."""
    radius, sigma = _param([(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)],
                           level, 'motion_blur')
    x = _check_image(img, 'motion_blur')
    angle = rng.uniform(-45, 45)
    return _round_uint8(_motion_blur(x, radius, sigma, angle))


def zoom_blur(img, level, rng):
    """Average of the image and its centre zooms by 1.00, 1.01, ... up to
    1.05 .. 1.25 (no randomness)."""
    stop = _param([1.06, 1.11, 1.16, 1.21, 1.26], level, 'zoom_blur')
    x = _unit(_check_image(img, 'zoom_blur'))
    factors = np.arange(1, stop, 0.01)
    out = np.zeros_like(x)
    for factor in factors:
        out += clipped_zoom(x, factor)
    return _to_uint8((x + out) / (len(factors) + 1))


# --------------------------------------------------------------------- #
# Type 0: weather, digital and other
# --------------------------------------------------------------------- #
def snow(img, level, rng):
    """Snow flakes (a thresholded, zoomed, motion-blurred noise layer, added
    twice, once rotated by 180 degrees) over a brightened image."""
    c = _param([(0.1, 0.2, 1, 0.6, 8, 3, 0.95),
                (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
                (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
                (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
                (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)], level, 'snow')
    x = _check_image(img, 'snow').astype(np.float32) / 255.0
    layer = rng.normal(c[0], c[1], size=x.shape[:2])
    layer = clipped_zoom(layer[..., None], c[2])[..., 0]
    layer[layer < c[3]] = 0
    layer = (np.clip(layer, 0, 1) * 255).astype(np.uint8)
    angle = rng.uniform(-135, -45)
    layer = _round_uint8(_motion_blur(layer, c[4], c[5], angle))
    layer = (layer / 255.0)[..., None]
    gray = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)[..., None]
    x = c[6] * x + (1 - c[6]) * np.maximum(x, gray * 1.5 + 0.5)
    return _to_uint8(x + layer + np.rot90(layer, k=2))


def frost(img, level, rng):
    """``clip(a * x + b * frost)`` (0..255) with a random 32x32 crop of one
    of five procedural frost textures (LfF: frost photographs)."""
    a, b = _param([(1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)],
                  level, 'frost')
    x = _check_image(img, 'frost')
    h, w = x.shape[:2]
    texture = frost_textures()[int(rng.integers(FROST_TEXTURE_COUNT))]
    if texture.shape[0] <= h or texture.shape[1] <= w:
        texture = cv2.resize(texture, (2 * w, 2 * h))
    top = int(rng.integers(0, texture.shape[0] - h))
    left = int(rng.integers(0, texture.shape[1] - w))
    crop = texture[top:top + h, left:left + w].astype(np.float64)
    out = np.clip(a * x.astype(np.float64) + b * crop, 0, 255)
    return out.astype(np.uint8)


def fog(img, level, rng):
    """Add a plasma-fractal fog layer, then rescale by the image maximum."""
    amount, decay = _param([(0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2),
                            (1.5, 1.75)], level, 'fog')
    x = _unit(_check_image(img, 'fog'))
    h, w = x.shape[:2]
    size = 1 << max(5, int(math.ceil(math.log2(max(h, w)))))
    max_val = x.max()
    x = x + amount * plasma_fractal(rng, size, decay)[:h, :w][..., None]
    return _to_uint8(x * max_val / (max_val + amount))


def brightness(img, level, rng):
    """Add c = 0.05 .. 0.3 to the HSV value (clipped to 1), no
    randomness."""
    c = _param([0.05, 0.1, 0.15, 0.2, 0.3], level, 'brightness')
    hsv = _rgb_hsv(_unit(_check_image(img, 'brightness')))
    hsv[..., 2] = np.clip(hsv[..., 2] + c, 0, 1)
    return _to_uint8(_hsv_rgb(hsv))


def contrast(img, level, rng):
    """Scale the deviation from each channel's mean by c = 0.75 .. 0.15."""
    c = _param([0.75, 0.5, 0.4, 0.3, 0.15], level, 'contrast')
    x = _unit(_check_image(img, 'contrast'))
    means = x.mean(axis=(0, 1), keepdims=True)
    return _to_uint8((x - means) * c + means)


def _spatter_water(x: np.ndarray, liquid: np.ndarray,
                   strength: float) -> np.ndarray:
    """LfF's water branch: pale turquoise streaks where the thresholded
    liquid layer has edges nearby."""
    liquid8 = (liquid * 255).astype(np.uint8)
    dist = 255 - cv2.Canny(liquid8, 50, 150)
    dist = cv2.distanceTransform(dist, cv2.DIST_L2, 5)
    _, dist = cv2.threshold(dist, 20, 20, cv2.THRESH_TRUNC)
    dist = cv2.blur(dist, (3, 3)).astype(np.uint8)
    dist = cv2.equalizeHist(dist)
    kernel = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float32)
    dist = cv2.filter2D(dist, cv2.CV_8U, kernel)
    dist = cv2.blur(dist, (3, 3)).astype(np.float32)
    mask = liquid8.astype(np.float32) * dist
    peak = float(mask.max())
    mask = mask / peak * strength if peak > 0 else mask
    color = np.array([175, 238, 238], np.float64) / 255.0
    return np.clip(x + mask[..., None] * color, 0, 1)


def _spatter_mud(x: np.ndarray, liquid: np.ndarray, threshold: float,
                 sigma: float) -> np.ndarray:
    """LfF's mud branch: brown blobs replacing the image."""
    mask = np.where(liquid > threshold, 1.0, 0.0).astype(np.float32)
    mask = _gaussian(mask, sigma).astype(np.float64)
    mask[mask < 0.8] = 0
    color = np.array([63, 42, 20], np.float64) / 255.0
    return np.clip(x * (1 - mask[..., None]) + color * mask[..., None], 0, 1)


def spatter(img, level, rng):
    """Water (levels 1-3) or mud (levels 4-5) splashes from a smoothed,
    thresholded noise layer."""
    c = _param([(0.62, 0.1, 0.7, 0.7, 0.5, 0), (0.65, 0.1, 0.8, 0.7, 0.5, 0),
                (0.65, 0.3, 1, 0.69, 0.5, 0), (0.65, 0.1, 0.7, 0.69, 0.6, 1),
                (0.65, 0.1, 0.5, 0.68, 0.6, 1)], level, 'spatter')
    x = _check_image(img, 'spatter').astype(np.float32) / 255.0
    liquid = rng.normal(c[0], c[1], size=x.shape[:2])
    liquid = _gaussian(liquid, c[2])
    liquid[liquid < c[3]] = 0
    if c[5] == 0:
        out = _spatter_water(x.astype(np.float64), liquid, c[4])
    else:
        out = _spatter_mud(x.astype(np.float64), liquid, c[3], c[4])
    return _to_uint8(out)


def elastic_transform(img, level, rng):
    """A random affine warp of three anchor points by up to ``c2`` pixels,
    then a smooth random displacement field of amplitude ``c0`` and
    smoothness ``c1`` (pixels; LfF's values for 32x32)."""
    size = 32
    c = _param([(size * 0, size * 0, size * 0.08),
                (size * 0.05, size * 0.2, size * 0.07),
                (size * 0.08, size * 0.06, size * 0.06),
                (size * 0.1, size * 0.04, size * 0.05),
                (size * 0.1, size * 0.03, size * 0.03)], level, 'elastic')
    x = _check_image(img, 'elastic').astype(np.float32) / 255.0
    h, w = x.shape[:2]
    centre = np.float32((h, w)) // 2
    square = min(h, w) // 3
    src = np.float32([centre + square,
                      [centre[0] + square, centre[1] - square],
                      centre - square])
    dst = src + rng.uniform(-c[2], c[2], size=src.shape).astype(np.float32)
    affine = cv2.getAffineTransform(src, dst)
    x = cv2.warpAffine(x, affine, (w, h), borderMode=cv2.BORDER_REFLECT_101)
    fields = []
    for _ in range(2):
        noise = rng.uniform(-1, 1, size=(h, w))
        fields.append((_gaussian(noise, c[1], truncate=3.0,
                                 border=cv2.BORDER_REFLECT) * c[0]).astype(
                                     np.float32))
    dx, dy = fields
    grid_y, grid_x = np.mgrid[0:h, 0:w].astype(np.float32)
    out = cv2.remap(x, grid_x + dx, grid_y + dy, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT)
    return _to_uint8(out)


def jpeg_compression(img, level, rng):
    """JPEG encoding at quality 80 .. 40 and decoding (OpenCV's libjpeg;
    LfF uses PIL's), no randomness."""
    quality = _param([80, 65, 58, 50, 40], level, 'jpeg_compression')
    x = _check_image(img, 'jpeg_compression')
    ok, buf = cv2.imencode('.jpg', np.ascontiguousarray(x[..., ::-1]),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 RGB
        raise RuntimeError('jpeg_compression: OpenCV could not encode.')
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _box_matrix(in_size: int, out_size: int) -> np.ndarray:
    """(out, in) weights of PIL's BOX resampling: output pixel j averages
    the input pixels whose centres fall in its footprint (support
    ``(-0.5, 0.5]`` in output units), nearest pixel when enlarging."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 0.5 * filterscale
    mat = np.zeros((out_size, in_size))
    for j in range(out_size):
        centre = (j + 0.5) * scale
        lo = max(int(centre - support + 0.5), 0)
        hi = min(int(centre + support + 0.5), in_size)
        for i in range(lo, hi):
            t = (i - centre + 0.5) / filterscale
            if -0.5 < t <= 0.5:
                mat[j, i] = 1.0
        mat[j] /= mat[j].sum()
    return mat


@functools.lru_cache(maxsize=64)
def _cached_box(in_size: int, out_size: int) -> np.ndarray:
    return _box_matrix(in_size, out_size)


def _box_resize(x: np.ndarray, h: int, w: int) -> np.ndarray:
    """PIL ``resize((w, h), BOX)`` of an HxWxC uint8 image: horizontal pass,
    rounding to 8 bits, vertical pass, rounding (as PIL)."""
    horizontal = np.tensordot(_cached_box(x.shape[1], w),
                              x.astype(np.float64), axes=(1, 1))  # (w, H, C)
    horizontal = _round_uint8(horizontal).astype(np.float64)
    vertical = np.tensordot(_cached_box(x.shape[0], h), horizontal,
                            axes=(1, 1))  # (h, w, C)
    return _round_uint8(vertical)


def pixelate(img, level, rng):
    """Shrink to ``int(32 * c)`` pixels (c = 0.95 .. 0.65) and enlarge back
    with PIL's BOX filter, no randomness."""
    c = _param([0.95, 0.9, 0.85, 0.75, 0.65], level, 'pixelate')
    x = _check_image(img, 'pixelate')
    h, w = x.shape[:2]
    small = _box_resize(x, int(h * c), int(w * c))
    return _box_resize(small, h, w)


def saturate(img, level, rng):
    """HSV saturation ``clip(s * a + b)``, (a, b) = (0.3, 0) .. (2.5, 0.2),
    no randomness."""
    a, b = _param([(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)], level,
                  'saturate')
    hsv = _rgb_hsv(_unit(_check_image(img, 'saturate')))
    hsv[..., 1] = np.clip(hsv[..., 1] * a + b, 0, 1)
    return _to_uint8(_hsv_rgb(hsv))


def original(img, level, rng):
    """No corruption (type 1's tenth "corruption")."""
    _param(LEVELS, level, 'original')
    return _check_image(img, 'original').copy()


#: Name -> function, LfF's names (``CORRUPTED_CIFAR10_PROTOCOL``).
CORRUPTIONS: Dict[str, Corruption] = collections.OrderedDict([
    ('Gaussian Noise', gaussian_noise),
    ('Shot Noise', shot_noise),
    ('Impulse Noise', impulse_noise),
    ('Speckle Noise', speckle_noise),
    ('Gaussian Blur', gaussian_blur),
    ('Defocus Blur', defocus_blur),
    ('Glass Blur', glass_blur),
    ('Motion Blur', motion_blur),
    ('Zoom Blur', zoom_blur),
    ('Snow', snow),
    ('Frost', frost),
    ('Fog', fog),
    ('Brightness', brightness),
    ('Contrast', contrast),
    ('Elastic', elastic_transform),
    ('Pixelate', pixelate),
    ('JPEG', jpeg_compression),
    ('Spatter', spatter),
    ('Saturate', saturate),
    ('Original', original),
])

#: LfF's corruption lists (``make_dataset.py``); bias label b = position.
CORRUPTION_TYPES: Dict[int, Tuple[str, ...]] = {
    0: ('Snow', 'Frost', 'Fog', 'Brightness', 'Contrast', 'Spatter',
        'Elastic', 'JPEG', 'Pixelate', 'Saturate'),
    1: ('Gaussian Noise', 'Shot Noise', 'Impulse Noise', 'Speckle Noise',
        'Gaussian Blur', 'Defocus Blur', 'Glass Blur', 'Motion Blur',
        'Zoom Blur', 'Original'),
}


def corrupt(img: np.ndarray, name: str, level: int,
            rng: np.random.Generator) -> np.ndarray:
    """Apply corruption ``name`` (a key of :data:`CORRUPTIONS`)."""
    if name not in CORRUPTIONS:
        raise ValueError(f'Unknown corruption "{name}"; use one of '
                         f'{tuple(CORRUPTIONS)}.')
    out = CORRUPTIONS[name](img, level, rng)
    assert out.dtype == np.uint8 and out.shape == np.asarray(img).shape
    return out
