"""Distillation on the Fashion-MNIST rows (model.distill): the loss by hand, and fit()."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # Each test imports TensorFlow.


def softened(probabilities, temperature):
    powered = probabilities ** (1 / temperature)
    return powered / powered.sum(axis=-1, keepdims=True)


def test_distillation_loss_matches_a_hand_computation():
    from model.distill import distillation_loss

    teacher = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32)
    network = np.array([[0.5, 0.25, 0.25], [0.3, 0.3, 0.4]], dtype=np.float32)
    for temperature in (1.0, 2.0):
        soft_teacher, soft_network = softened(teacher, temperature), softened(network, temperature)
        expected = temperature ** 2 * (soft_teacher * np.log(soft_teacher / soft_network)).sum(-1)
        computed = distillation_loss(teacher, network, temperature).numpy()
        np.testing.assert_allclose(computed, expected, rtol=1e-5)
        assert (computed > 0.01).all()  # Different answers cost something...
    same = distillation_loss(teacher, teacher, 2.0).numpy()
    np.testing.assert_allclose(same, 0.0, atol=1e-6)  # ...the teacher's own answers nothing.


def tiny_config(**fields):
    from model.config import NetworkConfig, TrainConfig

    return TrainConfig(schedule="constant", network=NetworkConfig(
        stem_filters=4, block_filters=(4, 8), dense_units=8), **fields)


def test_distilled_fit_trains_the_network_and_leaves_the_teacher_alone(tmp_path):
    import keras

    from model.distill import DistilledModel
    from model.network import build_network
    from model.partial_labels import accepted_accuracy, one_class_masks, partial_label_loss
    from model.train import make_optimizer, training_model

    keras.utils.set_random_seed(0)
    teacher = build_network(tiny_config().network)
    teacher.save(tmp_path / "teacher.keras")
    config = tiny_config(distill_from=str(tmp_path / "teacher.keras"), distill_weight=0.5,
                         distill_temperature=3.0)
    network = build_network(config.network)
    model = training_model(network, config, fashion_rows=12)
    assert isinstance(model, DistilledModel)
    assert (model.fashion_rows, model.weight, model.temperature) == (12, 0.5, 3.0)
    model.compile(optimizer=make_optimizer(config, steps_per_epoch=2),
                  loss=partial_label_loss(0.1), metrics=[accepted_accuracy])
    teacher_before = [weights.copy() for weights in model.teacher.get_weights()]
    network_before = [weights.copy() for weights in network.get_weights()]
    random = np.random.default_rng(0)
    images = random.integers(0, 256, (32, 28, 28, 1)).astype(np.float32)
    masks = one_class_masks(random.integers(0, 10, 32))
    history = model.fit(images, masks, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    assert np.isfinite(history["loss"][0]) and history["loss"][0] > 0
    assert any(not np.array_equal(old, new)
               for old, new in zip(network_before, network.get_weights()))
    for old, new in zip(teacher_before, model.teacher.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_distillation_options_reach_the_config_and_bad_ones_are_refused(tmp_path):
    from model.network import build_network
    from model.train import parse_config, training_model

    config, _, _ = parse_config(["--distill-from", "teacher.keras", "--distill-weight", "0.5",
                                 "--distill-temperature", "4"])
    assert (config.distill_from, config.distill_weight, config.distill_temperature) == (
        "teacher.keras", 0.5, 4.0)
    network = build_network(tiny_config().network)
    with pytest.raises(ValueError, match="cannot read it"):
        training_model(network, tiny_config(distill_from=str(tmp_path / "missing.keras")), 12)
    with pytest.raises(ValueError, match="sam"):
        training_model(network, tiny_config(distill_from="teacher.keras", optimizer="sam"), 12)
    network.save(tmp_path / "teacher.keras")
    with pytest.raises(ValueError, match="lower --photo-share"):
        training_model(network, tiny_config(distill_from=str(tmp_path / "teacher.keras")), 0)
