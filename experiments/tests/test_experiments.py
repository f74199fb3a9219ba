"""Tests of the experiments (not collected by the product suite):

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest experiments/tests

They moved here from tests/test_model.py with the code they test (2026-12-05).
"""

import json

import numpy as np
import pytest

from experiments.synthetic import load_pipeline_images
from model.paths import SHIPPED_KERAS_MODEL

needs_shipped_model = pytest.mark.skipif(not SHIPPED_KERAS_MODEL.exists(),
                                         reason="the shipped model is not in assets/")


def test_a_fine_tuned_card_lists_every_earlier_stage(tmp_path):
    from experiments.lineage import earlier_stages

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


@pytest.mark.dataset
def test_pipeline_images_of_other_data_are_refused(tmp_path, fashion_mnist):
    path = tmp_path / "few.npz"
    np.savez(path, images=fashion_mnist.train_images[:10], found=np.ones(10, bool),
             split="train", dataset_checksum=fashion_mnist.checksum)
    with pytest.raises(ValueError, match="made from other data"):
        load_pipeline_images(path, fashion_mnist, "train")
    np.savez(tmp_path / "no_split.npz", images=fashion_mnist.train_images,
             dataset_checksum=fashion_mnist.checksum)  # Files must say which split they hold.
    with pytest.raises(ValueError, match="not readable"):
        load_pipeline_images(tmp_path / "no_split.npz", fashion_mnist, "train")
    (tmp_path / "broken.npz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not readable"):
        load_pipeline_images(tmp_path / "broken.npz", fashion_mnist, "train")
    # Test images are not training images, even with the right count.
    np.savez(path, images=fashion_mnist.train_images, split="test",
             dataset_checksum=fashion_mnist.checksum)
    with pytest.raises(ValueError, match="test split"):
        load_pipeline_images(path, fashion_mnist, "train")
    np.savez(path, images=fashion_mnist.train_images, split="train",
             dataset_checksum=fashion_mnist.checksum)
    assert load_pipeline_images(path, fashion_mnist, "train").shape == (60000, 28, 28)


def test_a_soup_is_the_uniform_average_of_one_architecture():
    from experiments.interpolate import average_weights

    first, second = [np.zeros((2, 3)), np.ones(4)], [np.full((2, 3), 4.0), np.full(4, 3.0)]
    soup = average_weights([first, second])
    np.testing.assert_allclose(soup[0], np.full((2, 3), 2.0))
    np.testing.assert_allclose(soup[1], np.full(4, 2.0))
    with pytest.raises(ValueError, match="different architectures"):
        average_weights([first, [np.zeros((3, 2)), np.ones(4)]])


def test_mixing_weights_is_a_weighted_average_of_one_architecture():
    from experiments.interpolate import choose_weight, mix_weights

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

    from experiments.interpolate import main

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
    from experiments.interpolate import main
    from model.paths import SHIPPED_KERAS_MODEL

    out, _ = tiny_run
    assert main([str(out / "fashion_cnn.keras"), str(SHIPPED_KERAS_MODEL),
                 "--out", str(tmp_path / "mixed")]) == 2
    assert "different architectures" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.keras"), str(SHIPPED_KERAS_MODEL),
                 "--out", str(tmp_path / "mixed")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_widening_copies_channels_and_splits_their_outgoing_weights():
    from experiments.widen import channel_mapping

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
    from experiments.widen import largest_difference, network_config_of, widen

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
    from experiments.lineage import earlier_stages
    from model.config import NetworkConfig
    from model.network import build_network
    from experiments.widen import main

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


def test_a_photo_subset_keeps_a_fixed_share_of_every_folder(tmp_path, capsys):
    from experiments.photo_subset import main, subset

    files = [tmp_path / f"{index}.jpg" for index in range(10)]
    assert len(subset(files, 0.5, seed=0)) == 5
    assert subset(files, 0.5, seed=0) == subset(list(reversed(files)), 0.5, seed=0)
    assert len(subset(files[:1], 0.1, seed=0)) == 1
    with pytest.raises(ValueError, match="share"):
        subset(files, 0, seed=0)

    source = tmp_path / "photos"
    for folder, count in (("shoes", 4), ("dress", 3)):
        (source / folder).mkdir(parents=True)
        for index in range(count):
            (source / folder / f"{index}.jpg").write_bytes(b"x")
    (source / "shoes" / "notes.txt").write_text("not a photo")
    assert main([str(source), str(tmp_path / "half"), "--share", "0.5"]) == 0
    assert len(list((tmp_path / "half" / "shoes").iterdir())) == 2
    assert len(list((tmp_path / "half" / "dress").iterdir())) == 2  # round(1.5) == 2
    assert all(path.resolve().parent.parent == source.resolve()
               for path in (tmp_path / "half").glob("*/*"))
    with pytest.raises(SystemExit):
        main([str(source), str(tmp_path / "half")])
    assert "exists" in capsys.readouterr().err
