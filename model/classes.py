"""The ten Fashion-MNIST classes, in label order, their coarse groups, and the answer
hierarchy.

This module is the one place that owns class names; everything else imports them.

The answer a user sees is a node of a small hierarchy: the ten classes as leaves and a few
named groups of them. `most_specific_node` picks the smallest node whose summed probability
reaches a threshold, so a pair of shoes read as Sandal 34%, Ankle boot 33%, Sneaker 25% is
answered "Footwear 92%" rather than "not sure".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

NUM_CLASSES = len(CLASS_NAMES)

# Coarse groups used to score real photos: a pullover called a coat is still a top.
GROUPS = {
    "tops": (0, 2, 4, 6),
    "bottoms": (1,),
    "dresses": (3,),
    "footwear": (5, 7, 9),
    "bags": (8,),
}


def group_of(class_index: int) -> str:
    """Returns the name of the coarse group that a class index belongs to."""
    for group_name, members in GROUPS.items():
        if class_index in members:
            return group_name
    raise ValueError(f"Class index must be in 0..{NUM_CLASSES - 1}, got {class_index}.")


@dataclass(frozen=True)
class Node:
    # What the app shows, e.g. "Footwear" or "Sneaker".
    name: str
    # The class indices the node stands for, in increasing order.
    classes: tuple[int, ...]


# The answer hierarchy: every class as a leaf, then the named groups. Any two nodes are
# either disjoint or one inside the other, so "more specific" is well defined. A group Top
# (T-shirt/top, Pullover, Coat, Shirt) was measured and left out: with it, fewer threshold
# values kept wrong answers within 5% on the validation photos, and right answers fell from
# 76.6% to 72.4% (experiments/answer_hierarchy.py; docs/experiments.md).
NODES = tuple(Node(name, (index,)) for index, name in enumerate(CLASS_NAMES)) + (
    Node("Long-sleeved top", (2, 6)),  # Pullover or Shirt.
    Node("Footwear", (5, 7, 9)),  # Sandal, Sneaker or Ankle boot.
)
# The summed probability from which a node is the answer, below which the app and the
# command line say "not sure": chosen on the validation photos for the shipped model with its
# calibration, as the threshold with the most right answers among those with at most 5% wrong
# ones (`python -m model.calibrate`; docs/experiments.md, "the answer a user sees" and, for
# the model shipped on 2026-12-05 at night, "the answer a user sees, a third time").
ANSWER_THRESHOLD = 0.64
NOT_SURE = "not sure"  # What the app and the command lines show when no node reaches it.
# float32 (nodes, 10): row k is 1 on the classes of NODES[k]; probabilities @ NODE_MATRIX.T
# gives each node's summed probability.
NODE_MATRIX = np.array([[index in node.classes for index in range(NUM_CLASSES)]
                        for node in NODES], dtype=np.float32)


def node_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Summed probability of every node: float (..., 10) -> float32 (..., len(NODES))."""
    return np.asarray(probabilities, dtype=np.float32) @ NODE_MATRIX.T


def most_specific_node(probabilities: np.ndarray, threshold: float) -> int | None:
    """Index into NODES of the answer for one probability vector (10,), or None (not sure).

    The answer is the node with the fewest classes whose summed probability reaches the
    threshold; among nodes of one size, the most probable. With a threshold above 0.5 at most
    one node of each size can reach it.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}.")
    sums = node_probabilities(probabilities)
    reached = np.flatnonzero(sums >= threshold)
    if len(reached) == 0:
        return None
    return int(min(reached, key=lambda node: (len(NODES[node].classes), -sums[node])))


def is_inside(inner: int, outer: int) -> bool:
    """Whether node inner's classes are all classes of node outer (a node is inside itself)."""
    return set(NODES[inner].classes) <= set(NODES[outer].classes)
