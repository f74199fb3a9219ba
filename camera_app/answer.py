"""The steady answer: one frame's class probabilities folded into what the app shows.

    answer = SteadyAnswer()
    answer = carried_over(answer, source.new_scene)   # afresh for a new image or a video jump
    answer = update_answer(answer, probabilities, settings)   # None when no garment was found
    answer.text, answer.confidence      # e.g. "Footwear", 0.92; answer.classes (5, 7, 9)

The answer is a node of model.classes.NODES: a class, or a group such as Footwear when the
belief is spread over its classes. Smoothing over frames and hysteresis keep the label from
flickering between close classes, and between a class and its group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.classes import NODES, is_inside, most_specific_node, node_probabilities

NO_GARMENT = "no garment"
NOT_SURE = "not sure"
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
    # What the app shows: a class or group name, "no garment", "not sure" or "no model".
    text: str = NO_GARMENT

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
                  settings) -> SteadyAnswer:
    """Folds one frame's probabilities (None: no garment) into the steady answer.

    settings (a FrameSettings) gives smoothing, answer_threshold, switch_margin and
    frames_before_no_garment.
    """
    if probabilities is None:
        misses = previous.misses + 1
        if misses >= settings.frames_before_no_garment:
            return SteadyAnswer(misses=misses, text=NO_GARMENT)
        # A garment missed for a frame or two keeps its answer, so the label does not blink.
        return SteadyAnswer(previous.probabilities, previous.node, misses, previous.text)
    if previous.probabilities is None:
        smoothed = probabilities.astype(np.float32)
    else:
        smoothed = (settings.smoothing * probabilities
                    + (1 - settings.smoothing) * previous.probabilities).astype(np.float32)
    node = steady_node(previous.node, smoothed, settings.answer_threshold,
                       settings.switch_margin)
    if node is None:
        return SteadyAnswer(smoothed, None, 0, NOT_SURE)
    return SteadyAnswer(smoothed, node, 0, NODES[node].name)
