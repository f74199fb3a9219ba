"""Tests of the segmentation command line and the scoring command, on files the tests write."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from model.paths import SHIPPED_TFLITE_MODEL
from model.classes import CLASS_NAMES
from segmentation import __main__ as command_line
from segmentation import evaluate
from segmentation.config import SegmentationConfig, classic_config
from segmentation.images import find_images
from segmentation.options import config_from_arguments
from synthetic_images import TROUSER_OUTLINE, draw_garment, plain_background, polygon, \
    tshirt_photo

JSON_KEYS = {"path", "found", "reason", "bbox", "area_fraction", "label", "label_index",
             "confidence", "top3", "error", "taught", "answer", "answer_classes",
             "answer_confidence", "other_garment", "other_score"}


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    """A folder with two good photos (one in a sub-folder), a corrupt JPEG and an empty PNG."""
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    good, _ = tshirt_photo(colour=(40, 40, 40))
    cv2.imwrite(str(folder / "a_tshirt.png"), good)
    cv2.imwrite(str(folder / "more" / "b_tshirt.jpg"), tshirt_photo(colour=(150, 60, 30))[0])
    (folder / "c_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (folder / "d_empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image, and not picked up from a folder")
    return folder


def run_json(capsys, argv) -> tuple[int, list[dict]]:
    status = command_line.main(argv + ["--format", "json"])
    lines = capsys.readouterr().out.strip().splitlines()
    return status, [json.loads(line) for line in lines]


def test_folders_are_searched_recursively_for_images(photo_folder):
    names = [path.name for path in find_images([photo_folder])]
    assert sorted(names) == ["a_tshirt.png", "b_tshirt.jpg", "c_corrupt.jpg", "d_empty.png"]


def test_json_lines_report_bad_files_and_go_on(photo_folder, capsys):
    status, records = run_json(capsys, [str(photo_folder)])
    assert status == 0
    assert len(records) == 4
    by_name = {Path(record["path"]).name: record for record in records}
    for record in records:
        assert set(record) == JSON_KEYS
    for name in ("a_tshirt.png", "b_tshirt.jpg"):
        record = by_name[name]
        assert record["found"] is True and record["error"] is None
        assert len(record["bbox"]) == 4 and 0 < record["area_fraction"] < 1
        assert record["label"] is None and record["top3"] is None  # Not classified.
    assert "not a readable image" in by_name["c_corrupt.jpg"]["error"]
    assert "empty" in by_name["d_empty.png"]["error"]
    assert by_name["c_corrupt.jpg"]["found"] is None and by_name["c_corrupt.jpg"]["bbox"] is None


def test_not_found_has_reason_and_nulls(tmp_path, capsys):
    path = tmp_path / "blank.png"
    cv2.imwrite(str(path), plain_background(120, 160))
    status, (record,) = run_json(capsys, [str(path)])
    assert status == 0
    assert record["found"] is False and record["reason"] == "no contour"
    assert record["bbox"] is None and record["label"] is None


def test_exit_status_is_non_zero_only_when_nothing_could_be_read(tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"garbage")
    assert command_line.main([str(broken)]) == 1
    assert command_line.main([str(tmp_path / "missing.jpg")]) == 1
    output = capsys.readouterr()
    assert "broken.png: error:" in output.out and "No input could be read" in output.err


def test_out_writes_pictures_and_a_contact_sheet(photo_folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert command_line.main([str(photo_folder), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "a_tshirt.png: found box=" in text and "c_corrupt.jpg: error:" in text
    for suffix in ("mask", "overlay", "crop", "input", "input_x10"):
        assert len(list(out.glob(f"*_a_tshirt_{suffix}.png"))) == 1
    model_input = cv2.imread(str(next(out.glob("*_a_tshirt_input.png"))), cv2.IMREAD_GRAYSCALE)
    assert model_input.shape == (28, 28)
    enlarged = cv2.imread(str(next(out.glob("*_a_tshirt_input_x10.png"))), cv2.IMREAD_GRAYSCALE)
    assert enlarged.shape == (280, 280)
    sheet = cv2.imread(str(out / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[0] >= 2 * 160


def test_options_override_the_configuration(photo_folder, capsys):
    _, default_records = run_json(capsys, [str(photo_folder / "a_tshirt.png")])
    _, padded_records = run_json(capsys, [str(photo_folder / "a_tshirt.png"), "--min-area", "0.9"])
    assert default_records[0]["found"] is True
    assert padded_records[0]["found"] is False and padded_records[0]["reason"] == "too small"
    with pytest.raises(SystemExit):
        command_line.main([str(photo_folder), "--variant", "fancy"])
    with pytest.raises(SystemExit):
        command_line.main([str(photo_folder), "--min-area", "2"])


def test_preset_and_help_come_from_the_configuration(capsys):
    parser = command_line.build_parser()
    assert config_from_arguments(parser.parse_args(["x.png"])) == SegmentationConfig()
    classic = config_from_arguments(parser.parse_args(["x.png", "--preset", "classic"]))
    assert classic == classic_config() and classic.variant == "naive"
    tuned = config_from_arguments(parser.parse_args(["x.png", "--preset", "classic",
                                                     "--hue-tolerance", "20"]))
    assert tuned == dataclasses.replace(classic_config(), hue_tolerance=20)
    with pytest.raises(SystemExit):
        parser.parse_args(["x.png", "--preset", "seed"])
    help_text = " ".join(parser.format_help().split())
    for config_field in dataclasses.fields(SegmentationConfig):
        option = "--" + config_field.name.replace("_", "-")
        assert f"{option} " in help_text or f"{option}," in help_text
        assert " ".join(config_field.metadata["help"].split()) in help_text


def test_classify_without_a_model_file_says_so(photo_folder, tmp_path, capsys):
    status = command_line.main([str(photo_folder), "--classify", "--model",
                                str(tmp_path / "no_model.tflite")])
    assert status == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.is_file(), reason="no shipped model yet")
def test_classify_fills_label_confidence_and_top3(photo_folder, capsys):
    status, records = run_json(capsys, [str(photo_folder), "--classify"])
    assert status == 0
    found = [record for record in records if record["found"]]
    assert len(found) == 2
    for record in found:
        assert record["label"] == CLASS_NAMES[record["label_index"]]
        assert record["confidence"] == record["top3"][0][1]
        assert len(record["top3"]) == 3 and record["top3"][0][0] == record["label"]
        probabilities = [probability for _, probability in record["top3"]]
        assert probabilities == sorted(probabilities, reverse=True)


class SpreadOverShoes:
    """A stand-in predictor torn between the three footwear classes, as real shoes are."""

    def predict(self, images):
        probabilities = np.zeros((len(images), 10), np.float32)
        probabilities[:, [5, 9, 7, 8]] = [0.34, 0.33, 0.25, 0.08]
        return probabilities


def test_the_answer_fields_give_the_most_specific_node_that_is_sure(photo_folder, capsys,
                                                                     monkeypatch):
    from model import classifier

    monkeypatch.setattr(classifier, "load_classifier",
                        lambda path=None, output_size=28: SpreadOverShoes())
    status, records = run_json(capsys, [str(photo_folder), "--classify"])
    found = [record for record in records if record["found"]]
    assert status == 0 and found
    for record in found:
        assert record["label"] == "Sandal"  # The most likely class, as before.
        assert record["answer"] == "Footwear" and record["answer_classes"] == [5, 7, 9]
        assert record["answer_confidence"] == pytest.approx(0.92)
    for record in records:
        if not record["found"]:
            assert record["answer"] is None and record["answer_classes"] == []
    status, records = run_json(capsys, [str(photo_folder), "--classify", "--threshold", "0.95"])
    assert all(record["answer"] is None and record["answer_classes"] == []
               and record["answer_confidence"] is None for record in records)
    assert command_line.main([str(photo_folder / "more"), "--classify"]) == 0
    assert "-> Footwear 0.92 (Sandal 0.34" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        command_line.main([str(photo_folder), "--classify", "--threshold", "0"])
    assert "--threshold" in capsys.readouterr().err


# --- The scoring command -------------------------------------------------------------------------

@pytest.fixture
def labelled_folder(tmp_path: Path) -> Path:
    """tops/ (two T-shirts), bottoms/ (two trousers, a corrupt file) and labels.csv."""
    root = tmp_path / "labelled"
    (root / "tops").mkdir(parents=True)
    (root / "bottoms").mkdir()
    for index, colour in enumerate([(40, 40, 40), (60, 40, 120)]):
        cv2.imwrite(str(root / "tops" / f"top{index}.png"), tshirt_photo(colour=colour)[0])
        image = plain_background(480, 640, (215, 215, 215))
        draw_garment(image, polygon(TROUSER_OUTLINE, 250, 30, 140, 420), colour)
        cv2.imwrite(str(root / "bottoms" / f"trousers{index}.png"), image)
    (root / "bottoms" / "broken.jpg").write_bytes(b"not an image")
    (root / "labels.csv").write_text("folder,accepted_classes,group_classes\n"
                                     "tops,0,0 2 4 6\nbottoms,1,1\n")
    return root


class AlwaysTrouser:
    """A stand-in predictor that answers Trouser for every image."""

    def predict(self, images):
        probabilities = np.full((len(images), 10), 0.02, np.float32)
        probabilities[:, 1] = 0.82
        return probabilities


def test_scores_count_exact_group_and_unreadable_photos(labelled_folder):
    labels = evaluate.read_labels(labelled_folder / "labels.csv")
    photos = evaluate.photo_files(labelled_folder, labels)
    scores = evaluate.score_photos(photos, AlwaysTrouser(), evaluate.SegmentationConfig())
    summary = evaluate.summarise_scores(scores)
    assert summary["folders"]["bottoms"]["photos"] == 3
    assert summary["folders"]["bottoms"]["exact"] == 2  # The corrupt file counts as wrong.
    assert summary["folders"]["tops"]["exact"] == 0 and summary["folders"]["tops"]["found"] == 2
    assert summary["overall"]["exact_accuracy"] == pytest.approx(2 / 5)
    assert summary["overall"]["found_rate"] == pytest.approx(4 / 5)
    # Every found photo is Trouser at 0.82: named at 0.8, rightly for the two trousers; the
    # corrupt file is "not sure".
    report = evaluate.outcome_report(scores, labels, 0.8)
    assert report["folders"]["bottoms"] == pytest.approx(
        {"photos": 3, "right": 2, "coarser": 0, "not sure": 1, "wrong": 0,
         "right_rate": 2 / 3, "coarser_rate": 0, "not sure_rate": 1 / 3, "wrong_rate": 0})
    assert report["folders"]["tops"]["wrong"] == 2
    assert report["calibration_error"] == pytest.approx(0.82 - 0.5, abs=1e-5)
    assert evaluate.outcome_report(scores, labels, 0.9)["overall"]["not sure"] == 5
    table = evaluate.summary_table(summary)
    assert "overall" in table and "40%" in table and "2 of 5 exact (40.0%)" in table
    sheet = evaluate.failure_sheet(scores, labels)
    assert sheet.shape[0] >= 2 * 160  # Two tops and the corrupt file failed.


@pytest.mark.parametrize("content, message", [
    ("name,classes\nx,1\n", "header"),
    ("folder,accepted_classes,group_classes\ntops,zero,0\n", "line 2"),
    ("folder,accepted_classes,group_classes\ntops,12,0\n", "0-9"),
    ("folder,accepted_classes,group_classes\n", "no folders"),
])
def test_bad_labels_files_are_explained(tmp_path, content, message):
    path = tmp_path / "labels.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        evaluate.read_labels(path)


@pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.is_file(), reason="no shipped model yet")
def test_evaluate_command_prints_table_and_writes_failures(labelled_folder, tmp_path, capsys):
    out = tmp_path / "report"
    status = evaluate.main([str(labelled_folder), "--labels", str(labelled_folder / "labels.csv"),
                            "--out", str(out), "--format", "json"])
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["folders"]) == {"tops", "bottoms"}
    assert summary["overall"]["photos"] == 5 and summary["overall"]["found"] == 4
    records = {Path(record["path"]).name: record for record in summary["photos"]}
    assert len(records) == 5
    assert records["broken.jpg"]["predicted"] is None and records["broken.jpg"]["reason"]
    assert sum(record["exact"] for record in records.values()) == summary["overall"]["exact"]
    assert records["broken.jpg"]["answer"] is None and records["broken.jpg"]["answer_classes"] == []
    assert records["broken.jpg"]["outcome"] == "not sure"
    outcome_counts = {name: sum(record["outcome"] == name for record in records.values())
                      for name in ("right", "coarser", "not sure", "wrong")}
    assert outcome_counts == {name: summary["outcomes"]["overall"][name]
                              for name in outcome_counts}
    for name in ("failures.png", "risk_coverage.png", "reliability.png"):
        assert (out / name).is_file()


def test_evaluate_without_a_model_says_so(labelled_folder, tmp_path, capsys):
    status = evaluate.main([str(labelled_folder), "--model", str(tmp_path / "none.tflite")])
    assert status == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.is_file(), reason="no shipped model yet")
def test_evaluate_refuses_an_output_it_cannot_write_before_the_work(labelled_folder, tmp_path,
                                                                    capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    status = evaluate.main([str(labelled_folder), "--labels", str(labelled_folder / "labels.csv"),
                            "--out", str(blocker)])
    captured = capsys.readouterr()
    assert status == 2 and "it is a file, not a folder" in captured.err
    assert captured.out == ""  # No table: nothing was scored.


@pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.is_file(), reason="no shipped model yet")
def test_evaluate_says_when_the_report_cannot_be_written_after_the_scores(labelled_folder,
                                                                         tmp_path, capsys):
    out = tmp_path / "report"
    (out / "failures.png").mkdir(parents=True)  # Stands in for a disk that fills up.
    status = evaluate.main([str(labelled_folder), "--labels", str(labelled_folder / "labels.csv"),
                            "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 2
    assert "overall" in captured.out  # The scores were printed first.
    assert "cannot write into" in captured.err and "Traceback" not in captured.err
    assert "broken.jpg: error:" in captured.err  # The unreadable photo is named.


# --- Help and the benchmark ------------------------------------------------------------------------

def test_benchmark_prints_every_step_and_the_total(capsys):
    from segmentation import benchmark

    assert benchmark.main(["--repeats", "3", "--sizes", "160x120", "320x240"]) == 0
    output = capsys.readouterr().out
    for name in ("160x120", "320x240", "mask", "to_input", "total"):
        assert name in output
    with pytest.raises(SystemExit):
        benchmark.main(["--sizes", "big"])


# --- Bad options and outputs: a message and exit status, never a traceback ---------------------

@pytest.mark.parametrize("option, value, message", [
    ("--hue-tolerance", "500", "hue_tolerance must be a whole number from 0 to 90, got 500"),
    ("--join-distance", "nan", "join_distance must be a number from 0 to 1, got nan"),
    ("--join-min-ratio", "-0.5", "join_min_ratio must be a number from 0 to 1, got -0.5"),
    ("--close-kernel", "100000", "close_kernel must be a whole number from 1 to 255"),
    ("--min-edge-contrast", "inf", "min_edge_contrast must be a number from 0 to 765, got inf"),
])
def test_numeric_options_outside_their_meaning_are_refused(photo_folder, capsys, option, value,
                                                           message):
    with pytest.raises(SystemExit) as exit_info:
        command_line.main([str(photo_folder), option, value])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_every_numeric_setting_has_a_range_and_help_shows_it(capsys):
    for config_field in dataclasses.fields(SegmentationConfig):
        if isinstance(config_field.default, (int, float)) and \
                not isinstance(config_field.default, bool):
            low, high = config_field.metadata["low"], config_field.metadata["high"]
            assert low <= config_field.default <= high, config_field.name
    with pytest.raises(SystemExit):
        command_line.main(["--help"])
    assert "(default 12; 0 to 90)" in " ".join(capsys.readouterr().out.split())


def test_a_file_as_output_folder_is_refused_before_any_work(photo_folder, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("a file")
    for out in (taken, taken / "inside"):
        assert command_line.main([str(photo_folder), "--out", str(out)]) == 2
        captured = capsys.readouterr()
        assert f"Cannot write into {out}" in captured.err and captured.out == ""


def test_a_folder_that_cannot_be_written_is_refused(photo_folder, tmp_path, capsys, monkeypatch):
    import tempfile

    def refuse(*arguments, **keywords):  # Root may write anywhere, so the refusal is faked.
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    assert command_line.main([str(photo_folder), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "Cannot write into" in error and "Permission denied" in error


def test_classify_with_another_output_size_says_what_to_do(photo_folder, capsys):
    assert command_line.main([str(photo_folder), "--output-size", "56", "--classify"]) == 2
    captured = capsys.readouterr()
    assert "the model reads 28x28 images" in captured.err and captured.out == ""


def test_a_pipe_named_like_an_image_is_reported_not_waited_on(photo_folder, tmp_path, capsys):
    import os
    import threading

    pipe = tmp_path / "pipe.jpg"
    os.mkfifo(pipe)
    statuses = []
    reader = threading.Thread(target=lambda: statuses.append(
        command_line.main([str(pipe), str(photo_folder / "a_tshirt.png")])), daemon=True)
    reader.start()
    reader.join(timeout=20)
    if reader.is_alive():  # Stuck opening the pipe: let it go before failing.
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=20)
    assert statuses == [0]
    lines = capsys.readouterr().out.splitlines()
    assert f"{pipe}: error: {pipe} is not a regular file" in lines[0]
    assert "a_tshirt.png: found" in lines[1]


def patched_header(suffix: str, width: int, height: int) -> bytes:
    """A small real image whose header claims another size (it is refused before decoding)."""
    import struct

    ok, encoded = cv2.imencode(suffix, np.full((20, 30, 3), 128, np.uint8))
    data = bytearray(encoded.tobytes())
    if suffix == ".png":
        struct.pack_into(">II", data, 16, width, height)
    else:  # JPEG: the start-of-frame segment holds height, then width.
        frame = data.index(b"\xff\xc0")
        struct.pack_into(">HH", data, frame + 5, height, width)
    return bytes(data)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_an_image_above_the_pixel_limit_is_refused_before_decoding(tmp_path, capsys, suffix):
    from segmentation.images import MAX_IMAGE_PIXELS, ImageReadError, image_size, read_image

    huge = tmp_path / f"panorama{suffix}"
    huge.write_bytes(patched_header(suffix, 25000, 25000))
    with pytest.raises(ImageReadError, match=r"25000x25000 pixels \(625 megapixels\), more than "
                                             r"the 100 megapixels read; scale it down"):
        read_image(huge)
    assert command_line.main([str(huge)]) == 1
    assert "625 megapixels" in capsys.readouterr().out
    allowed = tmp_path / f"allowed{suffix}"
    allowed.write_bytes(patched_header(suffix, 10000, MAX_IMAGE_PIXELS // 10000))
    assert image_size(np.fromfile(allowed, np.uint8)) == (10000, MAX_IMAGE_PIXELS // 10000)


class LopsidedShoes:
    """A stand-in predictor whose footwear belief follows which half of the input is brighter,
    so an input and its mirror image get different answers and flip averaging matters."""

    def predict(self, images):
        images = np.asarray(images, np.float64).reshape(-1, 28, 28)
        left, right = images[:, :, :14].mean(axis=(1, 2)), images[:, :, 14:].mean(axis=(1, 2))
        share = left / (left + right + 1e-9)
        probabilities = np.zeros((len(images), 10), np.float32)
        probabilities[:, 5] = 0.9 * share
        probabilities[:, 9] = 0.9 * (1 - share)
        probabilities[:, 8] = 0.1
        return probabilities


def test_the_command_line_answers_as_the_app_with_the_app_defaults(tmp_path, capsys, monkeypatch):
    from camera_app.answer import SteadyAnswer
    from camera_app.frame import FrameSettings, process_frame
    from model import classifier

    frame = tshirt_photo(colour=(60, 40, 150))[0]
    frame[:, :320] = np.clip(frame[:, :320].astype(int) + 60, 0, 255)  # Lopsided light.
    cv2.imwrite(str(tmp_path / "photo.png"), frame)
    predictor = LopsidedShoes()
    monkeypatch.setattr(classifier, "load_classifier", lambda path=None, output_size=28: predictor)
    status, [record] = run_json(capsys, [str(tmp_path / "photo.png"), "--classify"])
    app = process_frame(frame, predictor, FrameSettings(), SteadyAnswer())
    single = predictor.predict(app.segmentation.model_input[None])[0]
    assert status == 0 and app.segmentation.found
    assert not np.allclose(single, app.probabilities)  # Flip averaging changed the answer...
    assert record["answer"] == app.answer.text  # ...and both made the same one.
    assert record["answer"] is not None
    assert record["answer_classes"] == list(app.answer.classes)
    assert record["answer_confidence"] == pytest.approx(app.answer.confidence, abs=1e-5)


def test_the_int8_check_compares_answers_on_the_photos_as_the_app_sees_them(labelled_folder,
                                                                         tmp_path,
                                                                         monkeypatch):
    from model import photos, quantize

    monkeypatch.setattr(photos, "default_cache_path",
                        lambda directory, view_count=0: tmp_path / "cache.npz")

    class AlwaysTshirt(AlwaysTrouser):
        def predict(self, images):
            return super().predict(images)[:, [1, 0, 2, 3, 4, 5, 6, 7, 8, 9]]

    figures = quantize.compare_on_photos(AlwaysTrouser(), AlwaysTshirt(), labelled_folder,
                                         labelled_folder / "labels.csv")
    assert figures["photos"] == 5 and figures["found"] == 4  # The corrupt file is left out.
    assert figures["same_class"] == 0
    assert (figures["exact_float32"], figures["exact_int8"]) == (2, 2)  # Trousers, then tops.
