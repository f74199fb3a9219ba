"""Score the whole pipeline (segmentation + classifier) on labelled photos.

    python -m segmentation.evaluate PHOTOS/validation --labels PHOTOS/labels.csv
    python -m segmentation.evaluate photos/ --labels labels.csv --variant naive --out report/
    python -m segmentation.evaluate photos/ --labels labels.csv --format json
    python -m segmentation.evaluate photos/ --taught taught/   # with taught examples
    python -m segmentation.evaluate PHOTOS/validation --other-folders hat shorts skirt

labels.csv has a header and one line per folder: folder,accepted_classes,group_classes, where
the classes are Fashion-MNIST indices separated by spaces (e.g. `shirt,6,0 2 4 6`). A photo is
exact when the predicted class is accepted and right in group when it is in group_classes;
photos where nothing is found count as wrong. Prints found rate, exact and group accuracy of
the most likely class per folder and overall, then what the app would show, with its
defaults (flip averaging, the calibrated model, --threshold): the four outcomes of the shown
answer per folder (right, coarser, not sure, wrong; model.outcomes) and its calibration
error. "not one of the ten" (model.other_garments) counts as wrong for a labelled photo;
--other-folders reports what the app shows for garments without a class. --out DIR writes failures.png (photo, mask, 28x28 input, prediction), and, where
matplotlib is installed, risk_coverage.png and reliability.png.
With --taught DIR (laid out as the app saves it: sub-folders 0-9) the nearest taught example
decides an answer as in the app (model.taught), and the photos so decided are counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from model import classifier, outcomes
from model.classes import CLASS_NAMES, NOT_SURE
from model.metrics import folder_confusion, format_folder_confusion
from model.other_garments import NOT_ONE_OF_THE_TEN
from model.photos import FolderLabels, class_mask, labelled_files, labels_for, read_labels
from segmentation import images as image_files
from segmentation.config import SegmentationConfig
from segmentation.options import add_config_arguments, config_from_arguments
from segmentation.pipeline import segment


@dataclass(frozen=True)
class PhotoScore:
    # Folder the photo belongs to.
    folder: str
    # Path of the photo.
    path: Path
    # The segmentation result without its full-size crop, or None when the file could not be
    # read.
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
    # The probabilities (10,) the answer was made from, or None when nothing was classified.
    probabilities: np.ndarray | None = None
    # The score of "not one of the ten" (model.other_garments), or None without a detector.
    other_score: float | None = None
    # True when the answer shown is "not one of the ten".
    other: bool = False
    # For the failure sheet, when the class is not accepted and the photo was read: uint8
    # tiles of at most TILE_SIZE (overlay BGR, mask, 28x28 input), small so that a batch of
    # large photos does not pile up in memory.
    tiles: tuple | None = None


def photo_files(directory, labels: list[FolderLabels]) -> list[tuple[FolderLabels, Path]]:
    """(folder labels, path) of each photo in the labelled folders; nothing is read yet."""
    return list(labelled_files(directory, labels))


def score_photos(photos, predictor, config: SegmentationConfig, flip_averaging: bool = True,
                 progress: bool = False, taught=None,
                 failure_tiles: bool = True) -> list[PhotoScore]:
    """Reads, segments and classifies each photo of photo_files() and scores the answer, one
    photo in memory at a time; an unreadable photo is scored with its error and the rest go
    on. taught (TaughtExamples), when given, decides answers as in the app; failure_tiles:
    keep the failure sheet's tiles of the photos not exact."""
    scores = []
    for folder_labels, path in tqdm(photos, unit="photo", file=sys.stderr,
                                    disable=not progress):
        try:
            image = image_files.read_image(path)
        except image_files.ImageReadError as error:
            scores.append(PhotoScore(folder_labels.folder, path, None, None, None, False, False,
                                     str(error)))
            continue
        result = segment(image, config)
        predicted, confidence, decided, probabilities = None, None, False, None
        other_score, other = None, False
        if result.found:
            classified = classifier.classify_input(predictor, result.model_input,
                                                   flip_averaging, taught)
            # None when a taught "nothing" example decided: no garment, nothing classified.
            probabilities = classified.probabilities
            decided = classified.decision is not None and classified.decision.taught
            other_score, other = classified.other_score, classified.other
        if probabilities is not None:
            predicted = int(np.argmax(probabilities))
            confidence = float(probabilities[predicted])
        exact = predicted in folder_labels.accepted_classes
        tiles = None if exact or not failure_tiles else tuple(image_files.fit_tile(picture) for picture in (
            image_files.draw_overlay(image, result, None, config.sampling_windows()),
            result.mask, result.model_input))
        scores.append(PhotoScore(folder_labels.folder, path, replace(result, crop=None),
                                 predicted, confidence, exact,
                                 predicted in folder_labels.group_classes, taught=decided,
                                 probabilities=probabilities, other_score=other_score,
                                 other=probabilities is not None and other, tiles=tiles))
    return scores


def scored_arrays(scores: list[PhotoScore], labels: list[FolderLabels]):
    """The classified photos as model.outcomes takes them: probabilities float (N, 10),
    accepted and group bool (N, 10), their folders, the folder of each photo where nothing
    was classified, and bool (N,): shown as "not one of the ten"."""
    by_folder = {item.folder: item for item in labels}
    classified = [score for score in scores if score.probabilities is not None]
    return (np.array([score.probabilities for score in classified]).reshape(-1, 10),
            np.array([class_mask(by_folder[s.folder].accepted_classes) for s in classified]),
            np.array([class_mask(by_folder[s.folder].group_classes) for s in classified]),
            [score.folder for score in classified],
            [score.folder for score in scores if score.probabilities is None],
            np.array([score.other for score in classified], bool))


def outcome_report(scores: list[PhotoScore], labels: list[FolderLabels],
                   threshold: float) -> dict:
    """The shown answer's four outcomes per folder (model.outcomes.outcome_report); photos
    where nothing was classified count as "not sure", and "not one of the ten" as wrong."""
    probabilities, accepted, group, folders, missing, others = scored_arrays(scores, labels)
    return outcomes.outcome_report(probabilities, accepted, group, folders, threshold, missing,
                                   others)


def other_folder_report(scores: list[PhotoScore], threshold: float) -> dict:
    """What the app shows for photos of garments without a class (hats, shorts, skirts), per
    folder and overall: counts of "not one of the ten", "not sure" (also when nothing was
    found) and of each class or group named."""

    def shown(subset):
        answers = [NOT_SURE if score.probabilities is None else
                   NOT_ONE_OF_THE_TEN if score.other else
                   classifier.answer_fields(score.probabilities, threshold)["answer"] or
                   NOT_SURE for score in subset]
        return {"photos": len(answers), **{name: answers.count(name)
                                          for name in sorted(set(answers))}}

    folders = sorted({score.folder for score in scores})
    return {"folders": {folder: shown([score for score in scores if score.folder == folder])
                        for folder in folders}, "overall": shown(scores)}


def format_other_folders(report: dict) -> str:
    """The other-folder report as text lines: the share of each answer per folder."""
    lines = ["garments without a class: what the app shows (share of photos)"]
    for name, counts in list(report["folders"].items()) + [("overall", report["overall"])]:
        photos = counts["photos"]
        shares = ", ".join(f"{answer} {count / photos:.0%} ({count})"
                           for answer, count in sorted(counts.items(),
                                                       key=lambda item: -item[1])
                           if answer != "photos")
        lines.append(f"{name:<14}{photos:>5} photos: {shares}")
    return "\n".join(lines)


def summarise_scores(scores: list[PhotoScore]) -> dict:
    """Counts and rates of the most likely class per folder and overall (rates are
    fractions of all photos; photos where nothing was found count as wrong)."""

    def rates(subset):
        count = len(subset)
        found = sum(score.predicted is not None for score in subset)
        exact = sum(score.exact for score in subset)
        group = sum(score.group for score in subset)
        return {"photos": count, "found": found, "exact": exact, "group": group,
                "found_rate": found / count if count else 0.0,
                "exact_accuracy": exact / count if count else 0.0,
                "group_accuracy": group / count if count else 0.0}

    folders = sorted({score.folder for score in scores})
    return {"folders": {folder: rates([score for score in scores if score.folder == folder])
                        for folder in folders},
            "overall": rates(scores)}


def photo_record(score: PhotoScore, folder_labels: FolderLabels, threshold: float) -> dict:
    """One photo's outcome, for comparing settings photo by photo: the most likely class,
    and the shown answer (model.classifier.answer_fields) with its outcome."""
    answer = classifier.answer_fields(score.probabilities, threshold, score.other_score,
                                      score.other)
    return {"path": str(score.path), "folder": score.folder, "predicted": score.predicted,
            "confidence": score.confidence, "exact": score.exact, "group": score.group,
            "taught": score.taught, **answer,
            "outcome": outcomes.outcome(answer["answer_classes"],
                                        class_mask(folder_labels.accepted_classes),
                                        class_mask(folder_labels.group_classes),
                                        answer["other_garment"]),
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
    return "\n".join(lines)


def failure_sheet(scores: list[PhotoScore], labels: list[FolderLabels]) -> np.ndarray:
    """Contact sheet (uint8 BGR) of the photos that were not exact: overlay, mask, 28x28
    input, prediction; a line for each unreadable one."""
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
        entries.append((list(score.tiles), f"{score.folder}: {said} (want {accepted})"))
    return image_files.contact_sheet(entries, entries_per_row=2)


def write_plots(scores: list[PhotoScore], labels: list[FolderLabels], report: dict,
                out: Path) -> None:
    """risk_coverage.png (the outcomes at every threshold) and reliability.png (the shown
    answer's calibration) into out; skipped with a message where matplotlib is missing."""
    try:
        from model.plots import plot_reliability, plot_risk_coverage
    except ImportError:
        print("Plots skipped: they need matplotlib (pip install -e '.[train]').",
              file=sys.stderr)
        return
    probabilities, accepted, group, _, missing, _ = scored_arrays(scores, labels)
    curve = outcomes.risk_coverage(probabilities, accepted, group, missing=len(missing))
    plot_risk_coverage(curve, out / "risk_coverage.png", report["threshold"])
    plot_reliability({f"shown answer at {report['threshold']:.2f}": (
        report["calibration_bins"], report["calibration_error"])}, out / "reliability.png")
    print(f"Wrote {out / 'risk_coverage.png'} and {out / 'reliability.png'}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m segmentation.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path, metavar="DIR",
                        help="folder holding one sub-folder of photos per labels.csv line")
    parser.add_argument("--labels", type=Path, metavar="CSV",
                        help="labels file (default: DIR/labels.csv; a taught folder of "
                             "sub-folders 0-9 needs none)")
    classifier.add_classifier_arguments(
        parser, "model file (.tflite or .keras; default: the shipped .tflite)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write failures.png (contact sheet of the photos not named "
                             "exactly), risk_coverage.png and reliability.png")
    parser.add_argument("--taught", type=Path, metavar="DIR",
                        help="taught examples (sub-folders 0-9 of photos or saved examples, as "
                             "the app saves them) that decide answers as in the app")
    parser.add_argument("--other-folders", nargs="+", default=[], metavar="NAME",
                        help="sub-folders of DIR of garments that are none of the ten classes "
                             "(e.g. hat shorts skirt): also report what the app shows for them")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="a text table, or one JSON object with the summary")
    add_config_arguments(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        config = config_from_arguments(arguments)
        classifier.check_threshold(arguments.threshold)
        labels = read_labels(arguments.labels) if arguments.labels else \
            labels_for(arguments.directory)
    except ValueError as error:
        parser.error(str(error))

    try:
        predictor = classifier.load_classifier(arguments.model, config.output_size)
        taught = None if arguments.taught is None else classifier.load_taught_examples(
            predictor, arguments.taught, config, arguments.flip_averaging)
        if arguments.out is not None:
            image_files.make_output_folder(arguments.out)  # Checked before the work.
    except (RuntimeError, OSError) as error:
        print(error, file=sys.stderr)
        return 2
    photos = photo_files(arguments.directory, labels)
    if not photos:
        print(f"No photos found under {arguments.directory} for the folders in the labels.",
              file=sys.stderr)
        return 1
    scores = score_photos(photos, predictor, config, arguments.flip_averaging, progress=True,
                          taught=taught)
    report_unreadable(scores)
    summary = summarise_scores(scores)
    summary["outcomes"] = outcome_report(scores, labels, arguments.threshold)
    if arguments.other_folders:
        other_scores = score_photos(
            photo_files(arguments.directory, [FolderLabels(name, (), ())
                                              for name in arguments.other_folders]),
            predictor, config, arguments.flip_averaging, taught=taught, failure_tiles=False)
        report_unreadable(other_scores)
        summary["other_folders"] = other_folder_report(other_scores, arguments.threshold)
    if taught is not None:
        summary["overall"]["taught"] = sum(score.taught for score in scores)
    confusion = folder_confusion([score.folder for score in scores],
                                 [score.predicted for score in scores])
    if arguments.format == "json":
        by_folder = {item.folder: item for item in labels}
        summary["photos"] = [photo_record(score, by_folder[score.folder], arguments.threshold)
                             for score in scores]
        summary["confusion"] = confusion
        print(json.dumps(summary))
    else:
        print(summary_table(summary))
        if taught is not None:
            print(f"decided by a taught example: {summary['overall']['taught']} of "
                  f"{len(scores)} photos ({len(taught)} taught examples)")
        print(format_folder_confusion(confusion))
        print(outcomes.format_outcomes(summary["outcomes"]))
        if arguments.other_folders:
            print(format_other_folders(summary["other_folders"]))
    if arguments.out is not None:
        sheet_path = arguments.out / "failures.png"
        try:
            image_files.write_image(sheet_path, failure_sheet(scores, labels))
            print(f"Wrote {sheet_path}", file=sys.stderr)
            write_plots(scores, labels, summary["outcomes"], arguments.out)
        except OSError as error:
            print(f"error: cannot write into {arguments.out}: {error.strerror or error}. Free "
                  "some space or choose another --out; the scores above are complete.",
                  file=sys.stderr)
            return 2
    return 0 if any(score.error is None for score in scores) else 1


def report_unreadable(scores: list[PhotoScore]) -> None:
    """Says on stderr which photos could not be read, and why."""
    for score in scores:
        if score.error:
            print(f"{score.path}: error: {score.error}", file=sys.stderr)


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
