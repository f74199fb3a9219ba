"""The answer hierarchy, its rule, the calibration and the outcome measures (numpy only)."""

import json
import shutil
import types

import numpy as np
import pytest

from model.calibration import (UncalibratedWarning, apply_temperature, calibration_entry,
                               fit_temperature, set_log_loss, stored_temperature)
from model.classes import CLASS_NAMES, NODES, is_inside, most_specific_node, node_probabilities
from model.paths import SHIPPED_TFLITE_MODEL, CardEntryError, stored_card_entry
from model.outcomes import (choose_threshold, expected_calibration_error, outcome,
                            outcome_report, risk_coverage)


def vector(**named) -> np.ndarray:
    """A probability vector from class names given as keyword arguments (spaces as _)."""
    probabilities = np.zeros(10, np.float32)
    for name, value in named.items():
        probabilities[[n.replace("/", "_").replace("-", "_").replace(" ", "_") for n in CLASS_NAMES].index(
            name)] = value
    return probabilities


def node_named(name: str) -> int:
    return next(index for index, node in enumerate(NODES) if node.name == name)


def test_every_class_is_a_leaf_and_any_two_nodes_are_nested_or_disjoint():
    assert [node.classes for node in NODES[:10]] == [(index,) for index in range(10)]
    for first in range(len(NODES)):
        for second in range(len(NODES)):
            a, b = set(NODES[first].classes), set(NODES[second].classes)
            assert a <= b or b <= a or not a & b, (NODES[first], NODES[second])
    assert is_inside(node_named("Sneaker"), node_named("Footwear"))
    assert not is_inside(node_named("Footwear"), node_named("Sneaker"))


def test_a_group_is_answered_when_its_belief_is_spread_over_its_leaves():
    shoes = vector(Sandal=0.34, Ankle_boot=0.33, Sneaker=0.25, Bag=0.08)
    assert NODES[most_specific_node(shoes, 0.5)].name == "Footwear"
    assert node_probabilities(shoes)[node_named("Footwear")] == pytest.approx(0.92)
    long_sleeves = vector(Shirt=0.46, Pullover=0.45, T_shirt_top=0.09)
    assert NODES[most_specific_node(long_sleeves, 0.5)].name == "Long-sleeved top"
    assert most_specific_node(long_sleeves, 0.95) is None  # 0.91 only.


def test_a_leaf_is_answered_when_it_alone_reaches_the_threshold():
    sneaker = vector(Sneaker=0.88, Sandal=0.07, Ankle_boot=0.05)
    assert NODES[most_specific_node(sneaker, 0.5)].name == "Sneaker"
    assert NODES[most_specific_node(sneaker, 0.9)].name == "Footwear"


def test_not_sure_when_no_node_reaches_the_threshold():
    torn = vector(Trouser=0.4, Dress=0.35, Bag=0.25)
    assert most_specific_node(torn, 0.5) is None
    with pytest.raises(ValueError, match="threshold"):
        most_specific_node(torn, 0)


def test_a_temperature_below_one_sharpens_and_keeps_the_order():
    probabilities = np.array([[0.5, 0.3, 0.2] + [0] * 7])
    sharper = apply_temperature(probabilities, 0.5)
    assert sharper[0, 0] == pytest.approx(0.25 / (0.25 + 0.09 + 0.04), rel=1e-4)
    assert np.argsort(sharper[0])[::-1][:3].tolist() == [0, 1, 2]
    assert apply_temperature(probabilities, 1.0) == pytest.approx(probabilities)
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(probabilities, 0)


def synthetic_set(true_temperature: float, count: int = 4000, seed: int = 0):
    """Probabilities of a model whose calibrated form is exact at temperature 1/true: labels
    are drawn from softmax(logits) while the model reports softmax(logits * true)."""
    random = np.random.default_rng(seed)
    logits = random.normal(0, 2.0, (count, 10))
    honest = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([random.choice(10, p=row) for row in honest])
    reported = np.exp(logits * true_temperature)
    reported /= reported.sum(1, keepdims=True)
    return reported, np.eye(10, dtype=bool)[labels]


@pytest.mark.parametrize("distortion", [2.0, 0.5])  # Over-confident, under-confident.
def test_the_fitted_temperature_undoes_a_known_distortion(distortion):
    reported, accepted = synthetic_set(distortion)
    temperature = fit_temperature([(reported, accepted)])
    assert temperature == pytest.approx(distortion, rel=0.1)
    assert set_log_loss(apply_temperature(reported, temperature), accepted) < \
        set_log_loss(reported, accepted)


def test_the_fit_averages_calibrated_views_and_weighs_each_set_alike():
    reported, accepted = synthetic_set(2.0)
    views = np.stack([reported, reported])  # An image and an identical mirror image.
    assert fit_temperature([(views, accepted)]) == pytest.approx(
        fit_temperature([(reported, accepted)]), rel=1e-3)
    small, small_accepted = synthetic_set(0.5, count=500, seed=1)
    joint = fit_temperature([(reported, accepted), (small, small_accepted)])
    assert 0.5 < joint < 2.0  # Neither set decides alone, though one is 8 times larger.
    with pytest.raises(ValueError):
        fit_temperature([])


def test_a_stored_temperature_counts_only_for_the_file_it_was_fitted_on(tmp_path, recwarn):
    model = tmp_path / "fashion_cnn.tflite"
    model.write_bytes(b"model one")
    assert stored_temperature(model) == 1.0  # No card: another model, without a word.
    card = {"calibration": {model.name: calibration_entry(model, 0.7)}}
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    assert stored_temperature(model) == pytest.approx(0.7)
    assert stored_temperature(tmp_path / "other.tflite") == 1.0  # No entry for it.
    assert not recwarn.list
    model.write_bytes(b"another model under the same name")
    with pytest.warns(UncalibratedWarning, match="fitted on other contents of fashion_cnn"):
        assert stored_temperature(model) == 1.0
    (tmp_path / "model_card.json").write_text("{not json")
    with pytest.warns(UncalibratedWarning, match="cannot be read.*model.calibrate"):
        assert stored_temperature(model) == 1.0


def test_a_card_entry_is_read_for_its_own_section_and_file_contents(tmp_path):
    model = tmp_path / "fashion_cnn.tflite"
    model.write_bytes(b"model one")
    entry = calibration_entry(model, 0.7)
    (tmp_path / "model_card.json").write_text(json.dumps({"calibration": {model.name: entry},
                                                          "other_garments": []}))
    assert stored_card_entry(model, "calibration") == entry
    assert stored_card_entry(model, "int8") is None  # No such section.
    with pytest.raises(CardEntryError, match="cannot be read"):  # A section that is no dict.
        stored_card_entry(model, "other_garments")
    model.write_bytes(b"model two")
    with pytest.raises(CardEntryError, match="calibration entry .* other contents"):
        stored_card_entry(model, "calibration")
    model.unlink()
    model.mkdir()  # A model path that cannot be read as a file: a message, not a traceback.
    with pytest.raises(CardEntryError, match="fashion_cnn.tflite cannot be read"):
        stored_card_entry(model, "calibration")


def masks(*classes) -> np.ndarray:
    mask = np.zeros(10, bool)
    mask[list(classes)] = True
    return mask


TOPS = masks(0, 2, 4, 6)


def test_the_four_outcomes_of_a_shown_answer():
    long_sleeve = masks(2, 6)
    assert outcome((6,), long_sleeve, TOPS) == "right"  # Shirt
    assert outcome((2, 6), long_sleeve, TOPS) == "right"  # Long-sleeved top
    assert outcome((0, 2, 4, 6), long_sleeve, TOPS) == "coarser"  # A group of all tops
    assert outcome((2, 6), masks(6), TOPS) == "coarser"  # Long-sleeved top for a shirt
    assert outcome((0,), long_sleeve, TOPS) == "wrong"  # T-shirt/top
    assert outcome((0, 2, 4, 6), masks(3), masks(3)) == "wrong"  # A dress is no top.
    assert outcome((5, 7, 9), masks(5, 7, 9), masks(5, 7, 9)) == "right"  # Footwear
    assert outcome((), masks(1), masks(1)) == "not sure"


def test_the_report_counts_outcomes_per_folder_and_missing_photos_as_not_sure():
    probabilities = np.stack([vector(Sandal=0.5, Sneaker=0.45, Bag=0.05),  # Footwear: right
                              vector(Shirt=0.92, T_shirt_top=0.08),  # T-shirt named Shirt: wrong
                              vector(T_shirt_top=0.55, Shirt=0.45),  # not sure at 0.6
                              vector(Shirt=0.5, Pullover=0.45, Coat=0.05)])  # Long-sleeved
    accepted = np.stack([masks(5, 7, 9), masks(0), masks(0), masks(6)])
    group = np.stack([masks(5, 7, 9), TOPS, TOPS, TOPS])
    report = outcome_report(probabilities, accepted, group,
                            ["shoes", "t-shirt", "t-shirt", "shirt"], 0.6,
                            missing_folders=["shoes"])
    assert report["folders"]["shoes"]["right"] == 1
    assert report["folders"]["shoes"]["not sure"] == 1
    assert report["folders"]["t-shirt"] == pytest.approx(
        {"photos": 2, "right": 0, "coarser": 0, "not sure": 1, "wrong": 1,
         "right_rate": 0, "coarser_rate": 0, "not sure_rate": 0.5, "wrong_rate": 0.5})
    assert report["folders"]["shirt"]["coarser"] == 1  # Long-sleeved top for a shirt.
    assert report["overall"]["photos"] == 5
    # Shown, all in one bin: Footwear 0.95 (right), Shirt 0.92 (wrong), Long-sleeved top 0.95.
    assert report["calibration_error"] == pytest.approx(abs((0.95 + 0.92 + 0.95) / 3 - 2 / 3),
                                                        abs=1e-6)


def test_the_chosen_threshold_has_the_most_right_answers_within_the_wrong_budget():
    reported, accepted = synthetic_set(1.0, count=600)
    curve = risk_coverage(reported, accepted, accepted)
    chosen = choose_threshold(curve, most_wrong=0.05)
    assert chosen["wrong_rate"] <= 0.05
    assert all(row["right"] <= chosen["right"] for row in curve if row["wrong_rate"] <= 0.05)
    assert choose_threshold(curve, most_wrong=-1) is None


def test_the_calibration_error_is_the_weighted_gap_between_confidence_and_truth():
    assert expected_calibration_error([0.9, 0.9, 0.9, 0.9], [1, 1, 1, 0]) == pytest.approx(0.15)
    assert expected_calibration_error([0.55, 0.95], [1, 1]) == pytest.approx(0.25)
    assert expected_calibration_error([], []) is None


@pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.is_file(), reason="the shipped model is missing")
def test_the_predictor_applies_the_temperature_stored_for_its_file(tmp_path):
    from model.predictor import LiteRtPredictor, load_predictor

    model = tmp_path / "mine.tflite"
    shutil.copyfile(SHIPPED_TFLITE_MODEL, model)
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28)).astype(np.uint8)
    raw = LiteRtPredictor(model, temperature=1.0).predict(images)
    assert load_predictor(model).temperature == 1.0  # No card beside it yet.
    (tmp_path / "model_card.json").write_text(json.dumps(
        {"calibration": {model.name: calibration_entry(model, 0.5)}}))
    calibrated = load_predictor(model)
    assert calibrated.temperature == pytest.approx(0.5)
    np.testing.assert_allclose(calibrated.predict(images), apply_temperature(raw, 0.5),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.is_file(), reason="the shipped model is missing")
@pytest.mark.parametrize("card_text", ["{broken", "[1]"])
def test_calibrate_names_a_broken_card_before_any_work(tmp_path, capsys, card_text):
    from model import calibrate

    model = tmp_path / "mine.tflite"
    shutil.copyfile(SHIPPED_TFLITE_MODEL, model)
    (tmp_path / "model_card.json").write_text(card_text)
    assert calibrate.main(["--model", str(model), "--photos", str(tmp_path / "none")]) == 2
    assert "model_card.json" in capsys.readouterr().err
    assert (tmp_path / "model_card.json").read_text() == card_text


@pytest.mark.parametrize("option, value", [("--validation-size", "0"), ("--split-seed", "-1"),
                                           ("--most-wrong", "1.5")])
def test_calibrate_refuses_a_bad_option_before_any_work(tmp_path, capsys, option, value):
    from model import calibrate

    with pytest.raises(SystemExit) as stop:
        calibrate.main(["--model", str(tmp_path / "none.tflite"), "--photos",
                        str(tmp_path / "none"), option, value])
    assert stop.value.code == 2
    assert option in capsys.readouterr().err


def test_the_validation_split_is_the_one_the_model_was_trained_without():
    from model.config import TrainConfig
    from model.data import training_split

    defaults = (TrainConfig().validation_size, TrainConfig().split_seed)
    assert training_split({}) == defaults  # A card without training options: the defaults.
    assert training_split({"training": "odd"}) == defaults
    assert training_split({"training": {"validation_size": 7000, "split_seed": 3}}) == (7000, 3)
    with pytest.raises(ValueError, match="not two whole numbers"):
        training_split({"training": {"validation_size": "all"}})


@pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.is_file(), reason="the shipped model is missing")
def test_calibrate_holds_out_the_split_its_model_card_names(tmp_path, monkeypatch, capsys):
    from model import calibrate

    model = tmp_path / "mine.tflite"
    shutil.copyfile(SHIPPED_TFLITE_MODEL, model)
    (tmp_path / "model_card.json").write_text(json.dumps(
        {"training": {"validation_size": 7, "split_seed": 3}}))
    monkeypatch.setattr(calibrate, "load_fashion_mnist",
                        lambda data_dir: types.SimpleNamespace(train_labels=np.zeros(100)))
    splits = []

    def record_and_stop(count, size, seed, limit):
        splits.append((size, seed))
        raise ValueError("stopped here by the test")

    monkeypatch.setattr(calibrate, "split_indices", record_and_stop)
    arguments = ["--model", str(model), "--photos", str(tmp_path), "--dry-run"]
    assert calibrate.main(arguments) == 2
    assert calibrate.main(arguments + ["--split-seed", "0", "--validation-size", "9"]) == 2
    assert splits == [(7, 3), (9, 0)]
    assert "stopped here by the test" in capsys.readouterr().err
