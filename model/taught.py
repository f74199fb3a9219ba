"""Taught examples: garments a user named, and the rule by which they decide the answer.

    from model.taught import load_taught, save_example, forget_all, embed
    taught = load_taught("taught/", predictor)          # DIR/0 .. DIR/9, see below
    probabilities, embeddings = embed(predictor, model_inputs)  # one invoke, flip TTA
    decision = taught.decide(embeddings[0], probabilities[0])
    decision.probabilities, decision.taught, decision.class_index, decision.similarity
    save_example("taught/", 4, model_input, crop, embeddings[0], predictor)   # teach a Coat
    taught = taught.with_example(embeddings[0], 4)      # the instant effect, without reloading
    taught.counts()                                     # examples per class, (10,)
    forget_all("taught/")

Folder layout: one sub-folder per Fashion-MNIST class index, `DIR/0` .. `DIR/9`. Each holds
saved examples, three files sharing a stem (`STEM.input.png` the 28x28 model input,
`STEM.crop.jpg` the crop of the frame, `STEM.embedding.npz` the embedding with the model and
flip setting it was made with), and/or photos of any size, which are segmented at the given
settings as usual. An example's embedding is used as saved when it was made by the same
model file with the same flip setting; otherwise it is made again from its 28x28 input, so
taught examples follow a new model. A file that is neither, a corrupt image, a photo with no
garment, a folder not named 0-9 and a folder that cannot be read are skipped with a message
naming them (in TaughtExamples.skipped); the rest load. A damaged embedding file (an empty or
truncated .npz) is made again from its input.

The rule (TaughtExamples.decide): the embeddings (outputs of the network's hidden dense
layer, flip-averaged as the app classifies) are L2-normalised; the taught example with the
highest cosine similarity to the current embedding is found. When that similarity is at
least THRESHOLD, its class decides: the probabilities become that class's one-hot vector and
the decision says a taught example decided. Otherwise the model's probabilities stand. So
classes never taught, and garments unlike every taught one, keep the model's answer.

THRESHOLD is the least cosine similarity at which a taught example decides; how it was
measured, and how to measure it again for a new model, is in docs/teach.md.

    python -m model.taught count taught/                       # what a folder holds

(experiments/taught_threshold.py measures the threshold and the rule's cost per frame.)
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from model.classes import CLASS_NAMES, NUM_CLASSES
from model.predictor import ModelLoadError, load_predictor, predict_with_flip_and_embedding
from segmentation import files
from segmentation import images as image_files
from segmentation.config import SegmentationConfig
from segmentation.pipeline import segment

THRESHOLD = 0.9  # Cosine similarity from which the nearest taught example decides.
INPUT_SUFFIX = ".input.png"  # A saved example's 28x28 model input.
CROP_SUFFIX = ".crop.jpg"  # A saved example's crop of the frame.
EMBEDDING_SUFFIX = ".embedding.npz"  # A saved example's embedding and what made it.
CLASS_FOLDERS = tuple(str(index) for index in range(NUM_CLASSES))  # Sub-folder names, 0-9.
PROGRESS_STEP = 50  # load_taught reports its progress every this many files.


@dataclass(frozen=True)
class TaughtDecision:
    # The probabilities to use: the taught class's one-hot vector when a taught example
    # decided, else the model's own.
    probabilities: np.ndarray
    # True when the nearest taught example was close enough to decide.
    taught: bool
    # The class of the nearest taught example, or None when nothing is taught.
    class_index: int | None
    # Cosine similarity to the nearest taught example (-1 when nothing is taught).
    similarity: float


@dataclass(frozen=True)
class TaughtExamples:
    # float32 (M, D): the taught examples' embeddings, each of length 1.
    embeddings: np.ndarray
    # int64 (M,): the class index of each taught example.
    classes: np.ndarray
    # From this cosine similarity on, the nearest taught example decides.
    threshold: float = THRESHOLD
    # Messages naming the files and folders that were skipped, and why.
    skipped: tuple = ()
    # Where each example came from (file path), for messages; "" for examples taught live.
    sources: tuple = field(default=(), repr=False)

    @classmethod
    def empty(cls, size: int, threshold: float = THRESHOLD, skipped=()) -> "TaughtExamples":
        """No taught examples, for embeddings of the given width."""
        return cls.from_embeddings(np.zeros((0, size), np.float32), [], threshold, skipped)

    @classmethod
    def from_embeddings(cls, embeddings, classes, threshold: float = THRESHOLD, skipped=(),
                        sources=()) -> "TaughtExamples":
        """Normalises the (M, D) embeddings; raises ValueError for bad shapes or classes."""
        embeddings = np.asarray(embeddings, dtype=np.float32)
        classes = np.asarray(classes, dtype=np.int64).reshape(-1)
        if embeddings.ndim != 2 or embeddings.shape[0] != classes.shape[0]:
            raise ValueError(f"Embeddings must be (M, D) with one class each; got "
                             f"{embeddings.shape} and {classes.shape[0]} classes.")
        if classes.size and not ((classes >= 0) & (classes < NUM_CLASSES)).all():
            raise ValueError(f"Class indices must be 0-{NUM_CLASSES - 1}, got {classes}.")
        return cls(normalise(embeddings), classes, threshold, tuple(skipped), tuple(sources))

    def __len__(self) -> int:
        return int(self.classes.shape[0])

    def counts(self) -> np.ndarray:
        """Taught examples per class index: int (10,)."""
        return np.bincount(self.classes, minlength=NUM_CLASSES)

    def with_example(self, embedding, class_index: int, source: str = "") -> "TaughtExamples":
        """These examples and one more (the instant effect of teaching)."""
        return TaughtExamples.from_embeddings(
            np.concatenate([self.embeddings, np.asarray(embedding, np.float32).reshape(1, -1)]),
            np.append(self.classes, class_index), self.threshold, self.skipped,
            self.sources + (source,))

    def nearest(self, embeddings) -> tuple[np.ndarray, np.ndarray]:
        """(similarity, class) of the nearest taught example to each of (N, D) embeddings.

        With nothing taught, the similarity is -1 and the class -1.
        """
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.embeddings.shape[1]:
            raise ValueError(f"Embeddings must be (N, {self.embeddings.shape[1]}), "
                             f"got {embeddings.shape}; were the examples taught with "
                             "another model?")
        if len(self) == 0:
            count = embeddings.shape[0]
            return np.full(count, -1.0, np.float32), np.full(count, -1, np.int64)
        # einsum, not @: numpy's own loop on one thread. A BLAS matrix product spreads over
        # threads that, on a machine whose other core is busy, wait for each other: 8.6 ms
        # against 0.29 ms per frame with 3,000 examples (docs/experiments.md, 2026-12-05).
        similarities = np.einsum("nd,md->nm", normalise(embeddings), self.embeddings)
        best = similarities.argmax(axis=1)
        return similarities[np.arange(len(best)), best], self.classes[best]

    def decide_batch(self, embeddings, probabilities) -> tuple[np.ndarray, np.ndarray]:
        """The rule for N inputs at once: (probabilities (N, 10), taught (N,) bool)."""
        similarity, classes = self.nearest(embeddings)
        return self.apply_rule(similarity, classes, probabilities)

    def apply_rule(self, similarity, classes, probabilities) -> tuple[np.ndarray, np.ndarray]:
        """Where the nearest example's similarity reaches the threshold, its class's one-hot
        vector replaces the probabilities: (probabilities (N, 10), taught (N,) bool)."""
        taught = similarity >= self.threshold
        decided = np.array(probabilities, dtype=np.float32, copy=True).reshape(-1, NUM_CLASSES)
        decided[taught] = np.eye(NUM_CLASSES, dtype=np.float32)[classes[taught]]
        return decided, taught

    def decide(self, embedding, probabilities) -> TaughtDecision:
        """The answer for one input: its embedding (D,) and the model's probabilities (10,)."""
        similarity, classes = self.nearest(np.asarray(embedding).reshape(1, -1))
        decided, taught = self.apply_rule(similarity, classes, probabilities)
        return TaughtDecision(decided[0], bool(taught[0]),
                              int(classes[0]) if len(self) else None, float(similarity[0]))


def normalise(embeddings: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (an all-zero row stays zero)."""
    lengths = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return (embeddings / np.maximum(lengths, 1e-12)).astype(np.float32)


def embed(predictor, model_inputs: np.ndarray, flip: bool = True,
          batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (N, 10) and embeddings (N, D) of uint8 (N, 28, 28) inputs, one invoke
    per batch; flip averages each input with its mirror image, as the app does."""
    model_inputs = np.ascontiguousarray(model_inputs, dtype=np.uint8)
    if model_inputs.ndim == 2:
        model_inputs = model_inputs[np.newaxis]
    outputs = []
    for start in range(0, len(model_inputs), batch_size):
        batch = model_inputs[start:start + batch_size]
        outputs.append(predict_with_flip_and_embedding(predictor, batch) if flip
                       else predictor.predict_with_embedding(batch))
    if not outputs:
        return np.zeros((0, NUM_CLASSES), np.float32), np.zeros((0, 0), np.float32)
    return (np.concatenate([item[0] for item in outputs]),
            np.concatenate([item[1] for item in outputs]))


def made_by(predictor, flip: bool) -> str | None:
    """What makes an embedding: the model file's SHA-256 and the flip setting; None for a
    model without a file (its saved embeddings are never used again)."""
    path = getattr(predictor, "path", None)
    if not path:
        return None
    return f"{hashlib.sha256(Path(path).read_bytes()).hexdigest()} flip={flip}"


def save_example(folder, class_index: int, model_input: np.ndarray, crop=None,
                 embedding=None, predictor=None, flip: bool = True) -> Path:
    """Saves one taught example in folder/class_index; returns the path of its 28x28 input.

    crop (BGR) is saved when given; embedding (D,) with the predictor that made it (so that
    loading can tell whether it is still current) when both are given.
    """
    if not 0 <= int(class_index) < NUM_CLASSES:
        raise ValueError(f"Class index must be 0-{NUM_CLASSES - 1}, got {class_index}.")
    model_input = np.asarray(model_input)
    if model_input.shape != (28, 28) or model_input.dtype != np.uint8:
        raise ValueError(f"The model input must be uint8 (28, 28), got {model_input.dtype} "
                         f"{model_input.shape}.")
    directory = Path(folder) / str(int(class_index))
    directory.mkdir(parents=True, exist_ok=True)
    stem = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    while (directory / (stem + INPUT_SUFFIX)).exists():
        stem += "-1"
    # Each file is written whole or not at all, the input last: an example exists only once
    # its input does, so an interrupted save leaves at most a stray crop or embedding.
    if crop is not None and np.asarray(crop).size:
        image_files.write_image(directory / (stem + CROP_SUFFIX), np.asarray(crop))
    if embedding is not None and predictor is not None:
        with files.atomic_path(directory / (stem + EMBEDDING_SUFFIX)) as temporary:
            np.savez(temporary, embedding=np.asarray(embedding, np.float32).reshape(-1),
                     made_by=str(made_by(predictor, flip)))
    image_files.write_image(directory / (stem + INPUT_SUFFIX), model_input)
    return directory / (stem + INPUT_SUFFIX)


def forget_all(folder) -> int:
    """Removes the class sub-folders 0-9 of folder; returns how many files they held."""
    removed = 0
    for class_index in range(NUM_CLASSES):
        directory = Path(folder) / str(class_index)
        if directory.is_dir():
            removed += sum(1 for path in directory.rglob("*") if path.is_file())
            shutil.rmtree(directory)
    return removed


def saved_embedding(path: Path, expected_maker: str | None, size: int | None) -> np.ndarray | None:
    """The embedding saved at path when it is current (same model and flip) and well formed."""
    if expected_maker is None or not path.is_file():
        return None
    try:
        with np.load(path) as archive:
            embedding = archive["embedding"]
            maker = str(archive["made_by"])
    except Exception:  # Empty, truncated or foreign (zipfile, EOFError...): made again.
        return None
    if maker != expected_maker or embedding.ndim != 1 or not np.isfinite(embedding).all() \
            or (size is not None and embedding.shape[0] != size):
        return None
    return embedding.astype(np.float32)


def read_model_input(path: Path) -> np.ndarray:
    """A saved 28x28 input, greyscale; raises ImageReadError when it is not one."""
    try:
        image = image_files.read_image(path)
    except image_files.ImageReadError as error:
        raise image_files.ImageReadError(f"not a 28x28 model input: {error}") from error
    if image.shape[:2] != (28, 28):
        raise image_files.ImageReadError(f"{path} is not a 28x28 model input (size "
                                         f"{image.shape[1]}x{image.shape[0]})")
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def shown(path) -> str:
    """A path as text that any widget can show: bytes that are not UTF-8 as \\x escapes."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def taught_files(folder: Path, skipped: list) -> list[tuple[int, Path]]:
    """(class index, path) of every file under the class folders 0-9 of folder, in order.

    Appends to skipped a message for every entry that is not a class folder and for every
    folder that cannot be read (the taught folder itself, a class folder, a sub-folder).
    """
    try:
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError as error:
        skipped.append(f"{shown(folder)}: cannot be read ({error.strerror or error}); no "
                       "taught examples loaded. Check the folder's permissions.")
        return []
    found = []
    for entry in entries:
        if entry.name not in CLASS_FOLDERS or not entry.is_dir():
            skipped.append(f"{shown(entry)}: not a class folder (named 0-9); skipped")
            continue

        def unreadable(error: OSError):
            skipped.append(f"{shown(error.filename)}: cannot be read "
                           f"({error.strerror or error}); its examples are skipped. Check "
                           "its permissions.")

        for root, directories, names in os.walk(entry, onerror=unreadable):
            directories.sort()
            found += [(int(entry.name), Path(root) / name) for name in sorted(names)]
    return found


def load_taught(folder, predictor, config: SegmentationConfig = SegmentationConfig(),
                flip: bool = True, threshold: float = THRESHOLD,
                progress=None) -> TaughtExamples:
    """Loads a taught folder (see the module docstring); never raises for a bad file.

    A folder that does not exist holds no examples. The predictor must give embeddings
    (predict_with_embedding); config is the segmentation used for photos. progress, when
    given, is called as progress(files_done, files) every PROGRESS_STEP files and at the end.
    """
    folder = Path(folder)
    size = getattr(predictor, "embedding_size", None)
    maker = made_by(predictor, flip)
    skipped, inputs, input_classes, input_sources = [], [], [], []
    embeddings, classes, sources = [], [], []
    listed = taught_files(folder, skipped)
    for done, (class_index, path) in enumerate(listed):
        if progress is not None and done % PROGRESS_STEP == 0:
            progress(done, len(listed))
        name = path.name
        if name.endswith((CROP_SUFFIX, EMBEDDING_SUFFIX)):
            continue  # Crops are for people; embeddings are read with their input.
        try:
            if name.endswith(INPUT_SUFFIX):
                stem = path.with_name(name[:-len(INPUT_SUFFIX)])
                embedding = saved_embedding(stem.with_name(stem.name + EMBEDDING_SUFFIX),
                                            maker, size)
                if embedding is not None:
                    embeddings.append(embedding)
                    classes.append(class_index)
                    sources.append(str(path))
                    continue
                model_input = read_model_input(path)
            elif path.suffix.lower() in image_files.IMAGE_SUFFIXES:
                result = segment(image_files.read_image(path), config)
                if not result.found:
                    skipped.append(f"{shown(path)}: no garment found ({result.reason}); skipped")
                    continue
                model_input = result.model_input
            else:
                skipped.append(f"{shown(path)}: not an image or a saved example; skipped")
                continue
        except (OSError, image_files.ImageReadError) as error:
            named = str(error) if str(path) in str(error) else f"{path}: {error}"
            skipped.append(f"{shown(named)}; skipped")
            continue
        inputs.append(model_input)
        input_classes.append(class_index)
        input_sources.append(str(path))
    if inputs:
        embeddings += list(embed(predictor, np.stack(inputs), flip)[1])
        classes += input_classes
        sources += input_sources
    if progress is not None:
        progress(len(listed), len(listed))
    if not embeddings:
        if size is None:
            size = embed(predictor, np.zeros((1, 28, 28), np.uint8), flip)[1].shape[1]
        return TaughtExamples.empty(size, threshold, skipped)
    return TaughtExamples.from_embeddings(np.stack(embeddings), classes, threshold, skipped,
                                          sources)


def count(arguments) -> int:
    """Loads a taught folder and prints its examples per class and what was skipped."""
    try:
        predictor = load_predictor(arguments.model)
        taught = load_taught(arguments.folder, predictor, flip=not arguments.no_flip)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for message in taught.skipped:
        print(message, file=sys.stderr)
    for class_index, number in enumerate(taught.counts()):
        print(f"{class_index} {CLASS_NAMES[class_index]:<12} {number}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.taught", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    counting = commands.add_parser("count", help="examples per class in a taught folder")
    counting.add_argument("folder", help="a taught folder (sub-folders 0-9)")
    counting.set_defaults(run=count)
    counting.add_argument("--model", help="a .tflite with an embedding output, or a .keras "
                                          "(default: the shipped model)")
    counting.add_argument("--no-flip", action="store_true",
                          help="embed without averaging with the mirror image")
    arguments = parser.parse_args(argv)
    return arguments.run(arguments)


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
