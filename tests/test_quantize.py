"""The int8 export (python -m model.export --quantize) and the shipped int8 model."""

import json

import numpy as np
import pytest

from model.paths import SHIPPED_FLOAT_TFLITE_MODEL, SHIPPED_TFLITE_MODEL
from model.predictor import LiteRtPredictor, predict_in_batches, predict_with_flip


def tiny_model(path):
    """A small untrained CNN with an embedding layer, saved as .keras."""
    import keras

    from model.config import NetworkConfig
    from model.network import build_network

    keras.utils.set_random_seed(0)
    build_network(NetworkConfig(stem_filters=8, block_filters=(8, 8), dense_units=64)).save(path)
    return path


def int8_weights(path) -> int:
    """How many int8 tensors a LiteRT model holds."""
    from ai_edge_litert.interpreter import Interpreter

    return sum(detail["dtype"] == np.int8
               for detail in Interpreter(model_path=str(path)).get_tensor_details())


@pytest.mark.tensorflow
def test_quantized_export_writes_both_models_and_the_card_entry(fashion_mnist, tmp_path, capsys):
    from model.export import main

    model = tiny_model(tmp_path / "fashion_cnn.keras")
    card = tmp_path / "model_card.json"
    calibration = {"fashion_cnn.tflite": {"sha256": "0" * 64, "temperature": 1.5}}
    # The run held out 3,000 images: the check uses those, never the model's training images.
    training = {"validation_size": 3000, "split_seed": 2}
    card.write_text(json.dumps({"name": "tiny", "calibration": calibration,
                                "training": training}))
    assert main([str(model), "--quantize", "--data-dir", str(fashion_mnist.directory)]) == 0
    written = json.loads(card.read_text())
    assert written["name"] == "tiny" and written["calibration"] == calibration
    validation, test = (written["int8"][key] for key in ("fashion_mnist_validation",
                                                         "fashion_mnist_test"))
    assert (validation["images"], test["images"]) == (3000, 10000)
    int8_file, float_file = tmp_path / "fashion_cnn.tflite", tmp_path / "fashion_cnn_float32.tflite"
    assert written["int8"]["bytes_int8"] == int8_file.stat().st_size
    assert int8_weights(int8_file) > 0 and int8_weights(float_file) == 0
    images = fashion_mnist.test_images[:50]
    int8, float32 = LiteRtPredictor(int8_file), LiteRtPredictor(float_file)
    probabilities, embedding = int8.predict_with_embedding(images)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-3) and embedding.shape == (50, 64)
    assert (probabilities.argmax(1) == float32.predict(images).argmax(1)).mean() >= 0.9
    answers = predict_in_batches(int8, fashion_mnist.test_images).argmax(axis=1)
    assert test["accuracy_int8"] == pytest.approx((answers == fashion_mnist.test_labels).mean())
    assert "Fashion-MNIST test (10,000 images)" in capsys.readouterr().out


@pytest.mark.tensorflow
def test_a_failed_check_writes_nothing(fashion_mnist, tmp_path, capsys, monkeypatch):
    from model import quantize
    from model.export import main

    monkeypatch.setattr(quantize, "MAX_ACCURACY_DROP", -1.0)  # No model can pass.
    model = tiny_model(tmp_path / "fashion_cnn.keras")
    assert main([str(model), "--quantize", "--data-dir", str(fashion_mnist.directory)]) == 2
    assert "nothing was written" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fashion_cnn.keras"]


@pytest.mark.tensorflow
@pytest.mark.parametrize("card_text", ["{broken", "[1]"])
def test_a_broken_card_stops_the_export_before_anything_is_written(fashion_mnist, tmp_path,
                                                                   capsys, card_text):
    from model.export import main

    model = tiny_model(tmp_path / "fashion_cnn.keras")
    (tmp_path / "model_card.json").write_text(card_text)
    assert main([str(model), "--quantize", "--data-dir", str(fashion_mnist.directory)]) == 2
    assert "model_card.json" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fashion_cnn.keras",
                                                                "model_card.json"]


@pytest.mark.tensorflow
@pytest.mark.parametrize("arguments, message", [
    (["--quantize", "--photos", "photos/"], "--photos and --photo-labels go together"),
    (["--float-out", "x.tflite"], "go with --quantize"),
])
def test_quantize_options_that_do_not_fit_are_refused(tmp_path, capsys, arguments, message):
    from model.export import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "m.keras"), *arguments])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.shipped_model
@pytest.mark.skipif(not SHIPPED_FLOAT_TFLITE_MODEL.is_file(), reason="no float32 export shipped")
def test_shipped_int8_model_names_the_demo_garments_as_the_float_one():
    from camera_app.benchmark import read_frames
    from segmentation import segment

    inputs = [result.model_input for result in map(segment, read_frames("demo", 240)[::4])
              if result.found]
    assert len(inputs) >= 20
    int8 = predict_with_flip(LiteRtPredictor(SHIPPED_TFLITE_MODEL), np.array(inputs))
    float32 = predict_with_flip(LiteRtPredictor(SHIPPED_FLOAT_TFLITE_MODEL), np.array(inputs))
    assert (int8.argmax(1) == float32.argmax(1)).all()
    assert np.abs(int8 - float32).max() < 0.05
    assert int8_weights(SHIPPED_TFLITE_MODEL) > 0 and int8_weights(SHIPPED_FLOAT_TFLITE_MODEL) == 0


@pytest.mark.tensorflow
@pytest.mark.parametrize("place, message", [("missing/fashion_cnn.tflite", "does not exist"),
                                            ("a-folder", "is a folder")])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys, place,
                                                                     message):
    from model.export import main

    model = tmp_path / "fashion_cnn.keras"
    model.write_bytes(b"never loaded: the outputs are checked first")
    (tmp_path / "a-folder").mkdir()
    assert main([str(model), "--quantize", "--out", str(tmp_path / place)]) == 2
    error = capsys.readouterr().err
    assert message in error and "nothing was written" in error
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-folder", model.name]
