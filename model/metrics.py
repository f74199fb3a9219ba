"""Classification metrics in plain numpy, shared by training and evaluation."""

from __future__ import annotations

from collections import Counter

import numpy as np

from model.classes import CLASS_NAMES, NUM_CLASSES


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def roc_auc(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties averaged."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    # Average the ranks of tied scores.
    unique, inverse, counts = np.unique(sorted_scores, return_inverse=True, return_counts=True)
    if len(unique) < len(scores):
        sums = np.zeros(len(unique))
        np.add.at(sums, inverse, np.arange(1, len(scores) + 1))
        ranks[order] = (sums / counts)[inverse]
    positive_count = int(positives.sum())
    negative_count = len(scores) - positive_count
    if positive_count == 0 or negative_count == 0:
        return float("nan")
    rank_sum = ranks[positives].sum()
    return float((rank_sum - positive_count * (positive_count + 1) / 2)
                 / (positive_count * negative_count))


def classification_report(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, per-class precision, recall, F1 and one-vs-rest ROC AUC, and the matrix."""
    labels = np.asarray(labels).astype(np.int64)
    predictions = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predictions)
    per_class = {}
    for index, name in enumerate(CLASS_NAMES):
        true_positives = matrix[index, index]
        predicted = matrix[:, index].sum()
        actual = matrix[index, :].sum()
        precision = true_positives / predicted if predicted else 0.0
        recall = true_positives / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "roc_auc": round(roc_auc(probabilities[:, index], labels == index), 5),
            "support": int(actual),
        }
    return {
        "accuracy": float((predictions == labels).mean()),
        "count": int(len(labels)),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }


def format_report(report: dict, title: str = "") -> str:
    """The report as aligned text: a per-class table and the confusion matrix."""
    lines = [title] if title else []
    lines.append(f"accuracy {report['accuracy'] * 100:.2f}% on {report['count']} images")
    lines.append(f"{'class':<12} {'precision':>9} {'recall':>7} {'F1':>7} {'ROC AUC':>8}")
    for name, row in report["per_class"].items():
        lines.append(f"{name:<12} {row['precision']:>9.4f} {row['recall']:>7.4f} "
                     f"{row['f1']:>7.4f} {row['roc_auc']:>8.5f}")
    lines.append("confusion matrix (rows true, columns predicted):")
    short = [name[:5] for name in CLASS_NAMES]
    lines.append(" " * 12 + "".join(f"{name:>6}" for name in short))
    for name, row in zip(CLASS_NAMES, report["confusion_matrix"]):
        lines.append(f"{name:<12}" + "".join(f"{value:>6}" for value in row))
    return "\n".join(lines)


def folder_confusion(folders, predicted) -> dict:
    """Per photo folder, how many photos were named each class; a prediction of None (no
    garment found) is counted in an eleventh column."""
    confusion = {}
    for folder, prediction in zip(folders, predicted):
        row = confusion.setdefault(str(folder), [0] * (NUM_CLASSES + 1))
        row[NUM_CLASSES if prediction is None else int(prediction)] += 1
    return dict(sorted(confusion.items()))


def format_folder_confusion(confusion: dict) -> str:
    """The folder confusion as a text table: rows are folders, columns the classes named."""
    names = [name[:5] for name in CLASS_NAMES] + ["none"]
    width = max([len("folder")] + [len(folder) for folder in confusion]) + 1
    lines = ["photos per folder (rows) by the class named (columns; none: no garment found):",
             " " * width + "".join(f"{name:>6}" for name in names)]
    for folder, row in confusion.items():
        lines.append(f"{folder:<{width}}" + "".join(f"{count:>6}" for count in row))
    return "\n".join(lines)


def photo_report(probabilities: np.ndarray, photo_set) -> dict:
    """Exact and group accuracy on a photo set (model.photos.PhotoSet), overall and
    per folder, with the folder confusion. Photos left out of the set (no garment found, or
    unreadable) count as wrong, as segmentation.evaluate counts them."""
    predicted = probabilities.argmax(1)
    rows = np.arange(len(predicted))
    exact, group = photo_set.accepted[rows, predicted], photo_set.group[rows, predicted]
    left_out_folders = photo_set.left_out_folders
    left_out = Counter(left_out_folders)
    folders = {}
    for folder in sorted(set(photo_set.folders.tolist()) | set(left_out)):
        chosen = photo_set.folders == folder
        count = int(chosen.sum()) + left_out.get(folder, 0)
        folders[folder] = {"photos": count, "exact": float(exact[chosen].sum() / count),
                           "group": float(group[chosen].sum() / count)}
    count = len(predicted) + sum(left_out.values())
    return {"photos": count, "exact": float(exact.sum() / count) if count else 0.0,
            "group": float(group.sum() / count) if count else 0.0, "folders": folders,
            "confusion": folder_confusion(photo_set.folders.tolist() + left_out_folders,
                                          predicted.tolist() + [None] * len(left_out_folders))}


def format_photo_report(report: dict, title: str) -> str:
    lines = [title, f"  {'folder':<12}{'photos':>7}{'exact':>8}{'group':>8}"]
    for folder, row in list(report["folders"].items()) + [("overall", report)]:
        lines.append(f"  {folder:<12}{row['photos']:>7}{row['exact']:>8.1%}{row['group']:>8.1%}")
    return "\n".join(lines + [format_folder_confusion(report["confusion"])])
