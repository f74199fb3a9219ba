"""The int8 export: dynamic-range int8 weights, float input and output, checked against the
float32 export before either is written.

    python -m model.export MODEL.keras --quantize                 # MODEL.tflite (int8) and
                                                                  # MODEL_float32.tflite
    python -m model.export MODEL.keras --quantize --photos PHOTOS/validation \\
        --photo-labels PHOTOS/labels.csv                          # + top-class agreement

Weights are stored as int8 with a scale per output channel (tf.lite.Optimize.DEFAULT without
a representative dataset); activations stay float, so the model still takes raw 0-255 pixels
as float32 (N, 28, 28, 1) and gives float32 probabilities that sum to 1, and model.predictor
reads it as it reads the float model. The check: Fashion-MNIST validation accuracy (the split
model.train holds out) of the int8 model within MAX_ACCURACY_DROP of the float model's
(single pass and with flip averaging); the test set's figures are reported, never used to
decide. Given labelled photos, also how often the two name the same class through the app's
segmentation with flip averaging. The figures go into the model card under CARD_KEY; the
card's other fields are kept.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from model.data import split_indices, training_split
from model.paths import FLOAT_SUFFIX, read_card_file
from model.photos import load_photo_set
from model.predictor import LiteRtPredictor, ModelLoadError, predict_in_batches
from segmentation.files import write_bytes, write_text

CARD_KEY = "int8"  # The model card's entry for the int8 export.
MAX_ACCURACY_DROP = 0.001  # Fashion-MNIST validation accuracy may fall by 0.1 point at most.


def float_path(path: str | os.PathLike) -> Path:
    """The float32 export's path beside the int8 one: fashion_cnn.tflite ->
    fashion_cnn_float32.tflite."""
    path = Path(path)
    return path.with_name(path.stem + FLOAT_SUFFIX + path.suffix)


def fashion_mnist_accuracy(predictor, images: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy (fractions) of a predictor on uint8 (N, 28, 28) images, single pass and with
    flip averaging, and its int64 (N,) single-pass answers."""
    single = predict_in_batches(predictor, images).argmax(axis=1)
    flipped = predict_in_batches(predictor, images, flip=True).argmax(axis=1)
    return {"accuracy": float((single == labels).mean()),
            "accuracy_flip": float((flipped == labels).mean()),
            "answers": single}


def accuracy_figures(float_predictor, int8_predictor, images, labels) -> dict:
    """Both models' accuracies on one image set, and on how many images they agree."""
    first = fashion_mnist_accuracy(float_predictor, images, labels)
    second = fashion_mnist_accuracy(int8_predictor, images, labels)
    return {"images": int(len(labels)),
            "accuracy_float32": first["accuracy"], "accuracy_int8": second["accuracy"],
            "accuracy_flip_float32": first["accuracy_flip"],
            "accuracy_flip_int8": second["accuracy_flip"],
            "same_class": int((first["answers"] == second["answers"]).sum())}


def compare_on_photos(float_predictor, int8_predictor, directory, labels_file) -> dict:
    """How the int8 and float models answer on labelled photos seen through the app's
    segmentation (model.photos), with flip averaging: exact, group and the number of photos
    (where a garment is found) on which they name the same class."""
    photo_set = load_photo_set(directory, labels_file)
    if not len(photo_set.images):
        raise ValueError(f"No photos found in the labelled folders of {directory}; pass the "
                         "folder that holds them (e.g. PHOTOS/validation).")
    rows = np.arange(len(photo_set.images))
    answers = {name: predict_in_batches(predictor, photo_set.images, flip=True).argmax(axis=1)
               for name, predictor in (("float32", float_predictor), ("int8", int8_predictor))}
    figures = {"directory": str(directory),
               "photos": len(photo_set.images) + len(photo_set.left_out),
               "found": len(photo_set.images),
               "same_class": int((answers["float32"] == answers["int8"]).sum())}
    for name, answer in answers.items():
        figures[f"exact_{name}"] = int(photo_set.accepted[rows, answer].sum())
        figures[f"group_{name}"] = int(photo_set.group[rows, answer].sum())
    return figures


def compare_models(float_file: Path, int8_file: Path, dataset, photos=None,
                   photo_labels=None, split: tuple[int, int] = training_split({})) -> dict:
    """The card entry: sizes and accuracies of both exports on Fashion-MNIST's validation split
    (split: its size and seed, as the model's training run held it out; model.data.
    training_split), which decides, and on its test set, which is reported.
    Raises ValueError when the int8 model's validation accuracy (single pass or flip
    averaged) is more than MAX_ACCURACY_DROP below the float model's."""
    try:
        float_predictor, int8_predictor = LiteRtPredictor(float_file), LiteRtPredictor(int8_file)
    except ModelLoadError as error:
        raise ValueError(f"The export cannot be used: {error}") from error
    _, held_out = split_indices(len(dataset.train_labels), *split)
    validation = accuracy_figures(float_predictor, int8_predictor,
                                  dataset.train_images[held_out], dataset.train_labels[held_out])
    drop = max(validation["accuracy_float32"] - validation["accuracy_int8"],
               validation["accuracy_flip_float32"] - validation["accuracy_flip_int8"])
    if drop > MAX_ACCURACY_DROP:
        raise ValueError(f"The int8 model's Fashion-MNIST validation accuracy is "
                         f"{drop * 100:.2f} points below the float model's (allowed "
                         f"{MAX_ACCURACY_DROP * 100:.1f}); nothing was written. Ship the float "
                         "export instead.")
    entry = {
        "method": "dynamic-range int8 weights (tf.lite.Optimize.DEFAULT), float32 input and "
                  "output",
        "bytes_int8": int8_file.stat().st_size, "bytes_float32": float_file.stat().st_size,
        "fashion_mnist_validation": validation,
        "fashion_mnist_test": accuracy_figures(float_predictor, int8_predictor,
                                               dataset.test_images, dataset.test_labels),
    }
    if photos is not None:
        entry["photos"] = compare_on_photos(float_predictor, int8_predictor, photos,
                                            photo_labels)
    return entry


def write_checked(float_flatbuffer: bytes, int8_flatbuffer: bytes, out: Path, float_out: Path,
                  dataset, card_path: Path, photos=None, photo_labels=None) -> dict:
    """Writes the int8 flatbuffer to out and the float32 one to float_out once compare_models
    passes, and records the figures in the card; returns the card entry. Raises ValueError
    (nothing written) when the check fails. The float one must be checked against Keras
    already (model.export.check_export)."""
    try:  # Before any work: a broken card stops it here.
        card = read_card_file(card_path)
        split = training_split(card)
    except ValueError as error:
        raise ValueError(f"{error} Nothing was written.") from error
    with tempfile.TemporaryDirectory() as folder:
        float_file, int8_file = Path(folder) / "float32.tflite", Path(folder) / "int8.tflite"
        float_file.write_bytes(float_flatbuffer)
        int8_file.write_bytes(int8_flatbuffer)
        print("checking the int8 model against the float one ...", file=sys.stderr, flush=True)
        entry = compare_models(float_file, int8_file, dataset, photos, photo_labels, split)
    entry["file"], entry["float32_file"] = out.name, float_out.name
    write_bytes(float_out, float_flatbuffer)
    write_bytes(out, int8_flatbuffer)
    card[CARD_KEY] = entry  # The card's other fields are kept.
    write_text(card_path, json.dumps(card, indent=2) + "\n")
    return entry


def summary(entry: dict) -> str:
    """The card entry as a few lines of text."""
    test = entry["fashion_mnist_test"]
    lines = [f"int8 {entry['bytes_int8']:,} bytes, float32 {entry['bytes_float32']:,} bytes",
             f"Fashion-MNIST test ({test['images']:,} images): float32 "
             f"{test['accuracy_float32'] * 100:.2f}%, int8 {test['accuracy_int8'] * 100:.2f}%; "
             f"flip averaging {test['accuracy_flip_float32'] * 100:.2f}% / "
             f"{test['accuracy_flip_int8'] * 100:.2f}%; same class on {test['same_class']:,}"]
    if "photos" in entry:
        photos = entry["photos"]
        lines.append(f"photos ({photos['photos']}, garment found in {photos['found']}): same "
                     f"class on {photos['same_class']}; exact {photos['exact_float32']} -> "
                     f"{photos['exact_int8']}, group {photos['group_float32']} -> "
                     f"{photos['group_int8']}")
    return "\n".join(lines)
