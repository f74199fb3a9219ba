"""Taught examples: garments a user named, and the rule by which they decide the answer.

    from model.taught import load_taught, save_example, forget_all, embed
    taught = load_taught("taught/", predictor)          # DIR/0 .. DIR/9, see below
    probabilities, embeddings = embed(predictor, model_inputs)  # one invoke, flip TTA
    decision = taught.decide(embeddings[0], probabilities[0])
    decision.probabilities, decision.taught, decision.class_index, decision.similarity
    save_example("taught/", 4, model_input, crop, embeddings[0], predictor)   # teach a Coat
    taught = taught.with_example(embeddings[0], 4)      # the instant effect, without reloading
    taught.counts()                                     # examples per class, (10,)
    save_example("taught/", NOTHING, model_input, crop, embeddings[0], predictor)  # "nothing"
    forget_class("taught/", 4); delete_example(path); forget_all("taught/")
    export_zip("taught/", "taught.zip"); import_examples("taught.zip", "taught/", predictor)

Folder layout: one sub-folder per Fashion-MNIST class index, `DIR/0` .. `DIR/9`, and
`DIR/nothing` for views taught as "no garment" (an empty view, a hand, a face). Each holds
saved examples, three files sharing a stem (`STEM.input.png` the 28x28 model input,
`STEM.crop.jpg` the crop of the frame, `STEM.embedding.npz` the embedding with the model and
flip setting it was made with), and/or photos of any size, which are segmented at the given
settings as usual. An example's embedding is used as saved when it was made by the same
model file with the same flip setting; otherwise it is made again from its 28x28 input, so
taught examples follow a new model. A file that is neither, a corrupt image, a photo with no
garment, a folder not named 0-9 and a folder that cannot be read are skipped with a message
naming them (in TaughtExamples.skipped); the rest load. A damaged embedding file (an empty or
truncated .npz) is made again from its input. (A loader that knows only 0-9 skips `nothing`
with a message and loads the rest.)

The rule (TaughtExamples.decide): the embeddings (outputs of the network's hidden dense
layer, flip-averaged as the app classifies) are L2-normalised; the taught example with the
highest cosine similarity to the current embedding is found. When that similarity is at
least THRESHOLD, its class decides: the probabilities become that class's one-hot vector and
the decision says a taught example decided. When that nearest example (at the same
threshold) is a "nothing" example, the decision says so (TaughtDecision.nothing) and the
frame counts as one without a garment (camera_app.frame). Otherwise the model's
probabilities stand. So classes never taught, and garments unlike every taught one, keep the
model's answer.

THRESHOLD is the least cosine similarity at which a taught example decides; how it was
measured, and how to measure it again for a new model, is in docs/teach.md.

    python -m model.taught count taught/                       # what a folder holds
    python -m model.taught export taught/ --out taught.zip     # one .zip of the folder
    python -m model.taught import taught.zip taught/           # merge a .zip or a folder

Import checks every file as it is read: a file that is not part of a taught example, a
damaged image or embedding, a path that would leave the folder (`..`, an absolute path, a
link) is refused with a message and the good examples still come in; an embedding made by
another model or flip setting is made again with this one.

(experiments/taught_threshold.py measures the threshold and the rule's cost per frame.)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import os
import shutil
import stat
import sys
import zipfile
import zlib
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
NOTHING = NUM_CLASSES  # The class index of "nothing" examples (views without a garment).
NOTHING_FOLDER = "nothing"  # Their sub-folder.
# Sub-folder names, 0-9 and "nothing"; CLASS_FOLDERS[index] is the folder of a class index.
CLASS_FOLDERS = tuple(str(index) for index in range(NUM_CLASSES)) + (NOTHING_FOLDER,)
MAX_IMPORT_BYTES = 50_000_000  # Files larger than this are refused on import.
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
    # True when the nearest taught example, close enough to decide, is a "nothing" example:
    # the frame counts as one without a garment (probabilities are then the model's own).
    nothing: bool = False


@dataclass(frozen=True)
class TaughtExamples:
    # float32 (M, D): the taught examples' embeddings, each of length 1.
    embeddings: np.ndarray
    # int64 (M,): the class index of each taught example (NOTHING for "nothing").
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
        if classes.size and not ((classes >= 0) & (classes <= NOTHING)).all():
            raise ValueError(f"Class indices must be 0-{NUM_CLASSES - 1} or NOTHING "
                             f"({NOTHING}), got {classes}.")
        return cls(normalise(embeddings), classes, threshold, tuple(skipped), tuple(sources))

    def __len__(self) -> int:
        return int(self.classes.shape[0])

    def counts(self) -> np.ndarray:
        """Taught examples per class index: int (10,) ("nothing" examples not included)."""
        return np.bincount(self.classes, minlength=NOTHING + 1)[:NUM_CLASSES]

    def nothing_count(self) -> int:
        """How many "nothing" examples are taught."""
        return int((self.classes == NOTHING).sum())

    def keeping(self, keep) -> "TaughtExamples":
        """Only the examples where keep (bool (M,)) is True."""
        keep = np.asarray(keep, dtype=bool).reshape(-1)
        return TaughtExamples(self.embeddings[keep], self.classes[keep], self.threshold,
                              self.skipped, tuple(source for source, kept
                                                  in zip(self.sources, keep) if kept))

    def without_sources(self, sources) -> "TaughtExamples":
        """These examples less those that came from the given file paths."""
        gone = {str(source) for source in sources}
        return self.keeping([source not in gone for source in self.sources])

    def without_class(self, class_index: int) -> "TaughtExamples":
        """These examples less those of one class index (NOTHING for "nothing")."""
        return self.keeping(self.classes != class_index)

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
        vector replaces the probabilities: (probabilities (N, 10), taught (N,) bool).

        A "nothing" example decides nothing here (taught False, the model's probabilities):
        what it means, no garment, is for the caller (decide, camera_app.frame)."""
        taught = (similarity >= self.threshold) & (classes != NOTHING)
        decided = np.array(probabilities, dtype=np.float32, copy=True).reshape(-1, NUM_CLASSES)
        decided[taught] = np.eye(NUM_CLASSES, dtype=np.float32)[classes[taught]]
        return decided, taught

    def decide(self, embedding, probabilities) -> TaughtDecision:
        """The answer for one input: its embedding (D,) and the model's probabilities (10,)."""
        similarity, classes = self.nearest(np.asarray(embedding).reshape(1, -1))
        decided, taught = self.apply_rule(similarity, classes, probabilities)
        nothing = bool(similarity[0] >= self.threshold and classes[0] == NOTHING)
        return TaughtDecision(decided[0], bool(taught[0]) or nothing,
                              int(classes[0]) if len(self) else None, float(similarity[0]),
                              nothing)


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
    return f"{files.sha256_of_file(path)} flip={flip}"


def save_example(folder, class_index: int, model_input: np.ndarray, crop=None,
                 embedding=None, predictor=None, flip: bool = True) -> Path:
    """Saves one taught example in its class folder (class_index 0-9, or NOTHING in
    folder/nothing); returns the path of its 28x28 input.

    crop (BGR) is saved when given; embedding (D,) with the predictor that made it (so that
    loading can tell whether it is still current) when both are given.
    """
    if not 0 <= int(class_index) <= NOTHING:
        raise ValueError(f"Class index must be 0-{NUM_CLASSES - 1} or NOTHING, got "
                         f"{class_index}.")
    model_input = np.asarray(model_input)
    if model_input.shape != (28, 28) or model_input.dtype != np.uint8:
        raise ValueError(f"The model input must be uint8 (28, 28), got {model_input.dtype} "
                         f"{model_input.shape}.")
    directory = Path(folder) / CLASS_FOLDERS[int(class_index)]
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
    """Removes the class sub-folders (0-9, nothing) of folder; returns how many files they
    held."""
    return sum(forget_class(folder, class_index) for class_index in range(NOTHING + 1))


def forget_class(folder, class_index: int) -> int:
    """Removes the sub-folder of one class index (NOTHING: "nothing"); returns how many
    files it held."""
    directory = Path(folder) / CLASS_FOLDERS[int(class_index)]
    if not directory.is_dir():
        return 0
    removed = sum(1 for path in directory.rglob("*") if path.is_file())
    shutil.rmtree(directory)
    return removed


def example_files(path) -> list[Path]:
    """The files of the example whose source is path: a saved example's input, crop and
    embedding (those that exist), or a photo alone."""
    path = Path(path)
    if not path.name.endswith(INPUT_SUFFIX):
        return [path] if path.exists() else []
    stem = path.name[:-len(INPUT_SUFFIX)]
    return [path.with_name(stem + suffix) for suffix in (INPUT_SUFFIX, CROP_SUFFIX,
                                                         EMBEDDING_SUFFIX)
            if path.with_name(stem + suffix).exists()]


def delete_example(path) -> int:
    """Removes one example (see example_files), its input first; returns the files removed.
    Raises OSError when one cannot be removed."""
    removed = example_files(path)
    for file in removed:
        file.unlink()
    return len(removed)


def example_date(path) -> datetime.datetime | None:
    """When an example was taught: from its name as save_example makes it, else the file's
    modification time; None when neither can be read."""
    try:
        return datetime.datetime.strptime(Path(path).name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        pass
    try:
        return datetime.datetime.fromtimestamp(Path(path).stat().st_mtime)
    except OSError:
        return None


def saved_embedding(path: Path, expected_maker: str | None, size: int | None) -> np.ndarray | None:
    """The embedding saved at path when it is current (same model and flip) and well formed."""
    if expected_maker is None or not path.is_file():
        return None
    try:
        embedding, maker = loaded_embedding(path.read_bytes())
    except (OSError, ValueError):  # Unreadable, empty, truncated or foreign: made again.
        return None
    if maker != expected_maker or (size is not None and embedding.shape[0] != size):
        return None
    return embedding


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
    """(class index, path) of every file under the class folders (0-9, nothing) of folder,
    in order (the class index of "nothing" is NOTHING).

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
            skipped.append(f"{shown(entry)}: not a class folder (named 0-9 or "
                           f"{NOTHING_FOLDER}); skipped")
            continue

        def unreadable(error: OSError):
            skipped.append(f"{shown(error.filename)}: cannot be read "
                           f"({error.strerror or error}); its examples are skipped. Check "
                           "its permissions.")

        for root, directories, names in os.walk(entry, onerror=unreadable):
            directories.sort()
            found += [(CLASS_FOLDERS.index(entry.name), Path(root) / name)
                      for name in sorted(names)]
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


@dataclass(frozen=True)
class ImportReport:
    # Taught examples (saved examples and photos) written into the taught folder.
    imported: int
    # Of those, examples whose embedding was made again with this model and flip setting.
    embedded_again: int
    # Examples already in the folder (same name, same bytes), left as they are.
    already_there: int
    # One message for each file refused, and why; the rest came in.
    refused: tuple = ()


def export_zip(folder, destination) -> int:
    """Writes one .zip of the taught folder's class sub-folders (0-9, nothing), whole or not
    at all; returns how many files it holds. Raises ValueError when the folder holds no
    taught files, OSError when the .zip cannot be written."""
    folder = Path(folder)
    listed = taught_files(folder, [])
    if not listed:
        raise ValueError(f"{shown(folder)} holds no taught examples to export.")
    destination = Path(destination)
    with files.atomic_path(destination) as temporary, \
            zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for _, path in listed:
            archive.write(path, path.relative_to(folder).as_posix())
    return len(listed)


@contextlib.contextmanager
def import_entries(source: Path, refused: list):
    """Yields (relative name, read) for every file of a .zip or a folder that stays inside it
    and is at most MAX_IMPORT_BYTES; read() gives its bytes, or raises ValueError saying why
    not. Files are read one example at a time, not all at once. Appends a message to refused
    for every other file. Raises ValueError when source is neither a readable .zip nor a
    folder."""
    entries = []
    if source.is_dir():
        root = source.resolve()
        for directory, _, names in os.walk(source, onerror=lambda error: refused.append(
                f"{shown(error.filename)}: cannot be read ({error.strerror or error})")):
            for name in sorted(names):
                path = Path(directory) / name
                relative = path.relative_to(source).as_posix()
                try:
                    if not path.resolve().is_relative_to(root):
                        refused.append(f"{shown(relative)}: a link that leaves the folder; "
                                       "refused")
                    elif not stat.S_ISREG(path.stat().st_mode):
                        refused.append(f"{shown(relative)}: not a regular file; refused")
                    elif path.stat().st_size > MAX_IMPORT_BYTES:
                        refused.append(f"{shown(relative)}: larger than "
                                       f"{MAX_IMPORT_BYTES // 1_000_000} MB; refused")
                    else:
                        entries.append((relative, lambda path=path: read_file(path)))
                except OSError as error:
                    refused.append(f"{shown(relative)}: cannot be read "
                                   f"({error.strerror or error}); refused")
        yield entries
        return
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as error:
        raise ValueError(f"{shown(source)} is neither a folder nor a readable .zip "
                         f"({error}); give a .zip made by export, or a taught folder.")
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                refused.append(f"{shown(info.filename)}: a link; refused")
            elif info.file_size > MAX_IMPORT_BYTES:
                refused.append(f"{shown(info.filename)}: larger than "
                               f"{MAX_IMPORT_BYTES // 1_000_000} MB; refused")
            else:
                entries.append((info.filename, lambda info=info: read_member(archive, info)))
        yield entries


def read_file(path: Path) -> bytes:
    """A file's bytes; ValueError when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror or error})") from error


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A .zip member's bytes; ValueError when it is damaged."""
    try:
        return archive.read(info)
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, zlib.error) as error:
        raise ValueError(f"damaged in the .zip ({error})") from error


def checked_name(name: str) -> tuple[str, str] | None:
    """(class folder, the rest) of a relative name CLASS/FILE or CLASS/SUB/.../FILE (a class
    folder may hold sub-folders, as load_taught reads them), with CLASS one of CLASS_FOLDERS and
    nothing that could leave the folder or hide a file; None otherwise."""
    parts = name.split("/")
    if "\\" in name or name.startswith("/") or ":" in name or len(parts) < 2 \
            or parts[0] not in CLASS_FOLDERS \
            or any(part in ("", ".", "..") or part.startswith(".") for part in parts[1:]):
        return None
    return parts[0], "/".join(parts[1:])


def loaded_embedding(data: bytes) -> tuple[np.ndarray, str]:
    """(embedding (D,), made_by) of an embedding file's bytes; raises ValueError when it is
    not one."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            embedding, maker = archive["embedding"], str(archive["made_by"])
    except Exception as error:  # Empty, truncated, not a .npz, keys missing.
        raise ValueError(f"not a readable embedding ({type(error).__name__})") from error
    if embedding.ndim != 1 or not np.issubdtype(embedding.dtype, np.floating) \
            or not np.isfinite(embedding).all():
        raise ValueError("not a finite embedding vector")
    return embedding.astype(np.float32), maker


def free_stem(directory: Path, stem: str, suffixes) -> str:
    """stem, or stem-N, so that no file stem+suffix exists in directory."""
    candidate, number = stem, 1
    while any((directory / (candidate + suffix)).exists() for suffix in suffixes):
        candidate, number = f"{stem}-{number}", number + 1
    return candidate


def import_examples(source, folder, predictor, flip: bool = True) -> ImportReport:
    """Merges the taught examples of a .zip (as export_zip writes it) or a folder laid out
    the same way into the taught folder; never raises for a bad file (see the module
    docstring). Raises ValueError when source is neither, OSError when folder cannot be
    written."""
    source, folder = Path(source), Path(folder)
    refused: list[str] = []
    with import_entries(source, refused) as entries:
        return import_entries_into(entries, folder, predictor, flip, refused)


def import_entries_into(entries, folder: Path, predictor, flip: bool,
                        refused: list) -> ImportReport:
    """import_examples for the (name, read) entries of import_entries."""
    # (class folder/sub-folders, key) -> suffix: read. A saved example's files share their
    # stem as key; a photo is an example of its own, keyed by its whole file name.
    examples: dict[tuple[str, str], dict] = {}
    for name, read in entries:
        checked = checked_name(name)
        if checked is None:
            refused.append(f"{shown(name)}: not inside a class folder (0-9 or "
                           f"{NOTHING_FOLDER}), or a path that would leave it; refused")
            continue
        directory, file_name = name.rsplit("/", 1)
        suffix = next((suffix for suffix in (INPUT_SUFFIX, CROP_SUFFIX, EMBEDDING_SUFFIX)
                       if file_name.endswith(suffix)), None)
        if suffix is None and Path(file_name).suffix.lower() in image_files.IMAGE_SUFFIXES:
            suffix, key = Path(file_name).suffix, file_name  # A photo.
        elif suffix is None:
            refused.append(f"{shown(name)}: not an image or part of a saved example; refused")
            continue
        else:
            key = file_name[:-len(suffix)]
        examples.setdefault((directory, key), {})[suffix] = read
    maker, size = made_by(predictor, flip), getattr(predictor, "embedding_size", None)
    written, again, already = 0, [], 0
    for (class_folder, key), readers in sorted(examples.items()):
        stem = Path(key).stem if key.endswith(tuple(readers)) else key
        name = f"{class_folder}/{stem}"
        parts = {}
        for suffix, read in readers.items():
            try:
                parts[suffix] = read()
            except ValueError as error:
                refused.append(f"{shown(name + suffix)}: {error}; refused")
        if not parts:
            continue
        if not set(parts) & {INPUT_SUFFIX, CROP_SUFFIX, EMBEDDING_SUFFIX}:
            photo_suffix, data = next(iter(parts.items()))
            try:
                image_files.decode_image(data, name + photo_suffix)
            except image_files.ImageReadError as error:
                refused.append(f"{shown(error)}; refused")
                continue
            outcome = write_example(folder / class_folder, stem, {photo_suffix: data})
        else:
            if INPUT_SUFFIX not in parts:
                refused += [f"{shown(name + suffix)}: no {INPUT_SUFFIX} beside it; refused"
                            for suffix in parts]
                continue
            try:
                model_input = image_files.decode_image(parts[INPUT_SUFFIX], name + INPUT_SUFFIX)
                if model_input.shape[:2] != (28, 28):
                    raise image_files.ImageReadError(f"{name + INPUT_SUFFIX} is not a 28x28 "
                                                     "model input")
            except image_files.ImageReadError as error:
                refused.append(f"{shown(error)}; the example is refused")
                continue
            if CROP_SUFFIX in parts:
                try:
                    image_files.decode_image(parts[CROP_SUFFIX], name + CROP_SUFFIX)
                except image_files.ImageReadError as error:
                    refused.append(f"{shown(error)}; refused (the example comes in without "
                                   "its crop)")
                    del parts[CROP_SUFFIX]
            current = False
            if EMBEDDING_SUFFIX in parts:
                try:
                    embedding, saved_maker = loaded_embedding(parts[EMBEDDING_SUFFIX])
                    current = maker is not None and saved_maker == maker \
                        and (size is None or embedding.shape[0] == size)
                except ValueError as error:
                    refused.append(f"{shown(name + EMBEDDING_SUFFIX)}: {error}; refused (its "
                                   "embedding is made again)")
            if not current:
                parts.pop(EMBEDDING_SUFFIX, None)
                again.append((folder / class_folder, stem, cv2.cvtColor(model_input,
                                                                        cv2.COLOR_BGR2GRAY)))
            outcome = write_example(folder / class_folder, stem, parts)
            if not current and outcome is not None:
                again[-1] = (folder / class_folder, outcome, again[-1][2])
            elif not current:
                again.pop()
        if outcome is None:
            already += 1
        else:
            written += 1
    if again:
        embeddings = embed(predictor, np.stack([item[2] for item in again]), flip)[1]
        for (directory, stem, _), embedding in zip(again, embeddings):
            with files.atomic_path(directory / (stem + EMBEDDING_SUFFIX)) as temporary:
                np.savez(temporary, embedding=embedding.astype(np.float32),
                         made_by=str(maker))
    return ImportReport(written, len(again), already, tuple(refused))


def write_example(directory: Path, stem: str, parts: dict) -> str | None:
    """Writes an example's files (suffix: bytes) under stem, or a free stem when stem is taken
    by other bytes; returns the stem written, None when the same files are already there.
    The 28x28 input (or the photo) is written last, each file whole or not at all."""
    existing = [directory / (stem + suffix) for suffix in parts]
    if existing and all(path.is_file() and path.read_bytes() == parts[path.name[len(stem):]]
                        for path in existing):
        return None
    directory.mkdir(parents=True, exist_ok=True)
    stem = free_stem(directory, stem, (INPUT_SUFFIX, CROP_SUFFIX, EMBEDDING_SUFFIX,
                                       *parts))
    for suffix in sorted(parts, key=lambda suffix: suffix == INPUT_SUFFIX):
        files.write_bytes(directory / (stem + suffix), parts[suffix])
    return stem


def count(arguments) -> int:
    """Loads a taught folder and prints its examples per class and what was skipped; status 2
    when the folder is not there (a mistyped path must not read as "nothing taught")."""
    if not Path(arguments.folder).is_dir():
        print(f"error: {shown(Path(arguments.folder))} is not a folder; give the folder the app "
              "saves taught examples in (its --taught DIR, or the default the README names).",
              file=sys.stderr)
        return 2
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
    print(f"n {NOTHING_FOLDER:<12} {taught.nothing_count()}")
    return 0


def export(arguments) -> int:
    """Writes the taught folder as one .zip; status 2 when there is nothing to export or the
    .zip cannot be written."""
    out = Path(arguments.out)
    if out.is_dir():
        print(f"error: --out {shown(out)} is a folder; give a file name ending in .zip.",
              file=sys.stderr)
        return 2
    try:
        written = export_zip(arguments.folder, out)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {shown(out)} could not be written ({error.strerror or error}).",
              file=sys.stderr)
        return 2
    print(f"Exported {written} file(s) of {shown(arguments.folder)} to {shown(out)}.")
    return 0


def import_command(arguments) -> int:
    """Merges a .zip or folder into the taught folder; prints each refused file on stderr.
    Status 1 when files were refused and nothing came in, 2 when the source or the model
    cannot be used or the folder cannot be written."""
    try:
        predictor = load_predictor(arguments.model)
        if getattr(predictor, "embedding_size", None) is None:
            raise ModelLoadError(f"the model {predictor.path} gives no embedding; export it "
                                 "again with `python -m model.export MODEL.keras --out "
                                 "MODEL.tflite` and pass --model MODEL.tflite.")
        report = import_examples(arguments.source, arguments.folder, predictor,
                                 flip=not arguments.no_flip)
    except (ModelLoadError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {shown(arguments.folder)} could not be written "
              f"({error.strerror or error}).", file=sys.stderr)
        return 2
    for message in report.refused:
        print(message, file=sys.stderr)
    print(import_summary(report, arguments.folder))
    return 1 if report.refused and not report.imported and not report.already_there else 0


def import_summary(report: ImportReport, folder) -> str:
    """One line on what an import did."""
    return (f"Imported {report.imported} taught example(s) into {shown(folder)} "
            f"({report.embedded_again} embedded again with this model, "
            f"{report.already_there} already there, {len(report.refused)} file(s) refused).")


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
    exporting = commands.add_parser("export", help="write a taught folder as one .zip")
    exporting.add_argument("folder", help="a taught folder (sub-folders 0-9, nothing)")
    exporting.add_argument("--out", required=True, help="the .zip to write")
    exporting.set_defaults(run=export)
    importing = commands.add_parser("import", help="merge a .zip or a folder of taught "
                                                   "examples into a taught folder")
    importing.add_argument("source", help="a .zip made by export, or a taught folder")
    importing.add_argument("folder", help="the taught folder to merge into (made if missing)")
    importing.add_argument("--model", help="the model that embeds examples made by another "
                                           "(default: the shipped model)")
    importing.add_argument("--no-flip", action="store_true",
                           help="embed without averaging with the mirror image")
    importing.set_defaults(run=import_command)
    arguments = parser.parse_args(argv)
    return arguments.run(arguments)


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
