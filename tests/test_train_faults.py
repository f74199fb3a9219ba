"""model.train's faults: options and the output folder checked before any data is loaded, two
runs never mixed in one folder, an interrupted run resumed, and model cards that name no
folder of the training machine."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from model.card import shown_path
from model.paths import FLOAT_TFLITE_FILE
from model.config import TrainConfig
from model.run_folder import CHECKPOINT_FOLDER, RUN_CONFIG_FILE, prepare_output

TINY = ["--epochs", "3", "--batch-size", "64", "--train-limit", "640", "--validation-size",
        "500", "--precision", "fp32", "--optimizer", "adamw", "--learning-rate", "0.002",
        "--schedule", "constant", "--stem-filters", "4", "--block-filters", "8", "8",
        "--dense-units", "16", "--erasing-probability", "0", "--quiet"]


@pytest.mark.parametrize("option, value", [("--epochs", "-1"), ("--batch-size", "0"),
                                           ("--learning-rate", "nan"),
                                           ("--validation-size", "0"),
                                           ("--head-dropout", "1.5"),
                                           ("--block-filters", "0")])
def test_bad_numbers_are_refused_before_any_data_is_loaded(option, value, tmp_path, capsys):
    from model.train import main

    missing_data = ["--data-dir", str(tmp_path / "no-data")]  # Loading would say so instead.
    with pytest.raises(SystemExit) as stop:
        main([option, value, "--out", str(tmp_path / "out")] + missing_data)
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert "error:" in error and "from" in error and "Fashion-MNIST" not in error
    assert not (tmp_path / "out").exists()


def test_an_output_folder_that_is_a_file_is_refused_before_any_data(tmp_path, capsys):
    from model.train import main

    (tmp_path / "out").write_text("a file")
    assert main(["--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "none")]) == 2
    assert "it is a file, not a folder" in capsys.readouterr().err


def test_a_folder_that_holds_a_run_is_refused_unless_asked(tmp_path, capsys):
    from model.train import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "history.csv").write_text("epoch,loss\n0,1.0\n")
    (out / FLOAT_TFLITE_FILE).write_bytes(b"the float export of an older model")
    (out / "notes.txt").write_text("mine")
    arguments = ["--out", str(out), "--data-dir", str(tmp_path / "none")]
    assert main(arguments) == 2
    assert f"already holds a run ({FLOAT_TFLITE_FILE}, history.csv)" in capsys.readouterr().err
    assert main(arguments + ["--resume"]) == 2
    assert "no interrupted run to resume" in capsys.readouterr().err
    prepare_output(out, TrainConfig(), overwrite=True)  # --overwrite: the old run goes.
    assert sorted(path.name for path in out.iterdir()) == ["notes.txt", RUN_CONFIG_FILE]


@pytest.mark.tensorflow  # train() imports it before it looks for the dataset.
def test_a_run_that_stopped_before_its_first_epoch_does_not_lock_its_folder(tmp_path, capsys):
    from model.train import main

    out = tmp_path / "out"
    arguments = ["--out", str(out), "--data-dir", str(tmp_path / "none")]
    assert main(arguments) == 2  # No dataset: it stops after writing run_config.json.
    assert "already holds a run" not in capsys.readouterr().err
    assert sorted(path.name for path in out.iterdir()) == [RUN_CONFIG_FILE]
    assert main(arguments + ["--epochs", "5"]) == 2  # Again, with other options: not refused.
    error = capsys.readouterr().err
    assert "already holds a run" not in error and "Fashion-MNIST" in error
    (out / "history.csv").write_text("")  # Opened when training begins, before any epoch ends.
    prepare_output(out, TrainConfig())
    (out / "history.csv").write_text("epoch,loss\n0,1.0\n")  # One epoch ended: a run.
    with pytest.raises(ValueError, match="already holds a run"):
        prepare_output(out, TrainConfig())


@pytest.mark.parametrize("arguments, message", [
    (["--optimizer", "adam"], "invalid choice: 'adam'"),
    (["--schedule", "step"], "invalid choice: 'step'"),
    (["--set-loss", "max"], "invalid choice: 'max'"),
    (["--distribute", "mirrored", "--optimizer", "sam"], "does not work with --optimizer sam"),
])
def test_training_options_are_refused_before_the_output_folder_is_touched(tmp_path, capsys,
                                                                           arguments, message):
    from model.train import main

    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "out"), *arguments])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="optimizer must be one of 'sgd', 'adamw', 'sam'"):
        TrainConfig(optimizer="adam")


def test_resume_refuses_other_options(tmp_path):
    out = tmp_path / "out"
    prepare_output(out, TrainConfig(epochs=3))
    (out / CHECKPOINT_FOLDER).mkdir()
    prepare_output(out, TrainConfig(epochs=3), resume=True)
    with pytest.raises(ValueError, match="--epochs"):
        prepare_output(out, TrainConfig(epochs=4), resume=True)


def test_model_cards_name_no_folder_of_the_training_machine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shown_path("photos/train") == "photos/train"
    assert shown_path(tmp_path / "runs" / "photos") == "runs/photos"
    assert shown_path("/work/shared/clothing-dataset/train") == "clothing-dataset/train"


def history_rows(out: Path) -> list[dict]:
    with open(out / "history.csv", newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.tensorflow
def test_a_run_interrupted_in_epoch_2_and_resumed_ends_as_an_uninterrupted_one(
        tmp_path, fashion_mnist, capsys):
    import keras

    from model.train import main, parse_config, train

    class StopInEpoch2(keras.callbacks.Callback):
        """Ctrl-C after the third batch of the second epoch."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 2:
                raise KeyboardInterrupt

    whole, interrupted = tmp_path / "whole", tmp_path / "interrupted"
    assert main(TINY + ["--out", str(whole)]) == 0
    config, _, _ = parse_config(TINY)
    prepare_output(interrupted, config)
    with pytest.raises(KeyboardInterrupt):
        train(config, interrupted, verbose=0, extra_callbacks=[StopInEpoch2()])
    assert len(history_rows(interrupted)) == 1 and (interrupted / CHECKPOINT_FOLDER).is_dir()
    assert main(TINY + ["--out", str(interrupted)]) == 2  # Not without --resume.
    assert main(TINY + ["--out", str(interrupted), "--resume"]) == 0
    cards = [json.loads((out / "model_card.json").read_text()) for out in (whole, interrupted)]
    assert [card["epochs_run"] for card in cards] == [3, 3]
    assert cards[1]["resumed_after_epoch"] == 1 and cards[0]["resumed_after_epoch"] == 0
    rows = [history_rows(out) for out in (whole, interrupted)]
    assert [row["epoch"] for row in rows[0]] == [row["epoch"] for row in rows[1]] == \
        ["0", "1", "2"]
    assert rows[0][0].keys() == rows[1][0].keys()
    assert list(cards[0]["history"]) == list(cards[1]["history"])
    assert all(len(values) == 3 for values in cards[1]["history"].values())
    assert not (interrupted / CHECKPOINT_FOLDER).exists()
    for card in cards:  # Fashion-MNIST is named by its folder's last parts, not its path.
        assert not card["dataset"]["directory"].startswith("/")


def test_a_checkpoint_without_an_epoch_count_is_refused_not_resumed_from_zero(tmp_path):
    from model.run_folder import checkpoint_epoch

    assert checkpoint_epoch(tmp_path) == 0  # No checkpoint: a fresh run.
    chief = tmp_path / CHECKPOINT_FOLDER / "chief"
    chief.mkdir(parents=True)
    assert checkpoint_epoch(tmp_path) == 0  # An empty folder holds nothing yet.
    (chief / "checkpoint").write_text("weights of Keras 2, no epoch count")
    with pytest.raises(ValueError, match="without an epoch count.*--overwrite"):
        checkpoint_epoch(tmp_path)
    (tmp_path / CHECKPOINT_FOLDER / "training_metadata.json").write_text(json.dumps({"epoch": 2}))
    assert checkpoint_epoch(tmp_path) == 2
