"""Labelled photo folders, seen as the app sees them, and their cache file.

    from model.photos import load_photo_set
    photo_set = load_photo_set("photos/train", cache="runs/photo-cache/train.npz")
    photo_set.images      # uint8 (N, 28, 28): the model inputs at the app's settings
    photo_set.accepted    # bool (N, 10): the classes that count as the right answer

A photo folder holds one sub-folder per line of its labels file (labels.csv: header
`folder,accepted_classes,group_classes`, classes as Fashion-MNIST indices separated by
spaces). Every photo goes through `segment` once; the result is cached in a `.npz` with the
28x28 inputs, the accepted and group classes, and every source file with its SHA-256. The
cache is used again only when the files, the labels and the settings are all the same;
otherwise it is rebuilt. This module is the one that writes and reads that file.

A folder of taught examples as the app saves it (sub-folders named by class index 0-9, see
model.taught) needs no labels file: without labels.csv, each sub-folder 0-9 accepts its
class, and its group (model.classes.GROUPS) is the right group. Saved examples' 28x28 inputs
(`STEM.input.png`) are used as they are, without segmenting again and without random views;
their crops (`STEM.crop.jpg`) are left out, since the input already stands for the example.
Photos in those folders are segmented as usual.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from model.classes import GROUPS, NUM_CLASSES, group_of
from model.taught import CROP_SUFFIX, INPUT_SUFFIX, read_model_input
from segmentation import files
from segmentation import images as image_files
from segmentation import pipeline, steps
from segmentation.config import SegmentationConfig
from segmentation.pipeline import segment

# Version of the cache file's layout, and of how its views are made (2: views segmented at
# jittered settings, since 2026-12-05), so that an older cache is built again.
CACHE_FORMAT = 2


@dataclass(frozen=True)
class FolderLabels:
    # Folder name, relative to the photo directory.
    folder: str
    # Class indices that count as the exact answer.
    accepted_classes: tuple[int, ...]
    # Class indices that count as the right group (tops, bottoms, dresses, footwear, bags).
    group_classes: tuple[int, ...]


@dataclass(frozen=True)
class PhotoSet:
    # uint8 (N, 28, 28) model inputs of the photos where a garment was found.
    images: np.ndarray
    # bool (N, 10): the classes accepted as the exact answer for each photo.
    accepted: np.ndarray
    # bool (N, 10): the classes of the right group for each photo.
    group: np.ndarray
    # (N,) folder of each photo.
    folders: np.ndarray
    # (N,) path of each photo, relative to the photo directory.
    paths: np.ndarray
    # Every source file (also those left out), relative path -> SHA-256 of its bytes.
    sources: dict
    # Source files left out, relative path -> why (unreadable, or no garment found).
    left_out: dict
    # The segmentation settings and a digest of its code, as a JSON object (what the cache was
    # built with; see settings_json).
    settings: str
    # The labels, as a JSON list (what the cache was built with).
    labels: str
    # (N,) which view of its photo each input is: 0 the photo itself, 1.. a random view.
    views: np.ndarray
    # Random views made of each photo besides the photo itself (see random_view).
    view_count: int

    @property
    def left_out_folders(self) -> list[str]:
        """The folder of each photo left out (no garment found, or unreadable)."""
        return [relative.split("/")[0] for relative in self.left_out]

    @property
    def checksum(self) -> str:
        """SHA-256 over the sources' names and checksums, the labels and the settings."""
        digest = hashlib.sha256()
        for path in sorted(self.sources):
            digest.update(f"{path}\0{self.sources[path]}\n".encode())
        digest.update(self.labels.encode())
        digest.update(self.settings.encode())
        digest.update(str(self.view_count).encode())
        return digest.hexdigest()

    def counts(self) -> dict:
        """Photos used per folder (each photo once, whatever its views)."""
        names, counts = np.unique(self.folders[self.views == 0], return_counts=True)
        return {str(name): int(count) for name, count in zip(names, counts)}


LABEL_COLUMNS = ("folder", "accepted_classes", "group_classes")  # labels.csv, in order.


def read_labels(path) -> list[FolderLabels]:
    """Parses labels.csv; raises ValueError naming the line that is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Labels file {path} does not exist.")
    labels = []
    try:
        # utf-8-sig: a byte-order mark (spreadsheets write one) is not part of the header.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if header != list(LABEL_COLUMNS):
                raise ValueError(f"{path} line 1 must be the header "
                                 f"{','.join(LABEL_COLUMNS)}; got {','.join(header)!r}.")
            for row in reader:
                if not row or not "".join(row).strip():
                    continue  # A blank line.
                try:
                    labels.append(folder_labels_of(row, labels))
                except ValueError as error:
                    raise ValueError(f"{path} line {reader.line_num}: {error} Fix that line "
                                     "(see the README's labels.csv).") from error
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path} is not a CSV text file ({error}).") from error
    if not labels:
        raise ValueError(f"{path} lists no folders.")
    return labels


def folder_labels_of(row: list[str], earlier: list[FolderLabels]) -> FolderLabels:
    """One row of labels.csv (three fields) as FolderLabels; raises ValueError saying what is
    wrong: a field count other than three, a folder that is not one plain sub-folder name (so
    that a row never applies to the whole collection) or is named twice, classes that are not
    indices 0-9 separated by spaces, or accepted classes outside the group."""
    if len(row) != len(LABEL_COLUMNS):
        raise ValueError(f"{len(row)} fields where {len(LABEL_COLUMNS)} are expected "
                         f"({','.join(LABEL_COLUMNS)}); classes are separated by spaces, not "
                         "commas.")
    folder = row[0].strip()
    if folder in ("", ".", "..") or any(separator in folder for separator in "/\\"):
        raise ValueError(f"folder {folder!r} is not the name of one sub-folder.")
    if any(item.folder == folder for item in earlier):
        raise ValueError(f"folder {folder!r} is listed twice.")
    classes = []
    for column, text in zip(LABEL_COLUMNS[1:], row[1:]):
        values = text.split()
        if not values or not all(value.isdecimal() and int(value) < NUM_CLASSES
                                 for value in values):
            raise ValueError(f"{column} {text.strip()!r} must be class indices 0-"
                             f"{NUM_CLASSES - 1} separated by spaces.")
        classes.append(tuple(int(value) for value in values))
    accepted, group = classes
    if not set(accepted) <= set(group):
        raise ValueError(f"accepted_classes {' '.join(map(str, accepted))} must all be among "
                         f"group_classes {' '.join(map(str, group))}.")
    return FolderLabels(folder, accepted, group)


def class_folder_labels(directory) -> list[FolderLabels]:
    """The labels of a taught folder: one per sub-folder named by a class index 0-9, which
    accepts that class; its group's classes are the right group. [] when there is none."""
    directory = Path(directory)
    names = sorted(entry.name for entry in directory.iterdir()
                   if entry.is_dir() and entry.name in {str(index) for index in range(NUM_CLASSES)}) \
        if directory.is_dir() else []
    return [FolderLabels(name, (int(name),), GROUPS[group_of(int(name))]) for name in names]


def labels_for(directory) -> list[FolderLabels]:
    """The labels of a photo folder: DIR/labels.csv, or, when it has none, its class-index
    sub-folders 0-9 (class_folder_labels). Raises ValueError when it has neither."""
    path = Path(directory) / "labels.csv"
    if path.is_file():
        return read_labels(path)
    labels = class_folder_labels(directory)
    if not labels:
        raise ValueError(f"Labels file {path} does not exist, and {directory} has no "
                         "sub-folders named by class index 0-9 (as the app saves taught "
                         "examples); give a labels file.")
    return labels


def labelled_files(directory, labels: list[FolderLabels]) -> list[tuple[FolderLabels, Path]]:
    """(folder labels, path) of every image file in the labelled folders, in sorted order.

    A labelled folder that does not exist is reported on stderr and skipped.
    """
    found = []
    for folder_labels in labels:
        folder = Path(directory) / folder_labels.folder
        if not folder.is_dir():
            print(f"Warning: folder {folder} from the labels does not exist; skipped.",
                  file=sys.stderr)
            continue
        found += [(folder_labels, path) for path in image_files.find_images([folder])
                  if not path.name.endswith(CROP_SUFFIX)]  # A saved example's crop.
    return found


def class_mask(indices) -> np.ndarray:
    """bool (10,): True at the given class indices."""
    mask = np.zeros(NUM_CLASSES, dtype=bool)
    mask[list(indices)] = True
    return mask


def random_view(image: np.ndarray, random: np.random.Generator) -> np.ndarray:
    """The photo as a camera might have framed it instead: cropped to 75-100% of each side
    (so the centre moves), turned by up to 10 degrees, and lighter or darker by up to 15%."""
    height, width = image.shape[:2]
    crop_height = int(height * random.uniform(0.75, 1.0))
    crop_width = int(width * random.uniform(0.75, 1.0))
    top = int(random.integers(0, height - crop_height + 1))
    left = int(random.integers(0, width - crop_width + 1))
    view = image[top:top + crop_height, left:left + crop_width]
    turn = cv2.getRotationMatrix2D((crop_width / 2, crop_height / 2),
                                   float(random.uniform(-10, 10)), 1.0)
    view = cv2.warpAffine(view, turn, (crop_width, crop_height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)
    return cv2.convertScaleAbs(view, alpha=float(random.uniform(0.85, 1.15)))


def random_settings(config: SegmentationConfig,
                    random: np.random.Generator) -> SegmentationConfig:
    """config with its colour ranges, background model, closing and sampling windows moved at
    random within about a third of their defaults, and the second look left out one time in
    five: the masks a garment could get from a slightly different segmentation."""
    return dataclasses.replace(
        config,
        hue_tolerance=int(random.integers(8, 19)),
        saturation_tolerance=int(random.integers(50, 91)),
        value_tolerance=int(random.integers(50, 91)),
        background_tolerance=int(random.integers(70, 131)),
        border_ratio=float(random.uniform(2.0, 5.0)),
        close_kernel=int(random.choice([3, 5, 7])),
        garment_window=float(random.uniform(0.3, 0.5)),
        sample_window=float(random.uniform(0.06, 0.14)),
        second_look=bool(random.random() < 0.8))


def build_photo_set(directory, labels: list[FolderLabels],
                    config: SegmentationConfig = SegmentationConfig(),
                    progress: bool = True, view_count: int = 0) -> PhotoSet:
    """Segments every labelled photo once at config (and view_count random views of it, see
    random_view, each at settings drawn by random_settings); unreadable photos and those with
    no garment are reported on stderr and left out. The views are the same for the same
    files: their seeds are fixed."""
    directory = Path(directory)
    labelled = labelled_files(directory, labels)
    random, settings_random = np.random.default_rng(0), np.random.default_rng(1)
    rows, sources, left_out = [], {}, {}
    for folder_labels, path in tqdm(labelled, desc="segmenting photos", unit="photo",
                                    file=sys.stderr, disable=not progress):
        relative = path.relative_to(directory).as_posix()
        try:
            data = path.read_bytes()
            sources[relative] = hashlib.sha256(data).hexdigest()
            if path.name.endswith(INPUT_SUFFIX):  # A saved example's 28x28 input: as it is.
                rows.append((read_model_input(path), class_mask(folder_labels.accepted_classes),
                             class_mask(folder_labels.group_classes), folder_labels.folder,
                             relative, 0))
                continue
            image = image_files.decode_image(data, path)
        except (OSError, image_files.ImageReadError) as error:
            left_out[relative] = f"unreadable: {error}"
            continue
        result = segment(image, config)
        if not result.found:
            left_out[relative] = f"no garment found ({result.reason})"
            continue
        accepted = class_mask(folder_labels.accepted_classes)
        group = class_mask(folder_labels.group_classes)
        rows.append((result.model_input, accepted, group, folder_labels.folder, relative, 0))
        for view in range(1, view_count + 1):
            framed = random_view(image, random)
            view_result = segment(framed, random_settings(config, settings_random))
            if view_result.found:
                rows.append((view_result.model_input, accepted, group, folder_labels.folder,
                             relative, view))
    for relative, reason in left_out.items():
        print(f"  left out {relative}: {reason}", file=sys.stderr)
    if not rows:
        raise ValueError(f"No usable photos under {directory}: the folders named in the labels "
                         f"({', '.join(item.folder for item in labels)}) hold no image in which "
                         "a garment was found.")
    images, accepted, group, folders, paths, views = zip(*rows)
    return PhotoSet(images=np.stack(images), accepted=np.stack(accepted),
                    group=np.stack(group), folders=np.array(folders), paths=np.array(paths),
                    sources=sources, left_out=left_out,
                    settings=settings_json(config), labels=labels_json(labels),
                    views=np.array(views), view_count=view_count)


@functools.cache
def segmentation_code() -> str:
    """SHA-256 (first 16 digits) of the segmentation's code, so a cache made by other code is
    not taken for current; read once per process, as the code it runs is loaded once."""
    digest = hashlib.sha256()
    for module in (steps, pipeline):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def settings_json(config: SegmentationConfig) -> str:
    """The settings the photos are segmented with, and the code that does it."""
    return json.dumps({**dataclasses.asdict(config), "code": segmentation_code()},
                      sort_keys=True)


def labels_json(labels: list[FolderLabels]) -> str:
    return json.dumps([dataclasses.asdict(item) for item in labels])


def write_photo_set(path, photo_set: PhotoSet) -> None:
    """Writes the cache file (atomically: a half-written cache is never read)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with files.atomic_path(path) as temporary:
        np.savez_compressed(
            temporary, format=CACHE_FORMAT, images=photo_set.images,
            accepted=photo_set.accepted, group=photo_set.group, folders=photo_set.folders,
            paths=photo_set.paths, views=photo_set.views, view_count=photo_set.view_count,
            sources=json.dumps(photo_set.sources), left_out=json.dumps(photo_set.left_out),
            settings=photo_set.settings, labels=photo_set.labels)


def read_photo_set(path) -> PhotoSet:
    """Reads a cache file; raises ValueError when it is not one."""
    try:
        with np.load(path) as archive:
            if int(archive["format"]) != CACHE_FORMAT:
                raise ValueError(f"cache format {int(archive['format'])}, "
                                 f"expected {CACHE_FORMAT}")
            return PhotoSet(images=archive["images"], accepted=archive["accepted"],
                            group=archive["group"], folders=archive["folders"],
                            paths=archive["paths"], sources=json.loads(str(archive["sources"])),
                            left_out=json.loads(str(archive["left_out"])),
                            settings=str(archive["settings"]), labels=str(archive["labels"]),
                            views=archive["views"], view_count=int(archive["view_count"]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as error:
        # Empty, truncated or foreign: the caller builds the cache again.
        raise ValueError(f"{path} is not a photo cache ({error}).") from error


def cache_is_current(photo_set: PhotoSet, directory, labels: list[FolderLabels],
                     config: SegmentationConfig, view_count: int = 0) -> bool:
    """True when the cache was built from these very files, labels, settings and views."""
    if photo_set.settings != settings_json(config) or photo_set.labels != labels_json(labels) \
            or photo_set.view_count != view_count:
        return False
    directory = Path(directory)
    labelled = labelled_files(directory, labels)
    relatives = {path.relative_to(directory).as_posix(): path for _, path in labelled}
    if set(relatives) != set(photo_set.sources):
        return False
    return all(files.sha256_of_file(path) == photo_set.sources[relative]
               for relative, path in relatives.items())


def default_cache_path(directory, view_count: int = 0) -> Path:
    """runs/photo-cache/<folder name>-<hash of its absolute path>[-<views>views].npz."""
    resolved = Path(directory).resolve()
    key = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    views = f"-{view_count}views" if view_count else ""
    return Path("runs") / "photo-cache" / f"{resolved.name}-{key}{views}.npz"


def load_photo_set(directory, labels_path=None, cache=None,
                   config: SegmentationConfig = SegmentationConfig(),
                   progress: bool = True, view_count: int = 0) -> PhotoSet:
    """The photo set of a labelled folder, from the cache when it is current, else built and
    cached. labels_path defaults to DIR/labels.csv (or DIR's class-index sub-folders, see
    labels_for), cache to default_cache_path(DIR)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"Photo folder {directory} does not exist.")
    labels = read_labels(labels_path) if labels_path else labels_for(directory)
    cache = Path(cache) if cache else default_cache_path(directory, view_count)
    if cache.is_file():
        try:
            cached = read_photo_set(cache)
            if cache_is_current(cached, directory, labels, config, view_count):
                if progress:
                    print(f"  photos of {directory}: {len(cached.images)} from {cache}",
                          file=sys.stderr)
                return cached
            print(f"  {cache}: photos, labels or settings changed; rebuilding.",
                  file=sys.stderr)
        except ValueError as error:
            print(f"  {error} Rebuilding it.", file=sys.stderr)
    photo_set = build_photo_set(directory, labels, config, progress, view_count)
    try:
        write_photo_set(cache, photo_set)
        cached_in = f"cached in {cache}"
    except OSError as error:  # The cache only saves time: go on without it.
        cached_in = (f"the cache {cache} could not be written ({error.strerror or error}), so "
                     "they are not cached (run from a folder you can write to, to keep it)")
    if progress or not cached_in.startswith("cached"):
        print(f"  photos of {directory}: {len(photo_set.images)} used, "
              f"{len(photo_set.left_out)} left out; {cached_in}", file=sys.stderr)
    return photo_set
