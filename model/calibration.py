"""Temperature calibration of the model's probabilities, and where it is kept.

    temperature = fit_temperature([(photo_probabilities, photo_accepted),
                                   (fashion_probabilities, fashion_accepted)])
    calibrated = apply_temperature(probabilities, temperature)   # float (N, 10) -> float32
    temperature = stored_temperature("assets/fashion_cnn.tflite")  # 1.0 when none is stored

A temperature T rescales the model's log-probabilities: softmax(log p / T). T < 1 sharpens
an under-confident model, T > 1 softens an over-confident one; the most likely class never
changes. T is fitted by the negative log-likelihood of the accepted classes (a photo of
shoes accepts Sandal, Sneaker and Ankle boot) on validation data, each data set weighing the
same, with flip averaging, as the app runs.

The fitted temperature is stored in the model card next to the model file, under
"calibration", keyed by the model file's name and tied to its SHA-256: another file, or the
same name with other contents, gets no temperature (1.0). Numpy only: the app imports it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from model.paths import CardEntryError, stored_card_entry
from segmentation.files import sha256_of_file

EPSILON = 1e-12  # Smallest probability inside a logarithm.
# The temperatures searched, log-spaced: a dense grid, then a finer one around its best.
SEARCH_RANGE = (0.2, 5.0)


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T) row by row: float (..., 10) -> float32 (..., 10)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be above 0, got {temperature}.")
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if temperature == 1:
        return probabilities.astype(np.float32)
    logits = np.log(np.clip(probabilities, EPSILON, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=-1, keepdims=True)).astype(np.float32)


def set_log_loss(probabilities: np.ndarray, accepted: np.ndarray) -> float:
    """Mean of -log(summed probability of the accepted classes): float (N, 10), bool (N, 10)."""
    accepted_probability = (np.asarray(probabilities, np.float64) * accepted).sum(axis=-1)
    return float(-np.log(np.clip(accepted_probability, EPSILON, 1.0)).mean())


def averaged_views(views: np.ndarray, temperature: float) -> np.ndarray:
    """The mean over views of the calibrated probabilities, as the app averages an image and
    its mirror image: float (V, N, 10) or (N, 10) -> float32 (N, 10)."""
    views = np.asarray(views)
    calibrated = apply_temperature(views, temperature)
    return calibrated.mean(axis=0) if views.ndim == 3 else calibrated


def fit_temperature(sets) -> float:
    """The temperature that minimises the mean over sets of set_log_loss.

    sets: (probabilities, accepted bool (N, 10)) pairs, e.g. the validation photos and
    Fashion-MNIST's validation split; each pair weighs the same, whatever its size. The
    probabilities are float (N, 10), or (V, N, 10) for V views of each image (an image and its
    mirror), whose calibrated probabilities are averaged as the app does.
    """
    sets = [(np.asarray(p, np.float64), np.asarray(a, bool)) for p, a in sets]
    if not sets or any(len(a) == 0 or p.shape[-2:] != a.shape for p, a in sets):
        raise ValueError("fit_temperature needs non-empty (probabilities, accepted) pairs of "
                         "matching shape.")

    def loss(temperature: float) -> float:
        return float(np.mean([set_log_loss(averaged_views(p, temperature), a)
                              for p, a in sets]))

    low, high = np.log(SEARCH_RANGE[0]), np.log(SEARCH_RANGE[1])
    grid = np.exp(np.linspace(low, high, 81))
    best = grid[int(np.argmin([loss(value) for value in grid]))]
    step = (high - low) / 80
    fine = np.exp(np.linspace(np.log(best) - step, np.log(best) + step, 41))
    return float(fine[int(np.argmin([loss(value) for value in fine]))])


def stored_temperature(model_path) -> float:
    """The temperature stored for this model file in the card beside it, else 1.0.

    No card, or no entry for this file name: 1.0 without a word (another model). A card that
    cannot be read, or an entry fitted on other contents of the file: 1.0 with a warning
    (UncalibratedWarning) that says what to do, since the answer's threshold assumes the
    calibration.
    """
    try:
        entry = stored_card_entry(model_path, "calibration")
        if entry is None:
            return 1.0
        temperature = float(entry["temperature"])
    except CardEntryError as error:
        warn_uncalibrated(str(error))
        return 1.0
    except (KeyError, TypeError, ValueError) as error:
        warn_uncalibrated(f"the calibration entry beside {Path(model_path).name} cannot be "
                          f"read ({error})")
        return 1.0
    if not 0 < temperature < np.inf:
        warn_uncalibrated(f"the card beside {Path(model_path).name} holds the temperature "
                          f"{temperature}")
        return 1.0
    return temperature


class UncalibratedWarning(UserWarning):
    """The model's stored calibration could not be used: its probabilities are the network's."""


def warn_uncalibrated(why: str) -> None:
    """Warns that the probabilities are uncalibrated, why, and what to do."""
    warnings.warn(f"Uncalibrated probabilities: {why}. Run `python -m model.calibrate --model "
                  "MODEL.tflite --photos PHOTOS/validation` to fit the calibration of a "
                  ".tflite file.", UncalibratedWarning, stacklevel=3)


def calibration_entry(model_path, temperature: float, **figures) -> dict:
    """The card's entry for a model file: its SHA-256, the temperature and any figures."""
    return {"sha256": sha256_of_file(model_path), "temperature": round(float(temperature), 4),
            **figures}
