"""Distillation from a teacher on the Fashion-MNIST part of every batch, for model.train.

    python -m model.train --init-from runs/recipe/wide-start/fashion_cnn.keras \
        --distill-from assets/fashion-mnist/fashion_cnn.keras --distill-weight 1 ...

While the network learns photos, the Fashion-MNIST images of each batch (its first rows: see
model.train.mixed_batches) are also pulled towards the teacher's answers on the same augmented
images ("learning without forgetting", Li and Hoiem 2017; the loss of Hinton et al. 2015):

    loss = partial-label loss of all rows
           + weight * temperature**2 * KL(teacher || network), both softened by temperature,
             averaged over the Fashion-MNIST rows

The teacher is frozen and runs in inference mode. The networks output probabilities, so
their logarithms serve as logits (softmax is unchanged by the constant they differ by).
TensorFlow ops only, as model.sam: it runs under Keras 3 and the Intel environment's Keras 2.15.
"""

from __future__ import annotations

import keras
import tensorflow as tf

KERAS_3 = int(keras.__version__.split(".")[0]) >= 3
EPSILON = 1e-7  # Keeps the logarithm of a zero probability finite.


def distillation_loss(teacher_probabilities, probabilities, temperature: float):
    """Per-row temperature**2 * KL(teacher || network) of the softened distributions."""
    teacher_log = tf.math.log(tf.clip_by_value(
        tf.cast(teacher_probabilities, tf.float32), EPSILON, 1.0)) / temperature
    network_log = tf.math.log(tf.clip_by_value(
        tf.cast(probabilities, tf.float32), EPSILON, 1.0)) / temperature
    teacher_soft = tf.nn.softmax(teacher_log, axis=-1)
    kl = tf.reduce_sum(teacher_soft * (tf.nn.log_softmax(teacher_log, axis=-1)
                                       - tf.nn.log_softmax(network_log, axis=-1)), axis=-1)
    return temperature ** 2 * kl


class DistilledModel(keras.Model):
    """A functional model whose fit() adds the teacher's term on the first fashion_rows rows
    of every batch; build it with distilled(network, ...)."""

    def __init__(self, *args, teacher=None, fashion_rows: int = 0, weight: float = 1.0,
                 temperature: float = 2.0, **kwargs):
        super().__init__(*args, **kwargs)
        if weight <= 0:
            raise ValueError(f"--distill-weight must be above 0, got {weight}.")
        if temperature <= 0:
            raise ValueError(f"--distill-temperature must be above 0, got {temperature}.")
        if fashion_rows <= 0:
            raise ValueError("distillation needs Fashion-MNIST images in every batch; "
                             "lower --photo-share.")
        self.teacher = teacher
        self.teacher.trainable = False
        self.fashion_rows = fashion_rows
        self.weight = weight
        self.temperature = temperature

    def train_step(self, data):
        images, accepted = data
        teacher_probabilities = self.teacher(images[:self.fashion_rows], training=False)
        with tf.GradientTape() as tape:
            predictions = self(images, training=True)
            loss = tf.reduce_mean(self.loss(accepted, predictions)) + self.weight * \
                tf.reduce_mean(distillation_loss(teacher_probabilities,
                                                 predictions[:self.fashion_rows],
                                                 self.temperature))
            if self.losses:
                loss += tf.add_n(self.losses)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        if KERAS_3:  # What Keras 3's own train_step does to log the loss.
            self._loss_tracker.update_state(loss)
        else:  # Keras 2 logs the loss when its compiled loss is called.
            self.compiled_loss(accepted, predictions, regularization_losses=self.losses)
        return self.compute_metrics(images, accepted, predictions, sample_weight=None)


def load_teacher(path: str) -> keras.Model:
    """The frozen teacher; ValueError with what to do when it cannot be read."""
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"--distill-from {path}: cannot read it as a Keras model ({error}). "
                         "Give a .keras file written by model.train.") from error


def distilled(network: keras.Model, teacher: keras.Model, fashion_rows: int, weight: float,
              temperature: float) -> DistilledModel:
    """A distilling training model on the layers (and so the weights) of a functional network."""
    return DistilledModel(network.inputs, network.outputs, teacher=teacher,
                          fashion_rows=fashion_rows, weight=weight, temperature=temperature,
                          name=network.name + "_distilled")
