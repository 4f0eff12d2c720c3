import gzip
import struct

import numpy as np
import pytest

from debiascls.datasets import DatasetError, read_idx, write_idx


@pytest.mark.parametrize('name', ['a-idx3-ubyte', 'a-idx3-ubyte.gz'])
def test_round_trip_uint8_images(tmp_path, name):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / name
    write_idx(path, images)
    out = read_idx(path, ndim=3)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize('dtype', [np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_round_trip_multibyte_types_native_endian(tmp_path, dtype):
    array = np.array([-3, 0, 7, 100], dtype=dtype)
    write_idx(tmp_path / 'x.gz', array)
    out = read_idx(tmp_path / 'x.gz', ndim=1)
    assert out.dtype == np.dtype(dtype)  # native byte order, not '>'
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_written_bytes_follow_the_format(tmp_path):
    write_idx(tmp_path / 'l', np.array([[1, 2, 3], [4, 5, 6]], np.uint8))
    raw = (tmp_path / 'l').read_bytes()
    # magic 00 00 08 02, sizes 2 and 3 big-endian, then the data in C order
    assert raw == (b'\x00\x00\x08\x02' + b'\x00\x00\x00\x02' +
                   b'\x00\x00\x00\x03' + bytes([1, 2, 3, 4, 5, 6]))
    write_idx(tmp_path / 'i', np.array([258], np.int32))
    assert (tmp_path / 'i').read_bytes() == (
        b'\x00\x00\x0c\x01' + b'\x00\x00\x00\x01' + b'\x00\x00\x01\x02')
    write_idx(tmp_path / 'g.gz', np.array([7], np.uint8))
    assert gzip.decompress((tmp_path / 'g.gz').read_bytes()) == \
        b'\x00\x00\x08\x01\x00\x00\x00\x01\x07'


def test_write_rejects_types_without_code(tmp_path):
    with pytest.raises(TypeError, match='int64'):
        write_idx(tmp_path / 'x', np.array([1, 2], np.int64))


def test_missing_file(tmp_path):
    path = tmp_path / 'nope-idx1-ubyte'
    with pytest.raises(DatasetError, match='does not exist') as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_bad_magic(tmp_path):
    path = tmp_path / 'bad-idx1-ubyte'
    path.write_bytes(b'\x01\x02\x08\x01' + struct.pack('>i', 1) + b'\x05')
    with pytest.raises(DatasetError, match='bad magic number 0x01020801') as e:
        read_idx(path)
    assert str(path) in str(e.value)
    # an unknown type code is a bad magic number as well
    path.write_bytes(b'\x00\x00\x07\x01' + struct.pack('>i', 1) + b'\x05')
    with pytest.raises(DatasetError, match='bad magic'):
        read_idx(path)
    # so is a file shorter than the magic number
    path.write_bytes(b'\x00\x00')
    with pytest.raises(DatasetError, match='bad magic'):
        read_idx(path)


def test_wrong_ndim(tmp_path):
    path = tmp_path / 'labels-idx1-ubyte'
    write_idx(path, np.zeros(5, np.uint8))
    assert read_idx(path, ndim=1).shape == (5, )
    with pytest.raises(DatasetError, match='has 1 dimensions') as e:
        read_idx(path, ndim=3)
    assert str(path) in str(e.value) and '3 were expected' in str(e.value)


def test_truncated_and_padded_plain_file(tmp_path):
    path = tmp_path / 'img-idx3-ubyte'
    write_idx(path, np.ones((3, 2, 2), np.uint8))
    raw = path.read_bytes()
    assert len(raw) == 16 + 12
    path.write_bytes(raw[:-1])
    with pytest.raises(DatasetError, match='has 27 bytes') as e:
        read_idx(path)
    assert 'truncated' in str(e.value) and str(path) in str(e.value)
    path.write_bytes(raw + b'\x00')
    with pytest.raises(DatasetError, match='padded'):
        read_idx(path)
    path.write_bytes(raw[:10])  # inside the three sizes of the header
    with pytest.raises(DatasetError, match='truncated inside its header') as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_truncated_gzip(tmp_path):
    path = tmp_path / 'img-idx3-ubyte.gz'
    write_idx(path, np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28))
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])
    with pytest.raises(DatasetError, match='corrupt or truncated') as e:
        read_idx(path)
    assert str(path) in str(e.value)
