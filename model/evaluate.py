"""Evaluates one or more models on the 10,000 Fashion-MNIST test images.

    python -m model.evaluate                                   # the shipped model (LiteRT)
    python -m model.evaluate assets/fashion_cnn.keras assets/fashion_cnn.tflite
    python -m model.evaluate runs/a/fashion_cnn.keras runs/b/fashion_cnn.keras --flip-tta --out eval/
    python -m model.evaluate --photos photos/validation               # labelled photos, as the app

Prints accuracy, per-class precision, recall, F1 and one-vs-rest ROC AUC, and the confusion
matrix for each model, for their ensemble (averaged probabilities) when there are several,
and the agreement of each pair. Works on `.keras` (needs TensorFlow) and `.tflite` (LiteRT).
With --out, writes the confusion matrices as PNG and the reports as JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from model.classes import ANSWER_THRESHOLD
from model.data import DatasetError, load_fashion_mnist
from model.metrics import classification_report, format_photo_report, format_report, photo_report
from model.outcomes import format_outcomes, outcome_report
from model.paths import SHIPPED_TFLITE_MODEL
from model.photos import load_photo_set
from model.predictor import ModelLoadError, load_predictor, predict_in_batches
from model.taught import embed
from segmentation import files


def evaluate_photos(models: list, directory: str, labels: str | None, flip_tta: bool,
                    threshold: float = ANSWER_THRESHOLD) -> int:
    """Exact and group accuracy, per folder, the folder confusion of each model, and the
    four outcomes of the answer shown at threshold (model.outcomes; "not one of the ten" from
    the model's detector of other garments, model.other_garments, counts as wrong)."""
    try:
        photo_set = load_photo_set(directory, labels)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    suffix = " with flip TTA" if flip_tta else ""
    for path in models:
        try:
            predictor = load_predictor(path)
        except ModelLoadError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        detector = getattr(predictor, "other_garments", None)
        others = None
        if detector is None:
            probabilities = predict_in_batches(predictor, photo_set.images, flip=flip_tta)
        else:  # Answers "not one of the ten" where the model's detector says so.
            probabilities, embeddings = embed(predictor, photo_set.images, flip_tta)
            others = detector.scores(embeddings) >= detector.threshold
        report = photo_report(probabilities, photo_set)
        print(format_photo_report(report, f"== {path}{suffix}: {report['photos']} photos of "
                                          f"{directory} ({len(photo_set.left_out)} with no "
                                          "garment found or unreadable, counted as wrong)"))
        print(format_outcomes(outcome_report(
            probabilities, photo_set.accepted, photo_set.group, photo_set.folders.tolist(),
            threshold, photo_set.left_out_folders, others)))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=[str(SHIPPED_TFLITE_MODEL)],
                        help=".keras or .tflite files (default: the shipped model)")
    parser.add_argument("--flip-averaging", "--flip-tta", dest="flip_tta",
                        action=argparse.BooleanOptionalAction, default=None,
                        help="average each image's probabilities with its mirror image's "
                             "(default: off on the test set, a single pass; on with --photos, "
                             "as the app)")
    parser.add_argument("--data-dir", help="folder of the Fashion-MNIST IDX files")
    parser.add_argument("--out", help="folder for confusion-matrix PNGs and a JSON report "
                                      "(the test set only; for photos, `python -m "
                                      "segmentation.evaluate --out` draws the failures, the "
                                      "risk-coverage curve and the reliability diagram)")
    parser.add_argument("--photos", metavar="DIR",
                        help="evaluate on labelled photos instead (one sub-folder per line of "
                             "the labels file, seen through the segmentation at the app's "
                             "settings; photos where no garment is found count as wrong)")
    parser.add_argument("--photo-labels", metavar="CSV",
                        help="labels file of --photos (default: DIR/labels.csv)")
    parser.add_argument("--threshold", type=float, default=ANSWER_THRESHOLD,
                        help="with --photos, the summed probability from which a class or group "
                             f"is shown (default {ANSWER_THRESHOLD}, as the app)")
    arguments = parser.parse_args(argv)
    if not 0 < arguments.threshold <= 1:
        parser.error(f"--threshold must be above 0 and at most 1, got {arguments.threshold}.")
    if arguments.photos and arguments.out:
        parser.error("--out writes the test set's reports; for photos use `python -m "
                     "segmentation.evaluate DIR --labels CSV --out OUT`.")
    if arguments.flip_tta is None:
        arguments.flip_tta = bool(arguments.photos)
    if arguments.out:
        try:
            Path(arguments.out).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            print(f"error: cannot write into {arguments.out} ({error.strerror or error}); "
                  "choose a folder you can write to.", file=sys.stderr)
            return 2
    if arguments.photos:
        return evaluate_photos(arguments.models, arguments.photos, arguments.photo_labels,
                               arguments.flip_tta, arguments.threshold)
    try:
        dataset = load_fashion_mnist(arguments.data_dir)
        images, labels = dataset.test_images, dataset.test_labels
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    probabilities = {}
    for path in arguments.models:
        try:
            predictor = load_predictor(path)
        except ModelLoadError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        probabilities[path] = predict_in_batches(predictor, images, 500, arguments.flip_tta,
                                                  progress=path)
    reports = {path: classification_report(labels, values)
               for path, values in probabilities.items()}
    if len(probabilities) > 1:
        reports["ensemble"] = classification_report(
            labels, np.mean(list(probabilities.values()), axis=0))
    suffix = " with flip TTA" if arguments.flip_tta else ""
    for name, report in reports.items():
        print(format_report(report, f"== {name}{suffix}"))
        print()
    agreements = {}
    for first, second in itertools.combinations(probabilities, 2):
        agreement = float((probabilities[first].argmax(1) == probabilities[second].argmax(1)).mean())
        agreements[f"{first} vs {second}"] = agreement
        print(f"agreement {first} vs {second}: {agreement * 100:.2f}% of test images")
    print("summary:")
    for name, report in reports.items():
        print(f"  {report['accuracy'] * 100:6.2f}%  {name}{suffix}")
    if arguments.out:
        from model.plots import plot_confusion_matrix

        out = Path(arguments.out)
        for index, (name, report) in enumerate(reports.items()):
            png = out / f"confusion_matrix_{index}_{Path(name).stem}.png"
            plot_confusion_matrix(report["confusion_matrix"], png,
                                  f"{name}{suffix}: {report['accuracy'] * 100:.2f}%")
            print(f"wrote {png}")
        files.write_text(out / "evaluation.json", json.dumps(
            {"flip_tta": arguments.flip_tta, "reports": reports, "agreements": agreements},
            indent=2) + "\n")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
