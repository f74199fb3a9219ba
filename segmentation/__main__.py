"""Segment saved images into Fashion-MNIST-like 28x28 inputs and optionally classify them.

    python -m segmentation photo.jpg folder/ --out segmented/ --classify
    python -m segmentation folder/ --format json --hue-tolerance 15
    python -m segmentation folder/ --preset classic   # the original tutorial's settings
    python -m segmentation folder/ --classify --taught taught/   # with taught examples

--classify answers as the app does, with its defaults: flip averaging, the calibrated
model, and the answer a class or group (e.g. Footwear) whose summed probability reaches
--threshold, else "not sure"; and "not one of the ten" for a garment the model's detector
of other garments (hats, shorts, skirts; model.other_garments) takes for none of the ten
classes. Folders are searched recursively for image files. With --out DIR each image gets a
mask, an overlay (contour and box), a crop, the 28x28 input and a 10x copy of it, and the
batch gets one contact sheet. A file that cannot be read, or whose pictures cannot be written,
is reported on its own line and the rest go on; the exit status is 1 when no input could be
read, 2 when some pictures were not written (a full disk stops the batch at once).
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
from pathlib import Path

import numpy as np

from model import classifier
from model.classes import CLASS_NAMES, NOT_SURE
from model.other_garments import NOT_ONE_OF_THE_TEN
from segmentation import files
from segmentation import images as image_files
from segmentation.command import run_command
from segmentation.options import add_config_arguments, config_from_arguments
from segmentation.pipeline import segment


# Bytes of a source file's name kept in its output files' names (after a 4-digit index), so
# that a long name stays within the file system's limit of 255 bytes.
STEM_BYTES = 100
# The reason given for a garment that a taught "nothing" example decided is no garment.
TAUGHT_NOTHING = "taught as no garment (a 'nothing' example is the nearest)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m segmentation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write masks, overlays, crops, inputs and a contact sheet here")
    parser.add_argument("--classify", action="store_true",
                        help="classify each 28x28 input with the shipped model")
    classifier.add_classifier_arguments(
        parser, "model file for --classify (default: the shipped .tflite)")
    parser.add_argument("--taught", type=Path, metavar="DIR",
                        help="with --classify, let taught examples decide as the app does "
                             "(DIR holds sub-folders 0-9 of photos or saved examples)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text lines, or one JSON object per line")
    add_config_arguments(parser)
    return parser


def record_for(path, result=None, error=None, probabilities=None, taught=None,
               threshold: float = classifier.ANSWER_THRESHOLD, other_score=None,
               other: bool = False) -> dict:
    """The JSON record of one image; nulls where not found, not classified or unreadable.

    "label" is the most likely class; "answer" what the app shows (a class or group whose
    summed probability reaches threshold, null when not sure or not one of the ten), with
    "answer_classes" and "answer_confidence"; "other_garment" is true when the app shows
    "not one of the ten" (other), with the detector's "other_score" (model.other_garments).
    "taught" says whether a taught example decided the label (null without --taught)."""
    record = {"path": str(path), "found": None, "reason": None, "bbox": None,
              "area_fraction": None, "label": None, "label_index": None,
              "confidence": None, "top3": None, "error": error, "taught": None,
              **classifier.answer_fields(None, threshold)}
    if result is None:
        return record
    record.update(found=result.found, reason=result.reason,
                  area_fraction=round(result.area_fraction, 5),
                  bbox=list(result.box) if result.box is not None else None)
    if probabilities is not None and result.found:
        if not np.all(np.isfinite(probabilities)):
            record["error"] = "the model returned invalid (NaN) probabilities; check the model file"
            return record

        top3 = classifier.top_classes(probabilities, 3)
        record.update(label=CLASS_NAMES[top3[0][0]], label_index=top3[0][0],
                      confidence=round(top3[0][1], 5),
                      top3=[[CLASS_NAMES[index], round(probability, 5)]
                            for index, probability in top3],
                      **classifier.answer_fields(probabilities, threshold, other_score,
                                                 other))
        if taught is not None:
            record["taught"] = bool(taught)
    return record


def text_line(record: dict) -> str:
    """One human-readable line for a record."""
    if record["error"]:
        return f"{record['path']}: error: {record['error']}"
    if not record["found"]:
        return (f"{record['path']}: not found ({record['reason']}, "
                f"area {record['area_fraction']:.3f})")
    line = (f"{record['path']}: found box={tuple(record['bbox'])} "
            f"area={record['area_fraction']:.3f}")
    if record["label"] is None and record["taught"]:
        line += " -> no garment (taught)"
    if record["label"] is not None:
        answer = answer_caption(record)
        top3 = ", ".join(f"{name} {probability:.2f}" for name, probability in record["top3"])
        line += f" -> {answer} ({top3})"
        if record.get("taught"):
            line += " (taught)"
    return line


def answer_caption(record: dict) -> str | None:
    """The answer as the overlay shows it ("Footwear 0.92", "not sure"); None unclassified."""
    if record["label"] is None:
        return None
    if record["other_garment"]:
        return f"{NOT_ONE_OF_THE_TEN} {record['other_score']:.2f}"
    if record["answer"] is None:
        return NOT_SURE
    return f"{record['answer']} {record['answer_confidence']:.2f}"


def write_outputs(out_dir: Path, index: int, path: Path, frame, result, label, config):
    """Writes the per-image pictures; returns the contact-sheet row for this image: four
    uint8 BGR (TILE_SIZE, TILE_SIZE, 3) tiles and a caption."""
    stem = f"{index:04d}_{files.clipped(path.stem, STEM_BYTES)}"
    overlay = image_files.draw_overlay(frame, result, label, config.sampling_windows())
    enlarged = image_files.enlarge(result.model_input, 10)
    image_files.write_image(out_dir / f"{stem}_mask.png", result.mask)
    image_files.write_image(out_dir / f"{stem}_overlay.png", overlay)
    if result.crop is not None:
        image_files.write_image(out_dir / f"{stem}_crop.png", result.crop)
    image_files.write_image(out_dir / f"{stem}_input.png", result.model_input)
    image_files.write_image(out_dir / f"{stem}_input_x10.png", enlarged)
    caption = f"{path.name}: {label or result.reason or 'found'}"
    # Small tiles only, so that a batch of large photos does not pile up in memory.
    tiles = [image_files.fit_tile(image) for image in
             (overlay, result.mask, result.crop, result.model_input)]
    return tiles, caption


def stops_the_batch(error: OSError) -> bool:
    """Whether a write error will hit every later image too (a full disk or quota), so the
    batch stops; other errors concern one image's pictures."""
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


def write_failed(out_dir: Path, error: OSError) -> int:
    """Says that --out could not be written (a full disk, a folder gone) and gives the exit
    status 2; the files written before are whole (segmentation.files)."""
    print(f"error: cannot write into {out_dir}: {error.strerror or error}. Free some space or "
          "choose another --out; the files written so far are complete.", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        config = config_from_arguments(arguments)
    except ValueError as error:
        parser.error(str(error))
    predictor = taught = None
    if arguments.taught is not None and not arguments.classify:
        parser.error("--taught needs --classify.")
    try:
        classifier.check_threshold(arguments.threshold)
    except ValueError as error:
        parser.error(str(error))
    if arguments.classify:
        try:
            predictor = classifier.load_classifier(arguments.model, config.output_size)
            if arguments.taught is not None:
                taught = classifier.load_taught_examples(predictor, arguments.taught, config,
                                                         arguments.flip_averaging)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 2
    if arguments.out is not None:
        try:
            image_files.make_output_folder(arguments.out)
        except OSError as error:
            print(error, file=sys.stderr)
            return 2
    paths = image_files.find_images(arguments.paths)
    if not paths:
        print("No image files found in " + ", ".join(arguments.paths), file=sys.stderr)
        return 1
    read_count, sheet_rows, unwritten = 0, [], 0
    for index, path in enumerate(paths):
        try:
            frame = image_files.read_image(path)
        except image_files.ImageReadError as error:
            record = record_for(path, error=str(error))
            sheet_rows.append(([None], f"{path.name}: unreadable"))
        else:
            read_count += 1
            result = segment(frame, config)
            classified = None
            if predictor is not None and result.found:
                classified = classifier.classify_input(predictor, result.model_input,
                                                       arguments.flip_averaging, taught)
            if classified is not None and classified.probabilities is None:
                # A taught "nothing" example: no garment, as the app says.
                record = record_for(path, result, threshold=arguments.threshold)
                record.update(taught=True, reason=TAUGHT_NOTHING)
            else:
                record = record_for(
                    path, result, threshold=arguments.threshold,
                    probabilities=None if classified is None else classified.probabilities,
                    taught=None if classified is None or classified.decision is None
                    else classified.decision.taught,
                    other_score=None if classified is None else classified.other_score,
                    other=classified is not None and classified.other)
            if arguments.out is not None:
                label = answer_caption(record)
                try:
                    sheet_rows.append(write_outputs(arguments.out, index, path, frame, result,
                                                    label, config))
                except OSError as error:
                    if stops_the_batch(error):
                        return write_failed(arguments.out, error)
                    unwritten += 1
                    sheet_rows.append(([None], f"{path.name}: pictures not written"))
                    print(f"{path}: error: its pictures could not be written into "
                          f"{arguments.out} ({error.strerror or error}); the other images go "
                          "on.", file=sys.stderr)
        print(json.dumps(record) if arguments.format == "json" else text_line(record),
              flush=True)
    if arguments.out is not None:
        sheet_path = arguments.out / "contact_sheet.png"
        sheet = image_files.contact_sheet(sheet_rows, entries_per_row=2)
        try:
            image_files.write_image(sheet_path, sheet)
        except OSError as error:
            return write_failed(arguments.out, error)
        print(f"Wrote pictures for {read_count - unwritten} images and {sheet_path}",
              file=sys.stderr)
    if read_count == 0:
        print("No input could be read.", file=sys.stderr)
        return 1
    return 2 if unwritten else 0


if __name__ == "__main__":
    sys.exit(run_command(main))
