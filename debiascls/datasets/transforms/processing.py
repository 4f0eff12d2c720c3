"""Geometric and photometric augmentations on HxWxC uint8 numpy images
(OpenCV / numpy; randomness from ``np.random``). Semantics follow the
torchvision transforms of the same names."""
import math
from typing import Sequence, Tuple, Union

import cv2
import numpy as np

from debiascls.registry import TRANSFORMS
from .base import BaseTransform

Size = Union[int, Sequence[int]]

INTERPOLATIONS = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
}


def _pair(size: Size, name: str) -> Tuple[int, int]:
    """``(h, w)`` from an int or a (h, w) pair."""
    if isinstance(size, int):
        return size, size
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise ValueError(f'{name}: size must be an int or (h, w), got {size}.')
    return size  # type: ignore[return-value]


def _interp(name: str, owner: str) -> int:
    if name not in INTERPOLATIONS:
        raise ValueError(f'{owner}: interpolation="{name}" is not one of '
                         f'{sorted(INTERPOLATIONS)}.')
    return INTERPOLATIONS[name]


def _resize(img: np.ndarray, h: int, w: int, interpolation: int) -> np.ndarray:
    out = cv2.resize(img, (w, h), interpolation=interpolation)
    return out[..., None] if img.ndim == 3 and out.ndim == 2 else out


def _set_img(results: dict, img: np.ndarray) -> dict:
    results['img'] = img
    results['img_shape'] = img.shape[:2]
    return results


def _pad(img: np.ndarray, top: int, bottom: int, left: int, right: int,
         value: float) -> np.ndarray:
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, widths, mode='constant', constant_values=value)


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize to ``size``: an int matches the shorter edge (keeping the
    aspect ratio), a pair ``(h, w)`` is the exact output size.

    Args:
        size: Target size.
        interpolation: 'nearest', 'bilinear', 'bicubic' or 'area'.
    """

    deterministic = True

    def __init__(self, size: Size, interpolation: str = 'bilinear') -> None:
        self.size = size
        self.interpolation = interpolation
        self._interp = _interp(interpolation, 'Resize')

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        if isinstance(self.size, int):
            if h <= w:
                nh, nw = self.size, max(1, int(self.size * w / h))
            else:
                nh, nw = max(1, int(self.size * h / w)), self.size
        else:
            nh, nw = _pair(self.size, 'Resize')
        if (nh, nw) == (h, w):
            return _set_img(results, img)
        return _set_img(results, _resize(img, nh, nw, self._interp))


@TRANSFORMS.register_module()
class CenterCrop(BaseTransform):
    """Crop the centre ``size`` (int or (h, w)); smaller images are first
    zero-padded to it."""

    deterministic = True

    def __init__(self, size: Size) -> None:
        self.size = _pair(size, 'CenterCrop')

    def transform(self, results: dict) -> dict:
        img = results['img']
        th, tw = self.size
        h, w = img.shape[:2]
        if h < th or w < tw:
            ph, pw = max(th - h, 0), max(tw - w, 0)
            img = _pad(img, ph // 2, ph - ph // 2, pw // 2, pw - pw // 2, 0)
            h, w = img.shape[:2]
        top = int(round((h - th) / 2.0))
        left = int(round((w - tw) / 2.0))
        return _set_img(results, img[top:top + th, left:left + tw])


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """Pad by ``padding`` pixels on every side, then crop a random ``size``
    window (torchvision ``RandomCrop(size, padding)``, e.g. CIFAR's
    ``RandomCrop(32, padding=4)``).

    Args:
        size: Crop size, int or (h, w).
        padding: Border added on each side before cropping.
        pad_if_needed: Also pad images smaller than ``size``.
        pad_val: Value of the padding.
    """

    def __init__(self,
                 size: Size,
                 padding: int = 0,
                 pad_if_needed: bool = False,
                 pad_val: float = 0) -> None:
        self.size = _pair(size, 'RandomCrop')
        self.padding = int(padding)
        self.pad_if_needed = pad_if_needed
        self.pad_val = pad_val

    def transform(self, results: dict) -> dict:
        img = results['img']
        p = self.padding
        if p:
            img = _pad(img, p, p, p, p, self.pad_val)
        th, tw = self.size
        h, w = img.shape[:2]
        if self.pad_if_needed and (h < th or w < tw):
            ph, pw = max(th - h, 0), max(tw - w, 0)
            img = _pad(img, ph, ph, pw, pw, self.pad_val)
            h, w = img.shape[:2]
        if h < th or w < tw:
            raise ValueError(f'RandomCrop: crop size {self.size} is larger '
                             f'than the (padded) image {(h, w)}; set '
                             'pad_if_needed=True or resize first.')
        top = np.random.randint(0, h - th + 1)
        left = np.random.randint(0, w - tw + 1)
        return _set_img(results, img[top:top + th, left:left + tw])


@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Flip with probability ``prob``; ``direction`` is 'horizontal' or
    'vertical'. Sets ``results['flip']``."""

    def __init__(self, prob: float = 0.5,
                 direction: str = 'horizontal') -> None:
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f'RandomFlip: direction="{direction}" must be '
                             '"horizontal" or "vertical".')
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomFlip: prob={prob} must be in [0, 1].')
        self.prob = prob
        self.direction = direction

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.prob)
        results['flip'] = flip
        if flip:
            axis = 1 if self.direction == 'horizontal' else 0
            results['img'] = np.ascontiguousarray(
                np.flip(results['img'], axis=axis))
        return results


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crop a random area fraction ``scale`` with aspect ratio ``ratio``
    (log-uniform) and resize it to ``size``; after 10 failed draws, a centre
    crop (torchvision's algorithm).

    Args:
        size: Output size, int or (h, w).
        scale: Range of the crop area relative to the image.
        ratio: Range of the crop aspect ratio (w / h).
        interpolation: 'nearest', 'bilinear', 'bicubic' or 'area'.
    """

    def __init__(self,
                 size: Size,
                 scale: Tuple[float, float] = (0.08, 1.0),
                 ratio: Tuple[float, float] = (3. / 4., 4. / 3.),
                 interpolation: str = 'bilinear') -> None:
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError('RandomResizedCrop: scale and ratio must be '
                             f'(min, max), got {scale} and {ratio}.')
        self.size = _pair(size, 'RandomResizedCrop')
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.interpolation = interpolation
        self._interp = _interp(interpolation, 'RandomResizedCrop')

    def _box(self, h: int, w: int) -> Tuple[int, int, int, int]:
        area = h * w
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * np.random.uniform(*self.scale)
            aspect = math.exp(np.random.uniform(*log_ratio))
            cw = int(round(math.sqrt(target * aspect)))
            ch = int(round(math.sqrt(target / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                top = np.random.randint(0, h - ch + 1)
                left = np.random.randint(0, w - cw + 1)
                return top, left, ch, cw
        in_ratio = w / h
        if in_ratio < self.ratio[0]:
            cw, ch = w, int(round(w / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            ch, cw = h, int(round(h * self.ratio[1]))
        else:
            cw, ch = w, h
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, ch, cw = self._box(*img.shape[:2])
        crop = img[top:top + ch, left:left + cw]
        return _set_img(results, _resize(crop, *self.size, self._interp))


@TRANSFORMS.register_module()
class RandomRotation(BaseTransform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number ``d``
    means ``(-d, d)``), counter-clockwise about the centre, keeping the size.

    Args:
        degrees: Angle range in degrees.
        interpolation: 'nearest' (torchvision's default) or 'bilinear', ...
        fill: Value of the pixels rotated in from outside.
    """

    def __init__(self,
                 degrees: Union[float, Sequence[float]],
                 interpolation: str = 'nearest',
                 fill: float = 0) -> None:
        if isinstance(degrees, (int, float)):
            if degrees < 0:
                raise ValueError(f'RandomRotation: degrees={degrees} must be '
                                 'non-negative when a single number.')
            degrees = (-degrees, degrees)
        self.degrees = tuple(float(d) for d in degrees)
        self.interpolation = interpolation
        self._interp = _interp(interpolation, 'RandomRotation')
        self.fill = fill

    def transform(self, results: dict) -> dict:
        img = results['img']
        angle = np.random.uniform(*self.degrees)
        h, w = img.shape[:2]
        mat = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
        channels = img.shape[2] if img.ndim == 3 else 1
        out = cv2.warpAffine(
            img,
            mat, (w, h),
            flags=self._interp,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(self.fill, ) * min(channels, 4))
        if img.ndim == 3 and out.ndim == 2:
            out = out[..., None]
        return _set_img(results, out)


def _factor_range(value: Union[float, Sequence[float]], name: str,
                  center: float = 1.0,
                  bound: Tuple[float, float] = (0, math.inf)
                  ) -> Tuple[float, float]:
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f'ColorJitter: {name}={value} must be >= 0.')
        value = (max(center - value, bound[0]), center + value)
    lo, hi = float(value[0]), float(value[1])
    if not bound[0] <= lo <= hi <= bound[1]:
        raise ValueError(f'ColorJitter: {name}={value} must lie in {bound}.')
    return lo, hi


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Random brightness, contrast, saturation and hue, applied in a random
    order on an RGB image (torchvision semantics: a number ``x`` means a
    factor in ``[max(0, 1 - x), 1 + x]``; ``hue`` in ``[-hue, hue]``, at most
    0.5 of a turn).
    """

    def __init__(self,
                 brightness: Union[float, Sequence[float]] = 0,
                 contrast: Union[float, Sequence[float]] = 0,
                 saturation: Union[float, Sequence[float]] = 0,
                 hue: Union[float, Sequence[float]] = 0) -> None:
        self.brightness = _factor_range(brightness, 'brightness')
        self.contrast = _factor_range(contrast, 'contrast')
        self.saturation = _factor_range(saturation, 'saturation')
        self.hue = _factor_range(hue, 'hue', 0.0, (-0.5, 0.5))

    @staticmethod
    def _gray(img: np.ndarray) -> np.ndarray:
        return (0.299 * img[..., 0] + 0.587 * img[..., 1] +
                0.114 * img[..., 2])[..., None]

    def transform(self, results: dict) -> dict:
        src = results['img']
        if src.ndim != 3 or src.shape[2] != 3:
            raise ValueError('ColorJitter needs an HxWx3 RGB image, got shape '
                             f'{src.shape}.')
        img = src.astype(np.float32)
        for op in np.random.permutation(4):
            if op == 0 and self.brightness != (1.0, 1.0):
                img = img * np.random.uniform(*self.brightness)
            elif op == 1 and self.contrast != (1.0, 1.0):
                f = np.random.uniform(*self.contrast)
                img = img * f + (1 - f) * float(self._gray(img).mean())
            elif op == 2 and self.saturation != (1.0, 1.0):
                f = np.random.uniform(*self.saturation)
                img = img * f + (1 - f) * self._gray(img)
            elif op == 3 and self.hue != (0.0, 0.0):
                shift = np.random.uniform(*self.hue) * 360.0
                hsv = cv2.cvtColor(img / 255.0, cv2.COLOR_RGB2HSV)
                hsv[..., 0] = np.mod(hsv[..., 0] + shift, 360.0)
                img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0
            img = np.clip(img, 0, 255)
        return _set_img(results, np.rint(img).astype(src.dtype))
