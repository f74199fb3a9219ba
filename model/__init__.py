"""Fashion-MNIST data, the CNN, its training, evaluation, export and inference.

This package never imports Qt or `camera_app`. TensorFlow is imported only by the modules
that train, evaluate or export; `model.predictor` runs without it. `model.train` and
`model.evaluate` import `model.photos` only when given labelled photos, which they see
through the app's segmentation.
"""
