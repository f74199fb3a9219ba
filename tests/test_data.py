"""The offline Fashion-MNIST loader, on IDX files the tests write and on the real dataset."""

import gzip
import struct

import numpy as np
import pytest

from model import data
from model.classes import CLASS_NAMES, NUM_CLASSES, group_of
from model.data import DatasetError, load_fashion_mnist, read_idx


def write_idx(path, array, magic=None, count=None, compress=None):
    """Writes an IDX file; magic and count can be set wrong on purpose."""
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else 2048 + array.ndim
    count = count if count is not None else array.shape[0]
    header = struct.pack(">II", magic, count) + struct.pack(">" + "I" * (array.ndim - 1),
                                                            *array.shape[1:])
    payload = header + array.tobytes()
    compress = str(path).endswith(".gz") if compress is None else compress
    with (gzip.open(path, "wb", compresslevel=1) if compress else open(path, "wb")) as file:
        file.write(payload)
    return path


def write_dataset(directory, compress=True, train_count=60000, test_count=10000):
    """Writes a full-size synthetic dataset (the loader checks the real counts)."""
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    rng = np.random.default_rng(0)
    for prefix, count in (("train", train_count), ("t10k", test_count)):
        images = np.zeros((count, 28, 28), np.uint8)
        images[:, 10, 10] = rng.integers(0, 256, count)
        write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(count) % 10)
    return directory


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No dataset in the usual places: the Debian folder and Keras' cache point to empty folders."""
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setattr(data, "KERAS_CACHE_DIR", tmp_path / "keras")
    monkeypatch.delenv(data.ENVIRONMENT_VARIABLE, raising=False)
    return tmp_path


@pytest.mark.parametrize("name", ["images-idx3-ubyte.gz", "images-idx3-ubyte"])
def test_read_idx_reads_gzip_and_plain(tmp_path, name):
    images = np.arange(5 * 28 * 28, dtype=np.int64).reshape(5, 28, 28) % 256
    path = write_idx(tmp_path / name, images)
    loaded = read_idx(path, 2051, 5, (28, 28))
    assert loaded.dtype == np.uint8 and loaded.shape == (5, 28, 28)
    np.testing.assert_array_equal(loaded, images)


def test_read_idx_reads_labels(tmp_path):
    path = write_idx(tmp_path / "labels.gz", [3, 1, 4, 1, 5])
    np.testing.assert_array_equal(read_idx(path, 2049, 5, ()), [3, 1, 4, 1, 5])


def test_truncated_file_names_the_file(tmp_path):
    path = write_idx(tmp_path / "cut-images-idx3-ubyte", np.zeros((5, 28, 28)))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match=r"cut-images-idx3-ubyte.*truncated"):
        read_idx(path, 2051, 5, (28, 28))


def test_truncated_gzip_stream_is_reported(tmp_path):
    path = write_idx(tmp_path / "broken.gz", np.full((50, 28, 28), 7))
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DatasetError, match="broken.gz"):
        read_idx(path, 2051, 50, (28, 28))


def test_wrong_magic_is_reported(tmp_path):
    path = write_idx(tmp_path / "odd", np.zeros((5, 28, 28)), magic=2051 + 256)
    with pytest.raises(DatasetError, match="magic number is 2307"):
        read_idx(path, 2051)


def test_labels_file_where_images_expected_is_reported(tmp_path):
    path = write_idx(tmp_path / "labels", np.zeros(5))
    with pytest.raises(DatasetError, match="expected 2051"):
        read_idx(path, 2051)


def test_count_mismatch_is_reported(tmp_path):
    path = write_idx(tmp_path / "few", np.zeros((5, 28, 28)))
    with pytest.raises(DatasetError, match="holds 5 items, expected 60000"):
        read_idx(path, 2051, 60000, (28, 28))


def test_header_count_larger_than_payload_is_truncation(tmp_path):
    path = write_idx(tmp_path / "liar", np.zeros((5, 28, 28)), count=6)
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(path, 2051, 6, (28, 28))


def test_missing_dataset_lists_places_and_says_how_to_get_it(nowhere):
    with pytest.raises(DatasetError) as raised:
        load_fashion_mnist()
    message = str(raised.value)
    for place in ("debian", "keras"):
        assert str(nowhere / place) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "--download" in message


def test_a_missing_explicit_directory_is_an_error_not_a_fallback(nowhere):
    write_dataset(nowhere / "debian")
    with pytest.raises(DatasetError) as raised:
        load_fashion_mnist(nowhere / "typo")
    assert str(nowhere / "typo") in str(raised.value)
    assert str(nowhere / "debian") not in str(raised.value)
    assert load_fashion_mnist().directory == nowhere / "debian"


def test_explicit_directory_then_environment_variable(nowhere, monkeypatch):
    explicit = write_dataset(nowhere / "explicit", compress=False)
    from_environment = write_dataset(nowhere / "environment", compress=True)
    monkeypatch.setenv(data.ENVIRONMENT_VARIABLE, str(from_environment))
    assert load_fashion_mnist(explicit).directory == explicit
    loaded = load_fashion_mnist()
    assert loaded.directory == from_environment
    assert loaded.train_images.shape == (60000, 28, 28)
    assert loaded.test_labels.shape == (10000,)
    assert loaded.train_images.dtype == np.uint8


def test_partial_folder_is_skipped_with_what_is_missing(nowhere):
    folder = write_dataset(nowhere / "partial")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="missing t10k-labels-idx1-ubyte"):
        load_fashion_mnist(folder)


def test_checksum_depends_on_content(nowhere):
    first = load_fashion_mnist(write_dataset(nowhere / "a"))
    folder = write_dataset(nowhere / "b")
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", (np.arange(10000) + 1) % 10)
    assert first.checksum != load_fashion_mnist(folder).checksum


def test_class_names_and_groups():
    assert len(CLASS_NAMES) == NUM_CLASSES == 10
    assert CLASS_NAMES[0] == "T-shirt/top" and CLASS_NAMES[9] == "Ankle boot"
    assert [group_of(index) for index in (0, 1, 3, 5, 8)] == \
        ["tops", "bottoms", "dresses", "footwear", "bags"]
    with pytest.raises(ValueError):
        group_of(10)


@pytest.mark.dataset
def test_real_dataset_shapes_and_label_counts(fashion_mnist):
    assert fashion_mnist.train_images.shape == (60000, 28, 28)
    assert fashion_mnist.train_labels.shape == (60000,)
    assert fashion_mnist.test_images.shape == (10000, 28, 28)
    assert fashion_mnist.test_labels.shape == (10000,)
    assert np.bincount(fashion_mnist.train_labels).tolist() == [6000] * 10
    assert np.bincount(fashion_mnist.test_labels).tolist() == [1000] * 10
