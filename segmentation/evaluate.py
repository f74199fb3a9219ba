"""Score the whole pipeline (segmentation + classifier) on labelled photos.

    python -m segmentation.evaluate PHOTOS/validation --labels PHOTOS/labels.csv --flip-tta
    python -m segmentation.evaluate photos/ --labels labels.csv --variant naive --out report/
    python -m segmentation.evaluate photos/ --labels labels.csv --flip-tta --format json
    python -m segmentation.evaluate photos/ --flip-tta --taught taught/   # with taught examples

labels.csv has a header and one line per folder: folder,accepted_classes,group_classes, where
the classes are Fashion-MNIST indices separated by spaces (e.g. `shirt,6,0 2 4 6`). A photo is
exact when the predicted class is accepted and right in group when it is in group_classes;
photos where nothing is found count as wrong. Prints found rate, exact and group accuracy per
folder and overall; --out DIR writes failures.png (photo, mask, 28x28 input, prediction).
With --taught DIR (laid out as the app saves it: sub-folders 0-9) the nearest taught example
decides an answer as in the app (model.taught), and the photos so decided are counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segmentation import images as image_files
from segmentation.config import SegmentationConfig
from segmentation.options import add_config_arguments, config_from_arguments
from model.photos import FolderLabels, labelled_files, labels_for, read_labels
from segmentation.pipeline import segment


@dataclass(frozen=True)
class PhotoScore:
    # Folder the photo belongs to.
    folder: str
    # Path of the photo.
    path: Path
    # The segmentation result, or None when the file could not be read.
    result: object
    # Predicted class index, or None when nothing was found or the file was unreadable.
    predicted: int | None
    # Probability of the predicted class, or None.
    confidence: float | None
    # True when the predicted class is accepted.
    exact: bool
    # True when the predicted class is in the right group.
    group: bool
    # The read error, or None.
    error: str | None = None
    # True when a taught example decided the answer.
    taught: bool = False


def load_photos(directory, labels: list[FolderLabels]):
    """(folder labels, path, image or None, error or None) for each photo in labelled folders."""
    photos = []
    for folder_labels, path in labelled_files(directory, labels):
        try:
            photos.append((folder_labels, path, image_files.read_image(path), None))
        except image_files.ImageReadError as error:
            photos.append((folder_labels, path, None, str(error)))
    return photos


def score_photos(photos, predictor, config: SegmentationConfig, flip: bool = False,
                 progress: bool = False, taught=None) -> list[PhotoScore]:
    """Segments and classifies each loaded photo and scores the answer; taught
    (TaughtExamples), when given, decides answers as in the app."""
    from segmentation.classify import classify, classify_with_taught

    scores = []
    for number, (folder_labels, path, image, error) in enumerate(photos, start=1):
        if progress:
            print(f"\r{number}/{len(photos)} photos", end="", file=sys.stderr, flush=True)
        if image is None:
            scores.append(PhotoScore(folder_labels.folder, path, None, None, None, False, False,
                                     error))
            continue
        result = segment(image, config)
        predicted, confidence, decided = None, None, False
        if result.found and taught is not None:
            probabilities, decided = classify_with_taught(predictor, result.model_input[None],
                                                          taught, flip)
            probabilities, decided = probabilities[0], bool(decided[0])
        elif result.found:
            probabilities = classify(predictor, result.model_input[None], flip)[0]
        if result.found:
            predicted = int(np.argmax(probabilities))
            confidence = float(probabilities[predicted])
        scores.append(PhotoScore(folder_labels.folder, path, result, predicted, confidence,
                                 predicted in folder_labels.accepted_classes,
                                 predicted in folder_labels.group_classes, taught=decided))
    if progress:
        print(file=sys.stderr)
    return scores


def calibration_error(confidences, correct, bins: int = 5) -> float | None:
    """Expected calibration error: the gap between confidence and accuracy, over equal bins."""
    if not confidences:
        return None
    confidences, correct = np.asarray(confidences), np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    bin_of = np.clip(np.digitize(confidences, edges[1:-1]), 0, bins - 1)
    gaps = [abs(confidences[bin_of == index].mean() - correct[bin_of == index].mean())
            * (bin_of == index).mean() for index in range(bins) if (bin_of == index).any()]
    return float(sum(gaps))


def summarise_scores(scores: list[PhotoScore], threshold: float = 0.5) -> dict:
    """Counts and rates per folder and overall (rates are fractions of all photos).

    Photos whose confidence reaches the threshold are the ones the app would name; the others
    it calls "not sure". The calibration error is over the photos where a garment was found.
    """

    def rates(subset):
        count = len(subset)
        found = sum(score.predicted is not None for score in subset)
        exact = sum(score.exact for score in subset)
        group = sum(score.group for score in subset)
        right = [score.confidence for score in subset if score.exact]
        wrong = [score.confidence for score in subset
                 if score.predicted is not None and not score.exact]
        named = [score for score in subset
                 if score.confidence is not None and score.confidence >= threshold]
        classified = [score for score in subset if score.confidence is not None]
        return {"photos": count, "found": found, "exact": exact, "group": group,
                "named_rate": len(named) / count if count else 0.0,
                "exact_accuracy_when_named": (sum(score.exact for score in named) / len(named)
                                              if named else None),
                "calibration_error": calibration_error(
                    [score.confidence for score in classified],
                    [score.exact for score in classified]),
                "found_rate": found / count if count else 0.0,
                "exact_accuracy": exact / count if count else 0.0,
                "group_accuracy": group / count if count else 0.0,
                "mean_confidence_right": float(np.mean(right)) if right else None,
                "mean_confidence_wrong": float(np.mean(wrong)) if wrong else None}

    folders = sorted({score.folder for score in scores})
    return {"folders": {folder: rates([score for score in scores if score.folder == folder])
                        for folder in folders},
            "overall": rates(scores)}


def photo_record(score: PhotoScore) -> dict:
    """One photo's outcome, for comparing settings photo by photo."""
    return {"path": str(score.path), "folder": score.folder, "predicted": score.predicted,
            "confidence": score.confidence, "exact": score.exact, "group": score.group,
            "taught": score.taught,
            "reason": score.error or (score.result.reason if score.result is not None else None)}


def summary_table(summary: dict) -> str:
    """The summary as an aligned text table."""
    lines = [f"{'folder':<14}{'photos':>7}{'found':>8}{'exact':>8}{'group':>8}"]
    rows = list(summary["folders"].items()) + [("overall", summary["overall"])]
    for name, rates in rows:
        if name == "overall":
            lines.append("-" * len(lines[0]))
        lines.append(f"{name:<14}{rates['photos']:>7}{rates['found_rate']:>8.0%}"
                     f"{rates['exact_accuracy']:>8.0%}{rates['group_accuracy']:>8.0%}")
    overall = summary["overall"]
    # Rounded percentages can hide a goal missed by one photo: give the counts too.
    lines.append(f"overall: {overall['exact']} of {overall['photos']} exact "
                 f"({overall['exact_accuracy']:.1%}), {overall['group']} in the right group "
                 f"({overall['group_accuracy']:.1%})")
    if overall["mean_confidence_right"] is not None or overall["mean_confidence_wrong"] is not None:
        right = overall["mean_confidence_right"] or 0.0
        wrong = overall["mean_confidence_wrong"] or 0.0
        lines.append(f"mean confidence: {right:.2f} when exact, {wrong:.2f} when not; "
                     f"calibration error {overall['calibration_error']:.2f}")
    if overall["exact_accuracy_when_named"] is not None:
        lines.append(f"above the confidence threshold: {overall['named_rate']:.0%} of photos "
                     f"named, {overall['exact_accuracy_when_named']:.0%} of those exact")
    return "\n".join(lines)


def failure_sheet(scores: list[PhotoScore], photos, labels: list[FolderLabels], config):
    """Contact sheet of the photos that were not exact: overlay, mask, 28x28 input, prediction."""
    from model.classes import CLASS_NAMES

    images_by_path = {path: image for _, path, image, _ in photos}
    accepted_by_folder = {item.folder: item.accepted_classes for item in labels}
    entries = []
    for score in scores:
        if score.exact:
            continue
        if score.result is None:
            entries.append(([None], f"{score.folder}/{score.path.name}: {score.error}"))
            continue
        accepted = "/".join(CLASS_NAMES[index] for index in accepted_by_folder[score.folder])
        if score.predicted is None:
            said = f"not found ({score.result.reason})"
        else:
            said = f"{CLASS_NAMES[score.predicted]} {score.confidence:.2f}"
        overlay = image_files.draw_overlay(images_by_path[score.path], score.result, None,
                                           config.sampling_windows())
        entries.append(([overlay, score.result.mask, score.result.model_input],
                        f"{score.folder}: {said} (want {accepted})"))
    return image_files.contact_sheet(entries, entries_per_row=2)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m segmentation.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path, metavar="DIR",
                        help="folder holding one sub-folder of photos per labels.csv line")
    parser.add_argument("--labels", type=Path, metavar="CSV",
                        help="labels file (default: DIR/labels.csv; a taught folder of "
                             "sub-folders 0-9 needs none)")
    parser.add_argument("--model", type=Path, metavar="FILE",
                        help="model file (.tflite or .keras; default: the shipped .tflite)")
    parser.add_argument("--flip-tta", action="store_true",
                        help="average the prediction of each input and its mirror image")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write failures.png (contact sheet of the photos not named exactly)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="confidence below which the app says 'not sure' (default 0.5)")
    parser.add_argument("--taught", type=Path, metavar="DIR",
                        help="taught examples (sub-folders 0-9 of photos or saved examples, as "
                             "the app saves them) that decide answers as in the app")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="a text table, or one JSON object with the summary")
    add_config_arguments(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        config = config_from_arguments(arguments)
        labels = read_labels(arguments.labels) if arguments.labels else \
            labels_for(arguments.directory)
    except ValueError as error:
        parser.error(str(error))
    from model.metrics import folder_confusion, format_folder_confusion
    from segmentation.classify import load_classifier, load_taught_examples

    try:
        predictor = load_classifier(arguments.model, config.output_size)
        taught = None if arguments.taught is None else \
            load_taught_examples(predictor, arguments.taught, config, arguments.flip_tta)
        if arguments.out is not None:
            image_files.make_output_folder(arguments.out)  # Checked before the work.
    except (RuntimeError, OSError) as error:
        print(error, file=sys.stderr)
        return 2
    photos = load_photos(arguments.directory, labels)
    if not photos:
        print(f"No photos found under {arguments.directory} for the folders in the labels.",
              file=sys.stderr)
        return 1
    for _, path, _, error in photos:
        if error:
            print(f"{path}: error: {error}", file=sys.stderr)
    scores = score_photos(photos, predictor, config, arguments.flip_tta, progress=True,
                          taught=taught)
    summary = summarise_scores(scores, arguments.threshold)
    if taught is not None:
        summary["overall"]["taught"] = sum(score.taught for score in scores)
    confusion = folder_confusion([score.folder for score in scores],
                                 [score.predicted for score in scores])
    if arguments.format == "json":
        summary["photos"] = [photo_record(score) for score in scores]
        summary["confusion"] = confusion
        print(json.dumps(summary))
    else:
        print(summary_table(summary))
        if taught is not None:
            print(f"decided by a taught example: {summary['overall']['taught']} of "
                  f"{len(scores)} photos ({len(taught)} taught examples)")
        print(format_folder_confusion(confusion))
    if arguments.out is not None:
        sheet_path = arguments.out / "failures.png"
        image_files.write_image(sheet_path, failure_sheet(scores, photos, labels, config))
        print(f"Wrote {sheet_path}", file=sys.stderr)
    return 0 if any(image is not None for _, _, image, _ in photos) else 1


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
