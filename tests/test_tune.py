"""model.tune: a tiny search, resumed, whose best configuration model.train accepts."""

import csv
import dataclasses
import json

import pytest

TINY = ["--epochs", "1", "--train-limit", "600", "--validation-size", "300", "--batch-size",
        "32", "--stem-filters", "4", "--block-filters", "4", "8", "--dense-units", "8",
        "--random-trials", "1", "--quiet"]


@pytest.mark.tensorflow
@pytest.mark.dataset
def test_a_tiny_search_resumes_and_writes_a_config_that_train_accepts(tmp_path, fashion_mnist,
                                                                      capsys):
    from model.train import parse_config
    from model.tune import main

    out = tmp_path / "tune"
    assert main(TINY + ["--out", str(out), "--trials", "1"]) == 0
    assert main(TINY + ["--out", str(out), "--trials", "2"]) == 0  # Resumes: one more trial.
    with open(out / "trials.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["status"] for row in rows] == ["COMPLETED", "COMPLETED"]
    assert (rows[0]["learning_rate"], rows[0]["width"]) == ("0.05", "1")  # The base first.
    assert rows[1]["val_score"] and "| trial | status | val_score" in (out / "trials.md").read_text()
    assert len((out / "trials.md").read_text().splitlines()) == 4
    best_row = max(rows, key=lambda row: float(row["val_score"]))
    card = json.loads((out / "trials" / best_row["trial"] / "model_card.json").read_text())
    config, _, _ = parse_config(["--config", str(out / "best.json")])
    assert config.train_limit == 600 and config.network.dense_units == card["training"][
        "network"]["dense_units"]
    assert json.loads((out / "best.json").read_text()) == card["training"]
    assert "Best of 2 trials" in capsys.readouterr().out

    # Resuming with other training options is refused.
    assert main(TINY + ["--out", str(out), "--trials", "3", "--learning-rate", "0.1"]) == 2
    assert "other training options" in capsys.readouterr().err


@pytest.mark.tensorflow  # KerasTuner imports TensorFlow.
def test_a_fine_tuning_search_keeps_the_widths_of_its_start_model():
    keras_tuner = pytest.importorskip("keras_tuner")
    from model.config import NetworkConfig, TrainConfig
    from model.tune import trial_config

    base = TrainConfig(network=NetworkConfig(stem_filters=8, block_filters=(16, 24), dense_units=32))
    fine_tuning = dataclasses.replace(base, init_from="start.keras")
    kinds = {}
    for name, config in (("scratch", base), ("fine-tuning", fine_tuning)):
        hyperparameters = keras_tuner.HyperParameters()
        trial_config(hyperparameters, config)
        kinds[name] = {hp.name: type(hp).__name__ for hp in hyperparameters.space}
    assert kinds["scratch"]["width"] == "Choice" and kinds["fine-tuning"]["width"] == "Fixed"
    assert kinds["fine-tuning"]["learning_rate"] == "Float"  # The rest is still searched.

    widened = keras_tuner.HyperParameters()
    trial_config(widened, base)
    widened.values["width"] = 1.5
    assert trial_config(widened, base).network.block_filters == (24, 36)
