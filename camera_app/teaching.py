"""Teach mode of the app without Qt: open the taught examples, teach a frame, forget them all.

    taught, note = open_taught(folder, predictor, settings)   # None (and why) when teaching is off
    taught, note = teach(folder, taught, result, 4, predictor, settings)   # "this is a Coat"
    taught, note = forget(folder, taught)

The examples live in a folder laid out as model.taught describes (sub-folders 0-9).
Each function returns a new TaughtExamples (never changes one), so the window can hand it to
the frame worker in one assignment, and a message for the user.
"""

from __future__ import annotations

from model.classes import CLASS_NAMES
from model.taught import TaughtExamples, forget_all, load_taught, save_example

MAX_SKIPPED_SHOWN = 3  # Skipped files named in the window's message; the rest are counted.


def class_label(class_index: int, count: int = 0) -> str:
    """How the window names a class: its index (the key that teaches it), its name, and how
    many examples were taught."""
    label = f"{class_index} {CLASS_NAMES[class_index]}"
    return f"{label} ({count} taught)" if count else label


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
    if result is None or not result.segmentation.found or result.embedding is None:
        raise ValueError("No garment in view to teach: hold it over the small square in the "
                         "middle and press the key again.")
    path = save_example(folder, class_index, result.segmentation.model_input,
                        result.segmentation.crop, result.embedding, predictor,
                        settings.flip_averaging)
    taught = taught.with_example(result.embedding, class_index, str(path))
    return taught, (f"Taught: this is a {CLASS_NAMES[class_index]} "
                    f"({int(taught.counts()[class_index])} example(s), saved in {folder}).")


def forget(folder, taught: TaughtExamples) -> tuple[TaughtExamples, str]:
    """Removes every taught example of the folder; returns an empty set and a message."""
    removed = forget_all(folder)
    return (TaughtExamples.empty(taught.embeddings.shape[1], taught.threshold),
            f"Forgot {len(taught)} taught example(s) ({removed} file(s) removed from {folder}).")
