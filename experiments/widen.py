"""Widens a trained garment CNN without changing what it computes (Net2WiderNet).

    python -m experiments.widen assets/fashion-mnist/fashion_cnn.keras --stem-filters 48 \\
        --block-filters 96 144 --out runs/recipe/wide-start
    python -m model.train --init-from runs/recipe/wide-start/fashion_cnn.keras \\
        --stem-filters 48 --block-filters 96 144 ...     # then fine-tune it like any start

Each convolution gets extra filters that copy randomly chosen existing ones (with their
BatchNorm parameters), and the layer that reads them splits each copied channel's outgoing
weights among its copies in random proportions that sum to one (Chen, Goodfellow and Shlens,
"Net2Net", ICLR 2016). The wider network's outputs are the narrow one's, up to rounding, so
fine-tuning starts from everything the narrow model learnt; the unequal split makes the copies
learn apart. The hidden dense layer keeps its width (its output is the embedding that taught
examples are compared by).

Writes to --out the widened fashion_cnn.keras and a model_card.json that names the start (so
the cards of models fine-tuned from it list every earlier stage), and prints the largest
difference between the two models' probabilities on random images.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

def convolutions(model) -> list[str]:
    """Names of the model's convolution blocks (model.network.convolution_block: NAME_conv,
    NAME_bn), in the order the data flows through them."""
    import keras

    return [layer.name.removesuffix("_conv") for layer in model.layers
            if isinstance(layer, keras.layers.Conv2D)]


def network_config_of(model):
    """The NetworkConfig whose widths are those of a built garment CNN: a stem convolution,
    then blocks of two convolutions of one width."""
    from model.config import NetworkConfig

    widths = [int(model.get_layer(name + "_conv").kernel.shape[-1]) for name in convolutions(model)]
    if len(widths) % 2 == 0 or widths[1::2] != widths[2::2]:
        raise ValueError(f"{model.name}: convolution widths {widths} are not a stem and blocks "
                         "of two; not a model of model.network.")
    return NetworkConfig(stem_filters=widths[0], block_filters=tuple(widths[1::2]),
                         dense_units=int(model.get_layer("dense").kernel.shape[-1]))


def channel_mapping(old_width: int, new_width: int, random: np.random.Generator):
    """(source, share): new channel j copies old channel source[j]; share[j] is its part of
    that channel's outgoing weights (the shares of one old channel's copies sum to 1)."""
    if new_width < old_width:
        raise ValueError(f"Cannot widen {old_width} filters to {new_width}: widening only adds "
                         "filters.")
    source = np.concatenate([np.arange(old_width),
                             random.integers(0, old_width, new_width - old_width)])
    portions = random.uniform(0.5, 1.5, new_width)
    totals = np.zeros(old_width)
    np.add.at(totals, source, portions)
    return source, portions / totals[source]


def widen_weights(model, wide_model, random: np.random.Generator) -> None:
    """Sets wide_model's weights from model's so that both compute the same function."""
    reading = None  # (source, share) of the channels that the current layer reads.
    names = convolutions(model)
    for name in names:
        kernel = model.get_layer(name + "_conv").get_weights()[0]
        source, share = channel_mapping(kernel.shape[-1],
                                        wide_model.get_layer(name + "_conv").kernel.shape[-1],
                                        random)
        if reading is not None:
            kernel = kernel[:, :, reading[0], :] * reading[1][None, None, :, None]
        wide_model.get_layer(name + "_conv").set_weights([kernel[..., source]])
        wide_model.get_layer(name + "_bn").set_weights(
            [array[source] for array in model.get_layer(name + "_bn").get_weights()])
        reading = (source, share)
    # Flatten orders the last feature map (height, width, channel).
    dense = model.get_layer("dense").get_weights()[0]
    channels = model.get_layer(names[-1] + "_conv").kernel.shape[-1]
    dense = dense.reshape(-1, channels, dense.shape[-1])[:, reading[0], :]
    dense = dense * reading[1][None, :, None]
    wide_model.get_layer("dense").set_weights([dense.reshape(-1, dense.shape[-1])])
    for name in ("dense_bn", "logits"):
        wide_model.get_layer(name).set_weights(model.get_layer(name).get_weights())


def widen(model, stem_filters: int, block_filters: tuple, seed: int = 0):
    """A wider copy of model (a garment CNN of model.network) computing the same function."""
    from model.network import build_network

    config = network_config_of(model)
    wide_config = replace(config, stem_filters=stem_filters, block_filters=tuple(block_filters))
    wide_model = build_network(wide_config)
    widen_weights(model, wide_model, np.random.default_rng(seed))
    return wide_model


def largest_difference(model, wide_model, count: int = 64, seed: int = 0) -> float:
    """Largest absolute difference of the two models' probabilities on random images."""
    images = np.random.default_rng(seed).integers(0, 256, (count, 28, 28, 1)).astype("float32")
    return float(np.abs(model.predict(images, verbose=0)
                        - wide_model.predict(images, verbose=0)).max())


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.widen", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("start", help="the trained .keras model to widen")
    parser.add_argument("--stem-filters", type=int, required=True,
                        help="filters of the widened full-resolution convolution")
    parser.add_argument("--block-filters", type=int, nargs=2, required=True,
                        metavar=("AT_14", "AT_7"),
                        help="filters of the widened blocks at 14x14 and 7x7")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of which filters are copied and how their weights are split")
    parser.add_argument("--out", required=True, help="output folder")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import keras

    from experiments.lineage import earlier_stages
    from model.paths import CARD_FILE, KERAS_FILE

    try:
        model = keras.models.load_model(args.start, compile=False)
        wide_model = widen(model, args.stem_filters, args.block_filters, args.seed)
    except (OSError, ValueError) as error:
        print(f"error: {args.start}: {error}", file=sys.stderr)
        return 2
    print(f"largest difference of the probabilities on 64 random images: "
          f"{largest_difference(model, wide_model):.1e}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wide_model.save(out / KERAS_FILE)
    card = {"model": KERAS_FILE, "parameters": wide_model.count_params(),
            "training": {"widened_from": args.start, "seed": args.seed,
                         "widths": {name: value for name, value
                                    in asdict(network_config_of(wide_model)).items()
                                    if name in ("stem_filters", "block_filters", "dense_units")}},
            "earlier_stages": earlier_stages(args.start), "epochs_run": 0}
    (out / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    print(f"Wrote {out / KERAS_FILE}: {wide_model.count_params():,} parameters "
          f"(the start has {model.count_params():,}).")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
