"""The Fashion-MNIST CNN: a compact VGG-style network with BatchNorm.

It takes raw pixel values 0-255 as float32 of shape (N, 28, 28, 1) and normalises them
itself, so that no caller can get the preprocessing wrong. It uses only layers that both
Keras 2.15 (the Intel environment) and Keras 3 provide.
"""

from __future__ import annotations

import keras
from keras import layers

from model.classes import NUM_CLASSES
from model.config import NetworkConfig

# Mean and standard deviation of Fashion-MNIST training pixels, scaled to 0-1.
PIXEL_MEAN = 0.2860
PIXEL_STD = 0.3530

# The hidden dense layer that the classifier reads: its output is the embedding that
# taught examples are compared by (see model.export and model.predictor).
EMBEDDING_LAYER = "dense_relu"


class FusedBatchNormalization(layers.BatchNormalization):
    """Keras's BatchNormalization whose training step is TensorFlow's fused kernel.

    Keras 3 computes a batch's mean and variance as separate reductions, in float32 after a
    cast from bfloat16; that was about a fifth of the train step's kernel time here, and the
    fused kernel (FusedBatchNormV3, one pass forwards and one backwards) made the whole step
    1.9 times faster (docs/experiments.md, 2026-12-05, "the fused batch norm"). The maths is
    Keras's: the output uses the batch's biased variance, and the moving averages take the
    batch mean and biased variance with the layer's momentum. Inference is Keras's own code.
    The weights are the same four as BatchNormalization's, in the same order, so a network
    built with it and one built without it exchange weights with get_weights/set_weights.
    """

    def call(self, inputs, training=None, mask=None):
        import tensorflow as tf

        if not training:
            return super().call(inputs, training=training, mask=mask)
        flat = len(inputs.shape) == 2  # (N, C) after a dense layer: seen as (N, 1, 1, C).
        channels = inputs.shape[-1]
        images = tf.reshape(inputs, [-1, 1, 1, channels]) if flat else inputs
        output, mean, unbiased_variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
            x=images, scale=tf.cast(self.gamma, tf.float32),
            offset=tf.cast(self.beta, tf.float32), mean=tf.constant([], tf.float32),
            variance=tf.constant([], tf.float32), epsilon=self.epsilon,
            exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
        count = tf.cast(tf.size(images) // channels, tf.float32)
        variance = unbiased_variance * (count - 1.0) / tf.maximum(count, 1.0)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum
                                    + variance * (1.0 - self.momentum))
        return tf.reshape(output, [-1, channels]) if flat else output


def fused_batch_norm_available() -> bool:
    """Whether FusedBatchNormalization trains here: Keras 3 on TensorFlow's CPU. Keras 2.15
    (the Intel environment) fuses its own BatchNormalization already; where TensorFlow sees a
    GPU, Keras's own layer is kept, since the fused layer was measured and tested on CPUs
    only."""
    if int(keras.__version__.split(".")[0]) < 3 or keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


def convolution_block(x, filters: int, name: str, batch_norm=layers.BatchNormalization):
    """3x3 convolution without bias, BatchNorm, ReLU."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name + "_conv")(x)
    x = batch_norm(name=name + "_bn")(x)
    return layers.Activation("relu", name=name + "_relu")(x)


def build_network(config: NetworkConfig = NetworkConfig(),
                  fused_batch_norm: bool = False) -> keras.Model:
    """The network, float32 (N, 28, 28, 1) raw pixels -> float32 (N, 10) probabilities.

    fused_batch_norm builds it with FusedBatchNormalization where that is available, for
    training; the saved and exported network is built without it (plain Keras layers) and
    takes the trained weights.
    """
    batch_norm = FusedBatchNormalization if fused_batch_norm and fused_batch_norm_available() \
        else layers.BatchNormalization
    inputs = keras.Input(shape=(28, 28, 1), name="pixels")
    x = layers.Rescaling(scale=1.0 / (255.0 * PIXEL_STD), offset=-PIXEL_MEAN / PIXEL_STD,
                         name="normalise")(inputs)
    x = convolution_block(x, config.stem_filters, "stem", batch_norm)
    x = layers.MaxPooling2D(name="pool_28")(x)
    x = layers.Dropout(config.block_dropout, name="drop_28")(x)
    size = 14
    for filters in config.block_filters:
        x = convolution_block(x, filters, f"block{size}_a", batch_norm)
        x = convolution_block(x, filters, f"block{size}_b", batch_norm)
        x = layers.MaxPooling2D(name=f"pool_{size}")(x)
        x = layers.Dropout(config.block_dropout, name=f"drop_{size}")(x)
        size //= 2
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(config.dense_units, use_bias=False, name="dense")(x)
    x = batch_norm(name="dense_bn")(x)
    x = layers.Activation("relu", name=EMBEDDING_LAYER)(x)
    x = layers.Dropout(config.head_dropout, name="head_dropout")(x)
    x = layers.Dense(NUM_CLASSES, name="logits")(x)
    # Softmax in float32 keeps probabilities exact under mixed bfloat16.
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="fashion_cnn")


def count_flops(model: keras.Model) -> int:
    """Counts multiply-adds of convolutions and dense layers, times two (FLOPs per image)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, height, width, out_channels = layer.output.shape
            kernel_height, kernel_width, in_channels, _ = layer.kernel.shape
            total += height * width * out_channels * kernel_height * kernel_width * in_channels
        elif isinstance(layer, layers.Dense):
            total += layer.kernel.shape[0] * layer.kernel.shape[1]
    return 2 * int(total)


def with_embedding(model):
    """The model with a second output, its embedding; the model itself when it has none.

    Raises ValueError when the embedding is as wide as the probabilities (then the two
    outputs of the flatbuffer could not be told apart).
    """
    names = {layer.name for layer in model.layers}
    if EMBEDDING_LAYER not in names:
        return model
    embedding = model.get_layer(EMBEDDING_LAYER).output
    if embedding.shape[-1] == NUM_CLASSES:
        raise ValueError(f"The embedding layer {EMBEDDING_LAYER} has {NUM_CLASSES} units, as "
                         "many as the classes, so the exported outputs could not be told "
                         "apart; use another dense_units.")
    return keras.Model(model.input, [model.output, embedding], name=model.name)
