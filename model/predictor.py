"""Class probabilities for 28x28 Fashion-MNIST-like images, for the app and the tools.

    from model.predictor import load_predictor
    probabilities = load_predictor().predict(images)   # uint8 (N, 28, 28) -> float32 (N, 10)

The LiteRT predictor is the default: one thread, about a millisecond an image, and no
TensorFlow import. The Keras predictor loads a `.keras` file and needs TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from model.classes import NUM_CLASSES
from model.paths import SHIPPED_TFLITE_MODEL

INPUT_SHAPE = (28, 28)


class ModelLoadError(RuntimeError):
    """The model file is missing, unreadable, or does not map (N, 28, 28, 1) to (N, 10)."""


def check_images(images: np.ndarray) -> np.ndarray:
    """Returns images as float32 (N, 28, 28, 1) with raw 0-255 values, or raises ValueError."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != INPUT_SHAPE:
        raise ValueError(f"Images must have shape (N, 28, 28), got {images.shape}.")
    if images.dtype != np.uint8:
        raise ValueError(f"Images must be uint8 with values 0-255, got {images.dtype}.")
    return images.astype(np.float32)[..., np.newaxis]


class LiteRtPredictor:
    """Runs a `.tflite` model with the LiteRT interpreter."""

    def __init__(self, path: str | os.PathLike = SHIPPED_TFLITE_MODEL, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelLoadError(f"Model file {self.path} does not exist. Train one with "
                                 "`python -m model.train` or pass the path of a .tflite file.")
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        except (ValueError, RuntimeError) as error:
            raise ModelLoadError(f"Model file {self.path} is not a valid LiteRT model "
                                 f"({error}).") from error
        input_detail = self.interpreter.get_input_details()[0]
        output_detail = self.interpreter.get_output_details()[0]
        if tuple(input_detail["shape"][1:]) != (28, 28, 1) or \
                int(output_detail["shape"][-1]) != NUM_CLASSES:
            raise ModelLoadError(
                f"Model file {self.path} maps {tuple(input_detail['shape'])} to "
                f"{tuple(output_detail['shape'])}; expected (N, 28, 28, 1) to (N, 10).")
        self.input_index = input_detail["index"]
        self.output_index = output_detail["index"]
        self.interpreter.allocate_tensors()
        self.batch_size = int(input_detail["shape"][0])

    def predict(self, images: np.ndarray) -> np.ndarray:
        batch = check_images(images)
        if batch.shape[0] != self.batch_size:
            self.interpreter.resize_tensor_input(self.input_index, batch.shape)
            self.interpreter.allocate_tensors()
            self.batch_size = batch.shape[0]
        self.interpreter.set_tensor(self.input_index, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index).copy()


class KerasPredictor:
    """Runs a `.keras` model by calling it directly (much faster than `model.predict`)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelLoadError(f"Model file {self.path} does not exist.")
        import keras

        try:
            self.model = keras.models.load_model(self.path, compile=False)
        except Exception as error:  # Keras raises many kinds for a bad file.
            raise ModelLoadError(f"Model file {self.path} cannot be loaded by Keras "
                                 f"({type(error).__name__}: {error}).") from error
        if tuple(self.model.input_shape[1:]) != (28, 28, 1) or \
                self.model.output_shape[-1] != NUM_CLASSES:
            raise ModelLoadError(f"Model file {self.path} maps {self.model.input_shape} to "
                                 f"{self.model.output_shape}; expected (N, 28, 28, 1) to (N, 10).")

    @classmethod
    def from_model(cls, model) -> "KerasPredictor":
        """A predictor for a Keras model already in memory (e.g. one being trained)."""
        predictor = cls.__new__(cls)
        predictor.path, predictor.model = None, model
        return predictor

    def predict(self, images: np.ndarray) -> np.ndarray:
        batch = check_images(images)
        return np.asarray(self.model(batch, training=False), dtype=np.float32)


def load_predictor(path: str | os.PathLike | None = None, threads: int = 1):
    """Loads a predictor for a `.tflite` (LiteRT) or `.keras` file; the shipped model by default."""
    path = Path(path) if path is not None else SHIPPED_TFLITE_MODEL
    if path.suffix == ".keras":
        return KerasPredictor(path)
    return LiteRtPredictor(path, threads=threads)


def predict_with_flip(predictor, images: np.ndarray) -> np.ndarray:
    """Averages the probabilities of the images and their mirror images (flip TTA)."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    both = np.concatenate([images, images[:, :, ::-1]])
    probabilities = predictor.predict(np.ascontiguousarray(both))
    count = images.shape[0]
    return (probabilities[:count] + probabilities[count:]) / 2


def predict_in_batches(predictor, images: np.ndarray, batch_size: int = 1000,
                       flip: bool = False, progress: str = "") -> np.ndarray:
    """Probabilities (N, 10) for many uint8 (N, 28, 28) images, a batch at a time.

    flip averages each image with its mirror image; progress, when given, names a progress
    line on stderr.
    """
    import sys

    batches = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        batches.append(predict_with_flip(predictor, batch) if flip else predictor.predict(batch))
        if progress:
            done = min(start + batch_size, len(images))
            print(f"\r  {progress}: {done}/{len(images)} images", end="", file=sys.stderr,
                  flush=True)
    if progress:
        print(file=sys.stderr)
    return np.concatenate(batches) if batches else np.zeros((0, NUM_CLASSES), np.float32)

