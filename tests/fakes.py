"""Small fakes shared by the tests, so that no window or per-frame test depends on the
shipped model's answers."""

import numpy as np

TSHIRT = 0  # The class index the fake predictor always names.


class FakePredictor:
    """Always T-shirt/top (90%); the embedding is the input's 4x4 block means, centred, so
    different shapes point in different directions. embedding=False: probabilities only."""

    path = None

    def __init__(self, embedding=True):
        self.embedding_size = 16 if embedding else None
        self.calls = 0

    def predict(self, images):
        self.calls += 1
        probabilities = np.full(10, 0.1 / 9, np.float32)
        probabilities[TSHIRT] = 0.9
        return np.repeat(probabilities[np.newaxis], len(np.atleast_3d(images)), axis=0)

    def predict_with_embedding(self, images):
        images = np.asarray(images, np.float32).reshape(-1, 28, 28)
        blocks = images.reshape(len(images), 4, 7, 4, 7).mean(axis=(2, 4)).reshape(-1, 16)
        return self.predict(images), blocks - 64
