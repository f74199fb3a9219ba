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


def load_taught_examples(predictor, folder, config, flip: bool = False):
    """The taught examples of a folder (model.taught) for --taught DIR; skipped files
    are reported on stderr. Raises RuntimeError when the model gives no embedding or the
    folder does not exist."""
    import sys
    from pathlib import Path

    from model.taught import load_taught

    if getattr(predictor, "embedding_size", None) is None:
        raise RuntimeError(f"Cannot use --taught: the model {predictor.path} gives no "
                           "embedding; export it again with `python -m model.export "
                           "MODEL.keras --out MODEL.tflite` and pass --model MODEL.tflite.")
    if not Path(folder).is_dir():
        raise RuntimeError(f"Cannot use --taught: {folder} is not a folder (it should hold "
                           "sub-folders named 0-9, as the app saves them).")
    taught = load_taught(folder, predictor, config, flip)
    for message in taught.skipped:
        print(message, file=sys.stderr)
    print(f"{len(taught)} taught example(s) from {folder}", file=sys.stderr)
    return taught


def classify_with_taught(predictor, model_inputs: np.ndarray, taught,
                         flip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (N, 10) after the taught examples' rule, and which inputs a taught
    example decided (N,) bool: one inference for probabilities and embeddings."""
    from model.taught import embed

    probabilities, embeddings = embed(predictor, model_inputs, flip)
    return taught.decide_batch(embeddings, probabilities)


def top_classes(probabilities: np.ndarray, count: int = 3) -> list[tuple[int, float]]:
    """The count most likely (class index, probability) pairs of one probability vector."""
    order = np.argsort(probabilities)[::-1][:count]
    return [(int(index), float(probabilities[index])) for index in order]
