"""Training-time augmentation as tf.data maps; never part of the exported model.

Fashion-MNIST images get mirroring, shifts and random erasing. Photos (28x28 inputs cut out
of real photos by the segmentation) get their own: mirroring, shift, a small scale and
rotation, brightness and contrast of the garment, and blur. Only what a recipe varied is an
option (AugmentConfig); the rest are the constants below.
"""

from __future__ import annotations

import math
import tensorflow as tf

from model.config import AugmentConfig

SHIFT_PIXELS = 2  # Largest shift of Fashion-MNIST images, in pixels.
ERASING_MAX_AREA = 0.25  # Largest erased area, as a fraction of the image.
PHOTO_SHIFT_PIXELS = 2.0  # Largest shift of photos, in pixels.
PHOTO_SCALE = 0.1  # Photos are scaled by up to this fraction, up or down.
PHOTO_ROTATION_DEGREES = 10.0  # Largest rotation of photos, in degrees.
PHOTO_BRIGHTNESS = 25.0  # Largest brightness change of the garment (0-255).
PHOTO_CONTRAST = 0.25  # Largest contrast change of the garment, as a fraction.
PHOTO_BLUR_PROBABILITY = 0.3  # Chance to blur a photo a little.


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


def augment(image, label, config: AugmentConfig):
    """Augments one float32 (28, 28, 1) Fashion-MNIST image of raw 0-255 values.

    Random choices go through tf.cond, so that this works whether or not AutoGraph runs.
    """
    if config.mirror_images:
        image = tf.image.random_flip_left_right(image)
    image = shift(image, SHIFT_PIXELS)
    if config.erasing_probability > 0:
        image = tf.cond(tf.random.uniform([]) < config.erasing_probability,
                        lambda: random_erasing(image, ERASING_MAX_AREA), lambda: image)
    return image, label


def similarity_transform(image, scale, angle, shift_x, shift_y):
    """The image scaled by scale and turned by angle (radians) about its centre, then shifted."""
    size = tf.cast(tf.shape(image)[0], tf.float32)
    centre = (size - 1.0) / 2.0
    cosine, sine = tf.cos(angle) / scale, tf.sin(angle) / scale
    # The transform maps each output pixel to the input pixel it samples.
    transform = tf.stack([cosine, sine, centre - cosine * centre - sine * centre - shift_x,
                          -sine, cosine, centre + sine * centre - cosine * centre - shift_y,
                          0.0, 0.0])
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transform[None], output_shape=tf.shape(image)[:2],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")[0]


def augment_photo(image, label):
    """Augments one float32 (28, 28, 1) photo input of raw 0-255 values; the background
    (zero) stays zero: random_photo_view, then a light blur with PHOTO_BLUR_PROBABILITY."""
    image = random_photo_view(image)
    blurred = tf.nn.avg_pool2d(image[None], 3, 1, "SAME")[0]
    image = tf.cond(tf.random.uniform([]) < PHOTO_BLUR_PROBABILITY,
                    lambda: 0.5 * (image + blurred), lambda: image)
    return image, label


def random_photo_view(image):
    """One float32 (28, 28, 1) photo input of raw 0-255 values mirrored at random, moved,
    scaled and turned a little, and made lighter or darker and of more or less contrast; the
    background (zero) stays zero."""
    image = tf.image.random_flip_left_right(image)
    scale = 1.0 + tf.random.uniform([], -PHOTO_SCALE, PHOTO_SCALE)
    angle = tf.random.uniform([], -1.0, 1.0) * PHOTO_ROTATION_DEGREES * math.pi / 180
    shift_x, shift_y = tf.unstack(tf.random.uniform([2], -1.0, 1.0) * PHOTO_SHIFT_PIXELS)
    image = similarity_transform(image, scale, angle, shift_x, shift_y)
    garment = image > 0.5
    gain = 1.0 + tf.random.uniform([], -PHOTO_CONTRAST, PHOTO_CONTRAST)
    offset = tf.random.uniform([], -PHOTO_BRIGHTNESS, PHOTO_BRIGHTNESS)
    return tf.where(garment, tf.clip_by_value(image * gain + offset, 1.0, 255.0), 0.0)
