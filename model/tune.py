"""Searches training hyperparameters with KerasTuner's Bayesian optimisation.

    python -m model.tune --out runs/tune --trials 12 --epochs 3 --train-limit 20000 \
        --photos PHOTOS/train --photo-labels PHOTOS/labels.csv \
        --validation-photos PHOTOS/validation
    python -m model.tune --out runs/tune --trials 16 ...      # the same options: resumes, 4 more
    python -m model.train --config runs/tune/best.json --epochs 40 --train-limit 0 --out runs/tuned

Every trial is a model.train run (--epochs per trial) of the base configuration (the training
options given here, or --config FILE) with the searched fields replaced, written to
OUT/trials/ID/. The search space, small for a small budget:
    learning_rate         log-uniform from a quarter to four times the base --learning-rate
    block_dropout         0 to 0.3 in steps of 0.05
    head_dropout          0.2 to 0.6 in steps of 0.1
    erasing_probability   0 to 0.7 in steps of 0.1 (random erasing of Fashion-MNIST images)
    photo_share           0.1 to 0.4 in steps of 0.05 (only with --photos)
    width                 0.5, 0.75, 1, 1.5: multiplies every width of the base network
                          (--stem-filters, --block-filters, --dense-units); fixed at 1 with
                          --init-from, since a fine-tuning run keeps its model's widths

The objective, val_score, is taken at a trial's last epoch (the weights it ends with): the
Fashion-MNIST validation accuracy, or with --validation-photos the mean of it and the
validation photos' exact accuracy (each counted half). Nothing is chosen on a test set.

The first trial is the base configuration (its values clipped into the ranges), the next
ones are random up to --random-trials trials, then a Gaussian process proposes each next one.
KerasTuner keeps its state in OUT/search: run the same command again after an interruption,
or with more --trials, and it goes on (the interrupted trial is run again). Writes to --out:
trials.csv and trials.md (one row per trial, rewritten after each), best.json (the best
trial's TrainConfig, for model.train --config; it keeps the trial's --epochs and
--train-limit, so override them for a full run) and base_config.json.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import sys
from pathlib import Path

from model.config import TrainConfig, upgraded_fields
from model.data import DatasetError, load_fashion_mnist
from model.options import config_from_dict
from model.paths import CARD_FILE
from model.train import add_train_arguments, train, train_config_from
from segmentation import files

WIDTHS = [0.5, 0.75, 1.0, 1.5]
TABLE_FIELDS = ["trial", "status", "val_score", "val_fashion_mnist", "val_photos_exact",
                "minutes", "learning_rate", "block_dropout", "head_dropout",
                "erasing_probability", "photo_share", "width"]


def scaled(width: int, factor: float) -> int:
    return max(1, int(round(width * factor)))


def searched_float(hp, name: str, low: float, high: float, base_value: float, **kwargs):
    """A float hyperparameter whose default (the first trial's value) is the base one."""
    default = min(max(base_value, low), high)
    return float(f"{hp.Float(name, low, high, default=default, **kwargs):.4g}")


def trial_config(hyperparameters, base: TrainConfig) -> TrainConfig:
    """The base configuration with the searched fields taken from KerasTuner's
    hyperparameters (which registers the search space the first time it is called). The
    first trial, of the defaults, is the base configuration itself (inside the ranges)."""
    hp = hyperparameters
    if base.init_from:  # Fine-tuning: the widths are those of the model it starts from.
        width = hp.Fixed("width", 1.0)
    else:
        width = hp.Choice("width", WIDTHS, default=1.0)
    network = dataclasses.replace(
        base.network,
        stem_filters=scaled(base.network.stem_filters, width),
        block_filters=tuple(scaled(filters, width) for filters in base.network.block_filters),
        dense_units=scaled(base.network.dense_units, width),
        block_dropout=searched_float(hp, "block_dropout", 0.0, 0.3, base.network.block_dropout,
                                     step=0.05),
        head_dropout=searched_float(hp, "head_dropout", 0.2, 0.6, base.network.head_dropout,
                                    step=0.1))
    augment = dataclasses.replace(
        base.augment, erasing_probability=searched_float(
            hp, "erasing_probability", 0.0, 0.7, base.augment.erasing_probability, step=0.1))
    photos = base.photos
    if photos.photos:
        photos = dataclasses.replace(photos, photo_share=searched_float(
            hp, "photo_share", 0.1, 0.4, photos.photo_share, step=0.05))
    learning_rate = searched_float(hp, "learning_rate", base.learning_rate / 4,
                                   base.learning_rate * 4, base.learning_rate, sampling="log")
    return dataclasses.replace(base, learning_rate=learning_rate, network=network,
                               augment=augment, photos=photos)


def trial_score(history: dict) -> dict:
    """val_score of a trial's last epoch and its parts (see the module's docstring)."""
    fashion_mnist = history["val_accepted_accuracy"][-1]
    if "val_photo_exact" not in history:
        return {"val_score": fashion_mnist, "val_fashion_mnist": fashion_mnist}
    photos = history["val_photo_exact"][-1]
    return {"val_score": (fashion_mnist + photos) / 2, "val_fashion_mnist": fashion_mnist,
            "val_photos_exact": photos}


def trial_rows(tuner, out: Path) -> list[dict]:
    """One row per trial: its status, score parts (from its model card) and hyperparameters."""
    rows = []
    for trial_id, trial in sorted(tuner.oracle.trials.items(),
                                   key=lambda item: (len(item[0]), item[0])):
        row = {"trial": trial_id, "status": trial.status, **trial.hyperparameters.values}
        card_path = out / "trials" / trial_id / CARD_FILE
        if card_path.is_file():
            card = json.loads(card_path.read_text())
            row.update(trial_score(card["history"]))
            row["minutes"] = round(card["wall_time_seconds"] / 60, 1)
        rows.append(row)
    return rows


def cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def write_tables(rows: list[dict], out: Path) -> None:
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, TABLE_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({name: cell(row.get(name)) for name in TABLE_FIELDS} for row in rows)
    files.write_text(out / "trials.csv", table.getvalue())
    lines = ["| " + " | ".join(TABLE_FIELDS) + " |", "|" + "---|" * len(TABLE_FIELDS)]
    lines += ["| " + " | ".join(cell(row.get(name)) for name in TABLE_FIELDS) + " |"
              for row in rows]
    files.write_text(out / "trials.md", "\n".join(lines) + "\n")


def make_tuner(base: TrainConfig, out: Path, trials: int, random_trials: int, verbose: int):
    try:
        import keras_tuner
        import scipy  # noqa: F401  (KerasTuner's Bayesian oracle needs it and scikit-learn)
        import sklearn  # noqa: F401
    except ImportError as error:
        raise ValueError(f"model.tune needs KerasTuner with its Bayesian extra ({error}); "
                         "install it with `pip install -e '.[train]'`.") from error

    class TrainingTuner(keras_tuner.BayesianOptimization):
        """Each trial is a model.train run; its result is the trial's val_score."""

        def run_trial(self, trial, *args, **kwargs):
            config = trial_config(trial.hyperparameters, base)
            card = train(config, out / "trials" / trial.trial_id, verbose=verbose)
            return {"val_score": trial_score(card["history"])["val_score"]}

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            write_tables(trial_rows(self, out), out)

    return TrainingTuner(objective=keras_tuner.Objective("val_score", direction="max"),
                         max_trials=trials, num_initial_points=random_trials, seed=base.seed,
                         directory=str(out), project_name="search", overwrite=False)


def check_base(base: TrainConfig, out: Path) -> None:
    """Refuses what would fail in every trial, or a resumed search of another base config."""
    load_fashion_mnist(base.data_dir or None)
    for option, folder in (("--photos", base.photos.photos),
                           ("--validation-photos", base.photos.validation_photos)):
        if folder and not Path(folder).is_dir():
            raise ValueError(f"{option} {folder}: no such folder.")
    saved = out / "base_config.json"
    if saved.is_file():
        earlier = config_from_dict(TrainConfig, upgraded_fields(json.loads(saved.read_text())))
        if earlier != base:
            raise ValueError(f"{out} holds a search of other training options (see {saved}); "
                             "give the same options to resume it, or a new --out.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/tune", help="output folder (and search state)")
    parser.add_argument("--trials", type=int, default=10, help="trials in all, counting those "
                        "of an earlier run of the same search (default 10)")
    parser.add_argument("--random-trials", type=int, default=4,
                        help="random trials before the Bayesian ones (default 4)")
    parser.add_argument("--quiet", action="store_true", help="no per-step progress bar")
    add_train_arguments(parser)
    parser.set_defaults(epochs=3)  # Epochs per trial.
    base, arguments = train_config_from(parser, argv)
    out = Path(arguments["out"])
    if arguments["trials"] < 1 or arguments["random_trials"] < 1:
        parser.error("--trials and --random-trials must be at least 1.")
    try:
        check_base(base, out)
    except (DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    files.write_text(out / "base_config.json", json.dumps(dataclasses.asdict(base), indent=2))
    try:
        tuner = make_tuner(base, out, arguments["trials"], arguments["random_trials"],
                           verbose=2 if arguments["quiet"] else 1)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    tuner.search()
    rows = trial_rows(tuner, out)
    write_tables(rows, out)
    best = tuner.oracle.get_best_trials(1)
    if not best:
        print(f"error: no trial finished; see the messages above and {out / 'search'}.",
              file=sys.stderr)
        return 1
    card = json.loads((out / "trials" / best[0].trial_id / CARD_FILE).read_text())
    files.write_text(out / "best.json", json.dumps(card["training"], indent=2) + "\n")
    print(f"Best of {len(rows)} trials: trial {best[0].trial_id}, val_score "
          f"{best[0].score:.4f}. Wrote {out / 'trials.md'}, {out / 'trials.csv'} and "
          f"{out / 'best.json'} (train with `python -m model.train --config "
          f"{out / 'best.json'}`).")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
