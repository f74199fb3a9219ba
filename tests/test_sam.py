"""Sharpness-Aware Minimization (model.sam): the step by hand, and SAM training in fit()."""

import numpy as np
import pytest


@pytest.mark.tensorflow
def test_one_sam_step_on_a_quadratic_matches_the_formula():
    import keras
    import tensorflow as tf

    from model.sam import sharpness_aware_step

    curvature = np.array([1.0, 3.0], np.float32)
    start = np.array([1.0, -2.0], np.float32)
    rho, learning_rate = 0.5, 0.1
    weights = keras.Variable(start)

    def loss():  # L(w) = 0.5 * sum(a * w^2), so grad L(w) = a * w.
        return 0.5 * tf.reduce_sum(tf.constant(curvature) * weights * weights)

    returned = sharpness_aware_step([weights], loss, keras.optimizers.SGD(learning_rate), rho)

    gradient = curvature * start  # [1, -6]
    peak = start + rho * gradient / np.linalg.norm(gradient)
    expected = start - learning_rate * curvature * peak
    np.testing.assert_allclose(np.asarray(weights), expected, rtol=1e-6)
    assert float(returned) == pytest.approx(0.5 * np.sum(curvature * start ** 2))
    plain_sgd = start - learning_rate * gradient
    assert np.abs(expected - plain_sgd).max() > 0.05  # The check can tell SAM from SGD.


@pytest.mark.tensorflow
@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_sam_fit_trains_the_plain_network_and_logs_its_metrics(precision):
    import keras

    from model.config import NetworkConfig, TrainConfig
    from model.network import build_network
    from model.partial_labels import accepted_accuracy, one_class_masks, partial_label_loss
    from model.sam import SharpnessAwareModel
    from model.train import make_optimizer, training_model

    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(precision)
    try:
        config = TrainConfig(optimizer="sam", sam_rho=0.05, schedule="constant",
                             network=NetworkConfig(stem_filters=4, block_filters=(4, 8),
                                                   dense_units=8))
        network = build_network(config.network)
        model = training_model(network, config)
        assert isinstance(model, SharpnessAwareModel) and model.rho == 0.05
        model.compile(optimizer=make_optimizer(config, steps_per_epoch=2),
                      loss=partial_label_loss(0.1), metrics=[accepted_accuracy])
        before = [weights.copy() for weights in network.get_weights()]
        random = np.random.default_rng(0)
        images = random.integers(0, 256, (32, 28, 28, 1)).astype(np.float32)
        masks = one_class_masks(random.integers(0, 10, 32))
        history = model.fit(images, masks, batch_size=16, epochs=1, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(history["loss"][0]) and history["loss"][0] > 0
    changed = [not np.array_equal(old, new) for old, new in zip(before, network.get_weights())]
    assert any(changed)
    for shared, own in zip(model.get_weights(), network.get_weights()):
        np.testing.assert_array_equal(shared, own)


def test_sam_options_reach_the_config():
    from model.train import parse_config

    config, _, _ = parse_config(["--optimizer", "sam", "--sam-rho", "0.1", "--sam-base",
                                 "adamw"])
    assert (config.optimizer, config.sam_rho, config.sam_base) == ("sam", 0.1, "adamw")
