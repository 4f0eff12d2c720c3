"""Video clips: open a video file or a folder of frames, sample frame
indices, decode only those frames, augment them spatially and pack them.

The pipeline of ReBias's action-recognition benchmark (Kinetics-10 /
Mimetics-10; ReBias ``datasets/kinetics_tools/``, which is SlowFast's
Kinetics loader) is::

    train: OpenVideo -> SampleFrames(8, 8) -> DecodeFrames
           -> VideoShortSideScale((256, 320)) -> VideoRandomCrop(224)
           -> VideoFlip(0.5) -> PackVideoInputs                  (C, T, H, W)
    test:  OpenVideo -> SampleFrames(8, 8, num_clips=10, test_mode=True)
           -> DecodeFrames -> VideoShortSideScale(256)
           -> VideoUniformCrop(256) -> PackVideoInputs        (V, C, T, H, W)

Keys of the results dict (mmaction2's names where there is one):

- ``video_path`` (a video file) or ``frame_dir`` (a folder of frames), from
  the dataset;
- ``total_frames``, ``avg_fps`` and, for video files, the open
  ``video_reader`` (``cv2.VideoCapture``), set by :class:`OpenVideo`;
- ``frame_inds`` (int64 array of ``num_clips * clip_len`` indices, clip by
  clip), ``clip_len`` and ``num_clips``, set by :class:`SampleFrames`;
- ``imgs``: uint8 RGB array ``(num_clips * clip_len, H, W, 3)``, set by
  :class:`DecodeFrames` and changed by the spatial transforms (every frame of
  a sample gets the same scale, crop and flip); ``img_shape`` ``(H, W)``.

Random transforms draw from the global ``np.random`` state, as the image
transforms do (mmengine seeds it per data-loader worker, and
``DebiasIterBasedTrainLoop`` re-seeds the main process every iteration), so
a fixed seed reproduces the clips.

Frames are decoded with OpenCV (``cv2.VideoCapture``, FFmpeg backend) and
converted to RGB; the official code decodes with PyAV. Interpolation is
OpenCV's bilinear on uint8 frames, where the official code interpolates
normalised float frames with ``torch.nn.functional.interpolate`` (bilinear,
``align_corners=False``, the same sampling grid): pixels differ by the
rounding to uint8 only.
"""
import os
import re
import string
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

from debiascls.registry import TRANSFORMS
from ..base_dataset import UNKNOWN_BIAS, DatasetError
from .base import BaseTransform
from .loading import LoadImageFromFile

#: The mmaction2 ``rawframes`` naming: ``img_00001.jpg`` is the first frame.
DEFAULT_FILENAME_TMPL = 'img_{:05d}.jpg'

_FIX = ('Re-download or re-encode the video (e.g. "ffmpeg -i IN -c:v '
        'libx264 OUT.mp4"), or delete it: datasets built with '
        'skip_missing=True leave missing videos out (see '
        'docs/data_preparation.md, Kinetics-10 / Mimetics-10).')


def _video_error(path: str, problem: str) -> DatasetError:
    return DatasetError(f'Video file "{path}" {problem}. {_FIX}')


def open_capture(path: str) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` of ``path``.

    Raises:
        DatasetError: The file is missing, empty or cannot be opened (not a
            video, a codec OpenCV lacks, or an MP4 cut before its index).
    """
    if not os.path.isfile(path):
        raise _video_error(path, 'is missing')
    if os.path.getsize(path) == 0:
        raise _video_error(path, 'is empty')
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        raise _video_error(
            path, 'cannot be opened by OpenCV (not a video, a codec its '
            'FFmpeg backend lacks, or a file cut before its index)')
    return cap


def _last_frame_number(names: Iterable[str],
                       filename_tmpl: str) -> Optional[int]:
    """The largest frame number among ``names`` that match
    ``filename_tmpl`` (one ``{...}`` field between fixed text), or None."""
    parts = list(string.Formatter().parse(filename_tmpl))
    fields = [p for p in parts if p[1] is not None]
    if len(fields) != 1:
        return None
    prefix = parts[0][0]
    suffix = ''.join(p[0] for p in parts[1:])
    pattern = re.compile(re.escape(prefix) + r'(\d+)' + re.escape(suffix))
    numbers = [int(m.group(1)) for m in map(pattern.fullmatch, names) if m]
    numbers = [k for k in numbers
               if filename_tmpl.format(k) in names]  # e.g. zero padding
    return max(numbers) if numbers else None


def count_frame_files(frame_dir: str, filename_tmpl: str,
                      start_index: int) -> int:
    """Number of consecutive frames ``filename_tmpl.format(start_index)``,
    ``.format(start_index + 1)``, ... in ``frame_dir``.

    Raises:
        DatasetError: The folder is missing, holds no first frame, or has a
            gap (a missing frame followed by later ones).
    """
    try:
        names = set(os.listdir(frame_dir))
    except FileNotFoundError as e:
        raise DatasetError(f'Frame folder "{frame_dir}" is missing. Restore '
                           'it or re-extract the frames (see '
                           'docs/data_preparation.md).') from e
    n = 0
    while filename_tmpl.format(start_index + n) in names:
        n += 1
    if n == 0:
        raise DatasetError(
            f'Frame folder "{frame_dir}" has no first frame '
            f'"{filename_tmpl.format(start_index)}" (filename_tmpl='
            f'{filename_tmpl!r}, start_index={start_index}). Extract the '
            'frames with that naming or set filename_tmpl / start_index of '
            'OpenVideo.')
    # a gap: a later frame exists
    later = _last_frame_number(names, filename_tmpl)
    later = None if later is None or later < start_index + n else \
        later - start_index
    if later is not None:
        raise DatasetError(
            f'Frame folder "{frame_dir}": frame '
            f'"{filename_tmpl.format(start_index + n)}" is missing between '
            f'{n} consecutive frames and '
            f'"{filename_tmpl.format(start_index + later)}". Re-extract the '
            'frames.')
    return n


@TRANSFORMS.register_module()
class OpenVideo(BaseTransform):
    """Open ``results['video_path']`` (any container OpenCV's FFmpeg backend
    reads: .mp4, .mkv, .webm, .avi) or the frame folder
    ``results['frame_dir']``, and set ``total_frames`` and ``avg_fps``.

    A video's frame count and rate come from its header
    (``CAP_PROP_FRAME_COUNT``, ``CAP_PROP_FPS``). Where the header has no
    frame count, the video is decoded once to count its frames (as the
    official code decodes the whole video when the stream has no duration).
    Where it has no frame rate, ``avg_fps`` is None and :class:`SampleFrames`
    does not rescale the clip length. The open reader is kept in
    ``results['video_reader']`` for :class:`DecodeFrames`.

    A frame folder holds ``filename_tmpl.format(start_index + i)`` for
    ``i = 0 .. total_frames - 1`` (mmaction2's ``img_00001.jpg``, ...);
    its frame rate is taken to be ``frames_fps``.

    Args:
        filename_tmpl: Names of the frames of a frame folder.
        start_index: Number in the name of the first frame.
        frames_fps: Frame rate assumed for frame folders (the rate the frames
            were extracted at); None means "unknown" (no rescaling).

    Raises:
        DatasetError: The video or folder is missing or cannot be read.
    """

    def __init__(self,
                 filename_tmpl: str = DEFAULT_FILENAME_TMPL,
                 start_index: int = 1,
                 frames_fps: Optional[float] = 30.0) -> None:
        try:
            filename_tmpl.format(start_index)
        except (IndexError, KeyError, ValueError) as e:
            raise ValueError(f'OpenVideo: filename_tmpl={filename_tmpl!r} '
                             'must take the frame number, e.g. '
                             f'"{DEFAULT_FILENAME_TMPL}".') from e
        if frames_fps is not None and not frames_fps > 0:
            raise ValueError(f'OpenVideo: frames_fps={frames_fps!r} must be '
                             'positive or None.')
        self.filename_tmpl = filename_tmpl
        self.start_index = int(start_index)
        self.frames_fps = frames_fps

    def transform(self, results: dict) -> dict:
        frame_dir = results.get('frame_dir')
        path = results.get('video_path')
        if frame_dir:
            results['total_frames'] = count_frame_files(
                frame_dir, self.filename_tmpl, self.start_index)
            results['avg_fps'] = self.frames_fps
            results['filename_tmpl'] = self.filename_tmpl
            results['start_index'] = self.start_index
            return results
        if not path:
            raise KeyError('OpenVideo: the sample has neither "video_path" '
                           'nor "frame_dir" (use a video dataset such as '
                           'Kinetics10 or Mimetics10).')
        cap = open_capture(path)
        total = int(round(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        fps = cap.get(cv2.CAP_PROP_FPS)
        if total <= 0:  # no count in the header: decode once to count
            total = 0
            while cap.grab():
                total += 1
            cap.release()
            if total == 0:
                raise _video_error(path, 'has no decodable frame')
            cap = open_capture(path)
        results['total_frames'] = total
        results['avg_fps'] = float(fps) if fps and fps > 0 and np.isfinite(
            fps) else None
        results['video_reader'] = cap
        return results


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """Frame indices of ``num_clips`` clips of ``clip_len`` frames, one every
    ``frame_interval`` frames, as ReBias samples them (SlowFast's
    ``decoder.get_start_end_idx`` and ``temporal_sampling``):

    - a clip covers ``L = clip_len * frame_interval * fps / target_fps``
      frames (64 at 30 fps; ReBias converts every video to 30 fps this way);
    - with ``delta = max(total_frames - L, 0)``, clip ``v`` starts at
      ``s = delta * v / num_clips`` in test mode (uniformly spaced views; the
      last one starts at ``0.9 * delta`` for 10 views, not at the end) and at
      ``s ~ U(0, delta)`` in training (one draw of ``np.random.uniform`` per
      clip);
    - its indices are ``floor(linspace(s, s + L - 1, clip_len))`` clipped to
      ``[0, total_frames - 1]``.

    So consecutive frames of a clip are ``(L - 1) / (clip_len - 1)`` frames
    apart (9, not 8, for 8 x 8 at 30 fps: the official linspace spans the
    64-frame window end to end), and a video shorter than ``L`` frames is
    **padded with its last frame** (indices past the end are clipped to it;
    no looping), as in the official code. Example: 300 frames at 30 fps,
    test view 1 of 10: ``s = 23.6``, indices 23, 32, 41, 50, 59, 68, 77, 86.

    The official code, when a video's header gives its duration, decodes
    only the clip's time window and samples within it; the indices then
    differ from these by at most one frame.

    Args:
        clip_len: Frames per clip (T).
        frame_interval: Sampling rate (frames between samples, before the
            fps rescaling).
        num_clips: Clips (views) per video (V).
        test_mode: Uniformly spaced clips instead of random ones.
        target_fps: Frame rate the clip length refers to; None keeps
            ``clip_len * frame_interval`` frames whatever the video's rate.
    """

    def __init__(self,
                 clip_len: int = 8,
                 frame_interval: int = 8,
                 num_clips: int = 1,
                 test_mode: bool = False,
                 target_fps: Optional[float] = 30.0) -> None:
        for name, value in (('clip_len', clip_len),
                            ('frame_interval', frame_interval),
                            ('num_clips', num_clips)):
            if isinstance(value, bool) or not isinstance(
                    value, (int, np.integer)) or value < 1:
                raise ValueError(f'SampleFrames: {name}={value!r} must be a '
                                 'positive integer.')
        if target_fps is not None and not target_fps > 0:
            raise ValueError(f'SampleFrames: target_fps={target_fps!r} must '
                             'be positive or None.')
        self.clip_len = int(clip_len)
        self.frame_interval = int(frame_interval)
        self.num_clips = int(num_clips)
        self.test_mode = bool(test_mode)
        self.target_fps = target_fps

    def clip_span(self, fps: Optional[float]) -> float:
        """``L``: the frames a clip covers in a video of rate ``fps``."""
        span = float(self.clip_len * self.frame_interval)
        if self.target_fps is not None and fps:
            span = span * fps / self.target_fps
        return span

    def starts(self, total_frames: int, fps: Optional[float]) -> np.ndarray:
        delta = max(total_frames - self.clip_span(fps), 0.0)
        if self.test_mode:
            return delta * np.arange(self.num_clips) / self.num_clips
        return np.array([np.random.uniform(0, delta)
                         for _ in range(self.num_clips)])

    def frame_indices(self, total_frames: int, fps: Optional[float],
                      starts: Sequence[float]) -> np.ndarray:
        """``(num_clips * clip_len,)`` int64 indices of the clips that start
        at ``starts``."""
        span = self.clip_span(fps)
        inds = np.stack([
            np.linspace(s, s + span - 1, self.clip_len) for s in starts
        ])
        inds = np.clip(inds, 0, total_frames - 1)
        return np.floor(inds).astype(np.int64).reshape(-1)

    def transform(self, results: dict) -> dict:
        total = results.get('total_frames')
        if not total or total < 1:
            raise KeyError('SampleFrames: the sample has no "total_frames"; '
                           'put OpenVideo before it.')
        fps = results.get('avg_fps')
        starts = self.starts(int(total), fps)
        results['frame_inds'] = self.frame_indices(int(total), fps, starts)
        results['clip_len'] = self.clip_len
        results['num_clips'] = self.num_clips
        results['frame_interval'] = self.frame_interval
        return results


def _to_rgb(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


@TRANSFORMS.register_module()
class DecodeFrames(BaseTransform):
    """Decode the frames ``results['frame_inds']`` into ``results['imgs']``
    ``(N, H, W, 3)`` uint8 RGB.

    Video files: only what the indices need is decoded. The reader seeks to
    the first needed frame (``CAP_PROP_POS_FRAMES``; OpenCV decodes from the
    preceding key frame) when ``seek`` is on, then walks forward with
    ``grab()`` (decode without colour conversion) and converts the needed
    frames only; a frame needed by several clips is decoded once. Nothing
    after the last needed frame is read. Frame folders: only the needed
    images are read.

    Truncated videos: when the stream ends before a needed frame, the video
    is read through once to count its decodable frames, and reported as
    truncated unless it lacks at most ``max(2, frame_count_tolerance *
    total_frames)`` of the frames its header reports (headers of .webm /
    .mkv estimate the count from the duration); frames past its end are
    then its last frame (the official clipping of indices to the last
    frame).

    Args:
        seek: Seek to the first needed frame instead of decoding from the
            start.
        frame_count_tolerance: Share of the header's frame count that may be
            missing at the end before the video counts as truncated.

    Raises:
        DatasetError: The video cannot be opened, has no decodable frame or
            is truncated; a frame image is missing or corrupt. The message
            names the file.
    """

    def __init__(self, seek: bool = True,
                 frame_count_tolerance: float = 0.05) -> None:
        if not 0 <= frame_count_tolerance < 1:
            raise ValueError('DecodeFrames: frame_count_tolerance='
                             f'{frame_count_tolerance!r} must be in [0, 1).')
        self.seek = seek
        self.frame_count_tolerance = float(frame_count_tolerance)

    def transform(self, results: dict) -> dict:
        inds = results.get('frame_inds')
        if inds is None:
            raise KeyError('DecodeFrames: the sample has no "frame_inds"; '
                           'put OpenVideo and SampleFrames before it.')
        inds = np.asarray(inds, dtype=np.int64).reshape(-1)
        if results.get('frame_dir'):
            frames = self._read_folder(results, np.unique(inds))
        else:
            frames = self._decode_video(results, np.unique(inds))
        try:
            imgs = np.stack([frames[int(i)] for i in inds])
        except ValueError as e:
            where = results.get('frame_dir') or results.get('video_path')
            raise DatasetError(
                f'"{where}": the sampled frames differ in size ({e}); '
                'frames of one video must share one resolution. Re-encode '
                'or re-extract it.') from e
        results['imgs'] = imgs
        results['img_shape'] = imgs.shape[1:3]
        results['ori_shape'] = imgs.shape[1:3]
        return results

    @staticmethod
    def _read_folder(results: dict,
                     needed: np.ndarray) -> Dict[int, np.ndarray]:
        tmpl = results.get('filename_tmpl', DEFAULT_FILENAME_TMPL)
        start = int(results.get('start_index', 1))
        folder = results['frame_dir']
        return {
            int(i): LoadImageFromFile._read(
                os.path.join(folder, tmpl.format(start + int(i))))
            for i in needed
        }

    def _decode_video(self, results: dict,
                      needed: np.ndarray) -> Dict[int, np.ndarray]:
        path = results.get('video_path')
        if not path:
            raise KeyError('DecodeFrames: the sample has neither "frame_dir" '
                           'nor "video_path".')
        cap = results.pop('video_reader', None) or open_capture(path)
        try:
            frames, stopped_at = self._walk(cap, path, needed)
        finally:
            cap.release()
        if stopped_at is not None:
            # The stream ended before a needed frame. Its true length: after
            # a seek, the position reached is not proof that frames exist up
            # to it, so the video is read through once (a rare path).
            count, last = self._scan(path)
            total = int(results.get('total_frames') or 0)
            tolerance = max(2, int(self.frame_count_tolerance * total))
            if count == 0 or total - count > tolerance:
                raise _video_error(
                    path, f'is truncated or corrupt: its header reports '
                    f'{total} frames but only {count} can be decoded')
            for i in needed:
                if i >= count:
                    frames[int(i)] = last
        return frames

    def _walk(self, cap: cv2.VideoCapture, path: str, needed: np.ndarray
              ) -> Tuple[Dict[int, np.ndarray], Optional[int]]:
        """Decode the ``needed`` (sorted, unique) frames. Returns them and,
        if the stream ended first, the number of frames it had."""
        frames: Dict[int, np.ndarray] = {}
        pos = 0
        first = int(needed[0])
        if self.seek and first > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, first)
            if int(round(cap.get(cv2.CAP_PROP_POS_FRAMES))) == first:
                pos = first
            else:  # the backend could not seek: decode from the start
                cap.release()
                cap.open(path)
        for target in needed.tolist():
            while pos < target:
                if not cap.grab():
                    return frames, pos
                pos += 1
            ok, frame = cap.read()
            if not ok or frame is None:
                return frames, pos
            frames[target] = _to_rgb(frame)
            pos += 1
        return frames, None

    @staticmethod
    def _scan(path: str) -> Tuple[int, Optional[np.ndarray]]:
        """The number of decodable frames of ``path`` and the last one."""
        cap = open_capture(path)
        count, last = 0, None
        try:
            while True:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                count, last = count + 1, frame
        finally:
            cap.release()
        return count, None if last is None else _to_rgb(last)


def _imgs(results: dict, owner: str) -> np.ndarray:
    imgs = results.get('imgs')
    if imgs is None:
        raise KeyError(f'{owner}: the sample has no "imgs"; put DecodeFrames '
                       'before it.')
    return imgs


def _set_imgs(results: dict, imgs: np.ndarray) -> dict:
    results['imgs'] = imgs
    results['img_shape'] = imgs.shape[1:3]
    return results


def _scale_range(scale: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(scale, (int, np.integer)):
        lo = hi = int(scale)
    else:
        lo, hi = (int(s) for s in scale)
    if not 0 < lo <= hi:
        raise ValueError(f'VideoShortSideScale: scale={scale!r} must be a '
                         'positive int or a (min, max) pair.')
    return lo, hi


@TRANSFORMS.register_module()
class VideoShortSideScale(BaseTransform):
    """Resize every frame so that its shorter side is ``S`` (bilinear,
    aspect ratio kept, longer side ``floor(long / short * S)``), with ``S``
    drawn once per sample as ``round(np.random.uniform(min, max))`` for a
    range (ReBias's train jitter, [256, 320]) or fixed for an int (test,
    256). Frames whose shorter side is already ``S`` are left as they are
    (SlowFast's ``random_short_side_scale_jitter``).

    Args:
        scale: ``(min, max)`` of the shorter side, or one size.
    """

    def __init__(self, scale: Union[int, Sequence[int]] = (256, 320)) -> None:
        self.scale = _scale_range(scale)

    def transform(self, results: dict) -> dict:
        imgs = _imgs(results, 'VideoShortSideScale')
        lo, hi = self.scale
        size = lo if lo == hi else int(round(np.random.uniform(lo, hi)))
        h, w = imgs.shape[1:3]
        if (w <= h and w == size) or (h <= w and h == size):
            return _set_imgs(results, imgs)
        if w < h:
            nh, nw = int(np.floor(h / w * size)), size
        else:
            nh, nw = size, int(np.floor(w / h * size))
        out = np.empty((imgs.shape[0], nh, nw) + imgs.shape[3:], imgs.dtype)
        for i, frame in enumerate(imgs):
            out[i] = cv2.resize(
                frame, (nw, nh),
                interpolation=cv2.INTER_LINEAR).reshape(out.shape[1:])
        return _set_imgs(results, out)


def _check_fits(imgs: np.ndarray, size: int, owner: str) -> Tuple[int, int]:
    h, w = imgs.shape[1:3]
    if h < size or w < size:
        raise ValueError(f'{owner}: crop size {size} is larger than the '
                         f'frames {(h, w)}; put VideoShortSideScale with a '
                         'scale >= the crop size before it.')
    return h, w


@TRANSFORMS.register_module()
class VideoRandomCrop(BaseTransform):
    """Crop the same random ``size`` x ``size`` window from every frame.

    As SlowFast's ``random_crop``, the offsets are
    ``np.random.randint(0, h - size)`` (exclusive: the window never touches
    the last row or column unless it spans the whole side), the row first.

    Args:
        size: Side of the square crop.
    """

    def __init__(self, size: int = 224) -> None:
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f'VideoRandomCrop: size={size!r} must be a '
                             'positive int.')
        self.size = int(size)

    def transform(self, results: dict) -> dict:
        imgs = _imgs(results, 'VideoRandomCrop')
        h, w = _check_fits(imgs, self.size, 'VideoRandomCrop')
        if h == self.size and w == self.size:
            return _set_imgs(results, imgs)
        top = int(np.random.randint(0, h - self.size)) if h > self.size else 0
        left = int(np.random.randint(0, w - self.size)) \
            if w > self.size else 0
        results['crop_box'] = (top, left, self.size, self.size)
        return _set_imgs(
            results,
            np.ascontiguousarray(imgs[:, top:top + self.size,
                                      left:left + self.size]))


@TRANSFORMS.register_module()
class VideoUniformCrop(BaseTransform):
    """Crop a deterministic ``size`` x ``size`` window from every frame
    (SlowFast's ``uniform_crop``): centred (offsets ``ceil((h - size) / 2)``,
    ``ceil((w - size) / 2)``), except along the longer side (the width when
    ``w >= h``) for ``position='start'`` (left / top) or ``'end'`` (right /
    bottom).

    ReBias tests with one spatial crop and passes spatial index
    ``view % 1 = 0``, which is the *left* (landscape) or *top* (portrait)
    crop (ReBias ``kinetics_tools/kinetics.py``: "0, 1, 2 ... left, center,
    or right if width is larger than height"): ``position='start'``
    reproduces it; ``'center'`` is the usual single centre crop.

    Args:
        size: Side of the square crop.
        position: ``'start'``, ``'center'`` or ``'end'``.
    """

    POSITIONS = ('start', 'center', 'end')

    def __init__(self, size: int = 256, position: str = 'center') -> None:
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f'VideoUniformCrop: size={size!r} must be a '
                             'positive int.')
        if position not in self.POSITIONS:
            raise ValueError(f'VideoUniformCrop: position={position!r} must '
                             f'be one of {self.POSITIONS}.')
        self.size = int(size)
        self.position = position

    def transform(self, results: dict) -> dict:
        imgs = _imgs(results, 'VideoUniformCrop')
        h, w = _check_fits(imgs, self.size, 'VideoUniformCrop')
        size = self.size
        top = int(np.ceil((h - size) / 2))
        left = int(np.ceil((w - size) / 2))
        if self.position != 'center':
            if h > w:
                top = 0 if self.position == 'start' else h - size
            else:
                left = 0 if self.position == 'start' else w - size
        results['crop_box'] = (top, left, size, size)
        return _set_imgs(
            results,
            np.ascontiguousarray(imgs[:, top:top + size, left:left + size]))


@TRANSFORMS.register_module()
class VideoFlip(BaseTransform):
    """Flip every frame horizontally when ``np.random.uniform() < prob``
    (SlowFast's ``horizontal_flip``; ReBias trains with ``prob=0.5``). Sets
    ``results['flip']``."""

    def __init__(self, prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'VideoFlip: prob={prob!r} must be in [0, 1].')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        imgs = _imgs(results, 'VideoFlip')
        flip = bool(np.random.uniform() < self.prob)
        results['flip'] = flip
        if flip:
            imgs = np.ascontiguousarray(imgs[:, :, ::-1])
        return _set_imgs(results, imgs)


@TRANSFORMS.register_module()
class PackVideoInputs(BaseTransform):
    """The last step of a video pipeline, the counterpart of
    :class:`PackInputs`. Returns exactly::

        {'inputs': torch.uint8 tensor, contiguous,
                   (C, T, H, W) for one clip, (V, C, T, H, W) for V > 1 views,
         'data_samples': {'gt_label': int, 'bias_label': int,
                          'sample_idx': int}}

    which ``default_collate`` stacks into ``(B, C, T, H, W)`` or ``(B, V, C,
    T, H, W)``. ``bias_label`` is -1 where unknown. Normalisation is done on
    the batch by the model's data preprocessor (channel dim 1 for clips, 2
    for views), not here.
    """

    def transform(self, results: dict) -> dict:
        imgs = _imgs(results, 'PackVideoInputs')
        if imgs.dtype != np.uint8:
            raise TypeError(f'PackVideoInputs expects uint8 frames, got '
                            f'{imgs.dtype}; do not normalise or convert '
                            'frames in the pipeline (the data preprocessor '
                            'does it on the batch).')
        clip_len = int(results.get('clip_len') or 0)
        num_clips = int(results.get('num_clips') or 0)
        if not clip_len or imgs.ndim != 4 or \
                imgs.shape[0] != clip_len * num_clips:
            raise ValueError(
                f'PackVideoInputs: {imgs.shape[0] if imgs.ndim else 0} '
                f'frames of shape {imgs.shape[1:]} do not make {num_clips} '
                f'clip(s) of {clip_len} HxWxC frames; put SampleFrames and '
                'DecodeFrames before it.')
        for key in ('gt_label', 'sample_idx'):
            if key not in results:
                raise KeyError(f'PackVideoInputs: the sample has no "{key}" '
                               '(use a debiascls dataset, whose '
                               'get_data_info provides it).')
        views = imgs.reshape((num_clips, clip_len) + imgs.shape[1:])
        views = views.transpose(0, 4, 1, 2, 3)  # (V, C, T, H, W)
        if num_clips == 1:
            views = views[0]
        return {
            'inputs': torch.from_numpy(np.ascontiguousarray(views)),
            'data_samples': {
                'gt_label': int(results['gt_label']),
                'bias_label': int(results.get('bias_label', UNKNOWN_BIAS)),
                'sample_idx': int(results['sample_idx']),
            }
        }


__all__: List[str] = [
    'OpenVideo', 'SampleFrames', 'DecodeFrames', 'VideoShortSideScale',
    'VideoRandomCrop', 'VideoUniformCrop', 'VideoFlip', 'PackVideoInputs',
    'count_frame_files', 'open_capture', 'DEFAULT_FILENAME_TMPL'
]
