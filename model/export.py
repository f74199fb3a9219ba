"""Export of a trained Keras model to a float32 LiteRT flatbuffer.

    python -m model.export MODEL.keras [--out MODEL.tflite]

The flatbuffer has two outputs from one invoke: the class probabilities (N, 10) and the
embedding (N, dense_units), the output of the hidden dense layer `dense_relu` that the
classifier reads. LiteRT names them Identity, Identity_1 and may reorder them, so readers
tell them apart by width (see model.predictor). A model without a `dense_relu` layer is
exported with the probabilities only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from model.network import with_embedding
from model.predictor import ModelLoadError, find_outputs


def export_tflite(model, path: Path) -> Path:
    """Converts through a concrete function, which works in Keras 2.15 and Keras 3 alike.

    The model is deliberately not passed to the converter as its trackable object: with it,
    TensorFlow 2.21 keeps the weights as uninitialised resource variables and the LiteRT
    model outputs NaN. The export is checked against the Keras model before it is written.
    """
    exported_model = with_embedding(model)

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="pixels")])
    def serve(pixels):
        return exported_model(pixels, training=False)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])
    flatbuffer = converter.convert()
    check_export(model, flatbuffer)
    path = Path(path)
    path.write_bytes(flatbuffer)
    return path


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
    arguments = parser.parse_args(argv)
    if not Path(arguments.model).is_file():
        print(f"error: {arguments.model}: no such file. Pass the .keras file that model.train "
              "wrote.", file=sys.stderr)
        return 2
    import keras

    try:
        model = keras.models.load_model(arguments.model, compile=False)
    except Exception as error:  # Keras raises many kinds for a bad file.
        print(f"error: {arguments.model}: cannot load it as a Keras model ({error}). Pass the "
              ".keras file that model.train wrote.", file=sys.stderr)
        return 2
    out = Path(arguments.out or Path(arguments.model).with_suffix(".tflite"))
    try:
        print(f"wrote {export_tflite(model, out)}")
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))
