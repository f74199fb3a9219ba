"""The per-frame work of the app as one plain function returning a frozen dataclass, no Qt.

    answer = SteadyAnswer()
    result = process_frame(frame, predictor, FrameSettings(), answer)
    answer = result.answer          # carry the smoothed answer to the next frame
    cv2.imshow("FashionCam", result.frame)
    result = process_frame(frame, predictor, FrameSettings(), answer, taught)  # with teaching

process_frame segments the garment, classifies its 28x28 image (with flip test-time
augmentation), folds the probabilities into the steady answer (camera_app.answer) and draws
the overlay; with the model's detector of other garments (model.other_garments) the
answer may be "not one of the ten". Given taught examples (model.taught.TaughtExamples), the same single
inference also gives the embedding, the nearest taught example may decide the frame's
probabilities, and the overlay marks an answer so decided with TAUGHT_MARK. When the nearest
taught example is a "nothing" example (TaughtDecision.nothing), the frame counts as one
without a garment, as when none is found: after frames_before_no_garment such frames the
answer is NO_GARMENT, marked with TAUGHT_MARK.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from camera_app.answer import NO_GARMENT, NO_MODEL, SteadyAnswer, update_answer
from model.classes import ANSWER_THRESHOLD, CLASS_NAMES
from model.classifier import classify_input
from segmentation import EMPTY_FRAME, SegmentationConfig, SegmentationResult, segment
from segmentation.files import write_text
from segmentation.images import draw_overlay, write_image
from model.taught import TaughtDecision

NAMED_COLOUR = (80, 220, 80)  # BGR of the outline and label when a class is named.
UNNAMED_COLOUR = (0, 200, 255)  # ... when the app says "not sure", "no garment" or "no model".
TAUGHT_MARK = "(taught)"  # Follows the label when a taught example decided the shown class.


@dataclass(frozen=True)
class FrameSettings:
    # How the garment is cut out of the frame and turned into a 28x28 image.
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    # Flip the frame left to right first, so the view behaves like a mirror.
    mirror: bool = False
    # Average the model's answers for the image and its mirror image (one batch of two).
    flip_averaging: bool = True
    # Weight of the newest frame in the exponential average of probabilities (1 = no smoothing).
    smoothing: float = 0.3
    # The smoothed summed probability from which a class or group is named; below it for
    # every node the app says "not sure" (model.classes.most_specific_node). Saved settings
    # of the threshold before 2026-12-05 (confidence_threshold, of the top class alone, on
    # uncalibrated probabilities) mean something else and are not read.
    answer_threshold: float = ANSWER_THRESHOLD
    # Hysteresis against flicker: another class must lead the shown one by this much to replace
    # it, and the shown one stays until it falls this much below the threshold.
    switch_margin: float = 0.1
    # Frames in a row without a garment before the app says "no garment".
    frames_before_no_garment: int = 3

    def __post_init__(self):
        if not 0 < self.smoothing <= 1:
            raise ValueError(f"smoothing must be in (0, 1], got {self.smoothing}.")
        if not 0 < self.answer_threshold <= 1:
            raise ValueError("answer_threshold must be in (0, 1], "
                             f"got {self.answer_threshold}.")


@dataclass(frozen=True)
class FrameResult:
    # The (mirrored) frame with contour, box and label drawn on it, uint8 BGR.
    frame: np.ndarray
    # What the segmentation found, with the mask and the 28x28 model input.
    segmentation: SegmentationResult
    # This frame's class probabilities (10,) as folded into the answer (a taught example's
    # one-hot vector when one decided), or None when nothing was classified or a taught
    # "nothing" example decided.
    probabilities: np.ndarray | None
    # The smoothed answer after this frame; pass it to the next call.
    answer: SteadyAnswer
    # Milliseconds spent in each stage: segmentation, inference, overlay, total.
    timings: dict
    # Position of the frame in its source, counted from 1 (set by the worker; 0 when unknown).
    frame_number: int = 0
    # The embedding (D,) of the 28x28 input, or None (nothing classified, or no taught set).
    embedding: np.ndarray | None = None
    # What the taught examples made of this frame, or None when none were given.
    decision: TaughtDecision | None = None

    @property
    def taught(self) -> bool:
        """True when a taught example decided this frame's probabilities."""
        return self.decision is not None and self.decision.taught

    @property
    def answer_is_taught(self) -> bool:
        """True when the shown answer is the class of the taught example that decided."""
        return answer_is_taught(self.answer, self.decision)

    @property
    def label(self) -> str:
        """The answer as the overlay and the window show it."""
        return answer_label(self.answer, self.decision)


def answer_is_taught(answer: SteadyAnswer, decision: TaughtDecision | None) -> bool:
    """Whether a taught example decided this frame and the steady answer shows its class
    (then the label carries TAUGHT_MARK)."""
    return decision is not None and decision.taught and answer.class_index is not None \
        and decision.class_index == answer.class_index


def answer_label(answer: SteadyAnswer, decision: TaughtDecision | None) -> str:
    """The answer's text, with its confidence when a class or group is named ("Footwear
    92%") and TAUGHT_MARK when a taught example decided it."""
    if answer.node is None:
        nothing = decision is not None and decision.nothing and answer.text == NO_GARMENT
        return answer.text + " " + TAUGHT_MARK if nothing else answer.text
    label = f"{answer.text} {answer.confidence:.0%}"
    return label + " " + TAUGHT_MARK if answer_is_taught(answer, decision) else label


def process_frame(frame: np.ndarray | None, predictor, settings: FrameSettings,
                  previous: SteadyAnswer, taught=None) -> FrameResult:
    """Runs segmentation, inference and overlay on one BGR frame; never raises for a bad frame.

    predictor may be None (the model failed to load): the frame is still segmented and drawn.
    taught (TaughtExamples or None): when given, the predictor must give embeddings
    (predict_with_embedding); one inference gives probabilities and embedding, and
    taught.decide picks the probabilities that go into the steady answer.
    """
    started = time.perf_counter()
    if frame is not None and frame.ndim == 2 and min(frame.shape) >= 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame is None or frame.ndim != 3 or frame.shape[0] < 2 or frame.shape[1] < 2:
        frame = np.zeros((480, 640, 3), np.uint8)
        segmentation = SegmentationResult.not_found(EMPTY_FRAME, np.zeros(frame.shape[:2], np.uint8),
                                                    settings.segmentation.output_size)
    else:
        if settings.mirror:
            frame = cv2.flip(frame, 1)
        frame = np.ascontiguousarray(frame[:, :, :3], dtype=np.uint8)
        segmentation = segment(frame, config=settings.segmentation)
    segmented = time.perf_counter()

    probabilities = embedding = decision = other_score = None
    if segmentation.found and predictor is not None:
        result = classify_input(predictor, segmentation.model_input, settings.flip_averaging,
                                taught)
        # probabilities is None when a taught "nothing" example decided: no garment.
        probabilities, embedding, decision, other_score = (
            result.probabilities, result.embedding, result.decision, result.other_score)
    detector = getattr(predictor, "other_garments", None)
    answer = update_answer(previous, probabilities, settings, other_score,
                           1.0 if detector is None else detector.threshold)
    if predictor is None:
        answer = SteadyAnswer(misses=answer.misses, text=NO_MODEL)
    classified = time.perf_counter()

    label = answer_label(answer, decision)
    colour = NAMED_COLOUR if answer.node is not None else UNNAMED_COLOUR
    shown = draw_overlay(frame, segmentation, label, settings.segmentation.sampling_windows(),
                         colour)
    finished = time.perf_counter()
    timings = {
        "segmentation": (segmented - started) * 1000,
        "inference": (classified - segmented) * 1000,
        "overlay": (finished - classified) * 1000,
        "total": (finished - started) * 1000,
    }
    return FrameResult(shown, segmentation, probabilities, answer, timings,
                       embedding=embedding, decision=decision)


def save_snapshot(result: FrameResult, folder: str | Path) -> list[Path]:
    """Saves the frame, the mask, the 28x28 input and the prediction (JSON) to a folder.

    Returns the paths written. Names share a time stamp, so snapshots never overwrite each other.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"
    paths = {
        "frame": folder / f"snapshot-{stamp}-frame.png",
        "mask": folder / f"snapshot-{stamp}-mask.png",
        "input": folder / f"snapshot-{stamp}-input28.png",
        "prediction": folder / f"snapshot-{stamp}-prediction.json",
    }
    images = {"frame": result.frame, "mask": result.segmentation.mask,
              "input": result.segmentation.model_input}
    for name, image in images.items():
        write_image(paths[name], image)  # Whole, or not at all; OSError when it cannot.
    smoothed = result.answer.probabilities
    prediction = {
        "label": result.answer.text,
        "class_index": result.answer.class_index,
        "answer_classes": list(result.answer.classes),
        "confidence": result.answer.confidence,
        "other_score": result.answer.other_score,
        "garment_found": bool(result.segmentation.found),
        "reason": result.segmentation.reason,
        "box": [int(value) for value in result.segmentation.box] if result.segmentation.box else None,
        "probabilities": _by_class(result.probabilities),
        "smoothed_probabilities": _by_class(smoothed),
        "timings_ms": {name: round(value, 3) for name, value in result.timings.items()},
    }
    write_text(paths["prediction"], json.dumps(prediction, indent=2))
    return list(paths.values())


def _by_class(probabilities: np.ndarray | None) -> dict | None:
    if probabilities is None:
        return None
    return {name: round(float(value), 5) for name, value in zip(CLASS_NAMES, probabilities)}

