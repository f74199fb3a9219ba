"""Training, export, evaluation and the predictor. Training tests import TensorFlow (slow)."""

import dataclasses
import json
import types
import subprocess
import sys

import numpy as np
import pytest
# The real class, taken before any test replaces it.
from ai_edge_litert.interpreter import Interpreter as LiteRtInterpreter

from model.paths import SHIPPED_KERAS_MODEL, SHIPPED_MODEL_CARD, SHIPPED_TFLITE_MODEL
from model.predictor import LiteRtPredictor, ModelLoadError, check_images, load_predictor


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, fashion_mnist):
    """One epoch on 10,000 images with a narrow network: the whole train-and-export path
    (test_tiny_training_clearly_beats_chance is the one test that needs a trained model)."""
    from model.config import AugmentConfig, NetworkConfig, TrainConfig
    from model.train import train

    out = tmp_path_factory.mktemp("tiny_run")
    config = TrainConfig(epochs=1, batch_size=32, optimizer="adamw", learning_rate=2e-3,
                         weight_decay=1e-4, schedule="constant", train_limit=10000,
                         validation_size=2000, seed=3, precision="fp32",
                         network=NetworkConfig(stem_filters=16, block_filters=(24, 32),
                                               dense_units=64),
                         augment=AugmentConfig(erasing_probability=0.0))
    card = train(config, out, verbose=0)
    return out, card


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory):
    """The tiny run's network with random weights, as .keras and checked .tflite: for tests
    that need a model file but not a trained one. Its output layer is scaled up so that the
    answers do not hang on rounding (near-uniform probabilities of an untrained network)."""
    import keras

    from model.config import NetworkConfig
    from model.export import export_tflite
    from model.network import build_network

    keras.utils.set_random_seed(3)
    network = build_network(NetworkConfig(stem_filters=16, block_filters=(24, 32),
                                          dense_units=64))
    logits = network.get_layer("logits")
    logits.kernel.assign(logits.kernel * 30.0)
    out = tmp_path_factory.mktemp("untrained")
    network.save(out / "fashion_cnn.keras")
    export_tflite(network, out / "fashion_cnn.tflite")
    return out


@pytest.mark.tensorflow
def test_tiny_training_clearly_beats_chance(tiny_run):
    """Chance is 10%. One epoch of this run gave 69.5-75.3% test accuracy in four runs of the
    same seed (TensorFlow's threads do not add in a fixed order), so the bar is 60%."""
    out, card = tiny_run
    assert card["test_accuracy"] >= 0.60, card["test_accuracy"]
    assert card["validation_accuracy"] >= 0.60
    for name in ("fashion_cnn.keras", "fashion_cnn.tflite", "model_card.json",
                 "training_curves.png", "confusion_matrix.png", "history.csv"):
        assert (out / name).stat().st_size > 0, name
    written = json.loads((out / "model_card.json").read_text())
    assert written["test_accuracy"] == card["test_accuracy"]
    assert set(written["test_per_class"]["Shirt"]) >= {"precision", "recall", "f1"}
    assert len(written["dataset"]["sha256"]) == 64
    assert written["epochs_run"] == 1


@pytest.mark.tensorflow
def test_keras_and_tflite_agree(untrained_model, fashion_mnist):
    out = untrained_model
    images = fashion_mnist.test_images[:500]
    keras_probabilities = load_predictor(out / "fashion_cnn.keras").predict(images)
    litert_probabilities = load_predictor(out / "fashion_cnn.tflite").predict(images)
    assert keras_probabilities.shape == litert_probabilities.shape == (500, 10)
    np.testing.assert_allclose(keras_probabilities, litert_probabilities, atol=1e-4)
    agreement = (keras_probabilities.argmax(1) == litert_probabilities.argmax(1)).mean()
    assert agreement >= 0.998


@pytest.mark.tensorflow
def test_evaluate_reports_a_pair_and_their_ensemble(untrained_model, tmp_path, capsys):
    from model.evaluate import main

    out = untrained_model
    assert main([str(out / "fashion_cnn.keras"), str(out / "fashion_cnn.tflite"),
                 "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "agreement" in printed and "ensemble" in printed
    report = json.loads((tmp_path / "evaluation.json").read_text())
    # The two files are one model: the ensemble is as accurate as each.
    accuracy = report["reports"][str(out / "fashion_cnn.keras")]["accuracy"]
    assert abs(report["reports"]["ensemble"]["accuracy"] - accuracy) < 0.002
    assert list(report["agreements"].values())[0] >= 0.999
    assert len(list(tmp_path.glob("confusion_matrix_*.png"))) == 3


@pytest.mark.tensorflow
def test_predictor_refuses_a_model_of_the_wrong_shape(tmp_path):
    import keras
    from keras import layers

    from model.export import export_tflite

    inputs = keras.Input(shape=(28, 28, 1))
    outputs = layers.Dense(3)(layers.Flatten()(inputs))
    path = export_tflite(keras.Model(inputs, outputs), tmp_path / "three_classes.tflite")
    with pytest.raises(ModelLoadError, match=r"expected \(N, 28, 28, 1\) to \(N, 10\)"):
        LiteRtPredictor(path)


@pytest.mark.tensorflow
def test_exported_embedding_agrees_with_keras(tmp_path):
    from model.config import NetworkConfig
    from model.export import export_tflite
    from model.network import build_network
    from model.predictor import KerasPredictor, predict_with_flip_and_embedding

    model = build_network(NetworkConfig(stem_filters=8, block_filters=(8, 16), dense_units=16))
    path = export_tflite(model, tmp_path / "tiny.tflite")
    images = np.random.default_rng(5).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    litert, keras_predictor = LiteRtPredictor(path), KerasPredictor.from_model(model)
    assert litert.embedding_size == keras_predictor.embedding_size == 16
    probabilities, embedding = litert.predict_with_embedding(images)
    keras_probabilities, keras_embedding = keras_predictor.predict_with_embedding(images)
    assert probabilities.shape == (6, 10) and embedding.shape == (6, 16)
    assert embedding.max() > 0  # a ReLU output that is not all zeros
    np.testing.assert_allclose(embedding, keras_embedding, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(probabilities, keras_probabilities, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(litert.predict(images), probabilities)
    _, flipped_embedding = predict_with_flip_and_embedding(litert, images)
    np.testing.assert_allclose(flipped_embedding, (embedding + litert.predict_with_embedding(
        np.ascontiguousarray(images[:, :, ::-1]))[1]) / 2, rtol=1e-5, atol=1e-5)


@pytest.mark.tensorflow
def test_fused_batch_norm_trains_as_keras_batch_norm():
    """One SGD step on the same batch from the same weights: the network with the fused
    batch norm ends with the weights, moving averages and loss of the one with Keras's own."""
    import keras

    from model.config import NetworkConfig
    from model.network import FusedBatchNormalization, build_network

    keras.mixed_precision.set_global_policy("float32")
    config = NetworkConfig(stem_filters=4, block_filters=(6, 8), dense_units=12,
                           block_dropout=0.0, head_dropout=0.0)
    keras.utils.set_random_seed(7)
    plain = build_network(config)
    fused = build_network(config, fused_batch_norm=True)
    assert sum(isinstance(layer, FusedBatchNormalization) for layer in fused.layers) == 6
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in plain.layers)
    initial = plain.get_weights()
    fused.set_weights(initial)
    random = np.random.default_rng(4)
    images = random.integers(0, 256, (16, 28, 28, 1)).astype(np.float32)
    labels = random.integers(0, 10, 16)
    losses = []
    for network in (plain, fused):
        network.compile(optimizer=keras.optimizers.SGD(0.1),
                        loss="sparse_categorical_crossentropy")
        losses.append(network.train_on_batch(images, labels))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    changed = 0
    for before, after_plain, after_fused in zip(initial, plain.get_weights(),
                                                fused.get_weights()):
        np.testing.assert_allclose(after_fused, after_plain, rtol=2e-4, atol=2e-5)
        changed += not np.allclose(after_plain, before)
    assert changed > 10  # the step moved the weights and the moving averages
    np.testing.assert_allclose(fused.predict(images, verbose=0),
                               plain.predict(images, verbose=0), rtol=1e-4, atol=1e-6)


@pytest.mark.tensorflow
def test_probability_only_model_loads_and_refuses_embeddings(tmp_path):
    import keras
    from keras import layers

    from model.export import export_tflite
    from model.predictor import EmbeddingUnavailableError

    inputs = keras.Input(shape=(28, 28, 1))
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(inputs))
    predictor = LiteRtPredictor(export_tflite(keras.Model(inputs, outputs),
                                              tmp_path / "probabilities_only.tflite"))
    images = np.zeros((2, 28, 28), np.uint8)
    assert predictor.predict(images).shape == (2, 10) and predictor.embedding_size is None
    with pytest.raises(EmbeddingUnavailableError, match="export it again"):
        predictor.predict_with_embedding(images)


def test_predictor_refuses_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_predictor(tmp_path / "absent.tflite")
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"this is not a flatbuffer" * 10)
    with pytest.raises(ModelLoadError, match="not a valid LiteRT model"):
        load_predictor(corrupt)


def test_image_checks_refuse_wrong_shapes_and_types():
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\)"):
        check_images(np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        check_images(np.zeros((2, 28, 28), np.float64))
    assert check_images(np.zeros((28, 28), np.uint8)).shape == (1, 28, 28, 1)


needs_shipped_model = pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.exists(),
                                         reason="no shipped model in assets/")


@needs_shipped_model
@pytest.mark.dataset
@pytest.mark.slow
def test_shipped_model_reaches_its_card_accuracy(fashion_mnist):
    card = json.loads(SHIPPED_MODEL_CARD.read_text())
    predictor = load_predictor()
    predictions = np.concatenate([
        predictor.predict(fashion_mnist.test_images[start:start + 1000]).argmax(1)
        for start in range(0, 10000, 1000)])
    accuracy = (predictions == fashion_mnist.test_labels).mean()
    assert abs(accuracy - card["test_accuracy"]) <= 0.001, (accuracy, card["test_accuracy"])


@needs_shipped_model
def test_shipped_model_predicts_without_tensorflow():
    code = ("import sys, numpy as np\n"
            "from model.predictor import load_predictor\n"
            "p = load_predictor().predict(np.zeros((3, 28, 28), np.uint8))\n"
            "assert p.shape == (3, 10) and abs(p.sum() - 3) < 1e-3, p\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_model_package_imports_nothing_from_the_app_or_qt():
    """The model layer imports no Qt, no app and (at import) no TensorFlow; it may import the
    segmentation below it (the layers are checked by lint-imports)."""
    code = ("import sys, model.predictor, model.data, model.classes, model.metrics, "
            "model.paths, model.train, model.evaluate\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PyQt5', 'camera_app', 'tensorflow')]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.tensorflow
def test_training_explains_a_missing_start_model_and_dataset(tmp_path, capsys):
    from model.train import main

    assert main(["--init-from", str(tmp_path / "none.keras"), "--out", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path / "typo"), "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "Fashion-MNIST not found" in error and str(tmp_path / "typo") in error


@pytest.mark.tensorflow
def test_training_refuses_to_start_from_another_architecture(untrained_model, tmp_path, capsys):
    from model.train import main

    out = untrained_model  # Narrower than the default network.
    status = main(["--init-from", str(out / "fashion_cnn.keras"), "--epochs", "1",
                   "--train-limit", "500", "--out", str(tmp_path)])
    assert status == 2
    assert "same architecture" in capsys.readouterr().err


@pytest.mark.tensorflow
def test_the_partial_label_loss_is_minus_log_of_the_accepted_probability():
    import tensorflow as tf

    from model.partial_labels import partial_label_loss

    probabilities = np.array([[0.1, 0.2, 0.3, 0.4, 0, 0, 0, 0, 0, 0],
                              [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0]], np.float32)
    accepted = np.zeros((2, 10), np.float32)
    accepted[0, [1, 3]] = 1  # A set: 0.2 + 0.4.
    accepted[1, 0] = 1  # One class: the usual cross-entropy.
    loss = np.asarray(partial_label_loss()(tf.constant(accepted), tf.constant(probabilities)))
    np.testing.assert_allclose(loss, [-np.log(0.6), -np.log(0.5)], rtol=1e-6)
    # With smoothing, one class gives exactly Keras's label-smoothed cross-entropy.
    import keras

    smoothed = np.asarray(partial_label_loss(0.1)(tf.constant(accepted[1:]),
                                                  tf.constant([[0.5, 0.3] + [0.025] * 8])))
    expected = keras.losses.CategoricalCrossentropy(label_smoothing=0.1, reduction=None)(
        accepted[1:], np.array([[0.5, 0.3] + [0.025] * 8], np.float32))
    np.testing.assert_allclose(smoothed, np.asarray(expected), rtol=1e-5)
    with pytest.raises(ValueError, match="label_smoothing"):
        partial_label_loss(1.0)


@pytest.mark.tensorflow
def test_the_pick_loss_is_the_cross_entropy_of_the_most_likely_accepted_class():
    import tensorflow as tf

    from model.partial_labels import partial_label_loss

    probabilities = np.array([[0.05, 0, 0.4, 0, 0, 0, 0.5, 0, 0, 0.05],
                              [0, 0.3, 0, 0, 0, 0, 0, 0, 0, 0.7]], np.float32)
    accepted = np.zeros((2, 10), np.float32)
    accepted[0, [2, 6]] = 1  # Pullover or Shirt: the model leans to Shirt (0.5).
    accepted[1, [3, 4]] = 1  # Neither accepted class has any probability: ties go to one.
    pick = np.asarray(partial_label_loss(0, "pick")(tf.constant(accepted),
                                                    tf.constant(probabilities)))
    total = np.asarray(partial_label_loss(0, "sum")(tf.constant(accepted),
                                                    tf.constant(probabilities)))
    np.testing.assert_allclose(pick[0], -np.log(0.5), rtol=1e-6)
    np.testing.assert_allclose(total[0], -np.log(0.9), rtol=1e-6)
    assert np.isfinite(pick[1]) and pick[1] > 10  # The clipped log of an accepted class's 0.
    with pytest.raises(ValueError, match="set_loss"):
        partial_label_loss(0, "mean")


def test_the_accepted_rate_counts_an_answer_in_the_set_as_right():
    from model.partial_labels import accepted_rate, one_class_masks

    probabilities = np.eye(10)[[2, 6, 4]]
    accepted = np.zeros((3, 10), bool)
    accepted[:, [2, 6]] = True  # A long-sleeved top: Pullover or Shirt.
    assert accepted_rate(probabilities, accepted) == pytest.approx(2 / 3)
    assert one_class_masks(np.array([3])).tolist() == [[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]]


def test_train_options_fill_the_configs_that_train_config_holds():
    from model.train import parse_config

    config, out, verbose = parse_config([
        "--out", "x", "--quiet", "--stem-filters", "8", "--block-filters", "8", "16",
        "--photo-share", "0.3", "--photos", "some/dir", "--photo-views", "2",
        "--no-mirror-images"])
    assert (str(out), verbose) == ("x", 2)
    assert config.network.stem_filters == 8 and config.network.block_filters == (8, 16)
    assert config.photos.photo_share == 0.3 and config.photos.photos == "some/dir"
    assert config.photos.photo_views == 2
    assert config.augment.mirror_images is False


def test_the_defaults_are_the_shipped_recipe():
    """With only the data options, model.train trains the shipped model's configuration."""
    from model.config import TrainConfig, upgraded_fields
    from model.options import config_from_dict

    card = json.loads(SHIPPED_MODEL_CARD.read_text())
    shipped = config_from_dict(TrainConfig, upgraded_fields(card["training"]))
    photos = card["training"]["photos"]
    data_options = {"photos": photos["photos"], "photo_labels": photos["photo_labels"],
                    "validation_photos": photos["validation_photos"],
                    "validation_photo_labels": photos["validation_photo_labels"]}
    defaults = TrainConfig()
    assert shipped == dataclasses.replace(
        defaults, photos=dataclasses.replace(defaults.photos, **data_options))


@pytest.mark.tensorflow
@pytest.mark.dataset
def test_a_tiny_run_with_generated_photos_logs_and_cards_both_sources(tmp_path, fashion_mnist,
                                                                     monkeypatch):
    from model.config import AugmentConfig, NetworkConfig, PhotoConfig, TrainConfig
    from model.train import train
    from synthetic_images import make_photo_folder

    monkeypatch.chdir(tmp_path)  # The photo cache goes to runs/ below the working folder.
    photos = make_photo_folder(tmp_path / "photos", count=4)
    config = TrainConfig(epochs=2, batch_size=32, optimizer="adamw", learning_rate=2e-3,
                         schedule="constant", train_limit=1600, validation_size=500,
                         precision="fp32", seed=1,
                         network=NetworkConfig(stem_filters=8, block_filters=(8, 16),
                                               dense_units=16),
                         augment=AugmentConfig(erasing_probability=0.0),
                         photos=PhotoConfig(photos=str(photos), photo_share=0.25,
                                            photo_views=0, validation_photos=str(photos)))
    card = train(config, tmp_path / "out", verbose=0)
    history = (tmp_path / "out" / "history.csv").read_text().splitlines()
    assert "val_photo_exact" in history[0] and "val_photo_group" in history[0]
    assert len(history) == 3
    sources = {source["role"] + " " + source["name"].split()[0]: source
               for source in card["data_sources"]}
    assert sources["training Fashion-MNIST"]["share"] == 0.75
    assert sources["training photos"]["images"] == 8
    assert sources["training photos"]["per_folder"] == {"pants": 4, "t-shirt": 4}
    assert len(sources["training photos"]["sha256"]) == 64
    assert sources["validation photos"]["share"] == 0.0
    assert set(card["validation_photos"]["folders"]) == {"pants", "t-shirt"}
    # 8 garments, and a blank and a corrupt photo counted as wrong.
    assert card["validation_photos"]["photos"] == 10
    assert (tmp_path / "out" / "fashion_cnn.tflite").stat().st_size > 0
    assert list((tmp_path / "runs" / "photo-cache").glob("photos-*.npz"))


def test_photo_share_without_photos_is_refused():
    from model.config import PhotoConfig, TrainConfig
    from model.train import photos_per_batch, without_photos

    # The default share and views (the shipped recipe's) apply only with --photos.
    alone = without_photos(TrainConfig())
    assert (alone.photos.photo_share, alone.photos.photo_views) == (0.0, 0)
    assert photos_per_batch(alone) == 0
    with pytest.raises(ValueError, match="needs --photos"):
        without_photos(TrainConfig(photos=PhotoConfig(photo_share=0.3)))
    with pytest.raises(ValueError, match="needs --photos"):
        photos_per_batch(TrainConfig(photos=PhotoConfig(photo_share=0.3)))
    with pytest.raises(ValueError, match="photo_share must be a number from 0 to 0.9"):
        TrainConfig(photos=PhotoConfig(photos="x", photo_share=0.95))  # Refused when made.
    with pytest.raises(ValueError, match="only with --photo-share"):
        photos_per_batch(TrainConfig(photos=PhotoConfig(photos="x", photo_share=0.0)))
    assert photos_per_batch(TrainConfig(photos=PhotoConfig(photos="x", photo_share=0.25))) == 32



class WrappedInterpreter:
    """The real LiteRT interpreter of the shipped model, with a change made by a subclass: how a
    model without its softmax, or with another input, would look (no TensorFlow needed)."""

    def __init__(self, *arguments, **keywords):
        self.real = LiteRtInterpreter(*arguments, **keywords)

    def __getattr__(self, name):
        return getattr(self.real, name)


class LogitsInterpreter(WrappedInterpreter):
    def get_tensor(self, index):
        values = self.real.get_tensor(index)
        if values.shape[-1] == 10:  # Probabilities back to logits, as without a softmax.
            return (np.log(np.maximum(values, 1e-30)) + 300).astype(np.float32)
        return values


class WrongInputInterpreter(WrappedInterpreter):
    def get_input_details(self):
        details = self.real.get_input_details()
        details[0]["shape"] = np.array([1, 32, 32, 1], np.int32)
        return details


def test_a_model_that_outputs_logits_is_refused_at_load(monkeypatch):
    import ai_edge_litert.interpreter

    monkeypatch.setattr(ai_edge_litert.interpreter, "Interpreter", LogitsInterpreter)
    with pytest.raises(ModelLoadError, match=r"does not output class probabilities: .* add up "
                                             r"to .* Export a model whose last layer is a softmax"):
        load_predictor(SHIPPED_TFLITE_MODEL)


def test_check_probabilities_takes_probabilities_and_refuses_the_rest():
    from model.predictor import check_probabilities

    class Fixed:
        def __init__(self, row):
            self.row = np.asarray(row, np.float32)

        def predict(self, images):
            return np.repeat(self.row[np.newaxis], len(images), axis=0)

    check_probabilities(Fixed(np.full(10, 0.1)), "fine.tflite")
    for row in (np.full(10, 0.2), [1.2] + [-0.2 / 9] * 9, [np.nan] * 10, np.full(10, 0.0)):
        with pytest.raises(ModelLoadError, match="bad.tflite does not output class probabilities"):
            check_probabilities(Fixed(row), "bad.tflite")


def test_a_folder_or_another_input_shape_is_named_plainly(tmp_path, monkeypatch):
    import ai_edge_litert.interpreter

    with pytest.raises(ModelLoadError, match="is a folder; pass the path of a model file"):
        load_predictor(tmp_path)
    monkeypatch.setattr(ai_edge_litert.interpreter, "Interpreter", WrongInputInterpreter)
    with pytest.raises(ModelLoadError, match=r"maps \(1, 32, 32, 1\) to \(1, 10\); expected") \
            as error_info:
        load_predictor(SHIPPED_TFLITE_MODEL)
    assert "np." not in str(error_info.value)


def test_photo_accuracy_counts_photos_left_out_as_wrong():
    from types import SimpleNamespace

    from model.metrics import photo_report

    accepted = np.zeros((3, 10), bool)
    accepted[[0, 1, 2], [0, 0, 1]] = True  # Two T-shirts and one pair of trousers.
    photo_set = SimpleNamespace(accepted=accepted, group=accepted.copy(),
                                folders=np.array(["t-shirt", "t-shirt", "pants"]),
                                left_out={"t-shirt/blank.jpg": "no garment found",
                                          "dress/broken.jpg": "unreadable"},
                                left_out_folders=["t-shirt", "dress"])
    probabilities = np.eye(10)[[0, 6, 1]]  # Right, wrong (Shirt), right.
    report = photo_report(probabilities, photo_set)
    assert report["photos"] == 5 and report["exact"] == pytest.approx(2 / 5)
    assert report["folders"]["t-shirt"] == {"photos": 3, "exact": pytest.approx(1 / 3),
                                            "group": pytest.approx(1 / 3)}
    assert report["folders"]["dress"]["photos"] == 1 and report["folders"]["dress"]["exact"] == 0
    assert report["confusion"]["t-shirt"][10] == 1 and report["confusion"]["dress"][10] == 1


@pytest.mark.slow
@pytest.mark.tensorflow
@pytest.mark.skipif(not SHIPPED_KERAS_MODEL.is_file(), reason="the shipped model is missing")
def test_classifying_with_a_keras_model_warns_that_it_is_uncalibrated():
    from model.calibration import UncalibratedWarning
    from model.classifier import load_classifier

    with pytest.warns(UncalibratedWarning, match="Keras model"):
        load_classifier(SHIPPED_KERAS_MODEL)


def test_evaluate_averages_flips_on_photos_as_the_app_and_not_on_the_test_set(monkeypatch,
                                                                              tmp_path, capsys):
    from model import evaluate

    calls = []
    monkeypatch.setattr(evaluate, "evaluate_photos",
                        lambda models, directory, labels, flip, threshold: calls.append(flip) or 0)
    assert evaluate.main(["--photos", str(tmp_path)]) == 0
    assert evaluate.main(["--photos", str(tmp_path), "--no-flip-averaging"]) == 0
    assert calls == [True, False]
    with pytest.raises(SystemExit):
        evaluate.main(["--photos", str(tmp_path), "--out", str(tmp_path / "out")])
    assert "segmentation.evaluate" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    # The test set: a single pass unless asked (the goal's measure).
    labels = np.arange(10)
    monkeypatch.setattr(evaluate, "load_fashion_mnist", lambda data_dir: types.SimpleNamespace(
        test_images=np.zeros((10, 28, 28), np.uint8), test_labels=labels))
    monkeypatch.setattr(evaluate, "load_predictor", lambda path: None)
    flips = []
    monkeypatch.setattr(evaluate, "predict_in_batches",
                        lambda predictor, images, batch, flip, progress: flips.append(flip)
                        or np.eye(10, dtype=np.float32))
    assert evaluate.main(["model.tflite"]) == 0
    assert evaluate.main(["model.tflite", "--flip-averaging"]) == 0
    assert flips == [False, True]
    assert "100.00%  model.tflite with flip TTA" in capsys.readouterr().out
