"""Taught examples: the folder store and the nearest-example rule, with a fake predictor."""

import cv2
import numpy as np
import pytest

from model.taught import (
    NOTHING,
    THRESHOLD,
    TaughtExamples,
    embed,
    forget_all,
    load_taught,
    save_example,
)
from synthetic_images import tshirt_photo


class FakePredictor:
    """Embeds an image as its 4x4 grid of block means; always answers class 0 (70%)."""

    embedding_size = 16

    def __init__(self, path=None):
        self.path = path
        self.images_seen = 0

    def predict_with_embedding(self, images):
        images = np.asarray(images, np.float32)
        self.images_seen += len(images)
        blocks = images.reshape(len(images), 4, 7, 4, 7).mean(axis=(2, 4)).reshape(-1, 16)
        probabilities = np.tile(np.float32([0.7] + [0.3 / 9] * 9), (len(images), 1))
        return probabilities, blocks + 1  # + 1 keeps a black image from a zero embedding


def garment(seed: int) -> np.ndarray:
    """A random 28x28 input; different seeds give far-apart embeddings."""
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def test_examples_persist_across_a_restart_and_forgetting_removes_them(tmp_path):
    predictor = FakePredictor()
    for seed, class_index in ((1, 4), (2, 4), (3, 7)):
        _, embedding = embed(predictor, garment(seed))
        path = save_example(tmp_path, class_index, garment(seed),
                            np.full((40, 30, 3), 90, np.uint8), embedding[0], predictor)
        assert path.parent.name == str(class_index) and path.is_file()
    assert len(list((tmp_path / "4").glob("*.crop.jpg"))) == 2
    restarted = load_taught(tmp_path, FakePredictor())
    assert restarted.skipped == ()
    assert restarted.counts().tolist() == [0, 0, 0, 0, 2, 0, 0, 1, 0, 0]
    assert np.allclose(np.linalg.norm(restarted.embeddings, axis=1), 1)
    decision = restarted.decide(embed(predictor, garment(3))[1][0],
                                embed(predictor, garment(3))[0][0])
    assert decision.taught and decision.class_index == 7
    assert forget_all(tmp_path) == 9  # three inputs, crops and embeddings
    assert len(load_taught(tmp_path, predictor)) == 0


def test_saved_embeddings_are_used_while_the_model_file_is_the_same(tmp_path):
    model_file = tmp_path / "model.tflite"
    model_file.write_bytes(b"model one")
    predictor = FakePredictor(model_file)
    _, embedding = embed(predictor, garment(1))
    save_example(tmp_path / "taught", 2, garment(1), None, embedding[0], predictor)
    loading = FakePredictor(model_file)
    assert len(load_taught(tmp_path / "taught", loading)) == 1 and loading.images_seen == 0
    model_file.write_bytes(b"model two")  # a new model: the example is embedded again
    assert len(load_taught(tmp_path / "taught", loading)) == 1 and loading.images_seen == 2


def test_corrupt_and_foreign_files_are_skipped_with_a_message(tmp_path):
    predictor = FakePredictor()
    save_example(tmp_path, 1, garment(1))
    (tmp_path / "0").mkdir()
    cv2.imwrite(str(tmp_path / "0" / "tshirt.jpg"), tshirt_photo()[0])  # a photo of any size
    (tmp_path / "0" / "broken.jpg").write_bytes(b"not an image at all")
    (tmp_path / "0" / "notes.txt").write_text("my shirts")
    (tmp_path / "1" / "bad.input.png").write_bytes(b"\x89PNG truncated")
    cv2.imwrite(str(tmp_path / "1" / "blank.png"), np.zeros((200, 200, 3), np.uint8))
    (tmp_path / "hats").mkdir()
    taught = load_taught(tmp_path, predictor)
    assert taught.counts().tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    messages = "\n".join(taught.skipped)
    for name in ("broken.jpg", "notes.txt", "bad.input.png", "blank.png", "hats"):
        assert name in messages, messages
    assert len(taught.skipped) == 5


def test_a_close_taught_example_decides_and_a_far_one_does_not():
    predictor = FakePredictor()
    probabilities, embeddings = embed(predictor, np.stack([garment(1), garment(2)]))
    taught = TaughtExamples.empty(16).with_example(embeddings[0], 4)
    close = taught.decide(embed(predictor, np.roll(garment(1), 1, axis=1)[None])[1][0],
                          probabilities[0])
    assert close.taught and close.similarity >= THRESHOLD
    assert close.probabilities.argmax() == 4 and close.probabilities.sum() == pytest.approx(1)
    far_embedding = np.zeros(16, np.float32)
    far_embedding[0] = 1  # orthogonal to every positive block-mean embedding but one axis
    far = taught.decide(far_embedding, probabilities[1])
    assert not far.taught and far.similarity < THRESHOLD and far.class_index == 4
    np.testing.assert_array_equal(far.probabilities, probabilities[1])


def test_untaught_classes_and_an_empty_store_keep_the_model_answer():
    predictor = FakePredictor()
    probabilities, embeddings = embed(predictor, np.stack([garment(seed) for seed in range(4)]))
    nothing = TaughtExamples.empty(16).decide(embeddings[0], probabilities[0])
    assert not nothing.taught and nothing.class_index is None
    np.testing.assert_array_equal(nothing.probabilities, probabilities[0])
    # Teach garment 0 as a Coat; the others are far from it in this strict store.
    taught = TaughtExamples.from_embeddings(embeddings[:1], [4], threshold=0.999)
    decided, was_taught = taught.decide_batch(embeddings, probabilities)
    assert was_taught.tolist() == [True, False, False, False]
    assert decided[0].argmax() == 4 and (decided[1:].argmax(1) == 0).all()


def test_bad_embeddings_and_classes_are_refused():
    with pytest.raises(ValueError, match="0-9"):
        TaughtExamples.from_embeddings(np.ones((1, 16)), [NOTHING + 1])
    with pytest.raises(ValueError, match="another model"):
        TaughtExamples.empty(16).nearest(np.ones((1, 8)))
    with pytest.raises(ValueError, match="uint8"):
        save_example("unused", 1, np.zeros((28, 28), np.float32))


