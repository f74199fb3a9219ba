"""Export of a trained Keras model to a float32 LiteRT flatbuffer.

    python -m model.export MODEL.keras [--out MODEL.tflite]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import tensorflow as tf


def export_tflite(model, path: Path) -> Path:
    """Converts through a concrete function, which works in Keras 2.15 and Keras 3 alike."""

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="pixels")])
    def serve(pixels):
        return model(pixels, training=False)

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function()], model)
    path = Path(path)
    path.write_bytes(converter.convert())
    return path


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
