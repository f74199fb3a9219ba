"""Class probabilities for 28x28 Fashion-MNIST-like images, for the app and the tools.

    from model.predictor import load_predictor
    probabilities = load_predictor().predict(images)   # uint8 (N, 28, 28) -> float32 (N, 10)
    probabilities, embedding = predictor.predict_with_embedding(images)   # and (N, D)

The embedding is the output of the hidden dense layer that the classifier reads
(model.network.EMBEDDING_LAYER); taught examples are compared by it.

The LiteRT predictor is the default: one thread, about a millisecond an image, and no
TensorFlow import. The Keras predictor loads a `.keras` file and needs TensorFlow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from model.calibration import apply_temperature, stored_temperature
from model.classes import NUM_CLASSES
from model.other_garments import stored_detector
from model.paths import SHIPPED_TFLITE_MODEL

INPUT_SHAPE = (28, 28)
# Largest deviation allowed from probabilities: outputs must be at least -tolerance and each
# row must sum to 1 within it.
PROBABILITY_TOLERANCE = 1e-3


class ModelLoadError(RuntimeError):
    """The model file is missing, unreadable, does not map (N, 28, 28, 1) to (N, 10), or does
    not output probabilities."""


def model_file(path: str | os.PathLike) -> Path:
    """The path of an existing model file; raises ModelLoadError saying what is there instead."""
    path = Path(path)
    if path.is_dir():
        raise ModelLoadError(f"{path} is a folder; pass the path of a model file "
                             "(.tflite or .keras).")
    if not path.is_file():
        raise ModelLoadError(f"Model file {path} does not exist. Train one with "
                             "`python -m model.train` or pass the path of a .tflite file.")
    return path


def shape_text(shape) -> str:
    """A shape as plain numbers, e.g. (1, 28, 28, 1)."""
    return str(tuple(int(side) for side in shape))


# A fully integer (int8) model's softmax comes in steps of 1/256: each of the ten outputs may
# be off by half a step, so a row may add up to 1 +- 10/512 (0.996-1.008 seen). Such a model
# is checked with this bound, and its rows are renormalised to add up to 1.
QUANTISED_SUM_TOLERANCE = NUM_CLASSES / 512
INTEGER_TYPES = (np.dtype(np.uint8), np.dtype(np.int8))  # Quantised tensors that LiteRT runs.


def quantisation_of(detail: dict, what: str, path) -> tuple[float, int] | None:
    """(scale, zero point) of an integer input or output of a LiteRT model; None when it is
    float32. A uint8 input without quantisation takes the raw 0-255 pixels (scale 1).

    Raises ModelLoadError for another type, or an integer tensor without quantisation.
    """
    dtype = np.dtype(detail["dtype"])
    if dtype == np.float32:
        return None
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if dtype in INTEGER_TYPES and scale > 0:
        return float(scale), int(zero_point)
    if dtype == np.uint8 and what == "input":
        return 1.0, 0
    plain = " without quantisation parameters" if dtype in INTEGER_TYPES else ""
    raise ModelLoadError(f"Model file {path}: its {what} is {dtype.name}{plain}; FashionCam "
                         "runs models whose input and outputs are float32, or int8 or uint8 "
                         "with quantisation parameters. Export the model again with "
                         "`python -m model.export MODEL.keras --out MODEL.tflite`.")


def quantise(values: np.ndarray, quantisation, dtype: np.dtype) -> np.ndarray:
    """float32 values as an integer tensor's dtype: round(x / scale + zero point), clipped."""
    scale, zero_point = quantisation
    limits = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero_point), limits.min, limits.max).astype(dtype)


def dequantise(values: np.ndarray, quantisation) -> np.ndarray:
    """An output tensor as float32: (q - zero point) * scale; a copy of a float32 one."""
    if quantisation is None:
        return np.array(values, dtype=np.float32)
    scale, zero_point = quantisation
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)


def check_probabilities(predictor, path, tolerance: float = PROBABILITY_TOLERANCE) -> None:
    """Raises ModelLoadError unless the model's outputs for a few sample images are
    probabilities: finite, not negative, each row summing to 1 within tolerance (a model
    without its final softmax gives logits, which would be shown as confidences far above
    100%)."""
    random = np.random.default_rng(0)
    samples = np.concatenate([np.zeros((1, 28, 28)), np.full((1, 28, 28), 255),
                              random.integers(0, 256, (6, 28, 28))]).astype(np.uint8)
    outputs = np.asarray(predictor.predict(samples), dtype=np.float64)
    sums = outputs.sum(axis=1)
    if (not np.all(np.isfinite(outputs)) or outputs.min() < -tolerance
            or np.abs(sums - 1).max() > tolerance):
        raise ModelLoadError(
            f"Model file {path} does not output class probabilities: for sample images its "
            f"outputs range from {outputs.min():.4g} to {outputs.max():.4g} and add up to "
            f"{sums.min():.4g}-{sums.max():.4g} per image, where probabilities lie in 0-1 and "
            "add up to 1. Export a model whose last layer is a softmax.")


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


class EmbeddingUnavailableError(ModelLoadError):
    """The model gives probabilities only (a .tflite without the embedding output)."""


def find_outputs(output_details: list[dict]) -> tuple[dict, dict | None]:
    """(probabilities, embedding or None) among a LiteRT model's output details.

    LiteRT may reorder outputs and loses their names, so they are told apart by width: the
    probabilities are the output of width 10. A single output is the probabilities.
    """
    if len(output_details) == 1:
        return output_details[0], None
    widths = [int(detail["shape"][-1]) for detail in output_details]
    probabilities = [detail for detail, width in zip(output_details, widths)
                     if width == NUM_CLASSES]
    if len(output_details) != 2 or len(probabilities) != 1:
        raise ModelLoadError(f"The model has outputs of widths {widths}; expected one of width "
                             f"{NUM_CLASSES} (probabilities), optionally with one embedding.")
    embedding = next(detail for detail in output_details if detail is not probabilities[0])
    return probabilities[0], embedding


class LiteRtPredictor:
    """Runs a `.tflite` model with the LiteRT interpreter."""

    def __init__(self, path: str | os.PathLike = SHIPPED_TFLITE_MODEL, threads: int = 1,
                 temperature: float | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = model_file(path)
        # Calibration of the probabilities (model.calibration): the one stored for this file
        # in the card beside it, unless given; 1.0 gives the network's own probabilities.
        # Applied only after the check below, which must see the network's own outputs.
        calibration = stored_temperature(self.path) if temperature is None else temperature
        self.temperature = 1.0
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        except (ValueError, RuntimeError) as error:
            raise ModelLoadError(f"Model file {self.path} is not a valid LiteRT model "
                                 f"({error}).") from error
        try:
            probability_detail, embedding_detail = find_outputs(
                self.interpreter.get_output_details())
        except ModelLoadError as error:
            raise ModelLoadError(f"Model file {self.path}: {error}") from error
        input_detail = self.interpreter.get_input_details()[0]
        if tuple(input_detail["shape"][1:]) != (28, 28, 1) or \
                int(probability_detail["shape"][-1]) != NUM_CLASSES:
            raise ModelLoadError(
                f"Model file {self.path} maps {shape_text(input_detail['shape'])} to "
                f"{shape_text(probability_detail['shape'])}; expected (N, 28, 28, 1) to (N, 10).")
        self.input_index = input_detail["index"]
        self.output_index = probability_detail["index"]
        self.embedding_index = None if embedding_detail is None else embedding_detail["index"]
        # Width of the embedding, or None when the model gives probabilities only.
        self.embedding_size = None if embedding_detail is None else \
            int(embedding_detail["shape"][-1])
        # Integer inputs and outputs are quantised and dequantised here (None: float32).
        self.input_dtype = np.dtype(input_detail["dtype"])
        self.input_quantisation = quantisation_of(input_detail, "input", self.path)
        self.output_quantisation = quantisation_of(probability_detail, "probability output",
                                                   self.path)
        self.embedding_quantisation = None if embedding_detail is None else \
            quantisation_of(embedding_detail, "embedding output", self.path)
        self.interpreter.allocate_tensors()
        self.batch_size = int(input_detail["shape"][0])
        # Rows are renormalised only after the check, which must see the model's own sums.
        self.renormalise = False
        quantised = self.runs_integers()
        try:
            check_probabilities(self, self.path,
                                QUANTISED_SUM_TOLERANCE if quantised else PROBABILITY_TOLERANCE)
        except ModelLoadError:
            raise
        except (ValueError, RuntimeError) as error:  # LiteRT cannot run it on 28x28 images.
            raise ModelLoadError(f"Model file {self.path} cannot be run on 28x28 images "
                                 f"({error}).") from error
        self.renormalise = quantised
        self.temperature = calibration
        # The detector of garments that are none of the ten (model.other_garments), stored for
        # this file in the card beside it; None without one or without an embedding.
        self.other_garments = stored_detector(self.path, self.embedding_size)

    def runs_integers(self) -> bool:
        """Whether the model computes with quantised integer tensors (int8 or uint8)."""
        try:
            details = self.interpreter.get_tensor_details()
        except (ValueError, RuntimeError):
            return self.output_quantisation is not None
        return any(np.dtype(detail["dtype"]) in INTEGER_TYPES
                   and detail.get("quantization", (0.0, 0))[0] > 0 for detail in details)

    def probabilities(self) -> np.ndarray:
        """The probability output of the last invoke as float32 (N, 10), calibrated."""
        probabilities = dequantise(self.interpreter.get_tensor(self.output_index),
                                   self.output_quantisation)
        if self.renormalise:
            probabilities /= np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-6)
        return apply_temperature(probabilities, self.temperature)

    def _invoke(self, images: np.ndarray) -> None:
        batch = check_images(images)
        if batch.shape[0] != self.batch_size:
            self.interpreter.resize_tensor_input(self.input_index, batch.shape)
            self.interpreter.allocate_tensors()
            self.batch_size = batch.shape[0]
        if self.input_quantisation is not None:
            batch = quantise(batch, self.input_quantisation, self.input_dtype)
        self.interpreter.set_tensor(self.input_index, batch)
        self.interpreter.invoke()

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Calibrated probabilities: uint8 (N, 28, 28) -> float32 (N, 10)."""
        self._invoke(images)
        return self.probabilities()

    def predict_with_embedding(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, 10) and embeddings (N, D) from one invoke.

        Raises EmbeddingUnavailableError (before running) when the model has no embedding.
        """
        if self.embedding_index is None:
            raise EmbeddingUnavailableError(
                f"Model file {self.path} gives probabilities only, no embedding; export it "
                "again with `python -m model.export MODEL.keras --out MODEL.tflite`.")
        self._invoke(images)
        return (self.probabilities(),
                dequantise(self.interpreter.get_tensor(self.embedding_index),
                           self.embedding_quantisation))


class KerasPredictor:
    """Runs a `.keras` model by calling it directly (much faster than `model.predict`)."""

    def __init__(self, path: str | os.PathLike):
        self.path = model_file(path)
        try:
            import keras
        except ImportError as error:
            raise ModelLoadError(f"Model file {self.path} is a Keras model, which needs "
                                 "TensorFlow: install it with `pip install -e '.[train]'`, or "
                                 "pass the model's .tflite export instead.") from error
        try:
            self.model = keras.models.load_model(self.path, compile=False)
        except Exception as error:  # Keras raises many kinds for a bad file.
            raise ModelLoadError(f"Model file {self.path} cannot be loaded by Keras "
                                 f"({type(error).__name__}: {error}).") from error
        if tuple(self.model.input_shape[1:]) != (28, 28, 1) or \
                self.model.output_shape[-1] != NUM_CLASSES:
            raise ModelLoadError(f"Model file {self.path} maps {self.model.input_shape} to "
                                 f"{self.model.output_shape}; expected (N, 28, 28, 1) to (N, 10).")
        check_probabilities(self, self.path)

    @classmethod
    def from_model(cls, model) -> "KerasPredictor":
        """A predictor for a Keras model already in memory (e.g. one being trained)."""
        predictor = cls.__new__(cls)
        predictor.path, predictor.model = None, model
        return predictor

    def predict(self, images: np.ndarray) -> np.ndarray:
        batch = check_images(images)
        return np.asarray(self.model(batch, training=False), dtype=np.float32)

    @property
    def embedding_size(self) -> int | None:
        """Width of the embedding, or None when the model has no layer EMBEDDING_LAYER."""
        from model.network import EMBEDDING_LAYER

        names = {layer.name for layer in self.model.layers}
        return int(self.model.get_layer(EMBEDDING_LAYER).output.shape[-1]) \
            if EMBEDDING_LAYER in names else None

    def predict_with_embedding(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, 10) and embeddings (N, D) from one call of a two-output model.

        Raises EmbeddingUnavailableError when the model has no layer EMBEDDING_LAYER.
        """
        if self.embedding_size is None:
            raise EmbeddingUnavailableError(f"Model {self.path or self.model.name} has no "
                                            "embedding layer.")
        if getattr(self, "two_outputs", None) is None:
            from model.network import with_embedding  # needs TensorFlow, as this class does

            self.two_outputs = with_embedding(self.model)
        batch = check_images(images)
        probabilities, embedding = self.two_outputs(batch, training=False)
        return (np.asarray(probabilities, dtype=np.float32),
                np.asarray(embedding, dtype=np.float32))


def load_predictor(path: str | os.PathLike | None = None, threads: int = 1):
    """Loads a predictor for a `.tflite` (LiteRT) or `.keras` file; the shipped model by default."""
    path = Path(path) if path is not None else SHIPPED_TFLITE_MODEL
    if path.suffix == ".keras":
        return KerasPredictor(path)
    return LiteRtPredictor(path, threads=threads)


def with_mirror_images(images: np.ndarray) -> np.ndarray:
    """The uint8 (N, 28, 28) images followed by their mirror images: (2N, 28, 28)."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    return np.ascontiguousarray(np.concatenate([images, images[:, :, ::-1]]))


def average_halves(outputs: np.ndarray) -> np.ndarray:
    """The average of the first and second halves of a batch (an image and its mirror)."""
    count = outputs.shape[0] // 2
    return (outputs[:count] + outputs[count:]) / 2


def predict_with_flip(predictor, images: np.ndarray) -> np.ndarray:
    """Averages the probabilities of the images and their mirror images (flip TTA)."""
    return average_halves(predictor.predict(with_mirror_images(images)))


def predict_with_flip_and_embedding(predictor, images: np.ndarray
                                    ) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and embeddings, each averaged over the images and their mirror images,
    from one invoke: flip TTA with the embedding for taught examples."""
    probabilities, embedding = predictor.predict_with_embedding(with_mirror_images(images))
    return average_halves(probabilities), average_halves(embedding)


def predict_in_batches(predictor, images: np.ndarray, batch_size: int = 1000,
                       flip: bool = False, progress: str = "") -> np.ndarray:
    """Probabilities (N, 10) for many uint8 (N, 28, 28) images, a batch at a time.

    flip averages each image with its mirror image; progress, when given, names a progress
    bar on stderr.
    """
    batches = []
    with tqdm(total=len(images), desc=progress, unit="image", file=sys.stderr,
              disable=not progress) as bar:
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size]
            batches.append(predict_with_flip(predictor, batch) if flip
                           else predictor.predict(batch))
            bar.update(len(batch))
    return np.concatenate(batches) if batches else np.zeros((0, NUM_CLASSES), np.float32)

