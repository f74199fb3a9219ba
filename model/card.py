"""Writing a trained model: the float32 .keras, its checked LiteRT export, the confusion
matrix and the model card (model_card.json), and reading cards back.

One module writes and reads model cards; model.train calls it (and experiments/).
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from model.metrics import classification_report, format_report
from model.paths import CARD_FILE, KERAS_FILE, TFLITE_FILE, read_card_file
from segmentation import files
from model.predictor import KerasPredictor, predict_in_batches


def shown_path(path) -> str:
    """A data source's path for a model card: as given when relative, relative to the working
    folder when inside it, else its last two parts (e.g. clothing-dataset/train), so that a
    card names no folder of the machine it was trained on."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(*path.parts[-2:]).as_posix()


def read_card(model_path) -> dict:
    """The card next to a model file, or {} when there is none (see read_card_file)."""
    return read_card_file(Path(model_path).parent / CARD_FILE)



def write_model(model, architecture: dict, dataset, train_indices, validation_indices,
                out: Path, card_fields: dict) -> dict:
    """Saves a float32 model, its LiteRT export, confusion matrix and card; returns the card.

    The test set is measured here, once, after everything was chosen. card_fields (how the
    model was made) go into the card between the dataset and the accuracies.
    """
    import keras
    import tensorflow as tf

    from model.export import export_tflite  # These three import TensorFlow or matplotlib.
    from model.network import count_flops
    from model.plots import plot_confusion_matrix

    with files.atomic_path(out / KERAS_FILE) as temporary:  # Whole, or not at all.
        model.save(temporary)
    export_tflite(model, out / TFLITE_FILE)
    validation_labels = dataset.train_labels[validation_indices]
    predictor = KerasPredictor.from_model(model)
    validation_report = classification_report(
        validation_labels, predict_in_batches(predictor, dataset.train_images[validation_indices]))
    test_report = classification_report(dataset.test_labels,
                                        predict_in_batches(predictor, dataset.test_images))
    print(format_report(test_report, "Test set (10,000 images), measured once at the end:"))
    plot_confusion_matrix(test_report["confusion_matrix"], out / "confusion_matrix.png",
                          f"Test set, accuracy {test_report['accuracy'] * 100:.2f}%")
    card = {
        "name": model.name,
        "architecture": architecture,
        "parameters": int(model.count_params()),
        "flops_per_image": count_flops(model),
        "input": "float32 (N, 28, 28, 1), raw pixel values 0-255, normalised inside the model",
        "output": "float32 (N, 10) class probabilities",
        "dataset": {"name": "Fashion-MNIST", "directory": shown_path(dataset.directory),
                    "sha256": dataset.checksum, "train_images": int(len(train_indices)),
                    "validation_images": int(len(validation_labels)),
                    "test_images": int(len(dataset.test_labels))},
        **card_fields,
        "validation_accuracy": validation_report["accuracy"],
        "test_accuracy": test_report["accuracy"],
        "test_per_class": test_report["per_class"],
        "machine": {"processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "tensorflow": tf.__version__,
                    "keras": keras.__version__},
    }
    files.write_text(out / CARD_FILE, json.dumps(card, indent=2) + "\n")
    return card
