"""Set-valued ("partial") labels: a photo of a long-sleeved top may be a Pullover or a Shirt.

Every training target is a 0/1 mask over the ten classes: the accepted classes of a photo,
or the one class of a Fashion-MNIST image. The loss is the negative log of the summed
probability of the accepted classes, so with one accepted class it is the usual
cross-entropy; label smoothing mixes in the mean cross-entropy over all classes, exactly
as Keras's label smoothing does for one class.
"""

from __future__ import annotations

import numpy as np

from model.classes import NUM_CLASSES

EPSILON = 1e-7  # Smallest probability inside a logarithm.


def one_class_masks(labels: np.ndarray) -> np.ndarray:
    """float32 (N, 10) masks with one accepted class per label."""
    return np.eye(NUM_CLASSES, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]


SET_LOSSES = ("sum", "pick")  # The rules for a target with several accepted classes.


def partial_label_loss(label_smoothing: float = 0.0, set_loss: str = "sum"):
    """A Keras loss of (accepted mask, probabilities).

    set_loss "sum": -log(sum of accepted probabilities); its gradient is that of a
    cross-entropy whose target is the model's current belief restricted to the accepted set
    (PRODEN's weighting, Lv et al. 2020, with weights of the current step), so the belief may
    stay spread over the set. "pick": cross-entropy on the model's own most likely accepted
    class (self-training on its pick), so the model commits to one class of the set. With one
    accepted class both are the usual cross-entropy.
    """
    import tensorflow as tf  # Not keras.ops: the Intel environment runs Keras 2.15.

    if not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
    if set_loss not in SET_LOSSES:
        raise ValueError(f"set_loss must be one of {SET_LOSSES}, got {set_loss!r}.")

    def loss(accepted, probabilities):
        probabilities = tf.cast(probabilities, tf.float32)
        accepted = tf.cast(accepted, tf.float32)
        if set_loss == "pick":
            # accepted * EPSILON breaks ties toward an accepted class when all underflow.
            picked = tf.argmax(probabilities * accepted + accepted * EPSILON, axis=-1)
            accepted = tf.stop_gradient(tf.one_hot(picked, NUM_CLASSES, dtype=tf.float32))
        accepted_probability = tf.reduce_sum(probabilities * accepted, axis=-1)
        set_loss_value = -tf.math.log(tf.clip_by_value(accepted_probability, EPSILON, 1.0))
        if label_smoothing == 0:
            return set_loss_value
        uniform_loss = -tf.reduce_mean(
            tf.math.log(tf.clip_by_value(probabilities, EPSILON, 1.0)), axis=-1)
        return (1 - label_smoothing) * set_loss_value + label_smoothing * uniform_loss

    loss.__name__ = "partial_label_loss"
    return loss


def accepted_accuracy(accepted, probabilities):
    """1 where the most likely class is an accepted one, else 0 (a Keras metric)."""
    import tensorflow as tf

    predicted = tf.argmax(probabilities, axis=-1)
    return tf.gather(tf.cast(accepted, tf.float32), predicted, batch_dims=1)


def accepted_rate(probabilities: np.ndarray, accepted: np.ndarray) -> float:
    """Fraction of rows whose most likely class is accepted (numpy, for reports)."""
    predicted = np.argmax(probabilities, axis=-1)
    return float(np.mean(np.asarray(accepted)[np.arange(len(predicted)), predicted]))
