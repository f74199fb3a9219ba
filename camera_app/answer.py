"""The steady answer: one frame's class probabilities folded into what the app shows.

    answer = SteadyAnswer()
    answer = carried_over(answer, source.new_scene)   # afresh for a new image or a video jump
    answer = update_answer(answer, probabilities, settings)   # None when no garment was found
    answer.text, answer.confidence      # e.g. "Footwear", 0.92; answer.classes (5, 7, 9)

The answer is a node of model.classes.NODES: a class, or a group such as Footwear when the
belief is spread over its classes. Smoothing over frames and hysteresis keep the label from
flickering between close classes, and between a class and its group. With the model's
detector of other garments (model.other_garments), its smoothed score may instead make the
answer NOT_ONE_OF_THE_TEN (a hat, shorts, a skirt):

    answer = update_answer(answer, probabilities, settings, other_score, detector.threshold)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.classes import NODES, NOT_SURE, is_inside, most_specific_node, node_probabilities
from model.other_garments import NOT_ONE_OF_THE_TEN

NO_GARMENT = "no garment"
NO_MODEL = "no model"


@dataclass(frozen=True)
class SteadyAnswer:
    # Exponential average of recent probabilities (10,), or None before the first garment.
    probabilities: np.ndarray | None = None
    # Index into model.classes.NODES of the answer shown (a class or a group of classes), or
    # None when the app shows "no garment", "not sure" or "no model".
    node: int | None = None
    # Frames in a row without a garment.
    misses: int = 0
    # What the app shows: a class or group name, "no garment", "not sure", "no model" or
    # NOT_ONE_OF_THE_TEN.
    text: str = NO_GARMENT
    # Exponential average of recent scores of "not one of the ten", or None without a
    # detector (or before the first garment).
    other_score: float | None = None

    @property
    def confidence(self) -> float:
        """Smoothed summed probability of the shown node (0 when nothing is named)."""
        if self.node is None or self.probabilities is None:
            return 0.0
        return float(node_probabilities(self.probabilities)[self.node])

    @property
    def classes(self) -> tuple[int, ...]:
        """The class indices of the shown node; empty when nothing is named."""
        return () if self.node is None else NODES[self.node].classes

    @property
    def class_index(self) -> int | None:
        """The class shown when the answer is a single class, else None."""
        return self.classes[0] if len(self.classes) == 1 else None


def carried_over(previous: SteadyAnswer, new_scene: bool) -> SteadyAnswer:
    """The answer the next frame is folded into: a fresh one when that frame starts a new scene
    (another image of a slideshow, a video back at its start), so no earlier picture leaks in.
    """
    return SteadyAnswer() if new_scene else previous


def steady_node(previous: int | None, smoothed: np.ndarray, threshold: float,
                margin: float) -> int | None:
    """The node to show for smoothed probabilities (10,), given the node shown before.

    The answer is the most specific node that reaches the threshold (model.classes). Against
    flicker, the node shown before stays while it keeps at least threshold - margin, unless a
    node inside it reaches the threshold (the answer becomes more specific), or a node
    outside it reaches the threshold and leads it by more than margin. So a leaf hovering
    about the threshold does not alternate with its group.
    """
    candidate = most_specific_node(smoothed, threshold)
    if previous is None or candidate == previous:
        return candidate
    sums = node_probabilities(smoothed)
    if sums[previous] < threshold - margin:
        return candidate
    if candidate is None or is_inside(previous, candidate):
        return previous  # Nothing reaches the threshold, or only a wider node: hold.
    if is_inside(candidate, previous) or sums[candidate] > sums[previous] + margin:
        return candidate
    return previous


def update_answer(previous: SteadyAnswer, probabilities: np.ndarray | None,
                  settings, other_score: float | None = None,
                  other_threshold: float = 1.0) -> SteadyAnswer:
    """Folds one frame's probabilities (None: no garment) into the steady answer.

    settings (a FrameSettings) gives smoothing, answer_threshold, switch_margin and
    frames_before_no_garment. other_score is the frame's score of "not one of the ten"
    (None without a detector): smoothed as the probabilities are, the answer is
    NOT_ONE_OF_THE_TEN while it reaches other_threshold, and stays so until it falls
    switch_margin below it.
    """
    if probabilities is None:
        misses = previous.misses + 1
        if misses >= settings.frames_before_no_garment:
            return SteadyAnswer(misses=misses, text=NO_GARMENT)
        # A garment missed for a frame or two keeps its answer, so the label does not blink.
        return SteadyAnswer(previous.probabilities, previous.node, misses, previous.text,
                            previous.other_score)
    if previous.probabilities is None:
        smoothed = probabilities.astype(np.float32)
    else:
        smoothed = (settings.smoothing * probabilities
                    + (1 - settings.smoothing) * previous.probabilities).astype(np.float32)
    other = other_score if other_score is None or previous.other_score is None else \
        settings.smoothing * other_score + (1 - settings.smoothing) * previous.other_score
    held = previous.text == NOT_ONE_OF_THE_TEN
    if other is not None and other >= other_threshold - (settings.switch_margin if held else 0):
        return SteadyAnswer(smoothed, None, 0, NOT_ONE_OF_THE_TEN, other)
    node = steady_node(previous.node, smoothed, settings.answer_threshold,
                       settings.switch_margin)
    if node is None:
        return SteadyAnswer(smoothed, None, 0, NOT_SURE, other)
    return SteadyAnswer(smoothed, node, 0, NODES[node].name, other)
