"""Sharpness-Aware Minimization (SAM; Foret et al., ICLR 2021) for model.train.

    python -m model.train --optimizer sam --sam-rho 0.05 --out runs/sam

Each step takes the gradient g at the weights w, moves to w + rho * g / ||g|| (the steepest
ascent within a ball of radius rho), takes the gradient there, comes back to w and lets the
base optimizer (SGD with Nesterov momentum by default, see model.train.make_optimizer) step
from w with that second gradient. A step costs two forward and two backward passes.

The training model shares its layers with the plain functional network, so the weights that
model.train exports are those of the plain network. TensorFlow ops only: it runs under Keras 3
and under the Intel environment's Keras 2.15.
"""

from __future__ import annotations

import keras
import tensorflow as tf

KERAS_3 = int(keras.__version__.split(".")[0]) >= 3
NORM_EPSILON = 1e-12  # Keeps the ascent step finite when the gradient is zero.


def sharpness_aware_step(variables, loss_at_current_weights, optimizer, rho: float):
    """One SAM step on variables; returns the loss at the original weights.

    loss_at_current_weights() computes the scalar loss at the variables' current values.
    """
    with tf.GradientTape() as tape:
        loss = loss_at_current_weights()
    gradients = tape.gradient(loss, variables)
    scale = rho / (tf.linalg.global_norm(gradients) + NORM_EPSILON)
    ascent = [gradient * scale for gradient in gradients]
    for variable, step in zip(variables, ascent):
        variable.assign_add(step)
    with tf.GradientTape() as tape:
        sharp_loss = loss_at_current_weights()
    sharp_gradients = tape.gradient(sharp_loss, variables)
    for variable, step in zip(variables, ascent):
        variable.assign_sub(step)
    optimizer.apply_gradients(zip(sharp_gradients, variables))
    return loss


class SharpnessAwareModel(keras.Model):
    """A functional model whose fit() steps with SAM; build it with sharpness_aware(network).

    Logs the loss and metrics of the first forward pass (at the original weights), as plain
    training does. BatchNorm's moving statistics see both forward passes.
    """

    def __init__(self, *args, rho: float = 0.05, **kwargs):
        super().__init__(*args, **kwargs)
        if rho <= 0:
            raise ValueError(f"--sam-rho must be above 0, got {rho}.")
        self.rho = rho

    def train_step(self, data):
        images, accepted = data
        first_pass = []

        def loss_at_current_weights():
            predictions = self(images, training=True)
            first_pass.append(predictions)
            loss = tf.reduce_mean(self.loss(accepted, predictions))
            return loss + tf.add_n(self.losses) if self.losses else loss

        loss = sharpness_aware_step(self.trainable_variables, loss_at_current_weights,
                                    self.optimizer, self.rho)
        predictions = first_pass[0]
        if KERAS_3:  # What Keras 3's own train_step does to log the loss.
            self._loss_tracker.update_state(loss)
        else:  # Keras 2 logs the loss when its compiled loss is called.
            self.compiled_loss(accepted, predictions, regularization_losses=self.losses)
        return self.compute_metrics(images, accepted, predictions, sample_weight=None)


def sharpness_aware(network: keras.Model, rho: float) -> SharpnessAwareModel:
    """A SAM training model on the layers (and so the weights) of a functional network."""
    return SharpnessAwareModel(network.inputs, network.outputs, rho=rho,
                               name=network.name + "_sam")
