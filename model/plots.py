"""PNG plots of training curves and confusion matrices (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from model.classes import CLASS_NAMES


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
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


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
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
