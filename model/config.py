"""Training configuration: frozen dataclasses, every field with its command-line help.

TrainConfig holds the network's, the augmentation's and the photos' configurations; each
field is an option of `python -m model.train` (see model.options).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.options import option

# TrainConfig fields removed on 2026-12-05 with the value that made them do nothing: a saved
# configuration (a model card's "training", model.tune's best.json) that holds one at that
# value still reads; experiments/synthetic.py says what the field did.
RETIRED_FIELDS = {"pipeline_images": "", "pipeline_probability": 0.0}


@dataclass(frozen=True)
class NetworkConfig:
    stem_filters: int = option(32, "filters of the single convolution at full 28x28 resolution")
    block_filters: tuple = option((64, 96), "filters of the two-convolution blocks at 14x14 "
                                            "and 7x7")
    dense_units: int = option(256, "width of the hidden dense layer of the head")
    block_dropout: float = option(0.1, "dropout after each pooling")
    head_dropout: float = option(0.4, "dropout before the classifier")


@dataclass(frozen=True)
class AugmentConfig:
    flip: bool = option(True, "mirror Fashion-MNIST images left-right with probability 0.5")
    shift_pixels: int = option(2, "largest shift of Fashion-MNIST images, in pixels")
    erasing_probability: float = option(0.5, "chance to blank a random rectangle "
                                             "(random erasing)")
    erasing_max_area: float = option(0.25, "largest erased area, as a fraction of the image")


@dataclass(frozen=True)
class PhotoAugmentConfig:
    photo_shift_pixels: float = option(2.0, "largest shift of photos, in pixels")
    photo_scale: float = option(0.1, "photos are scaled by up to this fraction, up or down")
    photo_rotation_degrees: float = option(10.0, "largest rotation of photos, in degrees")
    photo_brightness: float = option(25.0, "largest brightness change of the garment (0-255)")
    photo_contrast: float = option(0.25, "largest contrast change of the garment, "
                                         "as a fraction")
    photo_blur_probability: float = option(0.3, "chance to blur a photo a little")


@dataclass(frozen=True)
class PhotoConfig:
    photos: str = option("", "folder of labelled photos to train on, one sub-folder per line "
                             "of its labels file", flag="--photos")
    photo_labels: str = option("", "labels file of --photos (default: DIR/labels.csv; a "
                                   "taught folder of sub-folders 0-9 needs none)")
    photo_share: float = option(0.0, "share of every batch taken from the photos (0-0.9)")
    photo_views: int = option(0, "random views of each photo (cropped, turned, lighter or "
                                 "darker) seen through the segmentation besides the photo")
    validation_photos: str = option("", "folder of labelled photos measured after every "
                                        "epoch (never trained on)")
    validation_photo_labels: str = option("", "labels file of --validation-photos "
                                              "(default: DIR/labels.csv)")
    augment: PhotoAugmentConfig = option(PhotoAugmentConfig(), "photo augmentation")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = option(40, "passes over the Fashion-MNIST training split")
    batch_size: int = option(128, "images per step (Fashion-MNIST and photos together)")
    optimizer: str = option("sgd", "'sgd' (Nesterov momentum 0.9), 'adamw' or 'sam' "
                                   "(sharpness-aware steps of --sam-base; model.sam)")
    sam_base: str = option("sgd", "the optimizer that SAM steps with: 'sgd' or 'adamw'")
    sam_rho: float = option(0.05, "SAM's neighbourhood radius: how far the weights move "
                                  "along the normalised gradient before the gradient is taken")
    learning_rate: float = option(0.05, "peak learning rate")
    weight_decay: float = option(5e-4, "decoupled weight decay")
    schedule: str = option("cosine", "'cosine' (with warm-up) or 'constant'")
    warmup_epochs: int = option(2, "linear warm-up before the cosine decay")
    label_smoothing: float = option(0.1, "label smoothing of the cross-entropy")
    set_loss: str = option("sum", "loss of a photo that accepts several classes: 'sum' "
                                  "(their summed probability) or 'pick' (the model's own most "
                                  "likely accepted class; model.partial_labels)")
    precision: str = option("fp32", "'fp32' or 'bf16' (mixed bfloat16 on AMX)")
    validation_size: int = option(5000, "images held out of the training set for validation")
    train_limit: int = option(0, "use only this many training images (0: all); for smoke runs")
    early_stopping: int = option(0, "patience in epochs on validation accuracy (0: off)")
    reduce_on_plateau: int = option(0, "patience of ReduceLROnPlateau on validation loss "
                                       "(0: off)")
    seed: int = option(1, "random seed of the weights, the shuffling and the augmentation")
    split_seed: int = option(1, "seed of the validation split; fixed, so fine-tuning never "
                                "sees it")
    data_dir: str = option("", "folder of the Fashion-MNIST IDX files (empty: the usual places)")
    init_from: str = option("", "a .keras model of the same architecture to start from "
                                "(fine-tuning)")
    network: NetworkConfig = option(NetworkConfig(), "the network")
    augment: AugmentConfig = option(AugmentConfig(), "Fashion-MNIST augmentation")
    photos: PhotoConfig = option(PhotoConfig(), "photos as training data")


def upgraded_fields(values: dict) -> dict:
    """A saved TrainConfig dict (as dataclasses.asdict gives) in today's field names: retired
    fields at their do-nothing value dropped. Raises ValueError for a retired field that did
    something, since today's code cannot do it."""
    if not isinstance(values, dict):
        return values
    values = dict(values)
    for name, inactive in RETIRED_FIELDS.items():
        if name in values:
            if values[name] != inactive:
                raise ValueError(f"field {name!r} was removed on 2026-12-05 (an experiment, "
                                 "see experiments/synthetic.py); a configuration that uses it "
                                 "cannot be trained by model.train.")
            del values[name]
    return values
