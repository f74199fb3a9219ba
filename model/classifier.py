"""Classifying 28x28 model inputs as the app does, for the command lines and evaluation.

    predictor = load_classifier(arguments.model)          # calibrated, see model.calibration
    probabilities = classify(predictor, inputs, flip_averaging=True)   # float32 (N, 10)
    record = answer_fields(probabilities[0], arguments.threshold)

add_classifier_arguments gives every command line the same options with the app's
defaults: flip averaging on (an input and its mirror image, averaged) and the not-sure
threshold model.classes.ANSWER_THRESHOLD, so a command line answers as the window does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from model.classes import (ANSWER_THRESHOLD, NODES, most_specific_node,
                           node_probabilities)
from model.predictor import (INPUT_SHAPE, ModelLoadError, load_predictor, predict_with_flip)
from model.taught import NOTHING, embed, load_taught


def add_classifier_arguments(parser: argparse.ArgumentParser, model_help: str) -> None:
    """--model, --flip-averaging / --no-flip-averaging (alias --flip-tta) and --threshold."""
    parser.add_argument("--model", type=Path, metavar="FILE", help=model_help)
    parser.add_argument("--flip-averaging", "--flip-tta", dest="flip_averaging",
                        action=argparse.BooleanOptionalAction, default=True,
                        help="average the answers for each input and its mirror image, as the "
                             "app does (default: on)")
    parser.add_argument("--threshold", type=float, default=ANSWER_THRESHOLD,
                        help="summed probability from which a class or group (e.g. Footwear) "
                             "is the answer; below it for all, 'not sure' (default: "
                             f"{ANSWER_THRESHOLD}, as the app)")


def check_threshold(threshold: float) -> None:
    """Raises ValueError unless 0 < threshold <= 1."""
    if not 0 < threshold <= 1:
        raise ValueError(f"--threshold must be above 0 and at most 1, got {threshold}.")


def answer_fields(probabilities: np.ndarray | None, threshold: float) -> dict:
    """The shown answer for one probability vector (10,) (None: nothing classified):
    {"answer": node name or None, "answer_classes": class indices ([] when not sure),
    "answer_confidence": the node's summed probability, or None}."""
    if probabilities is None:
        return {"answer": None, "answer_classes": [], "answer_confidence": None}
    node = most_specific_node(probabilities, threshold)
    if node is None:
        return {"answer": None, "answer_classes": [], "answer_confidence": None}
    return {"answer": NODES[node].name, "answer_classes": list(NODES[node].classes),
            "answer_confidence": round(float(node_probabilities(probabilities)[node]), 5)}


def load_classifier(model_path=None, output_size: int = 28):
    """Loads the predictor; raises RuntimeError with what to do when the model is not usable.

    output_size is the side of the inputs the segmentation makes; the model reads 28x28.
    """
    if (output_size, output_size) != INPUT_SHAPE:
        raise RuntimeError(f"Cannot classify {output_size}x{output_size} inputs: the model "
                           f"reads {INPUT_SHAPE[0]}x{INPUT_SHAPE[1]} images. Leave --output-size "
                           f"at {INPUT_SHAPE[0]} to classify.")
    try:
        return load_predictor(model_path)
    except ModelLoadError as error:
        raise RuntimeError(f"Cannot classify: {error}") from error


def classify(predictor, model_inputs: np.ndarray, flip_averaging: bool = True) -> np.ndarray:
    """Class probabilities float32 (N, 10) for uint8 (N, 28, 28) inputs; flip_averaging
    averages each input with its mirror image in one batch."""
    model_inputs = np.ascontiguousarray(model_inputs, dtype=np.uint8)
    if flip_averaging:
        return predict_with_flip(predictor, model_inputs)
    return predictor.predict(model_inputs)


def load_taught_examples(predictor, folder, config, flip_averaging: bool = True):
    """The taught examples of a folder (model.taught) for --taught DIR; skipped files
    are reported on stderr. Raises RuntimeError when the model gives no embedding or the
    folder does not exist."""
    if getattr(predictor, "embedding_size", None) is None:
        raise RuntimeError(f"Cannot use --taught: the model {predictor.path} gives no "
                           "embedding; export it again with `python -m model.export "
                           "MODEL.keras --out MODEL.tflite` and pass --model MODEL.tflite.")
    if not Path(folder).is_dir():
        raise RuntimeError(f"Cannot use --taught: {folder} is not a folder (it should hold "
                           "sub-folders named 0-9, as the app saves them).")
    taught = load_taught(folder, predictor, config, flip_averaging)
    for message in taught.skipped:
        print(message, file=sys.stderr)
    print(f"{len(taught)} taught example(s) from {folder}", file=sys.stderr)
    return taught


def classify_with_taught(predictor, model_inputs: np.ndarray, taught,
                         flip_averaging: bool = True
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The taught examples' rule on N inputs, from one inference for probabilities and
    embeddings: (probabilities float32 (N, 10) after the rule, which inputs a taught class
    decided bool (N,), which inputs a "nothing" example decided bool (N,): no garment)."""
    probabilities, embeddings = embed(predictor, model_inputs, flip_averaging)
    decided, taught_class = taught.decide_batch(embeddings, probabilities)
    similarity, classes = taught.nearest(embeddings)
    nothing = (similarity >= taught.threshold) & (classes == NOTHING)
    return decided, taught_class, nothing


def top_classes(probabilities: np.ndarray, count: int = 3) -> list[tuple[int, float]]:
    """The count most likely (class index, probability) pairs of one probability vector."""
    order = np.argsort(probabilities)[::-1][:count]
    return [(int(index), float(probabilities[index])) for index in order]
