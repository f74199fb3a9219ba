"""Paths of the shipped model and demo clip: the one place that names them (and reads a card).

In a clone (or an editable install) they sit in the top-level `assets/` folder. A wheel
(`pip install .`, or from a git URL) carries that folder as package data, as `model/assets/`.
"""

import json
import sys
from pathlib import Path

_MODEL_PACKAGE = Path(__file__).resolve().parent
_IN_WHEEL, _IN_CLONE = _MODEL_PACKAGE / "assets", _MODEL_PACKAGE.parent / "assets"
ASSETS_DIR = _IN_WHEEL if _IN_WHEEL.is_dir() else _IN_CLONE

# The names of the files that training writes into its output folder (and assets/ holds).
KERAS_FILE = "fashion_cnn.keras"
TFLITE_FILE = "fashion_cnn.tflite"
# The float32 export beside it when TFLITE_FILE has int8 weights (model.quantize.float_path):
# MODEL.tflite is int8, MODEL_float32.tflite the float export.
FLOAT_SUFFIX = "_float32"
FLOAT_TFLITE_FILE = Path(TFLITE_FILE).stem + FLOAT_SUFFIX + Path(TFLITE_FILE).suffix
CARD_FILE = "model_card.json"

# The trained classifier, as LiteRT flatbuffers (the int8 one used by the app, and float32)
# and as a Keras file.
SHIPPED_TFLITE_MODEL = ASSETS_DIR / TFLITE_FILE  # int8 weights, float input and output
SHIPPED_FLOAT_TFLITE_MODEL = ASSETS_DIR / FLOAT_TFLITE_FILE
SHIPPED_KERAS_MODEL = ASSETS_DIR / KERAS_FILE
SHIPPED_MODEL_CARD = ASSETS_DIR / CARD_FILE

# The demo clip that the app plays when no camera is there, and the photos it is made from.
DEMO_VIDEO = ASSETS_DIR / "demo.mp4"
DEMO_MATERIAL_DIR = ASSETS_DIR / "demo_material"


def read_card_file(card_path: Path) -> dict:
    """A model card as a dict ({} when there is none); raises ValueError naming it when it
    cannot be read or is not a JSON object."""
    card_path = Path(card_path)
    if not card_path.is_file():
        return {}
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"The model card {card_path} cannot be read ({error}); fix or "
                         "remove it.") from error
    if not isinstance(card, dict):
        raise ValueError(f"The model card {card_path} is not a JSON object; fix or remove it.")
    return card


class CardEntryError(ValueError):
    """A model file's entry in the card beside it cannot be used; the message says why."""


def stored_card_entry(model_path, section: str) -> dict | None:
    """card[section][model file name] of the card beside a model file (e.g. "calibration"),
    once its SHA-256 is checked against the file's contents: the one place that reads an
    entry tied to a model file.

    None when there is no card or no such entry (another model). Raises CardEntryError saying
    why when the card cannot be read or the entry was fitted on other contents of the file.
    """
    from segmentation.files import sha256_of_file

    model_path = Path(model_path)
    card_path = model_path.parent / CARD_FILE
    if not card_path.is_file():
        return None
    try:
        entry = json.loads(card_path.read_text()).get(section, {}).get(model_path.name)
        if entry is None:
            return None
        fitted_on = entry["sha256"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CardEntryError(f"{card_path} cannot be read ({error})") from error
    try:
        contents = sha256_of_file(model_path)
    except OSError as error:
        raise CardEntryError(f"{model_path} cannot be read ({error.strerror or error})") \
            from error
    if fitted_on != contents:
        raise CardEntryError(f"the {section} entry in {card_path} was fitted on other "
                             f"contents of {model_path.name}")
    return entry


def report_folder(out, model_path, dry_run: bool) -> Path | None:
    """The folder, made if missing, where a fitting command (model.calibrate,
    model.fit_other_garments) writes its plots: --out when given, else beside the model,
    except in a dry run, which writes nothing beside the model (None: no plots). Raises
    ValueError saying what to do when it cannot be made."""
    out = Path(out) if out is not None else None if dry_run else Path(model_path).parent
    if out is None:
        return None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot write into {out} ({error.strerror or error}); choose another "
                         "--out.") from error
    return out


def finish_card_entry(card_path: Path, card: dict, section: str, model_path, entry: dict,
                      dry_run: bool, what: str) -> int:
    """The end of a fitting command: stores entry for the model file (store_card_entry)
    unless dry_run and says so; returns the exit status, 2 with a message when the card
    cannot be written (then nothing is stored)."""
    if dry_run:
        return 0
    name = Path(model_path).name
    try:
        store_card_entry(card_path, card, section, name, entry)
    except OSError as error:
        print(f"error: cannot write {card_path} ({error.strerror or error}); nothing was "
              "stored. Copy the model to a folder you can write to and run it there.",
              file=sys.stderr)
        return 2
    print(f"Wrote the {what} for {name} into {card_path}")
    return 0


def store_card_entry(card_path: Path, card: dict, section: str, file_name: str,
                     entry: dict) -> None:
    """Writes card (as read by read_card_file) with entry under card[section][file_name]
    (e.g. "calibration", "fashion_cnn.tflite"), whole or not at all."""
    from segmentation.files import write_text

    card.setdefault(section, {})[file_name] = entry
    write_text(card_path, json.dumps(card, indent=2) + "\n")
