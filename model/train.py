"""Trains the garment CNN on Fashion-MNIST and labelled photos, on the CPU.

    python -m model.train --out runs/photos --photos PHOTOS/train \
        --photo-labels PHOTOS/labels.csv --photo-share 0.2 \
        --validation-photos PHOTOS/validation                          # with real photos
    python -m model.train --out runs/fashion-mnist                     # Fashion-MNIST alone
    python -m model.train --epochs 1 --train-limit 3000 --out /tmp/quick   # a smoke run
    python -m model.train --config runs/tune/best.json --epochs 40 --out runs/tuned

PHOTOS stands for a folder of labelled photos laid out as the clothing collection:
train/ and validation/ with one sub-folder per line of labels.csv.

Every batch mixes both sources: --photo-share of it are photos (seen through the app's
segmentation once, then cached; see model.photos), the rest Fashion-MNIST images. A
photo's label is the set of classes accepted for its folder, and its loss the negative log
of their summed probability (model.partial_labels). Validation accuracy on Fashion-MNIST's
validation split and on --validation-photos (with flip averaging, as the app runs) is logged
after every epoch and drawn in the training curves; nothing is chosen on a test set.

Writes to --out: fashion_cnn.keras, fashion_cnn.tflite (float32), model_card.json (with
every data source), training_curves.png, confusion_matrix.png and history.csv. The training
state is saved after every epoch (checkpoint/, removed once the run is written): after Ctrl-C
or a crash, the same command with --resume goes on from the last finished epoch. A folder
that holds another run is refused unless --overwrite.
"""

from __future__ import annotations

import argparse
import inspect
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from model.card import write_model
from model.config import PhotoConfig, TrainConfig, upgraded_fields
from model.data import DatasetError, load_fashion_mnist, split_indices
from model.metrics import format_photo_report, photo_report
from model.partial_labels import accepted_accuracy, one_class_masks, partial_label_loss
from model.photos import load_photo_set
from model.predictor import KerasPredictor, predict_in_batches
from model.options import (add_config_arguments, argument_values, config_from_arguments,
                           config_from_dict)
from model.card import shown_path
from model.run_folder import (CHECKPOINT_FOLDER, HISTORY_FILE, checkpoint_epoch,
                              keep_history_rows, prepare_output, read_history)

FASHION_MNIST_LICENCE = "MIT (Zalando Research)"
WARMUP_EPOCHS = 2  # Linear warm-up of the learning rate before the cosine decay.


def load_photos(directory: str, labels: str, view_count: int = 0):
    """The photo set of a labelled folder, seen through the segmentation at the app's settings."""
    return load_photo_set(directory, labels or None, view_count=view_count)


def licence_of(directory: str) -> str:
    """The licence of a photo folder, from a LICENSE file next to (or above) it."""
    for folder in (Path(directory), Path(directory).parent):
        for name in ("LICENSE", "LICENSE.txt", "LICENCE"):
            if (folder / name).is_file():
                text = (folder / name).read_text(errors="replace")
                if "CC0" in text:
                    return f"CC0 1.0, public domain ({shown_path(folder / name)})"
                first = next((line.strip() for line in text.splitlines() if line.strip()), "")
                return f"{first or 'empty'} ({shown_path(folder / name)})"
    return "not stated (no LICENSE file next to the photos)"


def distribution_strategy(config: TrainConfig):
    """The tf.distribute strategy of config.distribute, after printing the devices it uses.

    '' is TensorFlow's default: one device, the first GPU that TensorFlow sees, else the CPU.
    'mirrored' is MirroredStrategy: a copy of the model on every GPU (on every logical CPU
    device when there is no GPU), each step's batch split between them and the gradients
    summed; the batch size stays the global one. TrainConfig refuses another name, and
    'mirrored' with --optimizer sam, whose two-pass step is written for one device.
    """
    import tensorflow as tf

    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if not config.distribute:
        print(f"Training on {gpus[0] if gpus else 'the CPU'}.", flush=True)
        return tf.distribute.get_strategy()
    devices = gpus or [device.name for device in tf.config.list_logical_devices("CPU")]
    # NCCL sums gradients between GPUs; between CPU devices one device does it.
    cross_device_ops = None if gpus else tf.distribute.ReductionToOneDevice()
    strategy = tf.distribute.MirroredStrategy(devices, cross_device_ops=cross_device_ops)
    print(f"Training on {strategy.num_replicas_in_sync} devices (MirroredStrategy): "
          f"{', '.join(devices)}.", flush=True)
    return strategy


def make_optimizer(config: TrainConfig, steps_per_epoch: int):
    """The optimizer of config.optimizer; for 'sam', the base optimizer that SAM steps with
    (the sharpness-aware part is the training model's, see training_model)."""
    import keras

    total_steps = config.epochs * steps_per_epoch
    warmup_steps = min(WARMUP_EPOCHS * steps_per_epoch, total_steps // 2)
    if config.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=config.learning_rate / 100,
            decay_steps=max(total_steps - warmup_steps, 1), alpha=0.0,
            warmup_target=config.learning_rate, warmup_steps=warmup_steps)
    elif config.schedule == "constant":
        learning_rate = config.learning_rate
    else:
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {config.schedule!r}")
    name = config.sam_base if config.optimizer == "sam" else config.optimizer
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True,
                                    weight_decay=config.weight_decay)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay)
    if config.optimizer == "sam":
        raise ValueError(f"--sam-base must be 'sgd' or 'adamw', got {name!r}")
    raise ValueError(f"optimizer must be 'sgd', 'adamw' or 'sam', got {name!r}")


def training_model(network, config: TrainConfig):
    """The model that fit() trains: the network itself, or for --optimizer sam a SAM model
    on its layers (so the network's weights are the trained ones)."""
    if config.optimizer != "sam":
        return network
    from model.sam import sharpness_aware

    return sharpness_aware(network, config.sam_rho)


def make_dataset(images, masks, config: TrainConfig, training: bool, batch_size=None):
    """Batches of (image, accepted-class mask) of Fashion-MNIST images; training ones
    shuffled and augmented."""
    import tensorflow as tf

    from model.augment import augment

    batch_size = batch_size or config.batch_size
    images = images[..., np.newaxis].astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((images, masks))
    if training:
        dataset = dataset.shuffle(len(masks), seed=config.seed, reshuffle_each_iteration=True)
        dataset = dataset.map(lambda image, mask: augment(image, mask, config.augment),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size, drop_remainder=training)


def photo_batches(photo_set, config: TrainConfig, batch_size: int):
    """An endless stream of augmented photo batches of (image, accepted-class mask)."""
    import tensorflow as tf

    from model.augment import augment_photo

    dataset = tf.data.Dataset.from_tensor_slices((
        photo_set.images[..., np.newaxis].astype(np.float32),
        photo_set.accepted.astype(np.float32)))
    dataset = dataset.shuffle(len(photo_set.images), seed=config.seed + 1,
                              reshuffle_each_iteration=True).repeat()
    dataset = dataset.map(augment_photo,
                          num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size, drop_remainder=True)


def without_photos(config: TrainConfig) -> TrainConfig:
    """config with photo_share and photo_views 0 when no --photos are given (the defaults
    are the shipped recipe's, which trains on photos). Raises ValueError when another share
    was asked for without photos."""
    photos = config.photos
    if photos.photos:
        return config
    if photos.photo_share not in (0.0, PhotoConfig().photo_share):
        raise ValueError("--photo-share needs --photos DIR (a folder of labelled photos).")
    return dataclasses.replace(config, photos=dataclasses.replace(photos, photo_share=0.0,
                                                                  photo_views=0))


def photos_per_batch(config: TrainConfig) -> int:
    """How many images of each batch are photos."""
    share = config.photos.photo_share
    if not 0 <= share <= 0.9:
        raise ValueError(f"--photo-share must be between 0 and 0.9, got {share}.")
    if share > 0 and not config.photos.photos:
        raise ValueError("--photo-share needs --photos DIR (a folder of labelled photos).")
    if config.photos.photos and share == 0:
        raise ValueError("--photos is used only with --photo-share above 0 (e.g. 0.2).")
    count = int(round(share * config.batch_size))
    if share > 0 and count == 0:
        raise ValueError(f"--photo-share {share} of a batch of {config.batch_size} is no photo "
                         "at all; raise --photo-share or --batch-size.")
    return count


def mixed_batches(fashion_batches, photo_stream):
    """Each Fashion-MNIST batch with a photo batch appended, so that both share every batch
    (and so BatchNorm's statistics)."""
    import tensorflow as tf

    return tf.data.Dataset.zip((fashion_batches, photo_stream)).map(
        lambda first, second: (tf.concat([first[0], second[0]], 0),
                               tf.concat([first[1], second[1]], 0)))


def photo_validation_callback(photo_set):
    """A Keras callback that adds val_photo_exact and val_photo_group to each epoch's logs."""
    import keras

    class PhotoValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            report = photo_report(predict_in_batches(KerasPredictor.from_model(self.model),
                                                     photo_set.images, flip=True), photo_set)
            if logs is not None:
                logs["val_photo_exact"] = report["exact"]
                logs["val_photo_group"] = report["group"]

    return PhotoValidation()


def data_sources(dataset, train_count: int, photo_set, validation_photos, config) -> list:
    """Every data source of a run, for the model card."""
    share = config.photos.photo_share
    sources = [{"name": "Fashion-MNIST", "directory": shown_path(dataset.directory),
                "role": "training",
                "images": train_count, "sha256": dataset.checksum, "share": 1 - share,
                "licence": FASHION_MNIST_LICENCE}]
    for role, photos, directory in (("training", photo_set, config.photos.photos),
                                    ("validation", validation_photos,
                                     config.photos.validation_photos)):
        if photos is not None:
            sources.append({"name": f"photos in {shown_path(directory)}", "role": role,
                            "directory": shown_path(directory),
                            "images": int(len(photos.images)),
                            "per_folder": photos.counts(), "left_out": len(photos.left_out),
                            "views_per_photo": photos.view_count,
                            "sha256": photos.checksum,
                            "share": share if role == "training" else 0.0,
                            "licence": licence_of(directory)})
    return sources


def backup_and_restore(folder: Path):
    """Keras's checkpoint of every epoch, kept after the run. Keras 3 also keeps the one before
    (double_checkpoint), so a crash while writing loses nothing; Keras 2.15 (the Intel
    environment) has no such option."""
    import keras

    options = {"delete_checkpoint": False}
    if "double_checkpoint" in inspect.signature(keras.callbacks.BackupAndRestore).parameters:
        options["double_checkpoint"] = True
    return keras.callbacks.BackupAndRestore(str(folder), **options)


def train(config: TrainConfig, out: Path, verbose: int = 1, extra_callbacks=()) -> dict:
    """Trains, exports and evaluates; returns the model card that it also writes.

    The training state is saved after every epoch in out/checkpoint, and a run that finds a
    checkpoint there goes on from it (model.run_folder); extra_callbacks are more Keras
    callbacks (a test interrupts a run with one)."""
    import keras
    import tensorflow as tf

    from model.network import build_network
    from model.plots import plot_training_curves

    if config.precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32' or 'bf16', got {config.precision!r}")
    config = without_photos(config)
    photo_count = photos_per_batch(config)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    dataset = load_fashion_mnist(config.data_dir or None)
    train_indices, validation_indices = split_indices(
        len(dataset.train_labels), config.validation_size, config.split_seed, config.train_limit)
    train_images = dataset.train_images[train_indices]
    train_masks = one_class_masks(dataset.train_labels[train_indices])
    validation_masks = one_class_masks(dataset.train_labels[validation_indices])
    photo_set = load_photos(config.photos.photos, config.photos.photo_labels,
                            config.photos.photo_views) if photo_count else None
    validation_photos = load_photos(config.photos.validation_photos,
                                    config.photos.validation_photo_labels) \
        if config.photos.validation_photos else None

    fashion_per_batch = config.batch_size - photo_count
    train_data = make_dataset(train_images, train_masks, config, training=True,
                              batch_size=fashion_per_batch)
    if photo_set is not None:
        train_data = mixed_batches(train_data, photo_batches(photo_set, config, photo_count))
    train_data = train_data.prefetch(tf.data.AUTOTUNE)
    validation_data = make_dataset(dataset.train_images[validation_indices], validation_masks,
                                   config, training=False)
    steps_per_epoch = len(train_masks) // fashion_per_batch

    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if config.precision == "bf16" else "float32")
    strategy = distribution_strategy(config)
    with strategy.scope():
        network = build_network(config.network, fused_batch_norm=True)
        if config.init_from:
            try:
                start = keras.models.load_model(config.init_from, compile=False)
                network.set_weights(start.get_weights())
            except (OSError, ValueError) as error:
                raise ValueError(f"--init-from {config.init_from}: cannot start from it "
                                 f"({error}). It must be a .keras model of the same "
                                 "architecture (--stem-filters, --block-filters, "
                                 "--dense-units).") from error
        model = training_model(network, config)
        model.compile(optimizer=make_optimizer(config, steps_per_epoch),
                      loss=partial_label_loss(config.label_smoothing, config.set_loss),
                      metrics=[accepted_accuracy])
    # The photo validation runs first, so that the logger sees its figures.
    callbacks = [photo_validation_callback(validation_photos)] if validation_photos else []
    resumed_at = checkpoint_epoch(out)
    keep_history_rows(out, resumed_at)
    callbacks += [keras.callbacks.CSVLogger(str(out / HISTORY_FILE), append=resumed_at > 0),
                  # After the logger: a row is never lost (one logged twice is cut on resume).
                  backup_and_restore(out / CHECKPOINT_FOLDER),
                  *extra_callbacks]
    if resumed_at:
        print(f"Resuming the interrupted run in {out} after epoch {resumed_at}.", flush=True)
    started = time.time()
    model.fit(train_data, validation_data=validation_data, epochs=config.epochs,
              steps_per_epoch=steps_per_epoch, callbacks=callbacks, verbose=verbose)
    wall_seconds = time.time() - started

    # The export is float32 whatever the training precision: rebuild and copy the weights.
    keras.mixed_precision.set_global_policy("float32")
    export_model = build_network(config.network)
    export_model.set_weights(network.get_weights())
    history_values = read_history(out)  # Every epoch, those before a resume too.
    plot_training_curves(history_values, out / "training_curves.png")
    card_fields = {"data_sources": data_sources(dataset, len(train_indices), photo_set,
                                                validation_photos, config),
                   "training": dataclasses.asdict(config),
                   "wall_time_seconds": round(wall_seconds, 1),
                   "epochs_run": len(history_values["loss"]),
                   "resumed_after_epoch": resumed_at,
                   "history": history_values}
    if validation_photos is not None:
        report = photo_report(predict_in_batches(KerasPredictor.from_model(export_model),
                                                 validation_photos.images, flip=True),
                              validation_photos)
        card_fields["validation_photos"] = report
        print(format_photo_report(report, "Validation photos (flip averaging, as the app):"))
    card = write_model(export_model, dataclasses.asdict(config.network), dataset,
                       train_indices, validation_indices, out, card_fields)
    shutil.rmtree(out / CHECKPOINT_FOLDER, ignore_errors=True)  # The run is complete.
    print(f"Wrote {out}: test accuracy {card['test_accuracy'] * 100:.2f}%, "
          f"{card['epochs_run']} epochs in {wall_seconds / 60:.1f} min")
    return card


def read_config_file(path: str) -> TrainConfig:
    """A TrainConfig from a JSON file of its fields (nested as dataclasses.asdict gives, e.g.
    the best.json of model.tune); raises ValueError saying what is wrong with the file."""
    try:
        values = json.loads(Path(path).read_text())
    except OSError as error:
        raise ValueError(f"cannot read it ({error.strerror or error}).") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"not JSON ({error}).") from error
    return config_from_dict(TrainConfig, upgraded_fields(values))


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """--config FILE and one option per TrainConfig field."""
    parser.add_argument("--config", metavar="FILE", default="",
                        help="JSON of TrainConfig fields (e.g. model.tune's best.json) to start "
                             "from; options given on the command line override it")
    add_config_arguments(parser, TrainConfig)


def train_config_from(parser: argparse.ArgumentParser, argv=None) -> tuple[TrainConfig, dict]:
    """The TrainConfig of the command line (over --config FILE) and the other options' values;
    a bad --config file ends the program with a clear message (exit status 2)."""
    arguments = vars(parser.parse_args(argv))
    if arguments["config"]:
        try:
            from_file = read_config_file(arguments["config"])
        except ValueError as error:
            parser.error(f"--config {arguments['config']}: {error}")
        parser.set_defaults(**argument_values(from_file))
        arguments = vars(parser.parse_args(argv))
    try:
        return config_from_arguments(TrainConfig, arguments), arguments
    except ValueError as error:  # A number outside its range (--epochs -1, --batch-size 0).
        parser.error(str(error))


def parse_config(argv=None) -> tuple[TrainConfig, Path, int]:
    """(config, output folder, Keras verbosity) of a command line."""
    config, out, verbose, _ = parse_command(argv)
    return config, out, verbose


def parse_command(argv=None) -> tuple[TrainConfig, Path, int, dict]:
    """(config, output folder, Keras verbosity, every option's value) of a command line."""
    parser = argparse.ArgumentParser(prog="python -m model.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/latest", help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="go on with the interrupted run in --out from its last finished "
                             "epoch (give the same options as before)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run that --out holds (without it, a folder that "
                             "holds a run is refused)")
    parser.add_argument("--quiet", action="store_true", help="no per-step progress bar")
    add_train_arguments(parser)
    config, arguments = train_config_from(parser, argv)
    verbose = 2 if arguments["quiet"] else 1
    return config, Path(arguments["out"]), verbose, arguments


def main(argv=None) -> int:
    config, out, verbose, arguments = parse_command(argv)
    if config.init_from and not Path(config.init_from).is_file():
        print(f"error: --init-from {config.init_from}: no such file.", file=sys.stderr)
        return 2
    try:  # The output folder before any data is loaded.
        prepare_output(out, config, arguments["resume"], arguments["overwrite"])
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        train(config, out, verbose)
    except (DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # A full disk: the files written are whole (segmentation.files).
        where = f" ({error.filename})" if error.filename else ""
        if (out / CHECKPOINT_FOLDER).is_dir():
            then = (f"The training state of the last finished epoch is in "
                    f"{out / CHECKPOINT_FOLDER}: mend that and run the same command with "
                    "--resume.")
        else:
            then = "No epoch had finished: mend that and run the same command again."
        print(f"error: {error.strerror or error}{where}. {then}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
