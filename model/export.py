"""Export of a trained Keras model to a float32 LiteRT flatbuffer.

    python -m model.export MODEL.keras [--out MODEL.tflite]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tensorflow as tf


def export_tflite(model, path: Path) -> Path:
    """Converts through a concrete function, which works in Keras 2.15 and Keras 3 alike.

    The model is deliberately not passed to the converter as its trackable object: with it,
    TensorFlow 2.21 keeps the weights as uninitialised resource variables and the LiteRT
    model outputs NaN. The export is checked against the Keras model before it is written.
    """

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="pixels")])
    def serve(pixels):
        return model(pixels, training=False)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])
    flatbuffer = converter.convert()
    check_export(model, flatbuffer)
    path = Path(path)
    path.write_bytes(flatbuffer)
    return path


def check_export(model, flatbuffer: bytes, tolerance: float = 1e-4) -> None:
    """Raises ValueError unless LiteRT and Keras give the same probabilities on sample inputs."""
    from ai_edge_litert.interpreter import Interpreter

    samples = np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1)).astype(np.float32)
    interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
    input_index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, samples.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_index, samples)
    interpreter.invoke()
    exported = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    expected = np.asarray(model(samples, training=False))
    if not np.allclose(exported, expected, rtol=tolerance, atol=tolerance):
        difference = np.abs(exported - expected).max()
        raise ValueError(f"The LiteRT export differs from the Keras model by up to {difference} "
                         f"(allowed {tolerance}, relative and absolute); the conversion is broken.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a .keras file")
    parser.add_argument("--out", help="the .tflite file to write (default: beside the model)")
    arguments = parser.parse_args(argv)
    import keras

    model = keras.models.load_model(arguments.model, compile=False)
    out = Path(arguments.out or Path(arguments.model).with_suffix(".tflite"))
    print(f"wrote {export_tflite(model, out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
