"""Measures the taught-example rule of model.taught: the threshold, and its cost per frame.

    python -m experiments.taught_threshold measure --train PHOTOS/train --validation PHOTOS/validation
    python -m experiments.taught_threshold cost                       # ms per frame, 0 vs 500

`measure` prints, for each threshold, "no harm" (validation accuracy per folder with and
without teaching a few photos per folder) and "same garment" (the share of a taught photo's
near copies and new views that reach the threshold); `cost` the milliseconds per frame of the
inference and the rule with 0 and 500 taught examples. What they showed, and how THRESHOLD
(0.9) was chosen from them: docs/teach.md and docs/experiments.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from model.classes import CLASS_NAMES, NUM_CLASSES
from model.photos import load_photo_set, random_view, read_labels
from model.predictor import ModelLoadError, load_predictor
from model.taught import TaughtExamples, embed, normalise
from segmentation import images as image_files
from segmentation.pipeline import segment


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """uint8 (N, 28, 28) images moved by (dy, dx) pixels, filled with black."""
    moved = np.zeros_like(images)
    height, width = images.shape[1:]
    moved[:, max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
        images[:, max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]
    return moved


def measure(arguments) -> int:
    """No harm (validation accuracy per folder with and without teaching) and same garment
    (a taught photo's near copies get the taught class), for each threshold."""
    try:
        predictor = load_predictor(arguments.model)
        if predictor.embedding_size is None:
            raise ModelLoadError(f"{predictor.path} gives no embedding; export it again with "
                                 "`python -m model.export MODEL.keras --out MODEL.tflite`.")
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    labels_path = arguments.labels or Path(arguments.train).parent / "labels.csv"
    try:
        labels = read_labels(labels_path)
        train = load_photo_set(arguments.train, labels_path)
        validation = load_photo_set(arguments.validation, labels_path)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    folder_class = {item.folder: item.accepted_classes[0] for item in labels}
    flip = not arguments.no_flip

    # Teach: per-folder photos of train/, chosen at random (fixed seed), with the folder's
    # first accepted class.
    random = np.random.default_rng(arguments.seed)
    chosen = []
    for folder in sorted(folder_class):
        rows = np.flatnonzero((train.folders == folder) & (train.views == 0))
        chosen += list(random.choice(rows, min(arguments.per_folder, len(rows)), replace=False))
    chosen = np.array(sorted(chosen))
    print(f"teaching {len(chosen)} photos of {arguments.train} "
          f"({arguments.per_folder} per folder); flip={flip}", file=sys.stderr)
    _, taught_embeddings = embed(predictor, train.images[chosen], flip)
    taught_classes = [folder_class[str(folder)] for folder in train.folders[chosen]]
    probabilities, embeddings = embed(predictor, validation.images, flip)
    accepted = validation.accepted
    folders = sorted({str(folder) for folder in validation.folders})

    def exact(decided):
        right = accepted[np.arange(len(decided)), decided.argmax(1)]
        return {folder: 100 * right[validation.folders == folder].mean() for folder in folders}, \
            100 * right.mean()

    base_folders, base_total = exact(probabilities)
    store = TaughtExamples.from_embeddings(taught_embeddings, taught_classes)
    similarity, nearest_classes = store.nearest(embeddings)
    print(f"\nNo harm: exact accuracy (%) on {arguments.validation} "
          f"({len(validation.images)} photos), without and with teaching")
    header = f"{'threshold':>9} {'decided':>7} {'all':>6} " + \
        " ".join(f"{folder[:10]:>10}" for folder in folders)
    print(header)
    print(f"{'untaught':>9} {'':>7} {base_total:6.1f} "
          + " ".join(f"{base_folders[folder]:10.1f}" for folder in folders))
    for threshold in arguments.thresholds:
        rule = TaughtExamples(store.embeddings, store.classes, threshold)
        decided, taught = rule.apply_rule(similarity, nearest_classes, probabilities)
        per_folder, total = exact(decided)
        print(f"{threshold:9.3f} {int(taught.sum()):7d} {total - base_total:+6.1f} "
              + " ".join(f"{per_folder[folder] - base_folders[folder]:+10.1f}"
                         for folder in folders))

    # Same garment: each validation photo taught alone with a class other than the model's
    # answer; its near copies and new views should then get that class.
    own = normalise(embeddings)
    variants = {"shift 1px": [shifted(validation.images, dy, dx)
                              for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))],
                "shift 2px": [shifted(validation.images, dy, dx)
                              for dy, dx in ((0, 2), (0, -2), (2, 0), (-2, 0))],
                "mirror": [np.ascontiguousarray(validation.images[:, :, ::-1])]}
    similarities = {}
    for name, copies in variants.items():
        similarities[name] = np.concatenate([
            (normalise(embed(predictor, copy, flip)[1]) * own).sum(1) for copy in copies])
    if arguments.views:
        view_similarity = []
        root = Path(arguments.validation)
        paths = tqdm(validation.paths, desc="views of validation photos", unit="photo",
                     file=sys.stderr)
        for index, relative in enumerate(paths):
            image = image_files.read_image(root / str(relative))
            for _ in range(arguments.views):
                result = segment(random_view(image, random))
                if result.found:
                    view_embedding = normalise(embed(predictor, result.model_input, flip)[1])
                    view_similarity.append(float((view_embedding[0] * own[index]).sum()))
        similarities[f"new view (x{arguments.views})"] = np.array(view_similarity)
    # Similarity to the nearest other validation photo of another folder: how far apart
    # different garments are.
    others = own @ own.T
    others[validation.folders[:, None] == validation.folders[None, :]] = -1
    similarities["other garment"] = others.max(1)
    print("\nSame garment: share (%) of near copies of a taught photo that reach the "
          "threshold (so get the taught class); 'other garment' is the share of photos whose "
          "nearest photo of another folder would reach it")
    print(f"{'threshold':>9} " + " ".join(f"{name:>17}" for name in similarities))
    for threshold in arguments.thresholds:
        print(f"{threshold:9.3f} " + " ".join(f"{100 * (values >= threshold).mean():17.1f}"
                                              for values in similarities.values()))
    print("\nmedian similarity: " + ", ".join(f"{name} {np.median(values):.3f}"
                                              for name, values in similarities.items()))
    print(f"classes taught: {', '.join(sorted({CLASS_NAMES[c] for c in taught_classes}))}")
    return 0


def cost(arguments) -> int:
    """Milliseconds per frame of the inference (one invoke, flip) and the taught rule, with
    0 and with the given numbers of taught examples, taking turns; prints medians."""
    try:
        predictor = load_predictor(arguments.model)
        frame_input = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
        probabilities, embedding = embed(predictor, frame_input, not arguments.no_flip)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    random = np.random.default_rng(1)
    stores = {count: TaughtExamples.from_embeddings(
        random.random((count, embedding.shape[1])), random.integers(0, NUM_CLASSES, count))
        for count in arguments.examples}
    frame_times = {count: [] for count in stores}
    rule_times = {count: [] for count in stores}
    for _ in range(arguments.frames):
        for count, store in stores.items():
            started = time.perf_counter()
            probabilities, embedding = embed(predictor, frame_input, not arguments.no_flip)
            inferred = time.perf_counter()
            store.decide(embedding[0], probabilities[0])
            finished = time.perf_counter()
            frame_times[count].append((finished - started) * 1000)
            rule_times[count].append((finished - inferred) * 1000)
    print(f"{arguments.frames} frames each, taking turns; median (p90) milliseconds")
    print(f"{'examples':>8} {'inference+rule':>16} {'rule only':>16}")
    for count in stores:
        frame, rule = np.array(frame_times[count]), np.array(rule_times[count])
        print(f"{count:8d} {np.median(frame):9.3f} ({np.percentile(frame, 90):.3f}) "
              f"{np.median(rule):9.4f} ({np.percentile(rule, 90):.4f})")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.taught_threshold", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    measuring = commands.add_parser("measure", help="choose the threshold: no harm and same "
                                                    "garment on labelled photo folders")
    measuring.add_argument("--train", required=True, help="labelled photos to teach from")
    measuring.add_argument("--validation", required=True, help="labelled photos to measure on")
    measuring.add_argument("--labels", help="labels file (default: labels.csv beside --train)")
    measuring.add_argument("--per-folder", type=int, default=5, help="photos taught per folder")
    measuring.add_argument("--thresholds", type=float, nargs="+",
                           default=[0.8, 0.85, 0.9, 0.925, 0.95, 0.97],
                           help="cosine similarities to try")
    measuring.add_argument("--views", type=int, default=1,
                           help="new random views (crop, turn, light) of each validation "
                                "photo for the same-garment check (0: none)")
    measuring.add_argument("--seed", type=int, default=0, help="seed of the taught photos")
    measuring.set_defaults(run=measure)
    costing = commands.add_parser("cost", help="milliseconds per frame with 0 and 500 "
                                               "taught examples")
    costing.add_argument("--examples", type=int, nargs="+", default=[0, 500],
                         help="numbers of taught examples to compare")
    costing.add_argument("--frames", type=int, default=500, help="frames per number")
    costing.set_defaults(run=cost)
    for sub in (measuring, costing):
        sub.add_argument("--model", help="a .tflite with an embedding output, or a .keras "
                                         "(default: the shipped model)")
        sub.add_argument("--no-flip", action="store_true",
                         help="embed without averaging with the mirror image")
    arguments = parser.parse_args(argv)
    return arguments.run(arguments)



if __name__ == "__main__":
    raise SystemExit(main())
