"""Fit the detector of garments that are none of the ten classes, and store it in the card.

    python -m model.fit_other_garments --photos PHOTOS/train --labels PHOTOS/labels.csv \\
        --validation-photos PHOTOS/validation --other-folders hat shorts skirt
    python -m model.fit_other_garments ... --model runs/x/fashion_cnn.tflite --dry-run

The detector (model.other_garments) is a logistic regression on the flip-averaged embedding
of each photo's 28x28 input: the training photos of --other-folders (hats, shorts, skirts)
against those of the labelled folders, each side weighing the same, its L2 penalty chosen by
5-fold cross-validation on them. Its threshold is chosen on the validation photos: the lowest
(0.50-0.99) at which the labelled folders keep the answers the app shows without it (at the
model's stored calibration and the app's threshold, model.classes.ANSWER_THRESHOLD: fit again
after changing either): no right answer lost, no wrong one added, since "not one of the ten" is wrong for a garment of the ten classes. Prints the
figures, writes other_garments.png (the scores of both kinds of validation photos) into --out
(default: beside the model), and stores the detector in the model card beside the model, tied
to the file's SHA-256. --dry-run writes nothing beside the model. No threshold that costs
nothing: nothing stored, exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from model import outcomes
from model.classes import ANSWER_THRESHOLD
from model.other_garments import (OtherGarmentDetector, choose_l2, detector_entry,
                                  fit_logistic, sigmoid)
from model.paths import (CARD_FILE, SHIPPED_TFLITE_MODEL, finish_card_entry,
                         read_card_file, report_folder)
from model.photos import FolderLabels, build_photo_set, load_photo_set
from model.predictor import LiteRtPredictor, ModelLoadError
from model.taught import embed

THRESHOLDS = tuple(round(value, 2) for value in np.arange(0.50, 1.0, 0.01))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model.fit_other_garments",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=SHIPPED_TFLITE_MODEL,
                        help="the .tflite (with an embedding output) to fit the detector for "
                             "(default: the shipped model)")
    parser.add_argument("--photos", required=True, help="folder of training photos")
    parser.add_argument("--labels", help="its labels file (default: DIR/labels.csv)")
    parser.add_argument("--validation-photos", required=True,
                        help="folder of validation photos, with the same sub-folders")
    parser.add_argument("--validation-labels",
                        help="its labels file (default: DIR/labels.csv)")
    parser.add_argument("--other-folders", nargs="+", required=True, metavar="NAME",
                        help="sub-folders of both photo folders holding garments of none of "
                             "the ten classes (e.g. hat shorts skirt)")
    parser.add_argument("--out", type=Path, help="folder for other_garments.png (default: "
                                                 "beside the model; with --dry-run, none "
                                                 "unless given)")
    parser.add_argument("--dry-run", action="store_true",
                        help="report only: write nothing beside the model (the card as it is)")
    return parser


def other_photo_images(directory, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The 28x28 inputs uint8 (N, 28, 28) of the photos in directory's sub-folders names, and
    their folder of each; photos without a garment are reported and left out."""
    photo_set = build_photo_set(directory, [FolderLabels(name, (), ()) for name in names])
    return photo_set.images, photo_set.folders


def kept_answers(probabilities, accepted, group, folders, missing, flagged) -> bool:
    """Whether flagging these photos as "not one of the ten" keeps every right answer and
    adds no wrong one, against the answers the app shows without the detector."""
    before = outcomes.outcome_report(probabilities, accepted, group, folders, ANSWER_THRESHOLD,
                                     missing)["overall"]
    after = outcomes.outcome_report(probabilities, accepted, group, folders, ANSWER_THRESHOLD,
                                    missing, flagged)["overall"]
    return after["right"] >= before["right"] and after["wrong"] <= before["wrong"]


def main(argv=None) -> int:
    arguments = build_parser().parse_args(argv)
    card_path = arguments.model.parent / CARD_FILE
    try:  # Everything that can stop it, before the work.
        predictor = LiteRtPredictor(arguments.model)
        if predictor.embedding_size is None:
            raise ModelLoadError(f"{arguments.model} gives no embedding; export it again with "
                                 "`python -m model.export MODEL.keras --out MODEL.tflite`.")
        card = read_card_file(card_path)
        out = report_folder(arguments.out, arguments.model, arguments.dry_run)
        known_train = load_photo_set(arguments.photos, arguments.labels)
        known_validation = load_photo_set(arguments.validation_photos,
                                          arguments.validation_labels)
        other_train, _ = other_photo_images(arguments.photos, arguments.other_folders)
        other_validation, other_folders = other_photo_images(arguments.validation_photos,
                                                             arguments.other_folders)
    except (ModelLoadError, ValueError, OSError) as error:  # OSError: a photo not readable.
        print(f"error: {error}", file=sys.stderr)
        return 2

    train_features = np.concatenate([embed(predictor, known_train.images)[1],
                                     embed(predictor, other_train)[1]])
    train_targets = np.arange(len(train_features)) >= len(known_train.images)
    l2 = choose_l2(train_features, train_targets)
    weights, bias = fit_logistic(train_features, train_targets, l2)
    print(f"Fitted on {len(known_train.images)} photos of the ten classes and "
          f"{len(other_train)} others ({', '.join(arguments.other_folders)}); L2 {l2:g} by "
          "cross-validation")

    probabilities, known_embeddings = embed(predictor, known_validation.images)
    known_scores = sigmoid(known_embeddings @ weights + bias)
    other_scores = sigmoid(embed(predictor, other_validation)[1] @ weights + bias)
    missing = known_validation.left_out_folders
    threshold = next((value for value in THRESHOLDS if kept_answers(
        probabilities, known_validation.accepted, known_validation.group,
        known_validation.folders, missing, known_scores >= value)), None)
    if out is not None:
        from model.plots import plot_other_garment_scores

        try:
            plot_other_garment_scores(known_scores, other_scores, threshold,
                                      out / "other_garments.png")
        except OSError as error:
            print(f"error: cannot write into {out} ({error.strerror or error}); choose another "
                  "--out.", file=sys.stderr)
            return 2
        print(f"Wrote {out / 'other_garments.png'}", file=sys.stderr)
    if threshold is None:
        print("No threshold keeps the labelled folders' answers; nothing stored.")
        return 1
    shown = {name: f"{int((other_scores[other_folders == name] >= threshold).sum())} of "
                   f"{int((other_folders == name).sum())}"
             for name in arguments.other_folders}
    flagged = int((known_scores >= threshold).sum())
    print(f"Threshold {threshold:.2f}: 'not one of the ten' for "
          f"{int((other_scores >= threshold).sum())} of {len(other_scores)} validation photos "
          f"of other garments ({', '.join(f'{name} {text}' for name, text in shown.items())}) "
          f"and {flagged} of {len(known_scores)} of the ten classes (already wrong answers)")
    entry = detector_entry(
        arguments.model, OtherGarmentDetector(weights, bias, threshold),
        fitted_on={"photos": f"{Path(arguments.photos).name}: {len(known_train.images)} of the "
                             f"ten classes, {len(other_train)} others "
                             f"({', '.join(arguments.other_folders)})",
                   "l2": l2, "flip_averaging": True},
        validation={"photos": Path(arguments.validation_photos).name,
                    "other_shown": shown, "ten_classes_flagged": flagged,
                    "ten_classes": len(known_scores)})
    return finish_card_entry(card_path, card, "other_garments", arguments.model, entry,
                             arguments.dry_run, "detector")


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
