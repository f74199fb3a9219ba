"""Fits the model's temperature on validation data, and measures the answer a user sees.

    python -m model.calibrate --photos PHOTOS/validation --photo-labels PHOTOS/labels.csv
    python -m model.calibrate --model runs/x/fashion_cnn.tflite --photos PHOTOS/validation \
        --photo-labels PHOTOS/labels.csv --dry-run

Predicts Fashion-MNIST's validation split (the training images that the model's training run
held out, as its model card says; model.train's defaults without a card) and the validation
photos, each image
with its mirror image, as the app does. Fits the temperature on both, each set weighing the
same (model.calibration), and writes it into the model card beside the model file, for that
file (not with --dry-run). Reports, before and after: the negative log-likelihood, the
shown answer's four outcomes per folder (model.outcomes) and its expected calibration error,
and the threshold with the most right answers among those with at most --most-wrong wrong
ones. Draws reliability.png and risk_coverage.png into --out (default: beside the model; with
--dry-run, only into an --out that is given).
Choose on validation data only, never on a test set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from model import outcomes
from model.calibration import averaged_views, calibration_entry, fit_temperature, set_log_loss
from model.classes import ANSWER_THRESHOLD, GROUPS, NUM_CLASSES
from model.data import DatasetError, load_fashion_mnist, split_indices, training_split
from model.paths import (CARD_FILE, SHIPPED_TFLITE_MODEL, finish_card_entry,
                         read_card_file, report_folder)
from model.photos import load_photo_set
from model.predictor import LiteRtPredictor, ModelLoadError, predict_in_batches


def mirror_views(predictor, images: np.ndarray) -> np.ndarray:
    """The network's own probabilities for uint8 (N, 28, 28) images and their mirror images:
    float32 (2, N, 10)."""
    return np.stack([predict_in_batches(predictor, images),
                     predict_in_batches(predictor, np.ascontiguousarray(images[:, :, ::-1]))])


def group_masks(labels: np.ndarray) -> np.ndarray:
    """bool (N, 10): the coarse group (model.classes.GROUPS) of each class label."""
    masks = np.zeros((len(labels), NUM_CLASSES), bool)
    for members in GROUPS.values():
        rows = np.isin(labels, members)
        masks[np.ix_(rows, list(members))] = True
    return masks


def measured(name: str, views, accepted, group, folders, missing, temperature: float,
             most_wrong: float) -> dict:
    """The figures of one data set at one temperature: NLL, the curve, the chosen threshold,
    the outcome report at it and at the shipped ANSWER_THRESHOLD."""
    probabilities = averaged_views(views, temperature)
    curve = outcomes.risk_coverage(probabilities, accepted, group, missing=len(missing))
    chosen = outcomes.choose_threshold(curve, most_wrong)
    threshold = chosen["threshold"] if chosen else ANSWER_THRESHOLD
    return {"name": name, "temperature": temperature,
            "log_loss": set_log_loss(probabilities, accepted), "curve": curve,
            "chosen": chosen,
            "at_chosen": outcomes.outcome_report(probabilities, accepted, group, folders,
                                                 threshold, missing),
            "at_shipped": outcomes.outcome_report(probabilities, accepted, group, folders,
                                                  ANSWER_THRESHOLD, missing)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=SHIPPED_TFLITE_MODEL,
                        help="the .tflite to calibrate (default: the shipped model)")
    parser.add_argument("--photos", required=True, help="folder of validation photos")
    parser.add_argument("--photo-labels", help="its labels file (default: DIR/labels.csv)")
    parser.add_argument("--data-dir", default="", help="Fashion-MNIST folder (default: the "
                                                       "usual places)")
    parser.add_argument("--validation-size", type=int,
                        help="Fashion-MNIST training images held out for validation (default: "
                             "as the model card's training options say, else model.train's "
                             "default)")
    parser.add_argument("--split-seed", type=int,
                        help="seed of that split (default: from the model card, as above)")
    parser.add_argument("--most-wrong", type=float, default=0.05,
                        help="largest share of wrong answers on the photos when choosing the "
                             "threshold (default 0.05)")
    parser.add_argument("--out", type=Path, help="folder for reliability.png and "
                                                 "risk_coverage.png (default: beside the "
                                                 "model; with --dry-run, none unless given)")
    parser.add_argument("--dry-run", action="store_true",
                        help="report only: write nothing beside the model (the card as it is)")
    return parser


def report_lines(before: dict, after: dict) -> list[str]:
    """Text for one data set before and after calibration."""
    lines = [f"== {after['name']}: log-loss {before['log_loss']:.4f} at T=1, "
             f"{after['log_loss']:.4f} at T={after['temperature']:.3f}"]
    for figures in (before, after):
        chosen = figures["chosen"]
        choice = ("no threshold keeps wrong answers within the bound" if chosen is None else
                  f"chosen threshold {chosen['threshold']:.2f}: right {chosen['right_rate']:.1%}, "
                  f"coarser {chosen['coarser_rate']:.1%}, not sure {chosen['not sure_rate']:.1%}, "
                  f"wrong {chosen['wrong_rate']:.1%}")
        lines += [f"-- T={figures['temperature']:.3f}: {choice}",
                  outcomes.format_outcomes(figures["at_shipped"])]
        if chosen is not None and chosen["threshold"] != ANSWER_THRESHOLD:
            lines.append(outcomes.format_outcomes(figures["at_chosen"]))
    return lines


def main(argv=None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.validation_size is not None and arguments.validation_size < 1:
        parser.error(f"--validation-size must be at least 1, got {arguments.validation_size}.")
    if arguments.split_seed is not None and arguments.split_seed < 0:
        parser.error(f"--split-seed must be 0 or more, got {arguments.split_seed}.")
    if not 0 <= arguments.most_wrong < 1:
        parser.error(f"--most-wrong must be at least 0 and below 1, got {arguments.most_wrong}.")

    card_path = arguments.model.parent / CARD_FILE
    try:  # Everything that can stop it, before the work.
        predictor = LiteRtPredictor(arguments.model, temperature=1.0)
        card = read_card_file(card_path)
        out = report_folder(arguments.out, arguments.model, arguments.dry_run)
        dataset = load_fashion_mnist(arguments.data_dir or None)
        size, seed = training_split(card)
        arguments.validation_size = arguments.validation_size or size
        arguments.split_seed = seed if arguments.split_seed is None else arguments.split_seed
        _, validation = split_indices(len(dataset.train_labels), arguments.validation_size,
                                      arguments.split_seed, 0)
        photo_set = load_photo_set(arguments.photos, arguments.photo_labels)
    except (ModelLoadError, DatasetError, ValueError, OSError) as error:  # OSError: unreadable.
        print(f"error: {error}", file=sys.stderr)
        return 2
    labels = dataset.train_labels[validation]
    fashion = (mirror_views(predictor, dataset.train_images[validation]),
               np.eye(NUM_CLASSES, dtype=bool)[labels], group_masks(labels),
               ["Fashion-MNIST"] * len(labels), [])
    missing = photo_set.left_out_folders
    photos = (mirror_views(predictor, photo_set.images), photo_set.accepted, photo_set.group,
              photo_set.folders.tolist(), missing)
    temperature = fit_temperature([(photos[0], photos[1]), (fashion[0], fashion[1])])
    results = {}
    for name, data in (("validation photos", photos), ("Fashion-MNIST validation", fashion)):
        results[name] = (measured(name, *data, 1.0, arguments.most_wrong),
                         measured(name, *data, temperature, arguments.most_wrong))
        print("\n".join(report_lines(*results[name])))

    if out is not None:
        try:
            write_plots(results, temperature, out)
        except OSError as error:
            print(f"error: cannot write into {out} ({error.strerror or error}); choose another "
                  "--out.", file=sys.stderr)
            return 2

    def summary(figures):
        return {"log_loss": round(figures["log_loss"], 5),
                "calibration_error": figures["at_shipped"]["calibration_error"],
                "chosen_threshold": figures["chosen"]["threshold"] if figures["chosen"] else None}

    entry = calibration_entry(
        arguments.model, temperature,
        fitted_on={"photos": f"{Path(arguments.photos).name} ({len(photo_set.images)} photos)",
                   "fashion_mnist": f"validation split of {len(labels)} images "
                                    f"(split seed {arguments.split_seed})",
                   "flip_averaging": True},
        before={name: summary(before) for name, (before, _) in results.items()},
        after={name: summary(after) for name, (_, after) in results.items()})
    print(f"Temperature {temperature:.4f}")
    return finish_card_entry(card_path, card, "calibration", arguments.model, entry,
                             arguments.dry_run, "temperature")


def write_plots(results: dict, temperature: float, out: Path) -> None:
    """reliability.png (every data set before and after) and risk_coverage.png (the
    validation photos after) into out."""
    from model.plots import plot_reliability, plot_risk_coverage

    diagrams = {}
    for name, (before, after) in results.items():
        for figures, when in ((before, "before"), (after, "after")):
            report = figures["at_shipped"]
            diagrams[f"{name}, {when} (T={figures['temperature']:.2f})"] = (
                report["calibration_bins"], report["calibration_error"])
    plot_reliability(diagrams, out / "reliability.png")
    photos_after = results["validation photos"][1]
    chosen = photos_after["chosen"]
    plot_risk_coverage(photos_after["curve"], out / "risk_coverage.png",
                       chosen["threshold"] if chosen else None,
                       f"Validation photos, T={temperature:.2f}")
    print(f"Wrote {out / 'reliability.png'} and {out / 'risk_coverage.png'}", file=sys.stderr)


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
