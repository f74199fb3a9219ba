"""Classifying model inputs with the shipped model, for the command lines (never for `segment`).

The model package is imported only when a predictor is loaded, so `import segmentation`
stays free of it.
"""

from __future__ import annotations

import numpy as np


def load_classifier(model_path=None, output_size: int = 28):
    """Loads the predictor; raises RuntimeError with what to do when the model is not usable.

    output_size is the side of the inputs the segmentation makes; the model reads 28x28.
    """
    from model.predictor import INPUT_SHAPE, ModelLoadError, load_predictor

    if (output_size, output_size) != INPUT_SHAPE:
        raise RuntimeError(f"Cannot classify {output_size}x{output_size} inputs: the model "
                           f"reads {INPUT_SHAPE[0]}x{INPUT_SHAPE[1]} images. Leave --output-size "
                           f"at {INPUT_SHAPE[0]} to classify.")
    try:
        return load_predictor(model_path)
    except ModelLoadError as error:
        raise RuntimeError(f"Cannot classify: {error}") from error


def classify(predictor, model_inputs: np.ndarray, flip: bool = False) -> np.ndarray:
    """Class probabilities (N, 10) for uint8 (N, 28, 28) inputs; flip adds mirror images."""
    from model.predictor import predict_with_flip

    model_inputs = np.ascontiguousarray(model_inputs, dtype=np.uint8)
    if flip:
        return predict_with_flip(predictor, model_inputs)
    return predictor.predict(model_inputs)


def top_classes(probabilities: np.ndarray, count: int = 3) -> list[tuple[int, float]]:
    """The count most likely (class index, probability) pairs of one probability vector."""
    order = np.argsort(probabilities)[::-1][:count]
    return [(int(index), float(probabilities[index])) for index in order]
