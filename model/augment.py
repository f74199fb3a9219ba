"""Training-time augmentation as tf.data maps; never part of the exported model.

Besides the usual flips, shifts and random erasing, the camera augmentation mimics what
the segmentation pipeline does to real frames: ragged mask edges, blur, gamma and
contrast changes, and a garment that fills less of the 28x28 canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    flip: bool = True  # Mirror left-right with probability 0.5.
    shift_pixels: int = 2  # Largest shift in each direction, by zero padding and cropping.
    erasing_probability: float = 0.5  # Chance to blank a random rectangle (random erasing).
    erasing_max_area: float = 0.25  # Largest erased area as a fraction of the image.
    camera_probability: float = 0.0  # Chance to apply the camera-like distortions.


def shift(image, pixels: int):
    padded = tf.pad(image, [[pixels, pixels], [pixels, pixels], [0, 0]])
    return tf.image.random_crop(padded, tf.shape(image))


def random_erasing(image, max_area: float):
    """Fills a random rectangle with random noise (Zhong et al., 2017)."""
    area = tf.random.uniform([], 0.02, max_area) * 784.0
    aspect = tf.exp(tf.random.uniform([], tf.math.log(0.3), tf.math.log(3.3)))
    height = tf.clip_by_value(tf.cast(tf.sqrt(area * aspect), tf.int32), 1, 27)
    width = tf.clip_by_value(tf.cast(tf.sqrt(area / aspect), tf.int32), 1, 27)
    top = tf.random.uniform([], 0, 28 - height + 1, tf.int32)
    left = tf.random.uniform([], 0, 28 - width + 1, tf.int32)
    rows = tf.range(28)[:, None]
    columns = tf.range(28)[None, :]
    inside = (rows >= top) & (rows < top + height) & (columns >= left) & (columns < left + width)
    noise = tf.random.uniform([28, 28, 1], 0.0, 255.0)
    return tf.where(inside[..., None], noise, image)


def camera_distortions(image):
    """Distortions that real frames get from segmentation; each part is applied at random."""
    garment = tf.cast(image > 0, tf.float32)
    # Ragged mask edges: drop some pixels on the silhouette's border.
    eroded = -tf.nn.max_pool2d(-garment[None], 3, 1, "SAME")[0]
    border = garment - eroded
    drop = tf.cast(tf.random.uniform(tf.shape(image)) < 0.5, tf.float32) * border
    image = image * (1.0 - drop * tf.cast(tf.random.uniform([]) < 0.5, tf.float32))
    # Blur, mixed in by a random amount (none half of the time).
    blurred = tf.nn.avg_pool2d(image[None], 3, 1, "SAME")[0]
    amount = tf.random.uniform([], 0.3, 1.0) * tf.cast(tf.random.uniform([]) < 0.5, tf.float32)
    image = image * (1.0 - amount) + blurred * amount
    # Gamma and contrast of the garment only; the background stays black.
    gamma = tf.exp(tf.random.uniform([], tf.math.log(0.6), tf.math.log(1.6)))
    contrast = tf.random.uniform([], 0.7, 1.15)
    adjusted = tf.clip_by_value(255.0 * tf.pow(image / 255.0, gamma) * contrast, 0.0, 255.0)
    image = tf.where(image > 0, adjusted, 0.0)
    # A smaller garment: shrink to 24-28 pixels and pad back to 28.
    size = tf.random.uniform([], 24, 29, tf.int32)
    small = tf.image.resize(image, [size, size], antialias=True)
    return tf.image.resize_with_crop_or_pad(small, 28, 28)


def augment(image, label, config: AugmentConfig):
    """Augments one float32 (28, 28, 1) image of raw 0-255 values.

    Random choices go through tf.cond, so that this works whether or not AutoGraph runs.
    """
    if config.camera_probability > 0:
        image = tf.cond(tf.random.uniform([]) < config.camera_probability,
                        lambda: camera_distortions(image), lambda: image)
    if config.flip:
        image = tf.image.random_flip_left_right(image)
    if config.shift_pixels > 0:
        image = shift(image, config.shift_pixels)
    if config.erasing_probability > 0:
        image = tf.cond(tf.random.uniform([]) < config.erasing_probability,
                        lambda: random_erasing(image, config.erasing_max_area), lambda: image)
    return image, label
