"""Mixes a fine-tuned model's weights with those of the model it started from (WiSE-FT).

    python -m experiments.interpolate START.keras FINETUNED.keras \\
        --pipeline-images runs/pipeline_images.npz --out runs/wise
    python -m experiments.interpolate START.keras FT1.keras FT2.keras --start-weights 0 \\
        --validation-photos photos/validation --out runs/soup        # a soup of two runs

Several fine-tuned models of the same start are first averaged uniformly (a "model soup",
Wortsman et al., ICML 2022: fine-tuned runs of one start usually lie in one basin, so their
average often beats each of them, at the cost of one model).

Fine-tuning on camera-like images buys robustness with a little Fashion-MNIST accuracy. A
weighted average of the two models' weights often keeps most of both (Wortsman et al.,
"Robust fine-tuning of zero-shot models", CVPR 2022), at the cost of one model. The start
model's weight is chosen on the validation split only, which neither model trained on: the
smallest of --start-weights whose validation accuracy reaches --target-accuracy, or the most
accurate if none does. --pipeline-images adds the validation images seen through the
segmentation pipeline to the table, to show what each weight keeps of the robustness.

Writes to --out what model.train writes, except the training curves: fashion_cnn.keras,
fashion_cnn.tflite, model_card.json (with every earlier stage) and confusion_matrix.png.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from experiments.lineage import earlier_stages
from experiments.synthetic import load_pipeline_images
from model.data import DatasetError, load_fashion_mnist


@dataclass(frozen=True)
class InterpolationConfig:
    start: str  # The .keras model that fine-tuning started from.
    finetuned: tuple  # Fine-tuned .keras models of the same start; several are averaged (a soup).
    start_weights: tuple = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # Weights of the start model to try.
    target_accuracy: float = 0.945  # Validation accuracy that the chosen mix must reach.
    pipeline_images: str = ""  # Optional .npz of the training split seen through the pipeline.
    validation_photos: str = ""  # Optional folder of labelled photos, to show per weight.
    validation_photo_labels: str = ""  # Labels file of validation_photos (default: DIR/labels.csv).
    data_dir: str = ""  # Folder of the IDX files (empty: the usual places).


def average_weights(models_weights: list) -> list:
    """The uniform average of several models' weights ("model soup", Wortsman et al., ICML
    2022), array by array; the models must share their architecture."""
    shapes = [np.shape(array) for array in models_weights[0]]
    if any([np.shape(array) for array in weights] != shapes for weights in models_weights):
        raise ValueError("The fine-tuned models have different architectures; only "
                         "fine-tuned versions of one start model can be averaged.")
    return [np.mean(arrays, axis=0) for arrays in zip(*models_weights)]


def mix_weights(start_weights: list, finetuned_weights: list, start_weight: float) -> list:
    """start_weight * start + (1 - start_weight) * fine-tuned, array by array."""
    if not 0 <= start_weight <= 1:
        raise ValueError(f"The start model's weight must be between 0 and 1, got {start_weight}.")
    shapes = [np.shape(array) for array in start_weights]
    if shapes != [np.shape(array) for array in finetuned_weights]:
        raise ValueError("The two models have different architectures; only a model and its "
                         "own fine-tuned version can be mixed.")
    return [start_weight * first + (1 - start_weight) * second
            for first, second in zip(start_weights, finetuned_weights)]


def choose_weight(accuracies: dict, target: float) -> float:
    """The smallest start weight whose accuracy reaches target, else the most accurate one."""
    reaching = [weight for weight, accuracy in sorted(accuracies.items()) if accuracy >= target]
    return reaching[0] if reaching else max(accuracies, key=accuracies.get)


def data_sources_of(model_paths) -> dict:
    """The data sources in the card of each given model, by model path."""
    from model.card import read_card

    return {str(path): read_card(path).get("data_sources", []) for path in model_paths}


def interpolate(config: InterpolationConfig, out: Path) -> dict:
    """Chooses the weight on validation, writes the mixed model and returns its card."""
    import keras

    from model.card import read_card, write_model
    from model.config import TrainConfig
    from model.data import split_indices
    from model.metrics import photo_report
    from model.predictor import KerasPredictor, predict_in_batches

    models = []
    for path in (config.start, *config.finetuned):
        try:
            models.append(keras.models.load_model(path, compile=False))
        except Exception as error:  # Keras raises many kinds for a bad file.
            raise ValueError(f"{path}: cannot load it as a Keras model ({error}). Pass the "
                             ".keras files that model.train wrote.") from error
    start, finetuned = models[0], models[1]
    finetuned_weights = average_weights([model.get_weights() for model in models[1:]])
    dataset = load_fashion_mnist(config.data_dir or None)
    # The validation split of the fine-tuning runs, which no model has trained on.
    finetuned_card = read_card(config.finetuned[0])
    training = finetuned_card.get("training", {})
    defaults = TrainConfig()
    train_indices, validation_indices = split_indices(
        len(dataset.train_labels), training.get("validation_size", defaults.validation_size),
        training.get("split_seed", defaults.split_seed))
    labels = dataset.train_labels[validation_indices]
    validation_sets = {"validation": dataset.train_images[validation_indices]}
    if config.pipeline_images:
        validation_sets["validation through the pipeline"] = load_pipeline_images(
            config.pipeline_images, dataset, "train")[validation_indices]

    photo_set = None
    if config.validation_photos:
        from model.train import load_photos

        photo_set = load_photos(config.validation_photos, config.validation_photo_labels)
    columns = list(validation_sets) + (["photos exact", "photos group"] if photo_set else [])
    mixed = keras.models.clone_model(finetuned)
    table = {}
    print("start weight  " + "  ".join(columns))
    for weight in sorted(config.start_weights):
        mixed.set_weights(mix_weights(start.get_weights(), finetuned_weights, weight))
        predictor = KerasPredictor.from_model(mixed)
        table[weight] = {name: float((predict_in_batches(predictor, images).argmax(1)
                                      == labels).mean())
                         for name, images in validation_sets.items()}
        if photo_set is not None:
            report = photo_report(predict_in_batches(predictor, photo_set.images, flip=True),
                                  photo_set)
            table[weight].update({"photos exact": report["exact"],
                                  "photos group": report["group"]})
        print(f"{weight:12.2f}  " + "  ".join(f"{table[weight][name] * 100:{len(name)}.2f}%"
                                               for name in columns), flush=True)
    chosen = choose_weight({weight: row["validation"] for weight, row in table.items()},
                           config.target_accuracy)
    print(f"Chosen start weight: {chosen:.2f} (validation {table[chosen]['validation'] * 100:.2f}%"
          f", target {config.target_accuracy * 100:.2f}%)")
    mixed.set_weights(mix_weights(start.get_weights(), finetuned_weights, chosen))
    out.mkdir(parents=True, exist_ok=True)
    card = write_model(mixed, finetuned_card.get("architecture", {}), dataset, train_indices,
                       validation_indices, out, {
                           "training": {"interpolation": asdict(config), "start_weight": chosen,
                                        "validation_by_start_weight": {
                                            str(weight): row for weight, row in table.items()}},
                           "data_sources": data_sources_of(config.finetuned),
                           "earlier_stages": earlier_stages(config.finetuned[0]) + [
                               earlier_stages(path)[-1] for path in config.finetuned[1:]],
                           "wall_time_seconds": 0.0,
                           "epochs_run": 0})
    print(f"Wrote {out}: test accuracy {card['test_accuracy'] * 100:.2f}%")
    return card


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.interpolate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = InterpolationConfig("", ())
    parser.add_argument("start", help="the .keras model that fine-tuning started from")
    parser.add_argument("finetuned", nargs="+",
                        help="the fine-tuned .keras model; several (fine-tuned from the same "
                             "start, with the same validation split) are averaged first")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--start-weights", type=float, nargs="+",
                        default=list(defaults.start_weights),
                        help="weights of the start model to try, between 0 and 1 "
                             f"(default {' '.join(map(str, defaults.start_weights))})")
    parser.add_argument("--target-accuracy", type=float, default=defaults.target_accuracy,
                        help="validation accuracy that the chosen mix must reach "
                             f"(default {defaults.target_accuracy})")
    parser.add_argument("--pipeline-images", default="", metavar="FILE.npz",
                        help="training images seen through the pipeline "
                             "(experiments.synthetic), to show robustness per weight")
    parser.add_argument("--validation-photos", default="", metavar="DIR",
                        help="labelled photos (one sub-folder per labels line) to show exact "
                             "and group accuracy per weight, with flip averaging")
    parser.add_argument("--validation-photo-labels", default="", metavar="CSV",
                        help="labels file of --validation-photos (default: DIR/labels.csv)")
    parser.add_argument("--data-dir", default="", help="folder of the Fashion-MNIST IDX files")
    arguments = vars(parser.parse_args(argv))
    out = Path(arguments.pop("out"))
    arguments["start_weights"] = tuple(arguments["start_weights"])
    arguments["finetuned"] = tuple(arguments["finetuned"])
    config = InterpolationConfig(**arguments)
    for path in (config.start, *config.finetuned, config.pipeline_images):
        if path and not Path(path).is_file():
            print(f"error: {path}: no such file.", file=sys.stderr)
            return 2
    if not all(0 <= weight <= 1 for weight in config.start_weights):
        print("error: --start-weights must lie between 0 and 1.", file=sys.stderr)
        return 2
    try:
        interpolate(config, out)
    except (DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
