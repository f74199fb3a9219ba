"""The output folder of one training run: what it holds, resuming an interrupted run, and
never mixing two runs.

    prepare_output(out, config, resume=False, overwrite=False)   # before any data is loaded
    resumed_at = checkpoint_epoch(out)       # epochs done by an interrupted run (0: none)
    keep_history_rows(out, resumed_at)       # history.csv as far as the checkpoint goes
    history = read_history(out)              # every epoch's logs, {name: [float, ...]}

model.train saves the training state after every epoch in out/checkpoint (Keras'
BackupAndRestore) and removes it once the model, its export and its card are written; so a
checkpoint folder means an interrupted run, which `--resume` continues. The run's options
are kept in run_config.json, and --resume refuses other options.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from model.options import argument_values
from model.paths import CARD_FILE, FLOAT_TFLITE_FILE, KERAS_FILE, TFLITE_FILE
from segmentation import files
from segmentation.images import make_output_folder

CHECKPOINT_FOLDER = "checkpoint"  # BackupAndRestore's folder inside --out.
HISTORY_FILE = "history.csv"  # One row of logs per epoch (CSVLogger).
RUN_CONFIG_FILE = "run_config.json"  # The options of the run that writes the folder.
# What a run writes into its folder; one of them there means the folder holds a run, unless
# the run stopped before its first epoch ended (not_started).
RUN_FILES = (KERAS_FILE, TFLITE_FILE, FLOAT_TFLITE_FILE, CARD_FILE, HISTORY_FILE,
             "training_curves.png", "confusion_matrix.png", RUN_CONFIG_FILE, CHECKPOINT_FOLDER)


def prepare_output(out: Path, config, resume: bool = False, overwrite: bool = False) -> None:
    """Checks and prepares out for a run of config (a TrainConfig) before any data is loaded.

    Raises OSError when out is a file or cannot be written, and ValueError when out holds
    another run (unless overwrite, which removes that run's files first) or, with resume,
    when it holds no interrupted run or one with other options.
    """
    if resume and overwrite:
        raise ValueError("--resume and --overwrite exclude each other: resume the "
                         "interrupted run, or overwrite it.")
    make_output_folder(out)
    found = [name for name in RUN_FILES if (out / name).exists()]
    if not_started(out, found):  # A run that stopped before its first epoch: nothing to keep.
        found = []
    options = argument_values(config)
    if resume:
        if not (out / CHECKPOINT_FOLDER).is_dir():
            raise ValueError(f"{out} holds no interrupted run to resume (no {CHECKPOINT_FOLDER}/"
                             " folder); run without --resume.")
        differing = differing_options(saved_options(out), options)
        if differing:
            raise ValueError(f"--resume: the options differ from the interrupted run's in "
                             f"{', '.join(differing)}; give the same options as before.")
        return
    if found and not overwrite:
        raise ValueError(f"{out} already holds a run ({', '.join(found)}). Pass --resume to "
                         "go on with an interrupted run, --overwrite to replace it, or choose "
                         "another --out.")
    for name in found:
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    files.write_text(out / RUN_CONFIG_FILE, json.dumps(options, indent=2) + "\n")


def not_started(out: Path, found: list[str]) -> bool:
    """Whether the run files found in out are only those a run writes before its first epoch
    ends: RUN_CONFIG_FILE (written first) and an empty HISTORY_FILE (CSVLogger opens it when
    training begins and writes its first row when an epoch ends)."""
    history = out / HISTORY_FILE
    return (RUN_CONFIG_FILE in found and set(found) <= {RUN_CONFIG_FILE, HISTORY_FILE}
            and (not history.exists() or (history.is_file() and history.stat().st_size == 0)))


def saved_options(out: Path) -> dict:
    """The options saved by the run in out ({} when they cannot be read)."""
    try:
        saved = json.loads((out / RUN_CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def differing_options(saved: dict, options: dict) -> list[str]:
    """The --options whose values differ (all of them when nothing was saved)."""
    return [f"--{name.replace('_', '-')}" for name in sorted(options)
            if json.loads(json.dumps(options[name])) != saved.get(name, object())]


def checkpoint_epoch(out: Path) -> int:
    """How many epochs the checkpoint in out holds (0 without one).

    Raises ValueError for a checkpoint without Keras 3's epoch count (Keras 2.15, as in the
    Intel environment, keeps none): its history rows could not be matched to it.
    """
    folder = out / CHECKPOINT_FOLDER
    try:
        metadata = json.loads((folder / "training_metadata.json").read_text())
        return int(metadata["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        if folder.is_dir() and any(path.is_file() for path in folder.rglob("*")):
            raise ValueError(f"{folder} holds a checkpoint without an epoch count (one Keras 2 "
                             "writes), so the run cannot be resumed with this history; resume "
                             "it with Keras 3 (the project's environment), or start again "
                             "with --overwrite.") from None
        return 0


def keep_history_rows(out: Path, epochs: int) -> None:
    """Cuts history.csv to its first `epochs` rows (an interrupted run may have logged an
    epoch that its checkpoint does not hold; resuming does it again)."""
    path = out / HISTORY_FILE
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    files.write_text(path, "".join(lines[:1 + epochs]) if epochs else "")


def read_history(out: Path) -> dict:
    """Every logged epoch of the run: {log name: [float per epoch]}, learning rate and
    epoch number left out."""
    with open(out / HISTORY_FILE, newline="") as file:
        rows = list(csv.DictReader(file))
    names = [name for name in (rows[0] if rows else {}) if name not in ("epoch", "learning_rate")]
    return {name: [float(row[name]) for row in rows] for name in names}
