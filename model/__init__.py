"""Fashion-MNIST data, the CNN, its training, evaluation, export and inference.

This package never imports Qt, `segmentation` or `camera_app`. TensorFlow is imported
only by the modules that train, evaluate or export; `model.predictor` runs without it.
"""
