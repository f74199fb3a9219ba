"""Paths of the assets that ship with the repository: the one place that names them."""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

# The trained classifier, as a LiteRT flatbuffer (used by the app) and as a Keras file.
SHIPPED_TFLITE_MODEL = ASSETS_DIR / "fashion_cnn.tflite"
SHIPPED_KERAS_MODEL = ASSETS_DIR / "fashion_cnn.keras"
SHIPPED_MODEL_CARD = ASSETS_DIR / "model_card.json"

# The demo clip that the app plays when no camera is there.
DEMO_VIDEO = ASSETS_DIR / "demo.mp4"
