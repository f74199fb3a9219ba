"""The answer a user sees, measured: right, coarser, not sure or wrong, per photo and folder.

    nodes = shown_nodes(probabilities, threshold)          # NODES index or None per photo
    report = outcome_report(probabilities, accepted, group, folders, threshold)
    curve = risk_coverage(probabilities, accepted, group)  # every outcome at every threshold

A photo's accepted classes are those its label allows (a long-sleeved top: Pullover or
Shirt), its group the wider set that is still the right kind of garment (all tops). The
shown answer is a node of model.classes.NODES (model.classes.most_specific_node):
- right: every class of the answer is accepted ("Footwear" for shoes, "Shirt" for a shirt);
- coarser: not right, but the answer shares a class with the accepted ones and stays within
  the group ("Long-sleeved top" for a shirt);
- not sure: no node reaches the threshold, or no garment was found;
- wrong: anything else ("Shirt" for a T-shirt).
The answer's confidence is its node's summed probability; it is counted as borne out
when the answer is right or coarser (the garment is one of the answer's classes).
Numpy only.
"""

from __future__ import annotations

import numpy as np

from model.classes import NODES, NUM_CLASSES, most_specific_node, node_probabilities

OUTCOMES = ("right", "coarser", "not sure", "wrong")
# Thresholds a risk-coverage curve is drawn over, and among which one is chosen.
THRESHOLDS = tuple(round(value, 2) for value in np.arange(0.50, 1.0, 0.01))


def outcome(classes, accepted: np.ndarray, group: np.ndarray, other: bool = False) -> str:
    """One of OUTCOMES for the class indices of a shown answer (empty: not sure) and a
    photo's bool (10,) masks; other: the answer was "not one of the ten"
    (model.other_garments), which is wrong for a photo that accepts a class."""
    classes = list(classes)
    if other:
        return "wrong"
    if not classes:
        return "not sure"
    if np.all(accepted[classes]):
        return "right"
    if np.any(accepted[classes]) and np.all(group[classes]):
        return "coarser"
    return "wrong"


def node_classes(node: int | None) -> tuple[int, ...]:
    """The class indices of a node of NODES; () for None (not sure)."""
    return () if node is None else NODES[node].classes


def shown_nodes(probabilities: np.ndarray, threshold: float) -> list[int | None]:
    """The node shown for each row of float (N, 10) probabilities (None: not sure)."""
    return [most_specific_node(row, threshold) for row in probabilities]


def calibration_bins(confidences, borne_out, bins: int = 10) -> list[dict]:
    """Reliability diagram data: per equal-width confidence bin, its count, mean confidence
    and the share of answers borne out (empty bins left out)."""
    confidences = np.asarray(confidences, np.float64)
    borne_out = np.asarray(borne_out, np.float64)
    bin_of = np.clip((confidences * bins).astype(int), 0, bins - 1)
    return [{"low": index / bins, "high": (index + 1) / bins, "count": int(chosen.sum()),
             "confidence": float(confidences[chosen].mean()),
             "borne_out": float(borne_out[chosen].mean())}
            for index in range(bins) if (chosen := bin_of == index).any()]


def expected_calibration_error(confidences, borne_out, bins: int = 10) -> float | None:
    """Mean gap between confidence and the share borne out, weighted by bin size (None
    without answers)."""
    rows = calibration_bins(confidences, borne_out, bins)
    total = sum(row["count"] for row in rows)
    if not total:
        return None
    return float(sum(row["count"] * abs(row["confidence"] - row["borne_out"]) for row in rows)
                 / total)


def outcome_counts(outcomes: list[str]) -> dict:
    """Count and share of each of OUTCOMES."""
    count = len(outcomes)
    return {"photos": count,
            **{name: outcomes.count(name) for name in OUTCOMES},
            **{f"{name}_rate": outcomes.count(name) / count if count else 0.0
               for name in OUTCOMES}}


def outcome_report(probabilities: np.ndarray, accepted: np.ndarray, group: np.ndarray,
                   folders, threshold: float, missing_folders=(), others=None) -> dict:
    """The four outcomes per folder and overall, with the calibration of the shown answer.

    probabilities float (N, 10), accepted and group bool (N, 10), folders (N,) names;
    missing_folders names the folder of each photo where no garment was found or that could
    not be read: those count as "not sure". others, bool (N,) or None, marks the photos
    shown as "not one of the ten" (model.other_garments): wrong answers here. The calibration
    is over the classes and groups shown.
    """
    probabilities = np.asarray(probabilities, np.float64).reshape(-1, NUM_CLASSES)
    others = np.zeros(len(probabilities), bool) if others is None else np.asarray(others, bool)
    nodes = [None if other else node
             for node, other in zip(shown_nodes(probabilities, threshold), others)]
    outcomes = [outcome(node_classes(node), row_accepted, row_group, other)
                for node, row_accepted, row_group, other in zip(nodes, accepted, group, others)]
    sums = node_probabilities(probabilities)
    shown = [index for index, node in enumerate(nodes) if node is not None]
    confidences = [float(sums[index, nodes[index]]) for index in shown]
    borne_out = [outcomes[index] in ("right", "coarser") for index in shown]
    all_folders = [str(folder) for folder in folders] + [str(name) for name in missing_folders]
    all_outcomes = outcomes + ["not sure"] * len(missing_folders)
    report = {"threshold": threshold,
              "overall": outcome_counts(all_outcomes),
              "folders": {folder: outcome_counts([result for name, result
                                                  in zip(all_folders, all_outcomes)
                                                  if name == folder])
                          for folder in sorted(set(all_folders))},
              "calibration_error": expected_calibration_error(confidences, borne_out),
              "calibration_bins": calibration_bins(confidences, borne_out)}
    return report


def risk_coverage(probabilities: np.ndarray, accepted: np.ndarray, group: np.ndarray,
                  missing: int = 0, thresholds=THRESHOLDS) -> list[dict]:
    """The overall outcome shares at every threshold: the trade between answering more
    photos (coverage) and answering them wrongly (risk)."""
    rows = []
    for threshold in thresholds:
        nodes = shown_nodes(probabilities, threshold)
        outcomes = [outcome(node_classes(node), row_accepted, row_group)
                    for node, row_accepted, row_group in zip(nodes, accepted, group)]
        rows.append({"threshold": threshold,
                     **outcome_counts(outcomes + ["not sure"] * missing)})
    return rows


def choose_threshold(curve: list[dict], most_wrong: float = 0.05) -> dict | None:
    """The row of a risk-coverage curve with the most right answers among those with at most
    most_wrong wrong ones (the lowest such threshold on a tie), or None if none qualifies."""
    allowed = [row for row in curve if row["wrong_rate"] <= most_wrong]
    if not allowed:
        return None
    return max(allowed, key=lambda row: (row["right"], -row["threshold"]))


def format_outcomes(report: dict) -> str:
    """The outcome report as a text table, counts and shares."""
    header = f"{'folder':<14}{'photos':>7}" + "".join(f"{name:>10}" for name in OUTCOMES)
    lines = [f"shown answer at threshold {report['threshold']:.2f} (share of photos):", header]
    for folder, row in list(report["folders"].items()) + [("overall", report["overall"])]:
        lines.append(f"{folder:<14}{row['photos']:>7}"
                     + "".join(f"{row[f'{name}_rate']:>10.1%}" for name in OUTCOMES))
    overall = report["overall"]
    lines.append("overall: " + ", ".join(f"{overall[name]} {name}" for name in OUTCOMES)
                 + f" of {overall['photos']}")
    if report["calibration_error"] is not None:
        lines.append(f"expected calibration error of the shown answer: "
                     f"{report['calibration_error']:.3f}")
    return "\n".join(lines)
