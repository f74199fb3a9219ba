"""Export of a trained Keras model to a LiteRT flatbuffer: float32, or int8 with --quantize.

    python -m model.export MODEL.keras [--out MODEL.tflite]
    python -m model.export MODEL.keras --quantize [--photos DIR --photo-labels FILE]

With --quantize, MODEL.tflite gets dynamic-range int8 weights (float input and output, the
app's default) and MODEL_float32.tflite the float export; the int8 model is checked against the
float one (Fashion-MNIST validation accuracy within 0.1 point, test reported; with --photos, how often they name
the same class) and the figures go into the model card beside the model (model.quantize).

The flatbuffer has two outputs from one invoke: the class probabilities (N, 10) and the
embedding (N, dense_units), the output of the hidden dense layer `dense_relu` that the
classifier reads. LiteRT names them Identity, Identity_1 and may reorder them, so readers
tell them apart by width (see model.predictor). A model without a `dense_relu` layer is
exported with the probabilities only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from model import quantize
from model.data import DatasetError, load_fashion_mnist
from model.network import with_embedding
from model.paths import CARD_FILE
from model.predictor import ModelLoadError, find_outputs
from segmentation import files


def export_tflite(model, path: Path) -> Path:
    """Converts through a concrete function, which works in Keras 2.15 and Keras 3 alike.

    The model is deliberately not passed to the converter as its trackable object: with it,
    TensorFlow 2.21 keeps the weights as uninitialised resource variables and the LiteRT
    model outputs NaN. The export is checked against the Keras model before it is written.
    """
    flatbuffer = to_flatbuffer(model)
    check_export(model, flatbuffer)
    path = Path(path)
    files.write_bytes(path, flatbuffer)  # Whole, or not at all.
    return path


def to_flatbuffer(model, quantize: bool = False) -> bytes:
    """The model (with its embedding output) as a LiteRT flatbuffer, unchecked: float32, or
    with quantize dynamic-range int8 weights (tf.lite.Optimize.DEFAULT without a
    representative dataset, so input and output stay float32)."""
    exported_model = with_embedding(model)

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="pixels")])
    def serve(pixels):
        return exported_model(pixels, training=False)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def check_export(model, flatbuffer: bytes, tolerance: float = 1e-4) -> None:
    """Raises ValueError unless LiteRT and Keras give the same probabilities, and the same
    embedding when the model has one, on sample inputs."""
    from ai_edge_litert.interpreter import Interpreter

    samples = np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1)).astype(np.float32)
    interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
    input_index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, samples.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_index, samples)
    interpreter.invoke()
    try:
        outputs = find_outputs(interpreter.get_output_details())
    except ModelLoadError as error:
        raise ValueError(f"The LiteRT export has outputs that cannot be told apart: {error}")
    expected = with_embedding(model)(samples, training=False)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    for name, detail, wanted in zip(("probabilities", "embedding"), outputs, expected):
        wanted = np.asarray(wanted)
        got = None if detail is None else interpreter.get_tensor(detail["index"])
        if got is None or got.shape != wanted.shape:
            raise ValueError(f"The LiteRT export gives {name} of shape "
                             f"{None if got is None else got.shape}, Keras {wanted.shape}; "
                             "the conversion is broken.")
        if not np.allclose(got, wanted, rtol=tolerance, atol=tolerance):
            difference = np.abs(got - wanted).max()
            raise ValueError(f"The LiteRT export's {name} differ from the Keras model by up to "
                             f"{difference} (allowed {tolerance}, relative and absolute); "
                             "the conversion is broken.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a .keras file")
    parser.add_argument("--out", help="the .tflite file to write (default: beside the model)")
    parser.add_argument("--quantize", action="store_true",
                        help="write --out with int8 weights and the float export beside it "
                             "(NAME_float32.tflite), after checking one against the other")
    parser.add_argument("--float-out", help="with --quantize: the float export's file "
                                            "(default: NAME_float32.tflite beside --out)")
    parser.add_argument("--card", help="with --quantize: the model card to record the figures "
                                       "in (default: model_card.json beside the model)")
    parser.add_argument("--data-dir", help="with --quantize: Fashion-MNIST's folder (default: "
                                           "where model.data finds it)")
    parser.add_argument("--photos", help="with --quantize: a folder of labelled photos (e.g. "
                                         "PHOTOS/validation) to compare the answers on")
    parser.add_argument("--photo-labels", help="the labels.csv of --photos")
    arguments = parser.parse_args(argv)
    if not arguments.quantize and (arguments.float_out or arguments.card or arguments.photos
                                   or arguments.data_dir):
        parser.error("--float-out, --card, --data-dir and --photos go with --quantize.")
    if bool(arguments.photos) != bool(arguments.photo_labels):
        parser.error("--photos and --photo-labels go together.")
    if not Path(arguments.model).is_file():
        print(f"error: {arguments.model}: no such file. Pass the .keras file that model.train "
              "wrote.", file=sys.stderr)
        return 2
    out = Path(arguments.out or Path(arguments.model).with_suffix(".tflite"))
    float_out = Path(arguments.float_out) if arguments.float_out else quantize.float_path(out)
    card = Path(arguments.card) if arguments.card else Path(arguments.model).parent / CARD_FILE
    unwritable = [problem for path in ([out, float_out, card] if arguments.quantize else [out])
                  if (problem := cannot_write(path))]
    if unwritable:  # Before any conversion: the files are written together or not at all.
        print(f"error: {unwritable[0]}; nothing was written.", file=sys.stderr)
        return 2
    import keras

    try:
        model = keras.models.load_model(arguments.model, compile=False)
    except Exception as error:  # Keras raises many kinds for a bad file.
        print(f"error: {arguments.model}: cannot load it as a Keras model ({error}). Pass the "
              ".keras file that model.train wrote.", file=sys.stderr)
        return 2
    if arguments.quantize:
        return export_int8(model, out, float_out, card, arguments)
    try:
        print(f"wrote {export_tflite(model, out)}")
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def cannot_write(path: Path) -> str:
    """Why the file path cannot be written ("" when it can): a folder in its place, or a
    folder around it that is missing or not writable."""
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    if not path.parent.is_dir():
        return f"the folder of {path} does not exist"
    if not os.access(path.parent, os.W_OK):
        return f"the folder of {path} cannot be written to"
    return ""


def export_int8(model, out: Path, float_out: Path, card: Path, arguments) -> int:
    """The --quantize command: both exports checked and written, the card updated."""
    try:
        dataset = load_fashion_mnist(arguments.data_dir)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        float_flatbuffer = to_flatbuffer(model)
        check_export(model, float_flatbuffer)
        entry = quantize.write_checked(float_flatbuffer, to_flatbuffer(model, quantize=True),
                                       out, float_out, dataset, card, arguments.photos,
                                       arguments.photo_labels)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(quantize.summary(entry))
    print(f"wrote {out} (int8), {float_out} (float32), the entry '{quantize.CARD_KEY}' of {card}")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
