"""Which groups the answer hierarchy should have: each candidate set of nodes, judged by the
rule that chooses the threshold (most right answers with at most 5% wrong) on validation photos.

    python -m experiments.answer_hierarchy --photos PHOTOS/validation \
        --photo-labels PHOTOS/labels.csv [--model assets/fashion_cnn.tflite]

Uses the model's stored temperature (model.calibration) and flip averaging, as the app.
Prints, per candidate, the chosen threshold, the four outcome shares, the folder with the most
"not sure" and the calibration error. What it showed is in docs/experiments.md ("the answer a
user sees", 2026-12-05).
"""

from __future__ import annotations

import argparse

import numpy as np

import model.classes as classes
from model import outcomes
from model.paths import SHIPPED_TFLITE_MODEL
from model.photos import load_photo_set
from model.predictor import load_predictor, predict_in_batches

LONG_SLEEVED, FOOTWEAR = classes.Node("Long-sleeved top", (2, 6)), classes.Node("Footwear", (5, 7, 9))
TOP = classes.Node("Top", (0, 2, 4, 6))
LEAVES = tuple(classes.Node(name, (index,)) for index, name in enumerate(classes.CLASS_NAMES))
CANDIDATES = {
    "leaves, Long-sleeved top, Footwear, Top": LEAVES + (LONG_SLEEVED, FOOTWEAR, TOP),
    "leaves, Long-sleeved top, Footwear": LEAVES + (LONG_SLEEVED, FOOTWEAR),
    "leaves, Footwear": LEAVES + (FOOTWEAR,),
    "leaves only (the rule before 2026-12-05)": LEAVES,
}


def use_nodes(nodes) -> None:
    """Makes the model's rule use these nodes (for this experiment only)."""
    classes.NODES = outcomes.NODES = nodes
    classes.NODE_MATRIX = np.array([[index in node.classes for index in range(10)]
                                    for node in nodes], dtype=np.float32)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", required=True)
    parser.add_argument("--photo-labels")
    parser.add_argument("--model", default=str(SHIPPED_TFLITE_MODEL))
    arguments = parser.parse_args(argv)
    photo_set = load_photo_set(arguments.photos, arguments.photo_labels)
    probabilities = predict_in_batches(load_predictor(arguments.model), photo_set.images,
                                       flip=True)
    missing = [relative.split("/")[0] for relative in photo_set.left_out]
    for name, nodes in CANDIDATES.items():
        use_nodes(nodes)
        curve = outcomes.risk_coverage(probabilities, photo_set.accepted, photo_set.group,
                                       missing=len(missing))
        chosen = outcomes.choose_threshold(curve)
        report = outcomes.outcome_report(probabilities, photo_set.accepted, photo_set.group,
                                         photo_set.folders.tolist(), chosen["threshold"],
                                         missing)
        unsure, folder = max((row["not sure_rate"], folder)
                             for folder, row in report["folders"].items())
        print(f"{name}: threshold {chosen['threshold']:.2f}, right {chosen['right_rate']:.1%}, "
              f"coarser {chosen['coarser_rate']:.1%}, not sure {chosen['not sure_rate']:.1%}, "
              f"wrong {chosen['wrong_rate']:.1%}; most not sure: {folder} {unsure:.0%}; "
              f"calibration error {report['calibration_error']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
