"""Grad-CAM overlays and IE's bias-contrastive figure (IE Fig. 3), drawn with
OpenCV (a few milliseconds per image, so hundreds of samples stay cheap).

The maps themselves come from :mod:`debiascls.models.utils.grad_cam` (the
implementation IE trains with) and :meth:`debiascls.models.IE.explain_pairs`;
this module only selects samples, un-normalises images and draws.
"""
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch

#: Rows of text in captions.
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_FONT_SCALE = 0.4
_LINE_HEIGHT = 15


def select_cell_samples(gt_labels: Sequence[int], bias_labels: Sequence[int],
                        per_cell: int) -> np.ndarray:
    """Deterministic choice of up to ``per_cell`` samples of every (class,
    bias) cell: the ``per_cell`` lowest dataset indices of each cell, cells
    in (class, bias) order. Samples of unknown bias (-1) belong to no cell.
    The choice depends on the labels only (not on the number of processes or
    the batch size)."""
    gt = np.asarray(gt_labels, dtype=np.int64)
    bias = np.asarray(bias_labels, dtype=np.int64)
    if gt.shape != bias.shape:
        raise ValueError(f'select_cell_samples: {gt.shape[0]} class labels '
                         f'but {bias.shape[0]} bias labels.')
    if per_cell < 1:
        return np.zeros(0, dtype=np.int64)
    known = np.nonzero(bias >= 0)[0]
    # stable sort by (class, bias): ties keep the index order
    order = known[np.lexsort((known, bias[known], gt[known]))]
    chosen: List[int] = []
    last, taken = None, 0
    for i in order.tolist():
        cell = (int(gt[i]), int(bias[i]))
        if cell != last:
            last, taken = cell, 0
        if taken < per_cell:
            chosen.append(i)
            taken += 1
    return np.asarray(chosen, dtype=np.int64)


def denormalize(inputs: torch.Tensor, mean: Optional[torch.Tensor] = None,
                std: Optional[torch.Tensor] = None) -> np.ndarray:
    """Preprocessed images (B, C, H, W) back to (B, H, W, 3) uint8 RGB:
    ``x * std + mean`` (the inverse of the data preprocessor, pixel scale
    0-255), clipped. One channel is repeated to three."""
    if inputs.dim() != 4:
        raise ValueError('denormalize expects images (B, C, H, W), got shape '
                         f'{tuple(inputs.shape)}.')
    x = inputs.detach().float().cpu()
    if mean is not None and std is not None:
        x = x * std.detach().float().cpu().view(1, -1, 1, 1) + \
            mean.detach().float().cpu().view(1, -1, 1, 1)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    if x.shape[1] != 3:
        raise ValueError('denormalize draws 1- or 3-channel images, got '
                         f'{x.shape[1]} channels.')
    x = x.round().clamp(0, 255).to(torch.uint8)
    return np.ascontiguousarray(x.permute(0, 2, 3, 1).numpy())


def upscale(image: np.ndarray, size: int) -> np.ndarray:
    """Enlarge an image so that its shorter side is at least ``size`` px
    (nearest neighbour for large factors, so small digits stay crisp)."""
    h, w = image.shape[:2]
    scale = max(1.0, size / min(h, w))
    if scale == 1.0:
        return image
    interp = cv2.INTER_NEAREST if scale >= 2 else cv2.INTER_LINEAR
    return cv2.resize(image, (round(w * scale), round(h * scale)),
                      interpolation=interp)


def heat_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5,
                 vmin: float = 0.0, vmax: float = 1.0) -> np.ndarray:
    """Blend a (h, w) map, scaled from [vmin, vmax] to [0, 1] and resized
    bilinearly to the image, as a jet colour map over an RGB image."""
    heat = np.asarray(heat, dtype=np.float32)
    span = max(vmax - vmin, 1e-12)
    heat = np.clip((heat - vmin) / span, 0, 1)
    h, w = image.shape[:2]
    heat = cv2.resize(heat, (w, h), interpolation=cv2.INTER_LINEAR)
    colored = cv2.applyColorMap(
        np.round(heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    blended = (1 - alpha) * image.astype(np.float32) + alpha * colored
    return np.round(blended).clip(0, 255).astype(np.uint8)


def _fit(text: str, width: int) -> str:
    text = text.encode('ascii', 'replace').decode('ascii')
    while text and cv2.getTextSize(text, _FONT, _FONT_SCALE,
                                   1)[0][0] > width - 6:
        text = text[:-3] + '..' if len(text) > 3 else text[:-1]
    return text


def caption(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """The image below a white band with one text line per entry (cut to
    the image's width)."""
    if not lines:
        return image
    h, w = image.shape[:2]
    band = np.full((_LINE_HEIGHT * len(lines) + 4, w, 3), 255, np.uint8)
    for row, text in enumerate(lines):
        cv2.putText(band, _fit(str(text), w), (3, _LINE_HEIGHT * (row + 1)),
                    _FONT, _FONT_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([band, image], axis=0)


def hstack(panels: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Panels side by side, top-aligned, on white."""
    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    out = np.full((height, width, 3), 255, np.uint8)
    x = 0
    for panel in panels:
        out[:panel.shape[0], x:x + panel.shape[1]] = panel
        x += panel.shape[1] + gap
    return out


def draw_cam_overlay(image: np.ndarray, cam: np.ndarray,
                     lines: Sequence[str], size: int = 160,
                     alpha: float = 0.5) -> np.ndarray:
    """One sample: the un-normalised image and its Grad-CAM overlay side by
    side, under a caption (e.g. ground truth, prediction, bias)."""
    shown = upscale(image, size)
    return caption(hstack([shown, heat_overlay(shown, cam, alpha)]), lines)


def draw_ie_pair(x: np.ndarray, x_bn: np.ndarray, e_z: np.ndarray,
                 e_bn: np.ndarray, ie: np.ndarray, ie_max: float,
                 lines: Sequence[str], size: int = 160,
                 alpha: float = 0.5) -> np.ndarray:
    """IE Figure 3 for one pair: x, x^BN, E(z) on x, E(z^BN) on x^BN and
    IE(z) on x (colour scale [1, ie_max]: IE(z) = max(c r, 1) <= 2^tau),
    side by side under a caption."""
    shown_x, shown_bn = upscale(x, size), upscale(x_bn, size)
    panels = [
        caption(shown_x, ['x']),
        caption(shown_bn, ['x^BN']),
        caption(heat_overlay(shown_x, e_z, alpha), ['E(z)']),
        caption(heat_overlay(shown_bn, e_bn, alpha), ['E(z^BN)']),
        caption(heat_overlay(shown_x, ie, alpha, 1.0, max(ie_max, 1.0)),
                [f'IE(z) in [1, {ie_max:g}]']),
    ]
    return caption(hstack(panels), lines)
