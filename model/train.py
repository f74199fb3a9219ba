"""Trains the Fashion-MNIST CNN on the CPU and writes the model, its export, card and plots.

    python -m model.train --out runs/main                      # the shipped recipe
    python -m model.train --epochs 1 --train-limit 3000 --out /tmp/quick   # a smoke run
    python -m model.train --precision bf16 --schedule cosine --label-smoothing 0.1 ...

Writes to --out: fashion_cnn.keras, fashion_cnn.tflite (float32), model_card.json,
training_curves.png, confusion_matrix.png and history.csv. The validation split comes from
the training set; the test set is only measured at the end, never used to choose anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.data import DatasetError, load_fashion_mnist, load_pipeline_images


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 40  # Passes over the training split.
    batch_size: int = 128  # Images per step.
    optimizer: str = "sgd"  # "sgd" (Nesterov momentum 0.9) or "adamw".
    learning_rate: float = 0.05  # Peak learning rate.
    weight_decay: float = 5e-4  # Decoupled weight decay.
    schedule: str = "cosine"  # "cosine" (with warm-up) or "constant".
    warmup_epochs: int = 2  # Linear warm-up before the cosine decay.
    label_smoothing: float = 0.1  # Label smoothing of the cross-entropy.
    flip: bool = True  # Horizontal flip augmentation.
    shift_pixels: int = 2  # Random shift augmentation, in pixels.
    erasing_probability: float = 0.5  # Random erasing augmentation.
    camera_probability: float = 0.0  # Camera-like distortions (blur, gamma, ragged edges).
    pipeline_images: str = ""  # .npz from segmentation.synthetic: the images seen as photos.
    pipeline_probability: float = 0.0  # Chance to train on an image's pipeline version.
    precision: str = "fp32"  # "fp32" or "bf16" (mixed bfloat16 on AMX).
    validation_size: int = 5000  # Images held out of the training set for validation.
    train_limit: int = 0  # Use only this many training images (0: all); for smoke runs.
    early_stopping: int = 0  # Patience in epochs on validation accuracy (0: off).
    reduce_on_plateau: int = 0  # Patience of ReduceLROnPlateau on validation loss (0: off).
    stem_filters: int = 32  # Network width at 28x28.
    block_filters: tuple = (64, 96)  # Network widths at 14x14 and 7x7.
    dense_units: int = 256  # Hidden units of the head.
    block_dropout: float = 0.1  # Dropout after each pooling (free to change when fine-tuning).
    head_dropout: float = 0.4  # Dropout before the classifier.
    seed: int = 1  # Seed for the weights, the shuffling and the augmentation.
    split_seed: int = 1  # Seed of the validation split; fixed, so fine-tuning never sees it.
    data_dir: str = ""  # Folder of the IDX files (empty: the usual places).
    init_from: str = ""  # A .keras model of the same architecture to start from (fine-tuning).


def earlier_stages(init_from: str) -> list:
    """The training stages behind a fine-tuned model, read from the card next to its file."""
    if not init_from:
        return []
    card_path = Path(init_from).parent / "model_card.json"
    if not card_path.exists():
        return [{"model": init_from, "note": "no model card found next to it"}]
    card = json.loads(card_path.read_text())
    stage = {"model": init_from, "epochs_run": card.get("epochs_run"),
             "wall_time_seconds": card.get("wall_time_seconds"),
             "validation_accuracy": card.get("validation_accuracy"),
             "training": card.get("training")}
    # Cards written before this field existed still name their own starting point.
    before = card["earlier_stages"] if "earlier_stages" in card else \
        earlier_stages((card.get("training") or {}).get("init_from", ""))
    return before + [stage]


def split_indices(count: int, config: TrainConfig):
    """Shuffled (train, validation) indices of the training set; validation only monitors."""
    order = np.random.default_rng(config.split_seed).permutation(count)
    validation, train = order[:config.validation_size], order[config.validation_size:]
    if config.train_limit:
        train = train[:config.train_limit]
    return train, validation


def training_pipeline_images(config: TrainConfig, dataset) -> np.ndarray | None:
    """The training images seen through the pipeline (aligned with the training set), or None.

    Raises ValueError when the file is missing or was made from other data.
    """
    if config.pipeline_images and config.pipeline_probability <= 0:
        raise ValueError("--pipeline-images is used only with --pipeline-probability above 0 "
                         "(e.g. 0.2).")
    if config.pipeline_probability <= 0:
        return None
    if not config.pipeline_images:
        raise ValueError("--pipeline-probability needs --pipeline-images FILE.npz; make one "
                         "with `python -m segmentation.synthetic --out FILE.npz`.")
    return load_pipeline_images(config.pipeline_images, dataset, "train")


def make_dataset(images, labels, config: TrainConfig, training: bool, pipeline_images=None):
    """Batches of (image, one-hot label); training ones shuffled and augmented.

    With pipeline_images (aligned with images), a training image is replaced by its
    pipeline version with probability config.pipeline_probability, before augmentation.
    """
    import tensorflow as tf

    from model.augment import AugmentConfig, augment
    from model.classes import NUM_CLASSES

    def as_float(array):
        return array[..., np.newaxis].astype(np.float32)

    if training and pipeline_images is not None:
        probability = config.pipeline_probability
        dataset = tf.data.Dataset.from_tensor_slices(
            (as_float(images), as_float(pipeline_images), labels.astype(np.int32)))
        dataset = dataset.map(lambda image, seen, label: (
            tf.where(tf.random.uniform([]) < probability, seen, image), label))
    else:
        dataset = tf.data.Dataset.from_tensor_slices((as_float(images), labels.astype(np.int32)))
    if training:
        augment_config = AugmentConfig(
            flip=config.flip, shift_pixels=config.shift_pixels,
            erasing_probability=config.erasing_probability,
            camera_probability=config.camera_probability)
        dataset = dataset.shuffle(len(labels), seed=config.seed, reshuffle_each_iteration=True)
        dataset = dataset.map(lambda image, label: augment(image, label, augment_config),
                              num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.map(lambda image, label: (image, tf.one_hot(label, NUM_CLASSES)))
    return dataset.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def make_optimizer(config: TrainConfig, steps_per_epoch: int):
    import keras

    total_steps = config.epochs * steps_per_epoch
    warmup_steps = min(config.warmup_epochs * steps_per_epoch, total_steps // 2)
    if config.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=config.learning_rate / 100,
            decay_steps=max(total_steps - warmup_steps, 1), alpha=0.0,
            warmup_target=config.learning_rate, warmup_steps=warmup_steps)
    elif config.schedule == "constant":
        learning_rate = config.learning_rate
    else:
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {config.schedule!r}")
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True,
                                    weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay)
    raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {config.optimizer!r}")


def train(config: TrainConfig, out: Path, verbose: int = 1) -> dict:
    """Trains, exports and evaluates; returns the model card that it also writes."""
    import keras

    from model.network import NetworkConfig, build_network
    from model.plots import plot_training_curves

    if config.precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32' or 'bf16', got {config.precision!r}")
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    dataset = load_fashion_mnist(config.data_dir or None)
    train_indices, validation_indices = split_indices(len(dataset.train_labels), config)
    train_images, train_labels = (dataset.train_images[train_indices],
                                  dataset.train_labels[train_indices])
    validation_images = dataset.train_images[validation_indices]
    validation_labels = dataset.train_labels[validation_indices]
    pipeline_images = training_pipeline_images(config, dataset)
    if pipeline_images is not None:
        pipeline_images = pipeline_images[train_indices]
    train_data = make_dataset(train_images, train_labels, config, training=True,
                              pipeline_images=pipeline_images)
    validation_data = make_dataset(validation_images, validation_labels, config, training=False)
    steps_per_epoch = int(np.ceil(len(train_labels) / config.batch_size))

    network_config = NetworkConfig(stem_filters=config.stem_filters,
                                   block_filters=tuple(config.block_filters),
                                   dense_units=config.dense_units,
                                   block_dropout=config.block_dropout,
                                   head_dropout=config.head_dropout)
    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if config.precision == "bf16" else "float32")
    model = build_network(network_config)
    if config.init_from:
        try:
            start = keras.models.load_model(config.init_from, compile=False)
            model.set_weights(start.get_weights())
        except (OSError, ValueError) as error:
            raise ValueError(f"--init-from {config.init_from}: cannot start from it ({error}). "
                             "It must be a .keras model of the same architecture "
                             "(--stem-filters, --block-filters, --dense-units).") from error
    model.compile(optimizer=make_optimizer(config, steps_per_epoch),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                  metrics=["accuracy"])
    callbacks = [keras.callbacks.CSVLogger(str(out / "history.csv"))]
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_accuracy", patience=config.early_stopping, restore_best_weights=True))
    if config.reduce_on_plateau:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.3, patience=config.reduce_on_plateau, verbose=verbose))
    started = time.time()
    history = model.fit(train_data, validation_data=validation_data, epochs=config.epochs,
                        callbacks=callbacks, verbose=verbose)
    wall_seconds = time.time() - started

    # The export is float32 whatever the training precision: rebuild and copy the weights.
    keras.mixed_precision.set_global_policy("float32")
    export_model = build_network(network_config)
    export_model.set_weights(model.get_weights())
    history_values = {key: [float(value) for value in values]
                      for key, values in history.history.items() if key != "learning_rate"}
    plot_training_curves(history_values, out / "training_curves.png")
    card = write_model(export_model, dataclasses.asdict(network_config), dataset,
                       train_indices, validation_indices, out, {
                           "training": dataclasses.asdict(config),
                           "earlier_stages": earlier_stages(config.init_from),
                           "wall_time_seconds": round(wall_seconds, 1),
                           "epochs_run": len(history.history["loss"]),
                           "history": history_values})
    print(f"Wrote {out}: test accuracy {card['test_accuracy'] * 100:.2f}%, "
          f"{card['epochs_run']} epochs in {wall_seconds / 60:.1f} min")
    return card


def write_model(model, architecture: dict, dataset, train_indices, validation_indices,
                out: Path, card_fields: dict) -> dict:
    """Saves a float32 model, its LiteRT export, confusion matrix and card; returns the card.

    The test set is measured here, once, after everything was chosen. card_fields (how the
    model was made) go into the card between the dataset and the accuracies.
    """
    import keras
    import tensorflow as tf

    from model.export import export_tflite
    from model.metrics import classification_report, format_report
    from model.network import count_flops
    from model.plots import plot_confusion_matrix

    model.save(out / "fashion_cnn.keras")
    export_tflite(model, out / "fashion_cnn.tflite")
    validation_labels = dataset.train_labels[validation_indices]
    validation_report = classification_report(
        validation_labels, probabilities_of(model, dataset.train_images[validation_indices]))
    test_report = classification_report(dataset.test_labels,
                                        probabilities_of(model, dataset.test_images))
    print(format_report(test_report, "Test set (10,000 images), measured once at the end:"))
    plot_confusion_matrix(test_report["confusion_matrix"], out / "confusion_matrix.png",
                          f"Test set, accuracy {test_report['accuracy'] * 100:.2f}%")
    card = {
        "name": model.name,
        "architecture": architecture,
        "parameters": int(model.count_params()),
        "flops_per_image": count_flops(model),
        "input": "float32 (N, 28, 28, 1), raw pixel values 0-255, normalised inside the model",
        "output": "float32 (N, 10) class probabilities",
        "dataset": {"name": "Fashion-MNIST", "directory": str(dataset.directory),
                    "sha256": dataset.checksum, "train_images": int(len(train_indices)),
                    "validation_images": int(len(validation_labels)),
                    "test_images": int(len(dataset.test_labels))},
        **card_fields,
        "validation_accuracy": validation_report["accuracy"],
        "test_accuracy": test_report["accuracy"],
        "test_per_class": test_report["per_class"],
        "machine": {"processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "tensorflow": tf.__version__,
                    "keras": keras.__version__},
    }
    (out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def probabilities_of(model, images: np.ndarray) -> np.ndarray:
    """Probabilities of a Keras model for uint8 (N, 28, 28) images, called in batches."""
    return np.concatenate([
        np.asarray(model(images[start:start + 1000, ..., np.newaxis].astype(np.float32),
                         training=False))
        for start in range(0, len(images), 1000)])


def parse_config(argv=None) -> tuple[TrainConfig, Path, int]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = TrainConfig()
    parser.add_argument("--out", default="runs/latest", help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no per-step progress bar")
    for field in dataclasses.fields(TrainConfig):
        name = "--" + field.name.replace("_", "-")
        default = getattr(defaults, field.name)
        if isinstance(default, bool):
            parser.add_argument(name, action=argparse.BooleanOptionalAction, default=default)
        elif isinstance(default, tuple):
            parser.add_argument(name, type=int, nargs="+", default=list(default),
                                help=f"default {' '.join(map(str, default))}")
        else:
            parser.add_argument(name, type=type(default), default=default,
                                help=f"default {default}")
    arguments = vars(parser.parse_args(argv))
    out = Path(arguments.pop("out"))
    verbose = 2 if arguments.pop("quiet") else 1
    arguments["block_filters"] = tuple(arguments["block_filters"])
    return TrainConfig(**arguments), out, verbose


def main(argv=None) -> int:
    config, out, verbose = parse_config(argv)
    for option, path in (("--init-from", config.init_from),
                         ("--pipeline-images", config.pipeline_images)):
        if path and not Path(path).is_file():
            print(f"error: {option} {path}: no such file.", file=sys.stderr)
            return 2
    try:
        train(config, out, verbose)
    except (DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
