"""Training, export, evaluation and the predictor. Training tests import TensorFlow (slow)."""

import json
import subprocess
import sys

import numpy as np
import pytest
# The real class, taken before any test replaces it.
from ai_edge_litert.interpreter import Interpreter as LiteRtInterpreter

from model.paths import SHIPPED_MODEL_CARD, SHIPPED_TFLITE_MODEL
from model.predictor import LiteRtPredictor, ModelLoadError, check_images, load_predictor


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, fashion_mnist):
    """One epoch on 10,000 images with a narrow network: the whole train-and-export path."""
    from model.config import AugmentConfig, NetworkConfig, TrainConfig
    from model.train import train

    out = tmp_path_factory.mktemp("tiny_run")
    config = TrainConfig(epochs=1, batch_size=32, optimizer="adamw", learning_rate=2e-3,
                         weight_decay=1e-4, schedule="constant", train_limit=10000,
                         validation_size=2000, seed=3,
                         network=NetworkConfig(stem_filters=16, block_filters=(24, 32),
                                               dense_units=64),
                         augment=AugmentConfig(erasing_probability=0.0))
    card = train(config, out, verbose=0)
    return out, card


@pytest.mark.slow
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


@pytest.mark.slow
def test_keras_and_tflite_agree(tiny_run, fashion_mnist):
    out, _ = tiny_run
    images = fashion_mnist.test_images[:500]
    keras_probabilities = load_predictor(out / "fashion_cnn.keras").predict(images)
    litert_probabilities = load_predictor(out / "fashion_cnn.tflite").predict(images)
    assert keras_probabilities.shape == litert_probabilities.shape == (500, 10)
    np.testing.assert_allclose(keras_probabilities, litert_probabilities, atol=1e-4)
    agreement = (keras_probabilities.argmax(1) == litert_probabilities.argmax(1)).mean()
    assert agreement >= 0.998


@pytest.mark.slow
def test_evaluate_reports_a_pair_and_their_ensemble(tiny_run, tmp_path, capsys):
    from model.evaluate import main

    out, card = tiny_run
    assert main([str(out / "fashion_cnn.keras"), str(out / "fashion_cnn.tflite"),
                 "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "agreement" in printed and "ensemble" in printed
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert abs(report["reports"]["ensemble"]["accuracy"] - card["test_accuracy"]) < 0.002
    assert list(report["agreements"].values())[0] >= 0.999
    assert len(list(tmp_path.glob("confusion_matrix_*.png"))) == 3


@pytest.mark.slow
def test_predictor_refuses_a_model_of_the_wrong_shape(tmp_path):
    import keras
    from keras import layers

    from model.export import export_tflite

    inputs = keras.Input(shape=(28, 28, 1))
    outputs = layers.Dense(3)(layers.Flatten()(inputs))
    path = export_tflite(keras.Model(inputs, outputs), tmp_path / "three_classes.tflite")
    with pytest.raises(ModelLoadError, match=r"expected \(N, 28, 28, 1\) to \(N, 10\)"):
        LiteRtPredictor(path)


@pytest.mark.slow
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


@pytest.mark.slow
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
    """model.train and model.evaluate import model.photos only when given photos."""
    code = ("import sys, model.predictor, model.data, model.classes, model.metrics, "
            "model.paths, model.train, model.evaluate, model.interpolate\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PyQt5', 'segmentation', 'camera_app', 'tensorflow')]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_fine_tuned_card_lists_every_earlier_stage(tmp_path):
    from model.card import earlier_stages

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    # A card from before the field existed names only its own starting point.
    (first / "model_card.json").write_text(json.dumps(
        {"epochs_run": 55, "wall_time_seconds": 5000.0, "validation_accuracy": 0.94,
         "training": {"init_from": ""}}))
    (second / "model_card.json").write_text(json.dumps(
        {"epochs_run": 16, "wall_time_seconds": 1700.0, "validation_accuracy": 0.942,
         "training": {"init_from": str(first / "fashion_cnn.keras")}}))
    stages = earlier_stages(str(second / "fashion_cnn.keras"))
    assert [stage["epochs_run"] for stage in stages] == [55, 16]
    assert earlier_stages("") == []
    assert "no model card" in earlier_stages(str(tmp_path / "elsewhere.keras"))[0]["note"]


@pytest.mark.slow
def test_training_explains_a_missing_start_model_and_dataset(tmp_path, capsys):
    from model.train import main

    assert main(["--init-from", str(tmp_path / "none.keras"), "--out", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path / "typo"), "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "Fashion-MNIST not found" in error and str(tmp_path / "typo") in error


@pytest.mark.slow
def test_training_refuses_to_start_from_another_architecture(tiny_run, tmp_path, capsys):
    from model.train import main

    out, _ = tiny_run  # Narrower than the default network.
    status = main(["--init-from", str(out / "fashion_cnn.keras"), "--epochs", "1",
                   "--train-limit", "500", "--out", str(tmp_path)])
    assert status == 2
    assert "same architecture" in capsys.readouterr().err


@pytest.mark.slow
def test_pipeline_images_replace_training_images_with_the_given_probability():
    from model.config import AugmentConfig, TrainConfig
    from model.partial_labels import one_class_masks
    from model.train import make_dataset

    images = np.zeros((200, 28, 28), np.uint8)
    seen = np.full((200, 28, 28), 255, np.uint8)
    masks = one_class_masks(np.arange(200) % 10)
    plain = AugmentConfig(flip=False, shift_pixels=0, erasing_probability=0.0)
    for probability, expected in ((1.0, 1.0), (0.0, 0.0), (0.3, 0.3)):
        config = TrainConfig(pipeline_probability=probability, augment=plain, batch_size=200)
        batch, _ = next(iter(make_dataset(images, masks, config, True, pipeline_images=seen)))
        share = float(np.mean(np.asarray(batch)[:, 0, 0, 0] == 255))
        assert abs(share - expected) < 0.12, (probability, share)


@pytest.mark.dataset
def test_training_refuses_pipeline_images_of_other_data(tmp_path, fashion_mnist):
    from model.config import TrainConfig
    from model.train import training_pipeline_images

    path = tmp_path / "few.npz"
    np.savez(path, images=fashion_mnist.train_images[:10], found=np.ones(10, bool),
             split="train", dataset_checksum=fashion_mnist.checksum)
    config = TrainConfig(pipeline_images=str(path), pipeline_probability=0.3)
    with pytest.raises(ValueError, match="made from other data"):
        training_pipeline_images(config, fashion_mnist)
    with pytest.raises(ValueError, match="needs --pipeline-images"):
        training_pipeline_images(TrainConfig(pipeline_probability=0.3), fashion_mnist)
    np.savez(tmp_path / "no_split.npz", images=fashion_mnist.train_images,
             dataset_checksum=fashion_mnist.checksum)  # Files must say which split they hold.
    with pytest.raises(ValueError, match="not readable"):
        training_pipeline_images(TrainConfig(pipeline_images=str(tmp_path / "no_split.npz"),
                                             pipeline_probability=0.3), fashion_mnist)
    (tmp_path / "broken.npz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not readable"):
        training_pipeline_images(TrainConfig(pipeline_images=str(tmp_path / "broken.npz"),
                                             pipeline_probability=0.3), fashion_mnist)
    assert training_pipeline_images(TrainConfig(), fashion_mnist) is None
    with pytest.raises(ValueError, match="only with --pipeline-probability"):
        training_pipeline_images(TrainConfig(pipeline_images=str(path)), fashion_mnist)
    # Test images are not training images, even with the right count.
    np.savez(path, images=fashion_mnist.train_images, split="test",
             dataset_checksum=fashion_mnist.checksum)
    with pytest.raises(ValueError, match="test split"):
        training_pipeline_images(config, fashion_mnist)


def test_a_soup_is_the_uniform_average_of_one_architecture():
    from model.interpolate import average_weights

    first, second = [np.zeros((2, 3)), np.ones(4)], [np.full((2, 3), 4.0), np.full(4, 3.0)]
    soup = average_weights([first, second])
    np.testing.assert_allclose(soup[0], np.full((2, 3), 2.0))
    np.testing.assert_allclose(soup[1], np.full(4, 2.0))
    with pytest.raises(ValueError, match="different architectures"):
        average_weights([first, [np.zeros((3, 2)), np.ones(4)]])


def test_mixing_weights_is_a_weighted_average_of_one_architecture():
    from model.interpolate import choose_weight, mix_weights

    start, finetuned = [np.zeros((2, 3)), np.ones(4)], [np.full((2, 3), 10.0), np.zeros(4)]
    mixed = mix_weights(start, finetuned, 0.3)
    np.testing.assert_allclose(mixed[0], np.full((2, 3), 7.0))
    np.testing.assert_allclose(mixed[1], np.full(4, 0.3))
    with pytest.raises(ValueError, match="different architectures"):
        mix_weights(start, [np.zeros((3, 2)), np.zeros(4)], 0.3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        mix_weights(start, finetuned, 1.5)
    accuracies = {0.0: 0.940, 0.1: 0.946, 0.2: 0.950}
    assert choose_weight(accuracies, 0.945) == 0.1  # The least of the start model that reaches it.
    assert choose_weight(accuracies, 0.990) == 0.2  # None reaches it: the most accurate.


@pytest.mark.slow
def test_interpolation_writes_the_chosen_mix_with_its_card(tiny_run, tmp_path, capsys):
    import keras

    from model.interpolate import main

    out, _ = tiny_run
    # A "fine-tuned" model far from the start: its weights are the start's plus noise.
    start = keras.models.load_model(out / "fashion_cnn.keras", compile=False)
    noisy = keras.models.clone_model(start)
    random = np.random.default_rng(0)
    noisy.set_weights([weights + random.normal(0, 0.5, weights.shape).astype(weights.dtype)
                       if weights.ndim > 1 else weights for weights in start.get_weights()])
    finetuned_dir = tmp_path / "finetuned"
    finetuned_dir.mkdir()
    noisy.save(finetuned_dir / "fashion_cnn.keras")
    (finetuned_dir / "model_card.json").write_text((out / "model_card.json").read_text())
    mixed_dir = tmp_path / "mixed"
    assert main([str(out / "fashion_cnn.keras"), str(finetuned_dir / "fashion_cnn.keras"),
                 "--start-weights", "0", "0.5", "1", "--target-accuracy", "1.01",
                 "--out", str(mixed_dir)]) == 0
    card = json.loads((mixed_dir / "model_card.json").read_text())
    table = card["training"]["validation_by_start_weight"]
    assert set(table) == {"0.0", "0.5", "1.0"}
    # No weight reaches 101%: the most accurate on validation is chosen, and it is written.
    best = max(table, key=lambda weight: table[weight]["validation"])
    assert card["training"]["start_weight"] == float(best)
    assert table["1.0"]["validation"] > table["0.0"]["validation"]  # The noise hurts.
    written = keras.models.load_model(mixed_dir / "fashion_cnn.keras", compile=False)
    weight = float(best)
    for mixed, first, second in zip(written.get_weights(), start.get_weights(),
                                    noisy.get_weights()):
        np.testing.assert_allclose(mixed, weight * first + (1 - weight) * second, atol=1e-6)
    assert (mixed_dir / "fashion_cnn.tflite").stat().st_size > 0
    assert card["earlier_stages"][-1]["epochs_run"] == 1
    assert "Chosen start weight" in capsys.readouterr().out


@needs_shipped_model
@pytest.mark.slow
def test_interpolation_refuses_models_of_different_architectures(tiny_run, tmp_path, capsys):
    from model.interpolate import main
    from model.paths import SHIPPED_KERAS_MODEL

    out, _ = tiny_run
    assert main([str(out / "fashion_cnn.keras"), str(SHIPPED_KERAS_MODEL),
                 "--out", str(tmp_path / "mixed")]) == 2
    assert "different architectures" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.keras"), str(SHIPPED_KERAS_MODEL),
                 "--out", str(tmp_path / "mixed")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_widening_copies_channels_and_splits_their_outgoing_weights():
    from model.widen import channel_mapping

    source, share = channel_mapping(4, 9, np.random.default_rng(0))
    assert list(source[:4]) == [0, 1, 2, 3]  # The old channels keep their places.
    assert set(source[4:]) <= {0, 1, 2, 3}
    for channel in range(4):
        assert share[source == channel].sum() == pytest.approx(1.0)
    copied = [channel for channel in range(4) if (source == channel).sum() > 1]
    assert copied and len(set(share[source == copied[0]])) > 1  # Unequal, so copies learn apart.
    with pytest.raises(ValueError, match="only adds"):
        channel_mapping(4, 3, np.random.default_rng(0))


@pytest.mark.slow
def test_a_widened_network_computes_what_the_narrow_one_did():
    from model.config import NetworkConfig
    from model.network import build_network
    from model.widen import largest_difference, network_config_of, widen

    narrow = build_network(NetworkConfig(stem_filters=4, block_filters=(6, 8), dense_units=16))
    random = np.random.default_rng(0)
    # Random weights and BatchNorm statistics, so that every copied array matters.
    for variable in narrow.weights:
        shape = tuple(variable.shape)
        values = (random.uniform(0.5, 2.0, shape) if "variance" in variable.path
                  else random.normal(0, 0.5, shape))
        variable.assign(values.astype("float32"))
    wide = widen(narrow, 7, (9, 13), seed=1)
    assert network_config_of(wide) == NetworkConfig(stem_filters=7, block_filters=(9, 13),
                                                    dense_units=16)
    images = random.integers(0, 256, (32, 28, 28, 1)).astype("float32")
    assert narrow.predict(images, verbose=0).std(axis=0).max() > 0.01  # Not a constant output.
    assert largest_difference(narrow, wide) < 1e-5
    with pytest.raises(ValueError, match="only adds"):
        widen(narrow, 3, (9, 13))


@pytest.mark.slow
def test_the_widen_command_writes_a_card_that_keeps_the_lineage(tmp_path, capsys):
    from model.card import earlier_stages
    from model.config import NetworkConfig
    from model.network import build_network
    from model.widen import main

    start = tmp_path / "start" / "fashion_cnn.keras"
    start.parent.mkdir()
    build_network(NetworkConfig(stem_filters=4, block_filters=(6, 8), dense_units=16)).save(start)
    (start.parent / "model_card.json").write_text(json.dumps({"epochs_run": 3}))
    assert main([str(start), "--stem-filters", "5", "--block-filters", "6", "9",
                 "--out", str(tmp_path / "wide")]) == 0
    card = json.loads((tmp_path / "wide" / "model_card.json").read_text())
    assert card["training"]["widths"] == {"stem_filters": 5, "block_filters": [6, 9],
                                          "dense_units": 16}
    stages = earlier_stages(str(tmp_path / "wide" / "fashion_cnn.keras"))
    assert [stage["epochs_run"] for stage in stages] == [3, 0]  # The start, then the widening.
    assert main([str(start), "--stem-filters", "3", "--block-filters", "6", "9",
                 "--out", str(tmp_path / "narrower")]) == 2
    assert "only adds filters" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["model.train", "model.evaluate", "model.interpolate",
                                    "model.widen"])
def test_model_commands_have_help(module, capsys):
    import importlib

    with pytest.raises(SystemExit) as stop:
        importlib.import_module(module).main(["--help"])
    assert stop.value.code == 0
    assert f"python -m {module}" in capsys.readouterr().out


@pytest.mark.slow
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


@pytest.mark.slow
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
        "--photo-share", "0.2", "--photos", "some/dir", "--photo-rotation-degrees", "5",
        "--no-flip"])
    assert (str(out), verbose) == ("x", 2)
    assert config.network.stem_filters == 8 and config.network.block_filters == (8, 16)
    assert config.photos.photo_share == 0.2 and config.photos.photos == "some/dir"
    assert config.photos.augment.photo_rotation_degrees == 5.0
    assert config.augment.flip is False


@pytest.mark.slow
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
                         network=NetworkConfig(stem_filters=8, block_filters=(8, 16),
                                               dense_units=16),
                         augment=AugmentConfig(erasing_probability=0.0),
                         photos=PhotoConfig(photos=str(photos), photo_share=0.25,
                                            validation_photos=str(photos)))
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
    assert 0 <= card["validation_photos"]["exact"] <= 1
    assert (tmp_path / "out" / "fashion_cnn.tflite").stat().st_size > 0
    assert list((tmp_path / "runs" / "photo-cache").glob("photos-*.npz"))


def test_photo_share_without_photos_is_refused():
    from model.config import PhotoConfig, TrainConfig
    from model.train import photos_per_batch

    with pytest.raises(ValueError, match="needs --photos"):
        photos_per_batch(TrainConfig(photos=PhotoConfig(photo_share=0.2)))
    with pytest.raises(ValueError, match="between 0 and 0.9"):
        photos_per_batch(TrainConfig(photos=PhotoConfig(photos="x", photo_share=0.95)))
    with pytest.raises(ValueError, match="only with --photo-share"):
        photos_per_batch(TrainConfig(photos=PhotoConfig(photos="x")))
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
                                          "dress/broken.jpg": "unreadable"})
    probabilities = np.eye(10)[[0, 6, 1]]  # Right, wrong (Shirt), right.
    report = photo_report(probabilities, photo_set)
    assert report["photos"] == 5 and report["exact"] == pytest.approx(2 / 5)
    assert report["folders"]["t-shirt"] == {"photos": 3, "exact": pytest.approx(1 / 3),
                                            "group": pytest.approx(1 / 3)}
    assert report["folders"]["dress"]["photos"] == 1 and report["folders"]["dress"]["exact"] == 0
    assert report["confusion"]["t-shirt"][10] == 1 and report["confusion"]["dress"][10] == 1
