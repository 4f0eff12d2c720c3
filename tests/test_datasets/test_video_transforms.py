"""Video transforms: decoding (OpenCV, frame folders), ReBias's temporal
sampling, the spatial augmentations and packing."""
import os

import cv2
import numpy as np
import pytest
import torch
from video_layouts import (H, W, code_frame, read_code, truncate_avi,
                           write_frames, write_video)

from debiascls.datasets import (DatasetError, DecodeFrames, OpenVideo,
                                PackVideoInputs, SampleFrames, VideoFlip,
                                VideoRandomCrop, VideoShortSideScale,
                                VideoUniformCrop)
from debiascls.registry import TRANSFORMS


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    return dict(
        mp4=write_video(root / 'a.mp4', 100),
        mkv=write_video(root / 'b.mkv', 100),
        webm=write_video(root / 'c.mp4.webm', 30),
        avi=write_video(root / 'd.avi', 100),
        frames=write_frames(root / 'e', 100),
        root=root)


def _decode(info: dict, inds, **kw) -> dict:
    results = OpenVideo()(dict(info))
    results.update(frame_inds=np.asarray(inds), clip_len=len(inds),
                   num_clips=1)
    return DecodeFrames(**kw)(results)


def _codes(imgs) -> list:
    return [read_code(img) for img in imgs]


# ------------------------------------------------------------------ #
# Decoding
# ------------------------------------------------------------------ #
@pytest.mark.parametrize('kind', ['mp4', 'mkv', 'webm', 'avi', 'frames'])
def test_decode_round_trip_rgb(videos, kind):
    info = (dict(frame_dir=videos[kind]) if kind == 'frames' else
            dict(video_path=videos[kind]))
    total = 30 if kind == 'webm' else 100
    results = OpenVideo()(dict(info))
    assert results['total_frames'] == total
    assert results['avg_fps'] == pytest.approx(30.0)
    inds = [29, 3, 3, 17, 0, 29, 8]  # any order, repeats
    results.update(frame_inds=np.array(inds), clip_len=7, num_clips=1)
    out = DecodeFrames()(results)
    assert 'video_reader' not in out
    imgs = out['imgs']
    assert imgs.dtype == np.uint8 and imgs.shape == (7, H, W, 3)
    assert out['img_shape'] == (H, W)
    assert _codes(imgs) == inds
    band = imgs[:, 36:44, 8:56].reshape(-1, 3).mean(0)  # red in RGB order
    assert band[0] > 200 and band[1] < 60 and band[2] < 60


@pytest.mark.parametrize('kind', ['mp4', 'avi'])
def test_seek_and_walk_decode_the_same_frames(videos, kind):
    info = dict(video_path=videos[kind])
    inds = [41, 50, 59, 68, 77, 86, 95, 99]
    seek = _decode(info, inds, seek=True)['imgs']
    walk = _decode(info, inds, seek=False)['imgs']
    assert _codes(seek) == inds
    np.testing.assert_array_equal(seek, walk)


class _Capture:
    """A ``cv2.VideoCapture`` stand-in that wraps a real one (subclassing
    OpenCV's class from Python is not safe)."""

    real = cv2.VideoCapture
    grabs = 0

    def __init__(self, path):
        self._cap = self.real(path)

    def __getattr__(self, name):
        return getattr(self._cap, name)

    def grab(self):
        type(self).grabs += 1
        return self._cap.grab()


def test_decode_stops_after_the_last_needed_frame(videos, monkeypatch):

    class Counting(_Capture):
        grabs = 0

    monkeypatch.setattr(cv2, 'VideoCapture', Counting)
    out = _decode(dict(video_path=videos['mp4']), [60, 62, 64])
    assert _codes(out['imgs']) == [60, 62, 64]
    # seek to 60, then only frames 61 and 63 are grabbed without conversion
    assert Counting.grabs == 2


def test_frame_count_missing_from_the_header(videos, monkeypatch):

    class NoCount(_Capture):

        def get(self, prop):
            if prop == cv2.CAP_PROP_FRAME_COUNT:
                return -1.0
            return self._cap.get(prop)

    monkeypatch.setattr(cv2, 'VideoCapture', NoCount)
    results = OpenVideo()(dict(video_path=videos['mkv']))
    assert results['total_frames'] == 100  # counted by decoding
    results.update(frame_inds=np.array([99, 0]), clip_len=2, num_clips=1)
    assert _codes(DecodeFrames()(results)['imgs']) == [99, 0]


def test_unreadable_videos_name_the_file(videos, tmp_path):
    missing = str(tmp_path / 'missing.mp4')
    with pytest.raises(DatasetError, match='missing.mp4" is missing'):
        OpenVideo()(dict(video_path=missing))
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    with pytest.raises(DatasetError, match='empty.mp4" is empty'):
        OpenVideo()(dict(video_path=str(empty)))
    garbage = tmp_path / 'garbage.mp4'
    garbage.write_bytes(b'not a video ' * 100)
    with pytest.raises(DatasetError, match='garbage.mp4" cannot be opened'):
        OpenVideo()(dict(video_path=str(garbage)))
    cut = tmp_path / 'cut.mp4'  # an MP4 cut before its index (moov atom)
    with open(videos['mp4'], 'rb') as f:
        cut.write_bytes(f.read()[:-400])
    with pytest.raises(DatasetError, match='cut.mp4" cannot be opened'):
        OpenVideo()(dict(video_path=str(cut)))


def test_truncated_video(tmp_path):
    path = write_video(tmp_path / 't.avi', 150)
    truncate_avi(path, 90)
    results = OpenVideo()(dict(video_path=path))
    assert results['total_frames'] == 150  # the header is intact
    results = SampleFrames(num_clips=10, test_mode=True)(results)
    assert results['frame_inds'].max() > 90
    with pytest.raises(DatasetError, match=r't.avi" is truncated.*150 '
                       r'frames but only 90 can be decoded'):
        DecodeFrames()(results)
    # a seek past the real end is no proof of frames up to there
    for seek in (True, False):
        with pytest.raises(DatasetError, match='only 90 can be decoded'):
            _decode(dict(video_path=path), [147], seek=seek)
    # frames before the cut are still fine
    assert _codes(_decode(dict(video_path=path), [5, 80])['imgs']) == [5, 80]


def test_slightly_short_video_is_padded_with_its_last_frame(tmp_path):
    path = write_video(tmp_path / 's.avi', 100)
    truncate_avi(path, 98)  # 2 frames short of the header: tolerated
    for seek in (True, False):
        out = _decode(dict(video_path=path), [90, 98, 99], seek=seek)
        assert _codes(out['imgs']) == [90, 97, 97]
        out = _decode(dict(video_path=path), [99], seek=seek)
        assert _codes(out['imgs']) == [97]
    truncate_avi(path, 95)  # 5 frames short: max(2, 5 % of 100) = 5
    assert _codes(_decode(dict(video_path=path), [99])['imgs']) == [94]
    truncate_avi(path, 94)  # 6 frames short: truncated
    with pytest.raises(DatasetError, match='truncated'):
        _decode(dict(video_path=path), [99])
    # a larger tolerance accepts it
    out = _decode(dict(video_path=path), [99], frame_count_tolerance=0.1)
    assert _codes(out['imgs']) == [93]


def test_frame_folder_errors(tmp_path):
    folder = write_frames(tmp_path / 'f', 5)
    with pytest.raises(DatasetError, match='"img_00001.png"'):
        OpenVideo(filename_tmpl='img_{:05d}.png')(dict(frame_dir=folder))
    assert OpenVideo(start_index=2)(dict(frame_dir=folder))[
        'total_frames'] == 4
    os.remove(os.path.join(folder, 'img_00003.jpg'))
    with pytest.raises(DatasetError, match='"img_00003.jpg" is missing'):
        OpenVideo()(dict(frame_dir=folder))
    far = write_frames(tmp_path / 'far', 3)
    write_frames(far, 1, start=50)
    with pytest.raises(DatasetError,
                       match='"img_00004.jpg" is missing.*"img_00050.jpg"'):
        OpenVideo()(dict(frame_dir=far))
    with pytest.raises(DatasetError, match='is missing'):
        OpenVideo()(dict(frame_dir=str(tmp_path / 'nope')))
    folder = write_frames(tmp_path / 'g', 4)
    with open(os.path.join(folder, 'img_00002.jpg'), 'r+b') as f:
        f.truncate(100)
    results = OpenVideo()(dict(frame_dir=folder))
    results.update(frame_inds=np.array([0, 1]), clip_len=2, num_clips=1)
    with pytest.raises(DatasetError, match='img_00002.jpg" is corrupt'):
        DecodeFrames()(results)
    with pytest.raises(KeyError, match='video_path'):
        OpenVideo()(dict(img_path='x.png'))


def test_custom_frame_names(tmp_path):
    folder = write_frames(tmp_path / 'h', 6, tmpl='{:06d}.png', start=0)
    results = OpenVideo(filename_tmpl='{:06d}.png', start_index=0,
                        frames_fps=None)(dict(frame_dir=folder))
    assert (results['total_frames'], results['avg_fps']) == (6, None)
    results.update(frame_inds=np.array([5, 0]), clip_len=2, num_clips=1)
    assert _codes(DecodeFrames()(results)['imgs']) == [5, 0]
    with pytest.raises(ValueError, match='filename_tmpl'):
        OpenVideo(filename_tmpl='img_{name}.jpg')


# ------------------------------------------------------------------ #
# Temporal sampling (hand-computed: ReBias / SlowFast's linspace over a
# window of 8 * 8 * fps / 30 frames, truncated, clipped to the video)
# ------------------------------------------------------------------ #
def _sample(total, fps=30.0, **kw):
    return SampleFrames(**kw)(dict(total_frames=total, avg_fps=fps))


def test_test_views_hand_computed():
    out = _sample(300, num_clips=10, test_mode=True)
    views = out['frame_inds'].reshape(10, 8)
    assert (out['clip_len'], out['num_clips']) == (8, 10)
    # window 64 frames, delta = 236, view v starts at 23.6 * v
    assert views[0].tolist() == [0, 9, 18, 27, 36, 45, 54, 63]
    assert views[1].tolist() == [23, 32, 41, 50, 59, 68, 77, 86]
    assert views[9].tolist() == [212, 221, 230, 239, 248, 257, 266, 275]
    assert out['frame_inds'].dtype == np.int64


def test_fps_rescales_the_window():
    # 25 fps: window 64 * 25 / 30 = 53.33 frames, step 52.33 / 7 = 7.476
    views = _sample(300, fps=25.0, num_clips=10,
                    test_mode=True)['frame_inds'].reshape(10, 8)
    assert views[0].tolist() == [0, 7, 14, 22, 29, 37, 44, 52]
    # target_fps=None: 64 frames whatever the rate
    views = _sample(300, fps=25.0, num_clips=10, test_mode=True,
                    target_fps=None)['frame_inds'].reshape(10, 8)
    assert views[1].tolist() == [23, 32, 41, 50, 59, 68, 77, 86]
    # unknown rate (frame folders with frames_fps=None): no rescaling
    inds = _sample(300, fps=None, num_clips=10,
                   test_mode=True)['frame_inds'].reshape(10, 8)
    assert inds[1].tolist() == [23, 32, 41, 50, 59, 68, 77, 86]


def test_short_videos_are_padded_with_the_last_frame():
    views = _sample(20, num_clips=10,
                    test_mode=True)['frame_inds'].reshape(10, 8)
    assert (views == [0, 9, 18, 19, 19, 19, 19, 19]).all()
    assert _sample(1)['frame_inds'].tolist() == [0] * 8


def test_train_clip_random_offset_and_seed():
    np.random.seed(3)
    start = np.random.uniform(0, 236)
    np.random.seed(3)
    inds = _sample(300)['frame_inds']
    assert inds.tolist() == [int(np.floor(start + 9 * k)) for k in range(8)]
    starts = set()
    for seed in range(20):
        np.random.seed(seed)
        inds = _sample(300)['frame_inds']
        assert 0 <= inds[0] <= 236 and inds[-1] == inds[0] + 63
        starts.add(int(inds[0]))
    assert len(starts) > 10
    two = _sample(300, num_clips=2)['frame_inds'].reshape(2, 8)
    assert (np.diff(two, axis=1) >= 8).all()


def test_sample_frames_arguments():
    with pytest.raises(ValueError, match='clip_len'):
        SampleFrames(clip_len=0)
    with pytest.raises(ValueError, match='target_fps'):
        SampleFrames(target_fps=0)
    with pytest.raises(KeyError, match='OpenVideo'):
        SampleFrames()(dict())


# ------------------------------------------------------------------ #
# Spatial transforms (every frame of a sample gets the same window)
# ------------------------------------------------------------------ #
def _stack(n=3, h=48, w=64):
    """Frames whose pixel (y, x) of frame t encodes (t, y, x)."""
    y, x = np.mgrid[:h, :w]
    return np.stack([
        np.stack([np.full((h, w), t), y % 256, x % 256], -1)
        for t in range(n)
    ]).astype(np.uint8)


def test_short_side_scale():
    out = VideoShortSideScale(256)(dict(imgs=_stack()))
    assert out['imgs'].shape == (3, 256, 341, 3)  # floor(64 / 48 * 256)
    assert out['img_shape'] == (256, 341)
    assert (out['imgs'][:, :, :, 0] == np.arange(3)[:, None, None]).all()
    portrait = VideoShortSideScale(256)(dict(imgs=_stack(2, 64, 48)))
    assert portrait['imgs'].shape == (2, 341, 256, 3)
    same = _stack(1, 256, 300)
    assert VideoShortSideScale(256)(dict(imgs=same))['imgs'] is same
    sizes = set()
    for seed in range(30):
        np.random.seed(seed)
        lo_side = min(VideoShortSideScale((256, 320))(
            dict(imgs=_stack(2)))['imgs'].shape[1:3])
        assert 256 <= lo_side <= 320
        sizes.add(lo_side)
    assert len(sizes) > 10
    with pytest.raises(ValueError, match='scale'):
        VideoShortSideScale((320, 256))


def test_random_crop_same_window_for_all_frames():
    imgs = _stack(4, 40, 50)
    seen = set()
    for seed in range(40):
        np.random.seed(seed)
        out = VideoRandomCrop(32)(dict(imgs=imgs))
        top, left, size, _ = out['crop_box']
        # SlowFast: randint(0, h - size) excludes h - size
        assert 0 <= top < 40 - 32 and 0 <= left < 50 - 32 and size == 32
        np.testing.assert_array_equal(
            out['imgs'], imgs[:, top:top + 32, left:left + 32])
        seen.add((top, left))
    assert len(seen) > 20
    square = _stack(2, 32, 32)
    assert VideoRandomCrop(32)(dict(imgs=square))['imgs'] is square
    tall = VideoRandomCrop(32)(dict(imgs=_stack(2, 32, 40)))
    assert tall['crop_box'][0] == 0
    with pytest.raises(ValueError, match='larger than the frames'):
        VideoRandomCrop(64)(dict(imgs=imgs))


@pytest.mark.parametrize('h,w,position,box', [
    (40, 50, 'start', (4, 0)), (40, 50, 'center', (4, 9)),
    (40, 50, 'end', (4, 18)), (50, 40, 'start', (0, 4)),
    (50, 40, 'center', (9, 4)), (50, 40, 'end', (18, 4)),
    (32, 32, 'start', (0, 0))
])
def test_uniform_crop(h, w, position, box):
    imgs = _stack(2, h, w)
    out = VideoUniformCrop(32, position=position)(dict(imgs=imgs))
    top, left = box
    assert out['crop_box'] == (top, left, 32, 32)
    np.testing.assert_array_equal(out['imgs'],
                                  imgs[:, top:top + 32, left:left + 32])
    with pytest.raises(ValueError, match='position'):
        VideoUniformCrop(32, position='left')


def test_flip():
    imgs = _stack(2)
    out = VideoFlip(prob=1.0)(dict(imgs=imgs))
    assert out['flip'] is True
    np.testing.assert_array_equal(out['imgs'], imgs[:, :, ::-1])
    assert out['imgs'].flags['C_CONTIGUOUS']
    assert VideoFlip(prob=0.0)(dict(imgs=imgs))['flip'] is False
    flips = []
    for seed in range(40):
        np.random.seed(seed)
        flips.append(VideoFlip()(dict(imgs=imgs))['flip'])
    assert 5 < sum(flips) < 35


# ------------------------------------------------------------------ #
# Packing
# ------------------------------------------------------------------ #
def _packable(num_clips, clip_len=4, **extra):
    imgs = np.random.RandomState(0).randint(
        0, 256, (num_clips * clip_len, 6, 5, 3)).astype(np.uint8)
    return dict(imgs=imgs, clip_len=clip_len, num_clips=num_clips,
                gt_label=3, sample_idx=11, **extra)


def test_pack_one_clip_and_views():
    res = _packable(1, bias_label=2)
    out = PackVideoInputs()(dict(res))
    assert set(out) == {'inputs', 'data_samples'}
    x = out['inputs']
    assert x.dtype == torch.uint8 and x.shape == (3, 4, 6, 5)
    assert x.is_contiguous()
    assert torch.equal(x, torch.from_numpy(res['imgs']).permute(3, 0, 1, 2))
    assert out['data_samples'] == dict(gt_label=3, bias_label=2,
                                       sample_idx=11)
    res = _packable(3)
    out = PackVideoInputs()(dict(res))
    x = out['inputs']
    assert x.shape == (3, 3, 4, 6, 5) and x.is_contiguous()
    for v, c, t in [(0, 0, 0), (2, 1, 3), (1, 2, 2)]:
        np.testing.assert_array_equal(x[v, c, t].numpy(),
                                      res['imgs'][v * 4 + t, :, :, c])
    assert out['data_samples']['bias_label'] == -1


def test_pack_errors():
    res = _packable(1)
    res['imgs'] = res['imgs'].astype(np.float32)
    with pytest.raises(TypeError, match='uint8'):
        PackVideoInputs()(res)
    res = _packable(2)
    res['num_clips'] = 3
    with pytest.raises(ValueError, match='3 clip'):
        PackVideoInputs()(res)
    res = _packable(1)
    del res['sample_idx']
    with pytest.raises(KeyError, match='sample_idx'):
        PackVideoInputs()(res)
    with pytest.raises(KeyError, match='DecodeFrames'):
        PackVideoInputs()(dict(gt_label=0, sample_idx=0))


# ------------------------------------------------------------------ #
# Whole pipelines (the Kinetics-10 / Mimetics-10 config's)
# ------------------------------------------------------------------ #
TRAIN = [
    dict(type='OpenVideo'),
    dict(type='SampleFrames', clip_len=8, frame_interval=8),
    dict(type='DecodeFrames'),
    dict(type='VideoShortSideScale', scale=(256, 320)),
    dict(type='VideoRandomCrop', size=224),
    dict(type='VideoFlip', prob=0.5),
    dict(type='PackVideoInputs')
]
TEST = [
    dict(type='OpenVideo'),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=10,
         test_mode=True),
    dict(type='DecodeFrames'),
    dict(type='VideoShortSideScale', scale=256),
    dict(type='VideoUniformCrop', size=256, position='start'),
    dict(type='PackVideoInputs')
]


def _run(pipeline, info):
    results = dict(info, gt_label=1, sample_idx=0)
    for t in [TRANSFORMS.build(c) for c in pipeline]:
        results = t(results)
    return results


def test_train_pipeline_is_reproducible(videos):
    info = dict(video_path=videos['mp4'])
    np.random.seed(7)
    a = _run(TRAIN, info)['inputs']
    np.random.seed(7)
    b = _run(TRAIN, info)['inputs']
    assert a.shape == (3, 8, 224, 224) and a.dtype == torch.uint8
    assert torch.equal(a, b)
    others = []
    for seed in range(3):
        np.random.seed(100 + seed)
        others.append(_run(TRAIN, info)['inputs'])
    assert any(not torch.equal(a, o) for o in others)


def test_test_pipeline_views(videos):
    info = dict(frame_dir=videos['frames'])
    x = _run(TEST, info)['inputs']
    assert x.shape == (10, 3, 8, 256, 256) and x.dtype == torch.uint8
    band = x[:, :, :, 200:240].float().mean(dim=(0, 2, 3, 4))
    assert band[0] > 200 and band[1] < 60 and band[2] < 60  # red, RGB
    np.random.seed(0)  # deterministic: nothing is drawn
    assert torch.equal(x, _run(TEST, info)['inputs'])
    # which frames each view holds: 100 frames, delta 36, view v starts at
    # 3.6 v, frames 9 apart
    views = _run([TEST[0], TEST[1], TEST[2], TEST[5]], info)['inputs']
    assert views.shape == (10, 3, 8, H, W)
    for v in range(10):
        codes = [read_code(views[v, :, t].permute(1, 2, 0).numpy())
                 for t in range(8)]
        assert codes == [int(np.floor(3.6 * v + 9 * k)) for k in range(8)]


def test_registered_names():
    for name in ('OpenVideo', 'SampleFrames', 'DecodeFrames',
                 'VideoShortSideScale', 'VideoRandomCrop', 'VideoUniformCrop',
                 'VideoFlip', 'PackVideoInputs'):
        assert TRANSFORMS.get(name) is not None, name
    assert isinstance(TRANSFORMS.build(dict(type='VideoFlip', prob=0.2)),
                      VideoFlip)
    assert code_frame(5).shape == (H, W, 3)
