"""PNG plots (matplotlib, no display needed): training curves, confusion matrices, the calibration
of the shown answer and the scores of garments of none of the ten; each written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from model.classes import CLASS_NAMES
from segmentation import files


def save_figure(figure, path: Path) -> None:
    """Lays the figure out, writes it as PNG whole or not at all, and closes it."""
    figure.tight_layout()
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110)
    plt.close(figure)


def plot_training_curves(history: dict, path: Path) -> None:
    """Loss and accuracy against epoch, for training and validation."""
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        if key in history:
            loss_axis.plot(epochs, history[key], label=label)
    for key, label in (("accepted_accuracy", "training (both sources)"),
                       ("val_accepted_accuracy", "validation, Fashion-MNIST"),
                       ("val_photo_exact", "validation photos, exact"),
                       ("val_photo_group", "validation photos, right group")):
        if key in history:
            accuracy_axis.plot(epochs, history[key], label=label)
    loss_axis.set(title="Loss", xlabel="epoch")
    accuracy_axis.set(title="Accuracy", xlabel="epoch")
    for axis in (loss_axis, accuracy_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    save_figure(figure, path)


def plot_confusion_matrix(matrix, path: Path, title: str = "Confusion matrix") -> None:
    matrix = np.asarray(matrix)
    figure, axis = plt.subplots(figsize=(8, 7))
    image = axis.imshow(matrix, cmap="Blues")
    axis.set_xticks(range(len(CLASS_NAMES)), CLASS_NAMES, rotation=45, ha="right")
    axis.set_yticks(range(len(CLASS_NAMES)), CLASS_NAMES)
    axis.set(xlabel="predicted", ylabel="true", title=title)
    threshold = matrix.max() / 2
    for row in range(matrix.shape[0]):
        for column in range(matrix.shape[1]):
            axis.text(column, row, matrix[row, column], ha="center", va="center", fontsize=8,
                      color="white" if matrix[row, column] > threshold else "black")
    figure.colorbar(image, ax=axis, fraction=0.046)
    save_figure(figure, path)


def plot_risk_coverage(curve: list[dict], path: Path, chosen: float | None = None,
                       title: str = "The shown answer against the threshold") -> None:
    """The shares of right, coarser, not-sure and wrong answers at every threshold
    (model.outcomes.risk_coverage), with the chosen threshold marked."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    thresholds = [row["threshold"] for row in curve]
    for name, colour in (("right", "tab:green"), ("coarser", "tab:olive"),
                         ("not sure", "tab:grey"), ("wrong", "tab:red")):
        axis.plot(thresholds, [row[f"{name}_rate"] for row in curve], label=name, color=colour)
    if chosen is not None:
        axis.axvline(chosen, color="black", linestyle=":", label=f"chosen {chosen:.2f}")
    axis.axhline(0.05, color="tab:red", linestyle="--", linewidth=0.8, alpha=0.6)
    axis.set(xlabel="threshold (summed probability of the answer)", ylabel="share of photos",
             title=title, ylim=(0, 1))
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)


def plot_reliability(diagrams: dict, path: Path) -> None:
    """Reliability diagrams side by side: for each name, the calibration bins of
    model.outcomes.calibration_bins (share borne out against mean confidence) and its
    expected calibration error, given as {name: (bins, error)}."""
    figure, axes = plt.subplots(1, len(diagrams), figsize=(4.5 * len(diagrams), 4.5),
                                squeeze=False)
    for axis, (name, (bins, error)) in zip(axes[0], diagrams.items()):
        centres = [(row["low"] + row["high"]) / 2 for row in bins]
        axis.bar(centres, [row["borne_out"] for row in bins], width=0.09, alpha=0.7,
                 label="share borne out")
        axis.plot([row["confidence"] for row in bins], [row["borne_out"] for row in bins], "o",
                  color="black", markersize=3, label="bin means")
        axis.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
        for centre, row in zip(centres, bins):
            axis.text(centre, 0.02, str(row["count"]), ha="center", fontsize=7)
        error_text = "n/a" if error is None else f"{error:.3f}"
        axis.set(xlabel="confidence of the shown answer", ylabel="share borne out",
                 title=f"{name}\nECE {error_text}", xlim=(0, 1), ylim=(0, 1))
        axis.legend(loc="upper left", fontsize=8)
    save_figure(figure, path)


def plot_other_garment_scores(known, other, threshold: float | None, path: Path) -> None:
    """Histograms of the scores of "not one of the ten" (model.other_garments) for validation
    photos of the ten classes and of other garments, with the chosen threshold."""
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    bins = np.linspace(0, 1, 41)
    axes.hist(known, bins, alpha=0.6, label=f"garments of the ten classes ({len(known)})")
    axes.hist(other, bins, alpha=0.6, label=f"other garments ({len(other)})")
    if threshold is not None:
        axes.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    axes.set_xlabel('score of "not one of the ten"')
    axes.set_ylabel("validation photos")
    axes.set_yscale("log")
    axes.legend(fontsize=8)
    save_figure(figure, path)
