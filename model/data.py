"""Offline loading of Fashion-MNIST from its four IDX files, gzip or plain.

    python -m model.data                 # where the dataset was found, shapes, checksum
    python -m model.data --download      # allow Keras to fetch it (needs internet)

Search order: an explicit directory (then only it), $FASHION_MNIST_DIR, the Debian package
`dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist), Keras' cache
(~/.keras/datasets/fashion-mnist). Nothing is downloaded unless asked for.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_CACHE_DIR = Path.home() / ".keras" / "datasets" / "fashion-mnist"
ENVIRONMENT_VARIABLE = "FASHION_MNIST_DIR"

# File stem, IDX magic number, expected count, item shape.
FILES = {
    "train_images": ("train-images-idx3-ubyte", 2051, 60000, (28, 28)),
    "train_labels": ("train-labels-idx1-ubyte", 2049, 60000, ()),
    "test_images": ("t10k-images-idx3-ubyte", 2051, 10000, (28, 28)),
    "test_labels": ("t10k-labels-idx1-ubyte", 2049, 10000, ()),
}

HOW_TO_GET_IT = (
    "Install it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), "
    f"or point ${ENVIRONMENT_VARIABLE} at a folder holding the four IDX files, "
    "or, when online, run `python -m model.data --download` to let Keras fetch it."
)


class DatasetError(RuntimeError):
    """The dataset is missing, truncated or not Fashion-MNIST."""


@dataclass(frozen=True)
class FashionMnist:
    train_images: np.ndarray  # uint8, (60000, 28, 28).
    train_labels: np.ndarray  # uint8, (60000,).
    test_images: np.ndarray  # uint8, (10000, 28, 28).
    test_labels: np.ndarray  # uint8, (10000,).
    directory: Path  # Where the files were read from.
    checksum: str  # SHA-256 over the four arrays, to pin the data in a model card.


def candidate_directories(directory: str | os.PathLike | None = None) -> list[Path]:
    """Returns the folders searched for the dataset, in order.

    A folder given explicitly is the only one searched, so that a mistyped path is an error
    rather than a silent switch to another copy.
    """
    if directory is not None:
        return [Path(directory)]
    candidates = []
    if os.environ.get(ENVIRONMENT_VARIABLE):
        candidates.append(Path(os.environ[ENVIRONMENT_VARIABLE]))
    candidates += [DEBIAN_DIR, KERAS_CACHE_DIR]
    return candidates


def find_file(directory: Path, stem: str) -> Path | None:
    """Returns the gzip or plain IDX file with this stem in a folder, if there is one."""
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


def read_idx(path: str | os.PathLike, expected_magic: int | None = None,
             expected_count: int | None = None,
             expected_item_shape: tuple | None = None) -> np.ndarray:
    """Reads one IDX file (gzip or plain) of unsigned bytes and checks its header."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"{path}: cannot be read ({error}). {HOW_TO_GET_IT}") from error
    if len(data) < 8:
        raise DatasetError(f"{path}: only {len(data)} bytes, too short for an IDX header.")
    magic, count = struct.unpack(">II", data[:8])
    if magic not in (2049, 2051) or (expected_magic is not None and magic != expected_magic):
        wanted = expected_magic if expected_magic is not None else "2049 or 2051"
        raise DatasetError(f"{path}: magic number is {magic}, expected {wanted}; "
                           "this is not an IDX file of the right kind.")
    dimensions = magic - 2048
    header_size = 4 + 4 * dimensions
    if len(data) < header_size:
        raise DatasetError(f"{path}: header is truncated.")
    shape = struct.unpack(">" + "I" * dimensions, data[4:header_size])
    if expected_count is not None and count != expected_count:
        raise DatasetError(f"{path}: holds {count} items, expected {expected_count}.")
    if expected_item_shape is not None and tuple(shape[1:]) != tuple(expected_item_shape):
        raise DatasetError(f"{path}: items have shape {tuple(shape[1:])}, "
                           f"expected {tuple(expected_item_shape)}.")
    expected_bytes = int(np.prod(shape))
    payload = np.frombuffer(data, dtype=np.uint8, offset=header_size)
    if payload.size != expected_bytes:
        raise DatasetError(f"{path}: truncated or padded: {payload.size} bytes of data "
                           f"after the header, expected {expected_bytes}.")
    return payload.reshape(shape)


def load_fashion_mnist(directory: str | os.PathLike | None = None) -> FashionMnist:
    """Loads the four arrays from the first folder that holds all four files."""
    searched = []
    for candidate in candidate_directories(directory):
        if not candidate.is_dir():
            searched.append(f"  {candidate}: no such folder")
            continue
        paths = {key: find_file(candidate, stem) for key, (stem, *_) in FILES.items()}
        if all(paths.values()):
            return _read_all(candidate, paths)
        missing = [FILES[key][0] for key, path in paths.items() if path is None]
        searched.append(f"  {candidate}: missing {', '.join(missing)}")
    raise DatasetError("Fashion-MNIST not found. Looked in:\n" + "\n".join(searched)
                       + "\n" + HOW_TO_GET_IT)


def _read_all(directory: Path, paths: dict) -> FashionMnist:
    arrays = {}
    for key, (stem, magic, count, item_shape) in FILES.items():
        arrays[key] = read_idx(paths[key], magic, count, item_shape)
    for split in ("train", "test"):
        if int(arrays[f"{split}_labels"].max()) > 9:
            raise DatasetError(f"{paths[split + '_labels']}: labels above 9; not Fashion-MNIST.")
    digest = hashlib.sha256()
    for key in FILES:
        digest.update(arrays[key].tobytes())
    return FashionMnist(**arrays, directory=directory, checksum=digest.hexdigest())


def split_indices(count: int, validation_size: int, split_seed: int, train_limit: int = 0):
    """Shuffled (train, validation) indices of the training set; validation only monitors.

    The split depends on split_seed alone, so a fine-tuning run with the same seed never
    trains on its start model's validation images. train_limit > 0 keeps only that many
    training images (for smoke runs).
    """
    if not 0 < validation_size < count:
        raise ValueError(f"validation_size must be between 1 and {count - 1}, "
                         f"got {validation_size}.")
    order = np.random.default_rng(split_seed).permutation(count)
    validation, train = order[:validation_size], order[validation_size:]
    if train_limit:
        train = train[:train_limit]
    return train, validation


def training_split(card: dict) -> tuple[int, int]:
    """(validation_size, split_seed): Fashion-MNIST's validation split as the run that wrote
    a model card held it out (its "training" options), so that what is checked or fitted on
    validation images never includes the model's own training images; model.train's
    defaults for a card without them. Raises ValueError when they are not whole numbers."""
    from model.config import TrainConfig

    defaults = TrainConfig()
    training = card.get("training")
    training = training if isinstance(training, dict) else {}
    size = training.get("validation_size", defaults.validation_size)
    seed = training.get("split_seed", defaults.split_seed)
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (size, seed)):
        raise ValueError(f"The model card's validation split ({size!r}, seed {seed!r}) is not "
                         "two whole numbers; fix its \"training\" entry.")
    return size, seed


def download_with_keras() -> Path:
    """Fetches the dataset through Keras into its cache; only called when asked for."""
    from keras.datasets import fashion_mnist  # Imported here: TensorFlow is slow to import.

    fashion_mnist.load_data()
    return KERAS_CACHE_DIR


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="folder holding the four IDX files")
    parser.add_argument("--download", action="store_true",
                        help="let Keras download the dataset into its cache (needs internet)")
    arguments = parser.parse_args(argv)
    if arguments.download:
        try:
            print(f"Downloaded to {download_with_keras()}")
        except Exception as error:  # Keras raises many kinds when offline or blocked.
            print(f"error: the download failed ({type(error).__name__}: {error}). Check the "
                  "internet connection, or install Debian's dataset-fashion-mnist package "
                  "and pass --data-dir.", file=sys.stderr)
            return 1
    try:
        dataset = load_fashion_mnist(arguments.data_dir)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Fashion-MNIST from {dataset.directory}")
    for key in FILES:
        print(f"  {key}: {getattr(dataset, key).shape}")
    print(f"  checksum: {dataset.checksum}")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
