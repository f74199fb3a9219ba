"""Classifying one 28x28 model input as the app does: the one path from model input to the
probabilities behind the shown answer, used by the app's per-frame work, the command lines
and the scoring of labelled photos.

    predictor = load_classifier(arguments.model)          # calibrated, see model.calibration
    result = classify_input(predictor, model_input, flip_averaging=True, taught=taught)
    result.probabilities                                  # float32 (10,), or None: no garment
    record = answer_fields(result.probabilities, arguments.threshold)

add_classifier_arguments gives every command line the same options with the app's
defaults: flip averaging on (an input and its mirror image, averaged) and the not-sure
threshold model.classes.ANSWER_THRESHOLD, so a command line answers as the window does.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.calibration import warn_uncalibrated
from model.classes import (ANSWER_THRESHOLD, NODES, most_specific_node,
                           node_probabilities)
from model.predictor import (INPUT_SHAPE, ModelLoadError, load_predictor, predict_with_flip,
                             predict_with_flip_and_embedding)
from model.taught import TaughtDecision, TaughtExamples, load_taught


@dataclass(frozen=True)
class Classification:
    # float32 (10,): the calibrated probabilities behind the answer (a taught class's one-hot
    # vector when a taught example decided), or None when a taught "nothing" example decided
    # that there is no garment.
    probabilities: np.ndarray | None
    # float32 (D,): the input's embedding, or None without taught examples or a detector of
    # other garments.
    embedding: np.ndarray | None = None
    # What the taught examples made of the input, or None without them.
    decision: TaughtDecision | None = None
    # The chance that the garment is none of the ten classes (model.other_garments), or None
    # without a detector, or when a taught example decided.
    other_score: float | None = None
    # True when other_score reaches the detector's threshold: for this input alone, the
    # answer is "not one of the ten".
    other: bool = False


def classify_input(predictor, model_input: np.ndarray, flip_averaging: bool = True,
                   taught: TaughtExamples | None = None) -> Classification:
    """One uint8 (28, 28) model input classified as the app does, in one inference: with flip
    averaging, the input and its mirror image in one batch; with taught examples (the
    predictor must give embeddings), the nearest one may decide (model.taught); with the
    predictor's detector of other garments (predictor.other_garments), the same inference
    gives its score."""
    images = np.ascontiguousarray(model_input, dtype=np.uint8)[np.newaxis]
    detector = getattr(predictor, "other_garments", None)
    if taught is None and detector is None:
        if flip_averaging:
            return Classification(predict_with_flip(predictor, images)[0])
        return Classification(predictor.predict(images)[0])
    probabilities, embeddings = (predict_with_flip_and_embedding(predictor, images)
                                 if flip_averaging else predictor.predict_with_embedding(images))
    decision = None if taught is None else taught.decide(embeddings[0], probabilities[0])
    other_score = None if detector is None or (decision is not None and decision.taught) \
        else detector.score(embeddings[0])
    other = other_score is not None and other_score >= detector.threshold
    if decision is None:
        return Classification(probabilities[0], embeddings[0], None, other_score, other)
    return Classification(None if decision.nothing else decision.probabilities,
                          embeddings[0], decision, other_score, other)


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


def answer_fields(probabilities: np.ndarray | None, threshold: float,
                  other_score: float | None = None, other: bool = False) -> dict:
    """The shown answer for one probability vector (10,) (None: nothing classified):
    {"answer": node name or None, "answer_classes": class indices ([] when not sure or none of
    the ten), "answer_confidence": the node's summed probability, or None, "other_garment":
    whether the garment is shown as none of the ten (other, from Classification.other; then
    "answer" is None), "other_score": other_score rounded, or None without a detector}."""
    fields = {"answer": None, "answer_classes": [], "answer_confidence": None,
              "other_garment": bool(probabilities is not None and other),
              "other_score": None if other_score is None else round(float(other_score), 5)}
    if probabilities is None or other:
        return fields
    node = most_specific_node(probabilities, threshold)
    if node is None:
        return fields
    return {**fields, "answer": NODES[node].name, "answer_classes": list(NODES[node].classes),
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
        predictor = load_predictor(model_path)
    except ModelLoadError as error:
        raise RuntimeError(f"Cannot classify: {error}") from error
    if getattr(predictor, "temperature", None) is None:  # A .keras file: not calibrated.
        warn_uncalibrated(f"{model_path} is a Keras model, which the app does not run; the "
                          "threshold is chosen for the calibrated .tflite export")
    return predictor


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


def top_classes(probabilities: np.ndarray, count: int = 3) -> list[tuple[int, float]]:
    """The count most likely (class index, probability) pairs of one probability vector."""
    order = np.argsort(probabilities)[::-1][:count]
    return [(int(index), float(probabilities[index])) for index in order]
