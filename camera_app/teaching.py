"""Teach mode of the app without Qt: open the taught examples, teach a frame, undo, delete,
forget, export and import them.

    taught, note = open_taught(folder, predictor, settings)   # None (and why) when teaching is off
    taught, note = teach(folder, taught, result, 4, predictor, settings)   # "this is a Coat"
    taught, note = teach(folder, taught, result, NOTHING, predictor, settings)  # no garment
    taught, note = remove_example(taught, path, "Undone")     # undo, or delete in the gallery
    taught, note = forget_one_class(folder, taught, 4)
    taught, note = forget(folder, taught)
    note = export(folder, "taught.zip")
    taught, note = import_and_open("taught.zip", folder, predictor, settings)
    entries = gallery_entries(taught)                          # for the gallery, by class

The examples live in a folder laid out as model.taught describes (sub-folders 0-9).
Each function returns a new TaughtExamples (never changes one), so the window can hand it to
the frame worker in one assignment, and a message for the user.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from model.classes import CLASS_NAMES
from model.taught import (
    CROP_SUFFIX,
    INPUT_SUFFIX,
    NOTHING,
    TaughtExamples,
    delete_example,
    example_date,
    export_zip,
    forget_all,
    forget_class,
    import_examples,
    import_summary,
    load_taught,
    save_example,
)

MAX_SKIPPED_SHOWN = 3  # Skipped files named in the window's message; the rest are counted.


NOTHING_NAME = "nothing (no garment)"  # How the window names the "nothing" class.


def class_name(class_index: int) -> str:
    """The name of a class index, NOTHING included."""
    return NOTHING_NAME if class_index == NOTHING else CLASS_NAMES[class_index]


def class_label(class_index: int, count: int = 0) -> str:
    """How the window names a class: its key (the index, or n for "nothing"), its name, and
    how many examples were taught."""
    key = "n" if class_index == NOTHING else str(class_index)
    label = f"{key} {class_name(class_index)}"
    return f"{label} ({count} taught)" if count else label


def taught_count(taught: TaughtExamples, class_index: int) -> int:
    """How many examples of a class index (NOTHING included) are taught."""
    return int((taught.classes == class_index).sum())


def skipped_message(skipped) -> str:
    """One message for the files of a taught folder that were skipped ("" when none)."""
    if not skipped:
        return ""
    shown = "; ".join(skipped[:MAX_SKIPPED_SHOWN])
    more = len(skipped) - MAX_SKIPPED_SHOWN
    return (f"Skipped {len(skipped)} file(s) of the taught examples: {shown}"
            + (f"; and {more} more" if more > 0 else "")
            + ". Remove them, or put photos and saved examples in sub-folders named 0-9.")


def open_taught(folder, predictor, settings,
                progress=None) -> tuple[TaughtExamples | None, str]:
    """The taught examples of the folder, or None when teaching is off; and a message.

    Teaching is off without a model or with a model that gives no embedding (the message says
    what to do). settings (FrameSettings) gives the segmentation used for photos in the folder
    and the flip setting the embeddings are made with; progress(files_done, files), when
    given, is called as the folder is read (model.taught.load_taught).
    """
    if predictor is None:
        return None, "Teaching is off: no model is loaded."
    if getattr(predictor, "embedding_size", None) is None:
        return None, (f"Teaching is off: the model {getattr(predictor, 'path', '')} gives no "
                      "embedding. Export it again with `python -m model.export MODEL.keras "
                      "--out MODEL.tflite` and start the app with --model MODEL.tflite.")
    taught = load_taught(folder, predictor, settings.segmentation, progress=progress,
                         flip=settings.flip_averaging)
    return taught, skipped_message(taught.skipped)


def teach(folder, taught: TaughtExamples, result, class_index: int, predictor,
          settings) -> tuple[TaughtExamples, str]:
    """Saves the garment of a FrameResult as an example of class_index and returns the taught
    examples with it added, and a message. Raises ValueError when the frame holds no garment
    (or was classified without an embedding); OSError when the folder is not writable."""
    if class_index == NOTHING and (result is None or not result.segmentation.found):
        raise ValueError("Nothing to teach: no object is found in view, so the app already "
                         "says \"no garment\" here.")
    if result is None or not result.segmentation.found or result.embedding is None:
        raise ValueError("No garment in view to teach: hold it over the small square in the "
                         "middle and press the key again.")
    path = save_example(folder, class_index, result.segmentation.model_input,
                        result.segmentation.crop, result.embedding, predictor,
                        settings.flip_averaging)
    taught = taught.with_example(result.embedding, class_index, str(path))
    what = "no garment" if class_index == NOTHING else f"a {CLASS_NAMES[class_index]}"
    return taught, (f"Taught: this is {what} ({taught_count(taught, class_index)} "
                    f"example(s), saved in {folder}).")


def forget(folder, taught: TaughtExamples) -> tuple[TaughtExamples, str]:
    """Removes every taught example of the folder; returns an empty set and a message."""
    removed = forget_all(folder)
    return (TaughtExamples.empty(taught.embeddings.shape[1], taught.threshold),
            f"Forgot {len(taught)} taught example(s) ({removed} file(s) removed from {folder}).")


def remove_example(taught: TaughtExamples, path, done: str = "Deleted") -> tuple[
        TaughtExamples, str]:
    """Removes one taught example (its files, and from the set) by its source path: undo and
    the gallery's delete. Raises OSError when its files cannot be removed."""
    path = str(path)
    classes = [int(index) for index, source in zip(taught.classes, taught.sources)
               if source == path]
    delete_example(path)
    remaining = taught.without_sources([path])
    name = class_name(classes[0]) if classes else "taught"
    return remaining, (f"{done}: a {name} example ({Path(path).name}); {len(remaining)} "
                       "taught example(s) left.")


def forget_one_class(folder, taught: TaughtExamples, class_index: int) -> tuple[
        TaughtExamples, str]:
    """Removes the taught examples of one class index (NOTHING included); the others stay."""
    removed = forget_class(folder, class_index)
    remaining = taught.without_class(class_index)
    return remaining, (f"Forgot the {len(taught) - len(remaining)} {class_name(class_index)} "
                       f"example(s) ({removed} file(s) removed from {folder}).")


def export(folder, destination) -> str:
    """Writes the taught folder as one .zip and says so. Raises ValueError when there is
    nothing to export, OSError when the .zip cannot be written."""
    written = export_zip(folder, destination)
    return f"Exported {written} file(s) of the taught examples to {destination}."


def import_and_open(source, folder, predictor, settings, progress=None) -> tuple[
        TaughtExamples | None, str]:
    """Merges a .zip or folder of taught examples into folder (model.taught.import_examples;
    examples of another model or flip setting embedded again), then opens the folder as
    open_taught does. The message names the files refused, or why nothing was imported
    (source neither a .zip nor a folder, folder not writable): the folder opens all the same.
    """
    try:
        report = import_examples(source, folder, predictor, settings.flip_averaging)
    except (ValueError, OSError) as error:
        taught, note = open_taught(folder, predictor, settings, progress)
        return taught, " ".join(text for text in (f"Nothing was imported: {error}", note)
                                if text)
    taught, note = open_taught(folder, predictor, settings, progress)
    refused = "; ".join(report.refused[:MAX_SKIPPED_SHOWN])
    more = len(report.refused) - MAX_SKIPPED_SHOWN
    refused_note = (f" Refused: {refused}" + (f"; and {more} more" if more > 0 else "") + "."
                    if report.refused else "")
    return taught, " ".join(text for text in (import_summary(report, folder) + refused_note,
                                              note) if text)


@dataclass(frozen=True)
class GalleryEntry:
    # The example's source file (its 28x28 input, or a photo): what delete removes.
    path: str
    # Its class index (NOTHING for "nothing").
    class_index: int
    # The picture to show: the saved crop when there is one, else the source itself.
    picture: str
    # When it was taught (from its name, else the file's time), or None.
    date: datetime.datetime | None


def gallery_entries(taught: TaughtExamples) -> list[GalleryEntry]:
    """The taught examples that have a file, by class index then date (newest first)."""
    entries = []
    for class_index, source in zip(taught.classes, taught.sources):
        if not source:
            continue
        crop = source[:-len(INPUT_SUFFIX)] + CROP_SUFFIX if source.endswith(INPUT_SUFFIX) \
            else source
        picture = crop if Path(crop).is_file() else source
        entries.append(GalleryEntry(source, int(class_index), picture, example_date(source)))
    entries.sort(key=lambda entry: (entry.class_index, -(entry.date.timestamp()
                                                          if entry.date else 0)))
    return entries
