"""Fashion-MNIST data, the CNN, its training, evaluation, export and inference.

It sits between the app and the segmentation (lint-imports checks the layers): it imports
`segmentation`, which sees labelled and taught photos as the app does, and never Qt or
`camera_app`. TensorFlow is imported only inside the functions that train, evaluate `.keras`
files or export; `model.predictor` runs without it.
"""
