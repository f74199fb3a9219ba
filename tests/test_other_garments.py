"""The detector of garments that are none of the ten classes (model.other_garments) and the
answer "not one of the ten" wherever an answer is shown: the steady answer, the JSON fields,
the outcomes and the report of folders without a class. Numpy only, with small fakes."""

import json
from pathlib import Path

import numpy as np
import pytest

from camera_app.answer import NOT_SURE, SteadyAnswer, update_answer
from camera_app.frame import FrameSettings
from fakes import FakePredictor
from model.classifier import answer_fields, classify_input
from model.other_garments import (NOT_ONE_OF_THE_TEN, OtherGarmentDetector, choose_l2,
                                  detector_entry, fit_logistic, sigmoid, stored_detector)
from model.outcomes import outcome, outcome_report


def blobs(count=400, size=6, seed=0):
    """Two Gaussian clouds far from the origin (the raw features a detector must undo)."""
    random = np.random.default_rng(seed)
    known = random.normal(50, 3, (count, size))
    other = random.normal(50, 3, (count // 4, size))
    other[:, 0] += 12  # Only the first feature tells them apart (4 standard deviations).
    return np.vstack([known, other]), np.arange(count + count // 4) >= count


def test_the_logistic_regression_separates_what_one_feature_tells_apart():
    features, targets = blobs()
    weights, bias = fit_logistic(features, targets, l2=0.01)
    chances = sigmoid(features @ weights + bias)
    assert ((chances >= 0.5) == targets).mean() > 0.9
    assert np.argmax(np.abs(weights)) == 0  # The feature that tells them apart.
    # Each class weighs the same: the rarer one is not sacrificed.
    assert (chances[targets] >= 0.5).mean() > 0.85
    with pytest.raises(ValueError, match="both kinds"):
        fit_logistic(features, np.zeros(len(features), bool), 0.01)


def test_cross_validation_prefers_a_strong_penalty_when_the_features_are_noise():
    random = np.random.default_rng(1)
    features = random.normal(0, 1, (60, 40))  # 40 noise features, 60 samples.
    targets = np.arange(60) % 2 == 0
    assert choose_l2(features, targets, grid=(0.001, 10.0)) == 10.0
    features, targets = blobs()
    assert choose_l2(features, targets, grid=(0.001, 1000.0)) == 0.001


def detector(threshold=0.8):
    return OtherGarmentDetector(np.ones(16, np.float32), -10.0, threshold)


def test_a_stored_detector_counts_only_for_the_file_it_was_fitted_on(tmp_path, recwarn):
    model = tmp_path / "fashion_cnn.tflite"
    model.write_bytes(b"model one")
    assert stored_detector(model, 16) is None  # No card: without a word.
    card = {"other_garments": {model.name: detector_entry(model, detector(0.9))}}
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    stored = stored_detector(model, 16)
    assert stored.threshold == pytest.approx(0.9) and stored.bias == pytest.approx(-10)
    assert stored_detector(model, None) is None  # A model without an embedding.
    assert not recwarn.list
    with pytest.warns(UserWarning, match="16 weights for an embedding of 8"):
        assert stored_detector(model, 8) is None
    model.write_bytes(b"another model under the same name")
    with pytest.warns(UserWarning, match="other contents.*fit_other_garments"):
        assert stored_detector(model, 16) is None
    with pytest.raises(ValueError, match="threshold"):
        OtherGarmentDetector(np.ones(16, np.float32), 0.0, 0.0)


class DetectingPredictor(FakePredictor):
    """The shared fake (T-shirt/top 90%) with a detector whose score grows with brightness."""

    def __init__(self, threshold=0.8):
        super().__init__()
        # The fake's embedding is the 4x4 block means minus 64: 16 * 0.05 * (mean - 64) - 10.
        self.other_garments = OtherGarmentDetector(np.full(16, 0.05, np.float32), -10.0,
                                                   threshold)


def test_one_inference_gives_the_probabilities_and_the_score_of_other_garments():
    predictor = DetectingPredictor()
    bright, dark = np.full((28, 28), 255, np.uint8), np.full((28, 28), 60, np.uint8)
    result = classify_input(predictor, bright)
    assert predictor.calls == 1
    assert result.other_score > 0.99 and result.other
    assert result.probabilities.argmax() == 0
    assert classify_input(predictor, dark).other is False
    assert classify_input(FakePredictor(), bright).other_score is None  # No detector.


def test_the_json_fields_say_not_one_of_the_ten_and_name_no_class():
    probabilities = np.full(10, 0.02, np.float32)
    probabilities[1] = 0.82
    fields = answer_fields(probabilities, 0.72, other_score=0.97, other=True)
    assert fields == {"answer": None, "answer_classes": [], "answer_confidence": None,
                      "other_garment": True, "other_score": 0.97}
    fields = answer_fields(probabilities, 0.72, other_score=0.1, other=False)
    assert fields["answer"] == "Trouser" and fields["other_garment"] is False
    assert answer_fields(None, 0.72)["other_garment"] is False


def test_not_one_of_the_ten_is_wrong_for_a_garment_of_the_ten():
    shirt = np.zeros(10, bool)
    shirt[6] = True
    assert outcome((), shirt, shirt, other=True) == "wrong"
    probabilities = np.tile(np.float32([0.0] * 6 + [0.9] + [0.1 / 3] * 3), (2, 1))
    report = outcome_report(probabilities, np.stack([shirt, shirt]), np.stack([shirt, shirt]),
                            ["shirt", "shirt"], 0.72, others=[True, False])
    assert (report["overall"]["right"], report["overall"]["wrong"]) == (1, 1)


def test_the_steady_answer_holds_not_one_of_the_ten_until_the_score_falls_below_the_margin():
    settings = FrameSettings(smoothing=1.0, switch_margin=0.1)  # No smoothing: frame by frame.
    probabilities = np.full(10, 0.01, np.float32)
    probabilities[1] = 0.91
    answer = update_answer(SteadyAnswer(), probabilities, settings, 0.95, 0.9)
    assert answer.text == NOT_ONE_OF_THE_TEN and answer.node is None and answer.classes == ()
    answer = update_answer(answer, probabilities, settings, 0.85, 0.9)  # Within the margin.
    assert answer.text == NOT_ONE_OF_THE_TEN
    answer = update_answer(answer, probabilities, settings, 0.75, 0.9)  # Below it: a class.
    assert answer.text == "Trouser"
    answer = update_answer(answer, probabilities, settings, 0.85, 0.9)  # Not reached again.
    assert answer.text == "Trouser"
    unsure = np.full(10, 0.1, np.float32)
    assert update_answer(SteadyAnswer(), unsure, settings, None).text == NOT_SURE


def test_the_score_is_smoothed_over_frames_like_the_probabilities():
    settings = FrameSettings(smoothing=0.5)
    probabilities = np.full(10, 0.1, np.float32)
    answer = update_answer(SteadyAnswer(), probabilities, settings, 0.2, 0.9)
    answer = update_answer(answer, probabilities, settings, 1.0, 0.9)  # (0.2 + 1.0) / 2
    assert answer.other_score == pytest.approx(0.6) and answer.text == NOT_SURE


def test_the_report_of_folders_without_a_class_counts_what_the_app_shows():
    from segmentation.evaluate import PhotoScore, format_other_folders, other_folder_report

    probabilities = np.full(10, 0.02, np.float32)
    probabilities[1] = 0.82  # Trouser
    unsure = np.full(10, 0.1, np.float32)

    def score(folder, probabilities, other=False):
        return PhotoScore(folder, Path(f"{folder}/x.jpg"), None, None, None, False, False,
                          probabilities=probabilities, other=other)

    scores = [score("shorts", probabilities, other=True), score("shorts", probabilities),
              score("shorts", unsure), score("hat", None)]
    report = other_folder_report(scores, 0.72)
    assert report["folders"]["shorts"] == {"photos": 3, NOT_ONE_OF_THE_TEN: 1, "Trouser": 1,
                                           "not sure": 1}
    assert report["folders"]["hat"] == {"photos": 1, "not sure": 1}
    assert report["overall"]["not sure"] == 2
    assert "not one of the ten 33% (1)" in format_other_folders(report)


def hat_photo(seed: int) -> np.ndarray:
    """A 240x320 photo of a round, brimmed hat seen from above: a shape of none of the ten."""
    import cv2

    from synthetic_images import plain_background

    image = plain_background(240, 320, (200, 200 - seed, 200))
    cv2.ellipse(image, (160, 120), (80 + seed, 70), 0, 0, 360, (40, 90 + seed, 160), -1)
    cv2.circle(image, (160, 120), 40, (30, 60, 120 + seed), -1)
    return image


@pytest.mark.skipif(not Path(__file__).parents[1].joinpath("assets", "fashion_cnn.tflite")
                    .is_file(), reason="the shipped model is missing")
def test_the_fit_stores_a_detector_that_the_app_and_the_command_lines_use(tmp_path, capsys):
    import shutil

    import cv2

    from model import fit_other_garments
    from model.paths import SHIPPED_TFLITE_MODEL
    from model.predictor import load_predictor
    from synthetic_images import make_photo_folder

    for split in ("train", "validation"):
        make_photo_folder(tmp_path / split, count=6)
        (tmp_path / split / "hat").mkdir()
        for seed in range(6):
            cv2.imwrite(str(tmp_path / split / "hat" / f"hat{seed}.png"), hat_photo(seed))
    model = tmp_path / "model" / "fashion_cnn.tflite"
    model.parent.mkdir()
    shutil.copyfile(SHIPPED_TFLITE_MODEL, model)
    assert load_predictor(model).other_garments is None  # No card beside it yet.
    arguments = ["--model", str(model), "--photos", str(tmp_path / "train"),
                 "--validation-photos", str(tmp_path / "validation"), "--other-folders", "hat"]
    assert fit_other_garments.main(arguments + ["--dry-run"]) == 0
    assert [path.name for path in model.parent.iterdir()] == [model.name]  # Nothing beside it.
    capsys.readouterr()
    status = fit_other_garments.main(arguments)
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "'not one of the ten' for 6 of 6 validation photos" in printed
    assert (model.parent / "other_garments.png").is_file()
    detector = load_predictor(model).other_garments
    assert detector is not None and detector.weights.shape == (256,)

    from segmentation import __main__ as command_line

    command_line.main([str(tmp_path / "validation" / "hat" / "hat2.png"), "--classify",
                       "--model", str(model), "--format", "json"])
    record = json.loads(capsys.readouterr().out)
    assert record["other_garment"] is True and record["answer"] is None
    assert record["other_score"] >= detector.threshold


def test_the_command_line_and_the_app_both_say_not_one_of_the_ten(tmp_path, capsys, monkeypatch):
    import cv2

    from camera_app.frame import process_frame
    from model import classifier
    from segmentation import __main__ as command_line
    from synthetic_images import tshirt_photo

    frame = tshirt_photo(colour=(60, 40, 150))[0]
    cv2.imwrite(str(tmp_path / "photo.png"), frame)
    predictor = DetectingPredictor()
    predictor.other_garments = OtherGarmentDetector(np.zeros(16, np.float32), 5.0, 0.9)
    monkeypatch.setattr(classifier, "load_classifier", lambda path=None, output_size=28: predictor)
    assert command_line.main([str(tmp_path / "photo.png"), "--classify", "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    app = process_frame(frame, predictor, FrameSettings(), SteadyAnswer())
    assert app.answer.text == NOT_ONE_OF_THE_TEN and app.label == NOT_ONE_OF_THE_TEN
    assert record["other_garment"] is True and record["answer"] is None
    assert record["other_score"] == pytest.approx(app.answer.other_score, abs=1e-5)
    assert record["label"] == "T-shirt/top"  # The most likely class is still reported.


def test_a_card_that_cannot_be_written_is_said_and_nothing_is_stored(tmp_path, capsys):
    from model.paths import finish_card_entry

    card_path = tmp_path / "model_card.json"
    card_path.mkdir()  # Stands in for a folder the user cannot write to.
    assert finish_card_entry(card_path, {}, "calibration", tmp_path / "m.tflite",
                             {"temperature": 0.7}, dry_run=False, what="temperature") == 2
    assert "cannot write" in capsys.readouterr().err
    assert finish_card_entry(tmp_path / "card.json", {}, "calibration", tmp_path / "m.tflite",
                             {"temperature": 0.7}, dry_run=True, what="temperature") == 0
    assert not (tmp_path / "card.json").exists()
    assert finish_card_entry(tmp_path / "card.json", {}, "calibration", tmp_path / "m.tflite",
                             {"temperature": 0.7}, dry_run=False, what="temperature") == 0
    assert json.loads((tmp_path / "card.json").read_text()) == {
        "calibration": {"m.tflite": {"temperature": 0.7}}}
    assert "Wrote the temperature for m.tflite" in capsys.readouterr().out
