"""The steady answer: one frame's class probabilities folded into what the app shows.

    answer = SteadyAnswer()
    answer = carried_over(answer, source.new_scene)   # afresh for a new image or a video jump
    answer = update_answer(answer, probabilities, settings)   # None when no garment was found
    answer.text, answer.confidence

Smoothing over frames and hysteresis keep the label from flickering between close classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.classes import CLASS_NAMES

NO_GARMENT = "no garment"
NOT_SURE = "not sure"
NO_MODEL = "no model"


@dataclass(frozen=True)
class SteadyAnswer:
    # Exponential average of recent probabilities, or None before the first garment.
    probabilities: np.ndarray | None = None
    # Index of the class shown, or None when the app shows "no garment" or "not sure".
    class_index: int | None = None
    # Frames in a row without a garment.
    misses: int = 0
    # What the app shows: a class name, "no garment", "not sure" or "no model".
    text: str = NO_GARMENT

    @property
    def confidence(self) -> float:
        """Smoothed probability of the shown class (0 when no class is shown)."""
        if self.class_index is None or self.probabilities is None:
            return 0.0
        return float(self.probabilities[self.class_index])


def carried_over(previous: SteadyAnswer, new_scene: bool) -> SteadyAnswer:
    """The answer the next frame is folded into: a fresh one when that frame starts a new scene
    (another image of a slideshow, a video back at its start), so no earlier picture leaks in.
    """
    return SteadyAnswer() if new_scene else previous


def update_answer(previous: SteadyAnswer, probabilities: np.ndarray | None,
                  settings) -> SteadyAnswer:
    """Folds one frame's probabilities (None: no garment) into the steady answer.

    settings (a FrameSettings) gives smoothing, confidence_threshold, switch_margin and
    frames_before_no_garment.
    """
    if probabilities is None:
        misses = previous.misses + 1
        if misses >= settings.frames_before_no_garment:
            return SteadyAnswer(misses=misses, text=NO_GARMENT)
        # A garment missed for a frame or two keeps its answer, so the label does not blink.
        return SteadyAnswer(previous.probabilities, previous.class_index, misses, previous.text)
    if previous.probabilities is None:
        smoothed = probabilities.astype(np.float32)
    else:
        smoothed = (settings.smoothing * probabilities
                    + (1 - settings.smoothing) * previous.probabilities).astype(np.float32)
    # Hysteresis: the shown class stays until another leads it by switch_margin, and until it
    # falls switch_margin below the threshold; a new class must reach the threshold itself.
    leader = int(np.argmax(smoothed))
    class_index, threshold = previous.class_index, settings.confidence_threshold
    if class_index is None or smoothed[leader] > smoothed[class_index] + settings.switch_margin:
        class_index = leader
    if class_index == previous.class_index:
        threshold -= settings.switch_margin
    if smoothed[class_index] < threshold:
        return SteadyAnswer(smoothed, None, 0, NOT_SURE)
    return SteadyAnswer(smoothed, class_index, 0, CLASS_NAMES[class_index])
