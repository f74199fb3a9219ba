"""Training configuration: frozen dataclasses, every field with its command-line help.

TrainConfig holds the network's, the augmentation's and the photos' configurations; each
field is an option of `python -m model.train` (see model.options). The defaults are the
recipe of the shipped model (assets/model_card.json): 48-96-144 filters, 60 epochs, bf16,
seed 31, and with --photos 20% of every batch photos with 16 views each; so `make model`
passes only where the data is.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.options import check_fields, option
from model.partial_labels import SET_LOSSES

# TrainConfig fields removed on 2026-12-05, by their path in a saved configuration (a model
# card's "training", model.tune's best.json), with the value they always had or that made
# them do nothing: a saved configuration that holds one at that value still reads. The
# pipeline images went to experiments/synthetic.py; the others are constants now.
RETIRED_FIELDS = {
    "pipeline_images": "", "pipeline_probability": 0.0, "warmup_epochs": 2,
    "early_stopping": 0, "reduce_on_plateau": 0, "augment.shift_pixels": 2,
    "augment.erasing_max_area": 0.25,
    "photos.augment": {"photo_shift_pixels": 2.0, "photo_scale": 0.1,
                       "photo_rotation_degrees": 10.0, "photo_brightness": 25.0,
                       "photo_contrast": 0.25, "photo_blur_probability": 0.3},
}
# Fields renamed on 2026-12-05: old path -> new name (in the same place).
RENAMED_FIELDS = {"augment.flip": "mirror_images"}


@dataclass(frozen=True)
class NetworkConfig:
    stem_filters: int = option(48, "filters of the single convolution at full 28x28 "
                                   "resolution", low=1, high=4096)
    block_filters: tuple = option((96, 144), "filters of the two-convolution blocks at 14x14 "
                                             "and 7x7", low=1, high=4096)
    dense_units: int = option(256, "width of the hidden dense layer of the head", low=1,
                              high=65536)
    block_dropout: float = option(0.05, "dropout after each pooling", low=0, high=0.95)
    head_dropout: float = option(0.3, "dropout before the classifier", low=0, high=0.95)

    def __post_init__(self):
        check_fields(self)


@dataclass(frozen=True)
class AugmentConfig:
    mirror_images: bool = option(True, "mirror Fashion-MNIST images left-right with "
                                       "probability 0.5 (training augmentation)")
    erasing_probability: float = option(0.25, "chance to blank a random rectangle "
                                              "(random erasing)", low=0, high=1)

    def __post_init__(self):
        check_fields(self)


@dataclass(frozen=True)
class PhotoConfig:
    photos: str = option("", "folder of labelled photos to train on, one sub-folder per line "
                             "of its labels file", flag="--photos")
    photo_labels: str = option("", "labels file of --photos (default: DIR/labels.csv; a "
                                   "taught folder of sub-folders 0-9 needs none)")
    photo_share: float = option(0.2, "share of every batch taken from the photos when "
                                     "--photos is given", low=0, high=0.9)
    photo_views: int = option(16, "random views of each photo (cropped, turned, lighter or "
                                  "darker, and segmented at settings drawn around the app's) "
                                  "seen besides the photo", low=0, high=1000)
    validation_photos: str = option("", "folder of labelled photos measured after every "
                                        "epoch (never trained on)")
    validation_photo_labels: str = option("", "labels file of --validation-photos "
                                              "(default: DIR/labels.csv)")

    def __post_init__(self):
        check_fields(self)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = option(60, "passes over the Fashion-MNIST training split", low=1,
                         high=100000)
    batch_size: int = option(128, "images per step (Fashion-MNIST and photos together)",
                             low=1, high=65536)
    optimizer: str = option("sgd", "'sgd' (Nesterov momentum 0.9), 'adamw' or 'sam' "
                                   "(sharpness-aware steps of --sam-base; model.sam)",
                            choices=("sgd", "adamw", "sam"))
    sam_base: str = option("sgd", "the optimizer that SAM steps with: 'sgd' or 'adamw'",
                           choices=("sgd", "adamw"))
    sam_rho: float = option(0.05, "SAM's neighbourhood radius: how far the weights move "
                                  "along the normalised gradient before the gradient is "
                                  "taken", low=0, high=10)
    learning_rate: float = option(0.05, "peak learning rate", low=0, high=10)
    weight_decay: float = option(5e-4, "decoupled weight decay", low=0, high=1)
    schedule: str = option("cosine", "'cosine' (with warm-up) or 'constant'",
                           choices=("cosine", "constant"))
    label_smoothing: float = option(0.1, "label smoothing of the cross-entropy", low=0,
                                    high=0.99)
    set_loss: str = option("sum", "loss of a photo that accepts several classes: 'sum' "
                                  "(their summed probability) or 'pick' (the model's own most "
                                  "likely accepted class; model.partial_labels)",
                           choices=SET_LOSSES)
    precision: str = option("bf16", "'fp32' or 'bf16' (mixed bfloat16 on AMX)",
                            choices=("fp32", "bf16"))
    distribute: str = option("", "'' (one device: the first GPU TensorFlow sees, else the "
                                 "CPU) or 'mirrored' (tf.distribute.MirroredStrategy over "
                                 "every GPU, or every logical CPU device without one)",
                             choices=("", "mirrored"))
    validation_size: int = option(5000, "images held out of the training set for "
                                        "validation", low=1, high=59000)
    train_limit: int = option(0, "use only this many training images (0: all); for smoke "
                                 "runs", low=0, high=60000)
    seed: int = option(31, "random seed of the weights, the shuffling and the augmentation",
                       low=0, high=2 ** 31 - 1)
    split_seed: int = option(1, "seed of the validation split; fixed, so fine-tuning never "
                                "sees it", low=0, high=2 ** 31 - 1)
    data_dir: str = option("", "folder of the Fashion-MNIST IDX files (empty: the usual places)")
    init_from: str = option("", "a .keras model of the same architecture to start from "
                                "(fine-tuning)")
    network: NetworkConfig = option(NetworkConfig(), "the network")
    augment: AugmentConfig = option(AugmentConfig(), "Fashion-MNIST augmentation")
    photos: PhotoConfig = option(PhotoConfig(), "photos as training data")

    def __post_init__(self):
        check_fields(self)
        if self.distribute == "mirrored" and self.optimizer == "sam":
            raise ValueError("--distribute mirrored does not work with --optimizer sam; use "
                             "sgd or adamw.")


def upgraded_fields(values: dict) -> dict:
    """A saved TrainConfig dict (nested, as dataclasses.asdict gives) in today's fields:
    renamed fields under their new names, retired ones dropped when they hold the value they
    always had. Raises ValueError for a retired field with another value, since today's code
    cannot do what it asked."""
    if not isinstance(values, dict):
        return values
    values = {name: dict(value) if isinstance(value, dict) else value
              for name, value in values.items()}
    for path, new_name in RENAMED_FIELDS.items():
        *holder_names, name = path.split(".")
        holder = nested(values, holder_names)
        if isinstance(holder, dict) and name in holder and new_name not in holder:
            holder[new_name] = holder.pop(name)
    for path, fixed in RETIRED_FIELDS.items():
        *holder_names, name = path.split(".")
        holder = nested(values, holder_names)
        if isinstance(holder, dict) and name in holder:
            if holder[name] != fixed:
                raise ValueError(f"field {path!r} was removed on 2026-12-05 and is always "
                                 f"{fixed!r} now (see docs/experiments.md); this "
                                 f"configuration has {holder[name]!r}.")
            del holder[name]
    return values


def nested(values: dict, names: list):
    """values[names[0]][names[1]]...; None where a level is missing or not a dict."""
    for name in names:
        values = values.get(name) if isinstance(values, dict) else None
    return values
