"""The corruptions of Corrupted CIFAR-10 (LfF's 32x32 re-parameterisation):
shape, dtype, determinism, effect, and hand-computed values where the
formula is simple."""
import cv2
import numpy as np
import pytest

from debiascls.datasets import CORRUPTION_TYPES, CORRUPTIONS
from debiascls.datasets import corruptions as C

#: Corruptions that draw random numbers (the others ignore ``rng``).
STOCHASTIC = ('Gaussian Noise', 'Shot Noise', 'Impulse Noise',
              'Speckle Noise', 'Glass Blur', 'Motion Blur', 'Snow', 'Frost',
              'Fog', 'Spatter', 'Elastic')


def _scene(seed: int = 0) -> np.ndarray:
    """A 32x32 RGB test picture: a sky gradient, ground, a disk, a square
    and some texture (not constant anywhere, not pure noise)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((32, 32, 3), np.uint8)
    for y in range(32):
        img[y] = (90 + 3 * y, 140 + 2 * y, 230 - 2 * y)
    img[20:] = (60, 150, 50)
    cv2.circle(img, (16, 14), 7, (220, 30, 30), -1)
    cv2.rectangle(img, (3, 22), (10, 29), (250, 240, 40), -1)
    noise = rng.integers(-6, 7, img.shape)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


def _rng(seed=0):
    return np.random.default_rng(seed)


def assert_truncated(out, expected):
    """``out`` is ``expected`` truncated to an integer (LfF's uint8 cast),
    allowing float error where ``expected`` is (almost) an integer."""
    expected = np.asarray(expected, np.float64)
    lo, hi = np.floor(expected - 1e-3), np.floor(expected + 1e-3)
    out = np.asarray(out, np.float64)
    assert np.all((out >= lo) & (out <= hi)), (out, expected)


@pytest.mark.parametrize('name', list(CORRUPTIONS))
@pytest.mark.parametrize('level', [1, 5])
def test_every_corruption_shape_dtype_determinism(name, level):
    img = _scene()
    before = img.copy()
    out = C.corrupt(img, name, level, _rng(3))
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(img, before)  # input untouched
    np.testing.assert_array_equal(out, C.corrupt(img, name, level, _rng(3)))
    if name == 'Original':
        np.testing.assert_array_equal(out, img)
    else:
        assert np.abs(out.astype(int) - img).mean() > 0.2, name
    if name in STOCHASTIC:
        others = [C.corrupt(img, name, level, _rng(s)) for s in (4, 5, 6)]
        assert any(not np.array_equal(out, o) for o in others), name
    else:
        np.testing.assert_array_equal(out, C.corrupt(img, name, level,
                                                     _rng(99)))


def test_stronger_level_changes_more():
    img = _scene()
    for name in ('Gaussian Noise', 'Gaussian Blur', 'Contrast', 'JPEG',
                 'Pixelate', 'Zoom Blur', 'Brightness'):
        weak = np.abs(C.corrupt(img, name, 1, _rng()).astype(int) - img)
        strong = np.abs(C.corrupt(img, name, 5, _rng()).astype(int) - img)
        assert strong.mean() > weak.mean(), name


def test_lff_corruption_lists():
    assert CORRUPTION_TYPES[0] == ('Snow', 'Frost', 'Fog', 'Brightness',
                                   'Contrast', 'Spatter', 'Elastic', 'JPEG',
                                   'Pixelate', 'Saturate')
    assert CORRUPTION_TYPES[1] == ('Gaussian Noise', 'Shot Noise',
                                   'Impulse Noise', 'Speckle Noise',
                                   'Gaussian Blur', 'Defocus Blur',
                                   'Glass Blur', 'Motion Blur', 'Zoom Blur',
                                   'Original')
    assert set(CORRUPTION_TYPES[0]) | set(CORRUPTION_TYPES[1]) == set(
        CORRUPTIONS)


def test_bad_level_image_and_name():
    img = _scene()
    for level in (0, 6, True, 2.5):
        with pytest.raises(ValueError, match='level'):
            C.brightness(img, level, _rng())
    with pytest.raises(ValueError, match='HxWx3 uint8'):
        C.contrast(img.astype(np.float32), 1, _rng())
    with pytest.raises(ValueError, match='Unknown corruption "Rain"'):
        C.corrupt(img, 'Rain', 1, _rng())


# --------------------------------------------------------------------- #
# Hand-computed values
# --------------------------------------------------------------------- #
def test_brightness_by_hand():
    # HSV value + c with hue and saturation kept: RGB scales by V'/V
    img = np.zeros((2, 2, 3), np.uint8)
    img[0, 0] = (100, 50, 0)  # V = 100/255 -> 100/255 + 0.05
    img[0, 1] = (0, 0, 0)  # black: grey of value 0.05
    img[1, 0] = (250, 250, 250)  # V clipped at 1
    img[1, 1] = (30, 60, 90)
    out = C.brightness(img, 1, None)  # c = 0.05
    v = 100 / 255 + 0.05
    assert_truncated(out[0, 0], [255 * v, 255 * v / 2, 0])
    assert_truncated(out[0, 1], [12.75] * 3)
    assert_truncated(out[1, 0], [255] * 3)
    v = 90 / 255 + 0.05
    assert_truncated(out[1, 1], np.array([30, 60, 90]) / 90 * 255 * v)
    # level 5 (c = 0.3)
    out = C.brightness(img, 5, None)
    v = 100 / 255 + 0.3
    assert_truncated(out[0, 0], [255 * v, 255 * v / 2, 0])


def test_contrast_by_hand():
    # per-channel mean 127.5; (x - m) * c + m with c = 0.15 at level 5
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, :2] = 255
    out = C.contrast(img, 5, None)
    m = 0.5
    assert_truncated(out[:, :2], 255 * ((1 - m) * 0.15 + m))  # 146.625
    assert_truncated(out[:, 2:], 255 * ((0 - m) * 0.15 + m))  # 108.375
    # the means are per channel
    img[..., 2] = 40
    out = C.contrast(img, 1, None)  # c = 0.75
    assert np.all(out[..., 2] == 40)


def test_saturate_by_hand():
    # HSV saturation s * a + b with hue and value kept: the minimum channels
    # become V (1 - s'), the maximum stays V
    img = np.zeros((1, 2, 3), np.uint8)
    img[0, 0] = (201, 120, 120)
    img[0, 1] = (90, 90, 90)  # grey: s = 0
    out = C.saturate(img, 1, None)  # (a, b) = (0.3, 0)
    s = (201 - 120) / 201 * 0.3
    assert_truncated(out[0, 0], [201, 201 * (1 - s), 201 * (1 - s)])
    assert_truncated(out[0, 1], [90, 90, 90])
    out = C.saturate(img, 5, None)  # (2.5, 0.2)
    s = min((201 - 120) / 201 * 2.5 + 0.2, 1.0)
    assert_truncated(out[0, 0], [201, 201 * (1 - s), 201 * (1 - s)])
    # grey gets saturation 0.2 at hue 0 (red): G = B = V (1 - 0.2)
    assert_truncated(out[0, 1], [90, 72, 72])


def test_pixelate_by_hand_and_against_pil():
    # 32 -> 24 -> 32 with PIL's BOX filter on a horizontal ramp 0, 4, ...:
    # shrinking averages the pixels whose centres fall in each output pixel
    # (0 | 1,2 | 3 | 4 | 5,6 | 7 ...), enlarging takes the nearest.
    ramp = np.tile((np.arange(32) * 4).astype(np.uint8)[None, :, None],
                   (32, 1, 3))
    out = C.pixelate(ramp, 4, None)  # c = 0.75 -> 24 pixels
    assert out[0, :8, 0].tolist() == [0, 6, 6, 12, 16, 22, 22, 28]
    assert (out == out[:1]).all()  # rows unchanged
    from PIL import Image
    for level, c in zip(range(1, 6), (0.95, 0.9, 0.85, 0.75, 0.65)):
        img = _scene(level)
        size = int(32 * c)
        ref = Image.fromarray(img).resize((size, size), Image.BOX).resize(
            (32, 32), Image.BOX)
        np.testing.assert_array_equal(C.pixelate(img, level, None),
                                      np.asarray(ref))


def test_jpeg_round_trip():
    img = _scene()
    for level, quality in ((1, 80), (5, 40)):
        ok, buf = cv2.imencode('.jpg', img[..., ::-1].copy(),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
        expected = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
        out = C.jpeg_compression(img, level, None)
        np.testing.assert_array_equal(out, expected)
        mse = ((out.astype(float) - img) ** 2).mean()
        assert 0 < mse < 255 ** 2 / 10 ** 2  # PSNR above 20 dB


def test_noise_statistics():
    grey = np.full((32, 32, 3), 128, np.uint8)
    out = C.gaussian_noise(grey, 5, _rng(1)).astype(float)  # std 0.1
    assert abs((out - 128).std() / 255 - 0.1) < 0.01
    out = C.impulse_noise(grey, 5, _rng(1))  # 7 % salt or pepper
    frac = np.isin(out, (0, 255)).mean()
    assert 0.05 < frac < 0.09
    assert set(np.unique(out)) == {0, 128, 255}
    out = C.shot_noise(grey, 5, _rng(1)).astype(float)  # Poisson(x * 50)/50
    assert abs((out / 255).var() - (128 / 255) / 50) < 0.002


def test_glass_blur_is_lffs_sequential_copy():
    # LfF visits (h, w) from the bottom-right and assigns the neighbour's
    # value through numpy views (a copy, not a swap); the vectorised version
    # must give exactly that.
    img = _scene(2)
    for level, (sigma, delta, iterations) in ((2, (0.25, 1, 1)),
                                              (5, (0.4, 1, 2))):
        x = C._to_uint8(C._gaussian(img / 255.0, sigma))
        rng = _rng(7)
        for _ in range(iterations):
            n = (32 - 2 * delta) ** 2
            offsets = rng.integers(-delta, delta, size=(n, 2))
            k = 0
            for h in range(32 - delta, delta, -1):
                for w in range(32 - delta, delta, -1):
                    dx, dy = offsets[k]
                    k += 1
                    x[h, w], x[h + dy, w + dx] = x[h + dy, w + dx], x[h, w]
        expected = C._to_uint8(C._gaussian(x / 255.0, sigma))
        np.testing.assert_array_equal(C.glass_blur(img, level, _rng(7)),
                                      expected)


def test_helpers():
    x = np.random.default_rng(0).random((32, 32, 2))
    np.testing.assert_allclose(C.clipped_zoom(x, 1.0), x)
    zoomed = C.clipped_zoom(x, 1.25)
    assert zoomed.shape == x.shape and not np.allclose(zoomed, x)
    taps = C.motion_blur_kernel(6, 2, 0)
    assert len(taps) == 13
    assert [(dx, dy) for dx, dy, _ in taps] == [(i, 0) for i in range(13)]
    assert abs(sum(w for _, _, w in taps) - 1) < 1e-12
    assert [dy for _, dy, _ in C.motion_blur_kernel(6, 2, 90)] == list(
        range(13))
    fog = C.plasma_fractal(_rng(1), 32, 2.0)
    assert fog.shape == (32, 32) and fog.min() == 0 and fog.max() == 1
    np.testing.assert_array_equal(fog, C.plasma_fractal(_rng(1), 32, 2.0))
    textures = C.frost_textures()
    assert textures is C.frost_textures()  # computed once
    assert len(textures) == 5 and textures[0].shape == (128, 128, 3)
    assert 100 < np.mean(textures) < 200  # pale, bright ice
    assert not np.array_equal(textures[0], textures[1])
