"""Garments that are none of the ten classes (hats, shorts, skirts): a linear detector on the
network's embedding, and where it is kept.

    detector = stored_detector("assets/fashion_cnn.tflite", embedding_size=256)  # or None
    scores = detector.scores(embeddings)       # float (N, D) -> float32 (N,), each in [0, 1]
    scores >= detector.threshold               # the app says NOT_ONE_OF_THE_TEN

The detector is a logistic regression of "a garment of none of the ten classes" against "a
garment of one of them" on the flip-averaged embedding of the 28x28 input (the input of the
network's classifier layer), fitted on the training photos by `python -m
model.fit_other_garments`, which also chooses its threshold on the validation photos: the
lowest at which the seven labelled folders keep every right answer and get no new wrong one.

It is stored in the model card next to the model file, under "other_garments", keyed by the
model file's name and tied to its SHA-256, as the calibration is (model.calibration): another
file, or the same name with other contents, gets no detector. Numpy only: the app imports it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.paths import CardEntryError, stored_card_entry
from segmentation.files import sha256_of_file

NOT_ONE_OF_THE_TEN = "not one of the ten"  # What the app shows for such a garment.
NEWTON_STEPS = 50  # Most Newton steps of the logistic regression (it converges in about 10).


@dataclass(frozen=True)
class OtherGarmentDetector:
    # float32 (D,): weights on the raw flip-averaged embedding.
    weights: np.ndarray
    # The logit's offset.
    bias: float
    # The score from which a garment is shown as NOT_ONE_OF_THE_TEN, in (0, 1].
    threshold: float

    def __post_init__(self):
        if np.ndim(self.weights) != 1 or not np.all(np.isfinite(self.weights)) \
                or not np.isfinite(self.bias):
            raise ValueError("the detector's weights must be one finite vector and its bias "
                             "a finite number.")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"the detector's threshold must be in (0, 1], got {self.threshold}.")

    def score(self, embedding: np.ndarray) -> float:
        """The chance that one input is none of the ten: float (D,) -> float in [0, 1]. The
        per-frame path: a dot product, no array work besides it."""
        if np.shape(embedding) != self.weights.shape:
            raise ValueError(f"an embedding of shape {np.shape(embedding)} does not fit the "
                             f"detector's {self.weights.shape[0]} weights.")
        logit = float(np.dot(embedding, self.weights)) + self.bias
        return 1.0 / (1.0 + math.exp(-min(max(logit, -60.0), 60.0)))

    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        """The chance that each input is none of the ten: float (N, D) or (D,) -> float32 (N,)
        or a float32 scalar array."""
        embeddings = np.asarray(embeddings, np.float64)
        if embeddings.shape[-1:] != self.weights.shape:
            raise ValueError(f"embeddings of size {embeddings.shape[-1:]} do not fit the "
                             f"detector's {self.weights.shape[0]} weights.")
        return sigmoid(embeddings @ self.weights + self.bias).astype(np.float32)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))


def fit_logistic(features: np.ndarray, targets: np.ndarray,
                 l2: float) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method, each class weighing the same, on standardised
    features with an L2 penalty l2 on the weights (not the bias).

    features float (N, D), targets bool (N,) with both values present. Returns (weights (D,),
    bias) that act on the raw features.
    """
    features = np.asarray(features, np.float64)
    targets = np.asarray(targets, bool)
    if features.ndim != 2 or len(features) != len(targets) or targets.all() or not targets.any():
        raise ValueError("fit_logistic needs features (N, D) and targets (N,) of both kinds.")
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-6
    inputs = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    sample_weights = np.where(targets, 0.5 / targets.mean(), 0.5 / (1 - targets.mean()))
    penalty = np.full(inputs.shape[1], l2)
    penalty[-1] = 0.0
    coefficients = np.zeros(inputs.shape[1])
    for _ in range(NEWTON_STEPS):
        chances = sigmoid(inputs @ coefficients)
        gradient = inputs.T @ (sample_weights * (chances - targets)) / len(inputs) \
            + penalty * coefficients
        curvature = (inputs.T * (sample_weights * chances * (1 - chances))) @ inputs \
            / len(inputs) + np.diag(penalty) + 1e-9 * np.eye(len(penalty))
        step = np.linalg.solve(curvature, gradient)
        coefficients -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = coefficients[:-1] / scale
    return weights.astype(np.float32), float(coefficients[-1] - weights @ mean)


def log_loss(chances: np.ndarray, targets: np.ndarray) -> float:
    """Mean of the two classes' mean negative log-likelihoods (each class weighing the same)."""
    chances = np.clip(chances, 1e-12, 1 - 1e-12)
    return float(0.5 * (-np.log(chances[targets]).mean() - np.log(1 - chances[~targets]).mean()))


def choose_l2(features: np.ndarray, targets: np.ndarray, grid=tuple(np.logspace(-3, 1, 9)),
              folds: int = 5, seed: int = 0) -> float:
    """The L2 penalty of grid with the lowest cross-validated log_loss over folds (stratified
    at random by seed)."""
    targets = np.asarray(targets, bool)
    fold_of = np.empty(len(targets), int)
    random = np.random.default_rng(seed)
    for value in (False, True):
        chosen = np.flatnonzero(targets == value)
        fold_of[random.permutation(chosen)] = np.arange(len(chosen)) % folds
    losses = []
    for l2 in grid:
        chances = np.empty(len(targets))
        for fold in range(folds):
            held_out = fold_of == fold
            weights, bias = fit_logistic(features[~held_out], targets[~held_out], l2)
            chances[held_out] = sigmoid(features[held_out] @ weights + bias)
        losses.append(log_loss(chances, targets))
    return float(grid[int(np.argmin(losses))])


def stored_detector(model_path, embedding_size: int | None) -> OtherGarmentDetector | None:
    """The detector stored for this model file in the card beside it, else None.

    No card, no entry, or a model without an embedding: None without a word. An entry fitted
    on other contents of the file, or one that cannot be read: None with a warning that says
    what to do.
    """
    if embedding_size is None:
        return None
    try:
        entry = stored_card_entry(model_path, "other_garments")
        if entry is None:
            return None
        detector = OtherGarmentDetector(np.asarray(entry["weights"], np.float32),
                                        float(entry["bias"]), float(entry["threshold"]))
    except CardEntryError as error:
        warn_no_detector(str(error))
        return None
    except (KeyError, TypeError, ValueError) as error:
        warn_no_detector(f"the detector entry beside {Path(model_path).name} cannot be read "
                         f"({error})")
        return None
    if detector.weights.shape != (embedding_size,):
        warn_no_detector(f"the detector beside {Path(model_path).name} has "
                         f"{detector.weights.shape[0]} weights for an embedding of "
                         f"{embedding_size}")
        return None
    return detector


class NoDetectorWarning(UserWarning):
    """The model's stored detector of other garments could not be used: no answer "not one
    of the ten"."""


def warn_no_detector(why: str) -> None:
    warnings.warn(f"No answer '{NOT_ONE_OF_THE_TEN}': {why}. Run `python -m "
                  "model.fit_other_garments --model MODEL.tflite ...` to fit it again.",
                  NoDetectorWarning, stacklevel=3)


def detector_entry(model_path, detector: OtherGarmentDetector, **figures) -> dict:
    """The card's entry for a model file: its SHA-256, the detector and any figures."""
    return {"sha256": sha256_of_file(model_path),
            "weights": [round(float(value), 6) for value in detector.weights],
            "bias": round(detector.bias, 6), "threshold": round(detector.threshold, 4),
            **figures}
