import cv2
import numpy as np
import pytest
import torch

from debiascls.datasets import DatasetError
from debiascls.datasets.transforms import (CenterCrop, ColorJitter,
                                           LoadImageFromFile, PackInputs,
                                           RandomCrop, RandomFlip,
                                           RandomResizedCrop, RandomRotation,
                                           Resize)
from debiascls.registry import TRANSFORMS


def _arange(h, w, c=None):
    shape = (h, w) if c is None else (h, w, c)
    return np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)


# ---------------------------------------------------------------------- #
# LoadImageFromFile
# ---------------------------------------------------------------------- #
def test_load_cache_serves_copies_up_to_its_size(tmp_path):
    paths = []
    for i in range(3):  # 4x4x3 = 48 bytes each
        paths.append(str(tmp_path / f'img_{i}.png'))
        assert cv2.imwrite(paths[-1], np.full((4, 4, 3), 10 * i, np.uint8))
    load = LoadImageFromFile(cache_mb=100 / 2**20)  # room for two images
    first = [load(dict(img_path=p))['img'] for p in paths]
    for p in paths:
        (tmp_path / p).unlink()
    for i in (0, 1):  # cached: served without the file, equal, a copy
        img = load(dict(img_path=paths[i]))['img']
        assert np.array_equal(img, first[i])
        img[:] = 255  # writing into it leaves the cache intact
        assert np.array_equal(load(dict(img_path=paths[i]))['img'],
                              first[i])
    with pytest.raises(DatasetError, match='img_2.png'):  # over the limit
        load(dict(img_path=paths[2]))
    with pytest.raises(ValueError, match='cache_mb=-1'):
        LoadImageFromFile(cache_mb=-1)
    uncached = LoadImageFromFile()
    assert uncached.cache_bytes == 0


def test_load_reads_rgb(tmp_path):
    bgr = np.zeros((3, 5, 3), np.uint8)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 10, 20, 200  # B, G, R
    bgr[1, 2] = (1, 2, 3)
    path = str(tmp_path / 'img_0_0.png')
    assert cv2.imwrite(path, bgr)
    results = LoadImageFromFile()(dict(img_path=path))
    img = results['img']
    assert img.dtype == np.uint8 and img.shape == (3, 5, 3)
    assert img[0, 0].tolist() == [200, 20, 10]  # R, G, B
    assert img[1, 2].tolist() == [3, 2, 1]
    assert results['img_shape'] == (3, 5) and results['ori_shape'] == (3, 5)


def test_load_grayscale_png_gives_three_channels(tmp_path):
    path = str(tmp_path / 'g.png')
    cv2.imwrite(path, np.full((2, 2), 77, np.uint8))
    img = LoadImageFromFile()(dict(img_path=path))['img']
    assert img.shape == (2, 2, 3) and (img == 77).all()


def test_load_truncated_png(tmp_path):
    path = tmp_path / 'cut.png'
    cv2.imwrite(str(path), np.random.default_rng(0).integers(
        0, 255, (16, 16, 3), dtype=np.uint8))
    raw = path.read_bytes()
    path.write_bytes(raw[:-12])  # the IEND chunk is gone, the pixels decode
    with pytest.raises(DatasetError, match='truncated') as e:
        LoadImageFromFile()(dict(img_path=str(path)))
    assert f'"{path}"' in str(e.value)
    path.write_bytes(raw[:len(raw) // 2])
    with pytest.raises(DatasetError, match='corrupt') as e:
        LoadImageFromFile()(dict(img_path=str(path)))
    assert f'"{path}"' in str(e.value)


def test_load_truncated_jpeg(tmp_path):
    path = tmp_path / 'cut.jpg'
    cv2.imwrite(str(path), np.full((16, 16, 3), 128, np.uint8))
    assert LoadImageFromFile()(dict(img_path=str(path)))['img'].shape == (
        16, 16, 3)
    path.write_bytes(path.read_bytes()[:-2])  # no end-of-image marker
    with pytest.raises(DatasetError, match='truncated'):
        LoadImageFromFile()(dict(img_path=str(path)))


def test_load_not_an_image_empty_and_missing(tmp_path):
    text = tmp_path / 'notes_0_0.png'
    text.write_text('hello, not a PNG')
    with pytest.raises(DatasetError, match='not a decodable image') as e:
        LoadImageFromFile()(dict(img_path=str(text)))
    assert f'"{text}"' in str(e.value)
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(DatasetError, match='empty') as e:
        LoadImageFromFile()(dict(img_path=str(empty)))
    assert f'"{empty}"' in str(e.value)
    missing = tmp_path / 'missing.png'
    with pytest.raises(DatasetError, match='missing') as e:
        LoadImageFromFile()(dict(img_path=str(missing)))
    assert f'"{missing}"' in str(e.value)
    with pytest.raises(KeyError, match='neither'):
        LoadImageFromFile()(dict(gt_label=0))


def test_load_passes_in_memory_img_through():
    img = _arange(4, 6, 3)
    results = LoadImageFromFile()(dict(img=img, img_path='/does/not/exist'))
    assert results['img'] is img
    assert results['img_shape'] == (4, 6)


# ---------------------------------------------------------------------- #
# PackInputs
# ---------------------------------------------------------------------- #
def test_pack_inputs_exact_format():
    img = _arange(2, 3, 3)
    out = PackInputs()(dict(img=img, gt_label=np.int64(4), bias_label=7,
                            sample_idx=11, img_path='x', flip=True))
    assert set(out) == {'inputs', 'data_samples'}
    inputs = out['inputs']
    assert isinstance(inputs, torch.Tensor) and inputs.dtype == torch.uint8
    assert inputs.shape == (3, 2, 3) and inputs.is_contiguous()
    np.testing.assert_array_equal(inputs.numpy(), img.transpose(2, 0, 1))
    assert inputs[0, 1, 2].item() == img[1, 2, 0] == 15
    assert out['data_samples'] == dict(gt_label=4, bias_label=7,
                                       sample_idx=11)
    assert all(type(v) is int for v in out['data_samples'].values())


def test_pack_inputs_defaults_and_errors():
    out = PackInputs()(dict(img=_arange(2, 2), gt_label=1, sample_idx=0))
    assert out['inputs'].shape == (1, 2, 2)
    assert out['data_samples']['bias_label'] == -1
    with pytest.raises(TypeError, match='float32'):
        PackInputs()(dict(img=np.zeros((2, 2, 3), np.float32), gt_label=0,
                          sample_idx=0))
    with pytest.raises(KeyError, match='LoadImageFromFile'):
        PackInputs()(dict(gt_label=0, sample_idx=0))
    with pytest.raises(KeyError, match='sample_idx'):
        PackInputs()(dict(img=_arange(2, 2, 3), gt_label=0))


# ---------------------------------------------------------------------- #
# Geometric transforms
# ---------------------------------------------------------------------- #
def test_resize_shorter_edge_and_pair():
    img = np.zeros((4, 8, 3), np.uint8)
    out = Resize(2)(dict(img=img))
    assert out['img'].shape == (2, 4, 3) and out['img_shape'] == (2, 4)
    assert Resize(6)(dict(img=np.zeros((9, 3, 3), np.uint8)))['img'].shape \
        == (18, 6, 3)
    assert Resize((3, 5))(dict(img=img))['img'].shape == (3, 5, 3)
    # nearest on a 2x2 upscaled by 2: every pixel becomes a 2x2 block
    small = np.array([[1, 2], [3, 4]], np.uint8)[..., None]
    big = Resize(4, interpolation='nearest')(dict(img=small))['img']
    assert big.shape == (4, 4, 1)
    np.testing.assert_array_equal(
        big[..., 0], [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    same = _arange(4, 4, 3)
    assert Resize(4)(dict(img=same))['img'] is same
    with pytest.raises(ValueError, match='interpolation="cubic"'):
        Resize(4, interpolation='cubic')


def test_center_crop_exact_pixels():
    img = _arange(5, 5)
    out = CenterCrop(3)(dict(img=img))['img']
    np.testing.assert_array_equal(out, [[6, 7, 8], [11, 12, 13],
                                        [16, 17, 18]])
    out = CenterCrop((2, 4))(dict(img=_arange(4, 6)))['img']
    np.testing.assert_array_equal(out, [[7, 8, 9, 10], [13, 14, 15, 16]])
    # smaller images are zero-padded first
    out = CenterCrop(4)(dict(img=np.full((2, 2), 9, np.uint8)))['img']
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [0, 9, 9, 0],
                                        [0, 9, 9, 0], [0, 0, 0, 0]])


def test_random_crop_padding_size_and_seed():
    img = _arange(6, 6, 3) + 1  # no zero pixel in the image
    t = RandomCrop(6, padding=2)
    crops = []
    for seed in range(20):
        np.random.seed(seed)
        out = t(dict(img=img))
        assert out['img'].shape == (6, 6, 3) and out['img_shape'] == (6, 6)
        crops.append(out['img'])
    # every crop is a 6x6 window of the 10x10 zero-padded image
    padded = np.pad(img, ((2, 2), (2, 2), (0, 0)))
    for crop in crops:
        assert any(
            np.array_equal(crop, padded[y:y + 6, x:x + 6])
            for y in range(5) for x in range(5))
    assert len({c.tobytes() for c in crops}) > 5
    np.random.seed(3)
    np.testing.assert_array_equal(t(dict(img=img))['img'], crops[3])
    with pytest.raises(ValueError, match='larger than'):
        RandomCrop(8)(dict(img=img))
    assert RandomCrop(8, pad_if_needed=True)(
        dict(img=img))['img'].shape == (8, 8, 3)


def test_random_flip():
    img = _arange(2, 3, 3)
    out = RandomFlip(prob=1.0)(dict(img=img))
    assert out['flip'] is True
    np.testing.assert_array_equal(out['img'], img[:, ::-1])
    out = RandomFlip(prob=1.0, direction='vertical')(dict(img=img))
    np.testing.assert_array_equal(out['img'], img[::-1])
    out = RandomFlip(prob=0.0)(dict(img=img))
    assert out['flip'] is False and out['img'] is img
    with pytest.raises(ValueError, match='direction'):
        RandomFlip(direction='diagonal')
    with pytest.raises(ValueError, match='prob'):
        RandomFlip(prob=1.5)


def test_random_resized_crop_output_size():
    np.random.seed(0)
    t = RandomResizedCrop((5, 7))
    for _ in range(10):
        out = t(dict(img=_arange(32, 20, 3)))
        assert out['img'].shape == (5, 7, 3) and out['img_shape'] == (5, 7)
    assert RandomResizedCrop(4)(dict(img=_arange(9, 9)[..., None]))[
        'img'].shape == (4, 4, 1)
    # scale (1, 1) and ratio (1, 1) on a square image: the whole image
    img = _arange(6, 6, 3)
    out = RandomResizedCrop(6, scale=(1, 1), ratio=(1, 1),
                            interpolation='nearest')(dict(img=img))
    np.testing.assert_array_equal(out['img'], img)
    with pytest.raises(ValueError, match='scale and ratio'):
        RandomResizedCrop(4, scale=(1.0, 0.5))


def test_random_rotation():
    img = _arange(3, 3, 3)
    np.testing.assert_array_equal(
        RandomRotation(0)(dict(img=img))['img'], img)
    out = RandomRotation((180, 180))(dict(img=img))['img']
    assert out.shape == (3, 3, 3)
    np.testing.assert_array_equal(out, img[::-1, ::-1])
    # 90 degrees counter-clockwise
    out = RandomRotation((90, 90))(dict(img=_arange(3, 3)))['img']
    np.testing.assert_array_equal(out, np.rot90(_arange(3, 3)))
    # fill of the pixels rotated in from outside; (H, W, 1) is kept
    out = RandomRotation((45, 45), fill=7)(
        dict(img=np.zeros((9, 9, 1), np.uint8)))['img']
    assert out.shape == (9, 9, 1) and out[0, 0, 0] == 7 and out[4, 4, 0] == 0
    with pytest.raises(ValueError, match='non-negative'):
        RandomRotation(-3)


def test_color_jitter():
    img = np.array([[[10, 100, 200], [0, 128, 255]]], np.uint8)
    out = ColorJitter()(dict(img=img))['img']
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, img)
    out = ColorJitter(brightness=(2, 2))(dict(img=img))['img']
    np.testing.assert_array_equal(out, [[[20, 200, 255], [0, 255, 255]]])
    # saturation 0: every pixel becomes its grey level
    out = ColorJitter(saturation=(0, 0))(dict(img=img))['img']
    grey = np.rint(0.299 * 10 + 0.587 * 100 + 0.114 * 200)  # 84.49 -> 84
    assert out[0, 0].tolist() == [grey] * 3
    # hue shift by a full half turn twice is the identity (up to rounding)
    np.random.seed(0)
    out = ColorJitter(hue=(0.5, 0.5))(dict(img=img))['img']
    back = ColorJitter(hue=(0.5, 0.5))(dict(img=out))['img']
    assert np.abs(back.astype(int) - img).max() <= 1
    with pytest.raises(ValueError, match='brightness=-1'):
        ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match='hue'):
        ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match='HxWx3'):
        ColorJitter()(dict(img=np.zeros((2, 2), np.uint8)))


def test_build_from_registry():
    t = TRANSFORMS.build(dict(type='Resize', size=4))
    assert isinstance(t, Resize) and t.size == 4
    assert t(dict(img=np.zeros((8, 16, 3), np.uint8)))['img'].shape == (4, 8,
                                                                        3)
    assert 'Resize(size=4' in repr(t)
    for name in ('LoadImageFromFile', 'PackInputs', 'CenterCrop',
                 'RandomCrop', 'RandomFlip', 'RandomResizedCrop',
                 'RandomRotation', 'ColorJitter'):
        assert TRANSFORMS.get(name) is not None, name
