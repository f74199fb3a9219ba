"""Training throughput of the shipped recipe's step with four input pipelines, interleaved.

    python -m experiments.train_throughput [--rounds 6 --steps 20]

Pipelines: 'model.train' (its pipeline: augmentation mapped over single images, then batched;
each photo's blur computed whether drawn or not), 'blur drawn' (the same with the blur computed
only when drawn), 'batched' (the same augmentation written for whole batches, below, mapped
once per batch) and 'none' (the same batches without augmentation: the step alone). Each round
runs every pipeline for --steps timed steps in a rotated order on one compiled model (synthetic
Fashion-MNIST-sized images and photos, 20% of each batch photos, the recipe's precision); prints
images/s per pipeline and the process's CPU time per step (median over rounds, with min-max), and their
ratios to 'model.train' within each round. On 2026-12-05 neither the batching nor the blur when
drawn saved measurable time (docs/experiments.md), so model.train keeps its per-image maps.
"""

from __future__ import annotations

import argparse
import math
import time
from types import SimpleNamespace

import numpy as np
import tensorflow as tf

from model.augment import (ERASING_MAX_AREA, PHOTO_BLUR_PROBABILITY,
                           PHOTO_BRIGHTNESS, PHOTO_CONTRAST, PHOTO_ROTATION_DEGREES,
                           PHOTO_SCALE, PHOTO_SHIFT_PIXELS, SHIFT_PIXELS)


def translate(images, shift_x, shift_y, interpolation: str = "NEAREST"):
    """float32 (N, 28, 28, 1) images moved by (shift_x, shift_y) pixels, float32 (N,) each;
    what moves in is 0."""
    ones, zeros = tf.ones_like(shift_x), tf.zeros_like(shift_x)
    # Each output pixel (x, y) samples the input at (x - shift_x, y - shift_y).
    transforms = tf.stack([ones, zeros, -shift_x, zeros, ones, -shift_y, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation=interpolation, fill_mode="CONSTANT")


def random_shift(images, pixels: int):
    """Each image moved by a whole number of pixels, -pixels to pixels on each axis (as a crop
    of the image padded with zeros by pixels on each side)."""
    count = tf.shape(images)[0]
    shifts = tf.cast(tf.random.uniform([2, count], -pixels, pixels + 1, tf.int32), tf.float32)
    return translate(images, shifts[0], shifts[1])


def mirror_some(images):
    """Each float32 (N, H, W, C) image mirrored left-right with probability 0.5."""
    chosen = tf.random.uniform([tf.shape(images)[0], 1, 1, 1]) < 0.5
    return tf.where(chosen, tf.reverse(images, axis=[2]), images)


def random_erasing(images, probability: float, max_area: float):
    """With the given probability per image, a random rectangle of float32 (N, 28, 28, 1)
    images filled with random noise (Zhong et al., 2017)."""
    count = tf.shape(images)[0]
    area = tf.random.uniform([count], 0.02, max_area) * 784.0
    aspect = tf.exp(tf.random.uniform([count], math.log(0.3), math.log(3.3)))
    height = tf.clip_by_value(tf.cast(tf.sqrt(area * aspect), tf.int32), 1, 27)
    width = tf.clip_by_value(tf.cast(tf.sqrt(area / aspect), tf.int32), 1, 27)
    # A uniform whole number in [0, 28 - side]: floor of a uniform float times the range.
    top = tf.cast(tf.random.uniform([count]) * tf.cast(29 - height, tf.float32), tf.int32)
    left = tf.cast(tf.random.uniform([count]) * tf.cast(29 - width, tf.float32), tf.int32)
    rows, columns = tf.range(28)[None, :, None], tf.range(28)[None, None, :]
    inside = ((rows >= top[:, None, None]) & (rows < (top + height)[:, None, None])
              & (columns >= left[:, None, None]) & (columns < (left + width)[:, None, None]))
    erased = tf.random.uniform([count, 1, 1]) < probability
    noise = tf.random.uniform(tf.shape(images), 0.0, 255.0)
    return tf.where((inside & erased)[..., None], noise, images)


def augment_batch(images, labels, config):
    """Augments a batch of float32 (N, 28, 28, 1) Fashion-MNIST images of raw 0-255 values,
    each image with its own random choices (one call per batch: much cheaper in tf.data than
    one per image)."""
    if config.mirror_images:
        images = mirror_some(images)
    images = random_shift(images, SHIFT_PIXELS)
    if config.erasing_probability > 0:
        images = random_erasing(images, config.erasing_probability, ERASING_MAX_AREA)
    return images, labels


def similarity_transforms(count, size: int, scale, angle, shift_x, shift_y):
    """float32 (N, 8) projective transforms that scale by scale and turn by angle (radians)
    about the centre of a size x size image, then shift; each argument float32 (N,)."""
    centre = (size - 1.0) / 2.0
    cosine, sine = tf.cos(angle) / scale, tf.sin(angle) / scale
    zeros = tf.zeros([count])
    # Each transform maps an output pixel to the input pixel it samples.
    return tf.stack([cosine, sine, centre - cosine * centre - sine * centre - shift_x,
                     -sine, cosine, centre + sine * centre - cosine * centre - shift_y,
                     zeros, zeros], axis=1)


def augment_photo_batch(images, labels):
    """Augments a batch of float32 (N, 28, 28, 1) photo inputs of raw 0-255 values, each with
    its own random choices; the background (zero) stays zero."""
    count = tf.shape(images)[0]
    images = mirror_some(images)
    scale = 1.0 + tf.random.uniform([count], -PHOTO_SCALE, PHOTO_SCALE)
    angle = tf.random.uniform([count], -1.0, 1.0) * PHOTO_ROTATION_DEGREES * math.pi / 180
    shift = tf.random.uniform([2, count], -1.0, 1.0) * PHOTO_SHIFT_PIXELS
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=similarity_transforms(count, 28, scale, angle, shift[0],
                                                        shift[1]),
        output_shape=tf.shape(images)[1:3], fill_value=0.0, interpolation="BILINEAR",
        fill_mode="CONSTANT")
    garment = images > 0.5
    gain = 1.0 + tf.random.uniform([count, 1, 1, 1], -PHOTO_CONTRAST, PHOTO_CONTRAST)
    offset = tf.random.uniform([count, 1, 1, 1], -PHOTO_BRIGHTNESS, PHOTO_BRIGHTNESS)
    images = tf.where(garment, tf.clip_by_value(images * gain + offset, 1.0, 255.0), 0.0)
    blurred = tf.nn.avg_pool2d(images, 3, 1, "SAME")
    chosen = tf.random.uniform([count, 1, 1, 1]) < PHOTO_BLUR_PROBABILITY
    return tf.where(chosen, 0.5 * (images + blurred), images), labels


def augment_photo_blur_when_drawn(image, label):
    """model.augment.augment_photo with the blur computed only for the photos it is drawn for
    (the same images for the same seed)."""
    from model.augment import random_photo_view

    image = random_photo_view(image)
    image = tf.cond(tf.random.uniform([]) < PHOTO_BLUR_PROBABILITY,
                    lambda: 0.5 * (image + tf.nn.avg_pool2d(image[None], 3, 1, "SAME")[0]),
                    lambda: image)
    return image, label


def blur_when_drawn_photos(photos, photo_count):
    """model.train's photo stream with augment_photo_blur_when_drawn."""
    photo = tf.data.Dataset.from_tensor_slices((photos.images[..., None].astype(np.float32),
                                                photos.accepted.astype(np.float32)))
    return photo.shuffle(len(photos.images), seed=2).repeat().map(
        augment_photo_blur_when_drawn, num_parallel_calls=tf.data.AUTOTUNE).batch(
        photo_count, drop_remainder=True)


def batched_pipeline(images, masks, photos, config, fashion, photo_count):
    """model.train's pipeline with the augmentation mapped over whole batches."""
    data = tf.data.Dataset.from_tensor_slices((images[..., None].astype(np.float32), masks))
    data = data.shuffle(len(masks), seed=1).repeat().batch(fashion, drop_remainder=True).map(
        lambda batch, mask: augment_batch(batch, mask, config.augment),
        num_parallel_calls=tf.data.AUTOTUNE)
    photo = tf.data.Dataset.from_tensor_slices((photos.images[..., None].astype(np.float32),
                                                photos.accepted.astype(np.float32)))
    photo = photo.shuffle(len(photos.images), seed=2).repeat().batch(
        photo_count, drop_remainder=True).map(augment_photo_batch,
                                              num_parallel_calls=tf.data.AUTOTUNE)
    return data, photo


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="rounds (default 4)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per pipeline and "
                                                               "round (default 20)")
    arguments = parser.parse_args(argv)
    import keras

    from model.config import TrainConfig
    from model.network import build_network
    from model.partial_labels import accepted_accuracy, one_class_masks, partial_label_loss
    from model.train import make_dataset, make_optimizer, mixed_batches, photo_batches

    config = TrainConfig()
    photo_count = round(0.2 * config.batch_size)
    fashion = config.batch_size - photo_count
    random = np.random.default_rng(0)
    images = random.integers(0, 256, (20000, 28, 28), dtype=np.uint8)
    masks = one_class_masks(random.integers(0, 10, len(images)))
    photos = SimpleNamespace(images=random.integers(0, 256, (5000, 28, 28), dtype=np.uint8),
                             accepted=one_class_masks(random.integers(0, 10, 5000)) > 0)
    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if config.precision == "bf16" else "float32")
    model = build_network(config.network)
    model.compile(optimizer=make_optimizer(config, 100), loss=partial_label_loss(0.1),
                  metrics=[accepted_accuracy])
    per_image = mixed_batches(make_dataset(images, masks, config, True, fashion).repeat(),
                              photo_batches(photos, config, photo_count))
    batched = mixed_batches(*batched_pipeline(images, masks, photos, config, fashion,
                                              photo_count))
    blur_when_drawn = mixed_batches(make_dataset(images, masks, config, True, fashion).repeat(),
                                    blur_when_drawn_photos(photos, photo_count))
    fixed = list(per_image.take(8).as_numpy_iterator())
    pipelines = {"model.train": per_image.prefetch(tf.data.AUTOTUNE),
                 "blur drawn": blur_when_drawn.prefetch(tf.data.AUTOTUNE),
                 "batched": batched.prefetch(tf.data.AUTOTUNE),
                 "none": tf.data.Dataset.from_tensor_slices(
                     (np.stack([batch[0] for batch in fixed]),
                      np.stack([batch[1] for batch in fixed]))).repeat()}
    ends = []

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            ends.append(time.perf_counter())

    rates = {name: [] for name in pipelines}
    cpu_ms = {name: [] for name in pipelines}  # Process CPU time (all threads) per step.
    for name, data in pipelines.items():  # Warm-up: tracing, oneDNN primitives, buffers.
        model.fit(data, epochs=1, steps_per_epoch=5, verbose=0)
    for round_index in range(arguments.rounds):
        names = list(pipelines)
        names = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in names:
            ends.clear()
            cpu_started = time.process_time()
            model.fit(pipelines[name], epochs=1, steps_per_epoch=arguments.steps + 1,
                      callbacks=[StepTimer()], verbose=0)
            cpu_ms[name].append((time.process_time() - cpu_started) * 1000
                                / (arguments.steps + 1))
            rates[name].append(config.batch_size / float(np.median(np.diff(ends))))
        print(f"round {round_index + 1}: " + ", ".join(
            f"{name} {rates[name][-1]:,.0f} images/s, {cpu_ms[name][-1]:.0f} CPU ms/step"
            for name in pipelines), flush=True)
    print(f"\nimages/s, median over {arguments.rounds} rounds of {arguments.steps} steps "
          f"(batch {config.batch_size}, 20% photos, bf16):")
    for name, values in rates.items():
        ratios = np.array(values) / np.array(rates["model.train"])
        print(f"  {name:<10}{np.median(values):>8,.0f}  ({min(values):,.0f}-{max(values):,.0f})"
              f"   vs model.train {np.median(ratios):.2f}x ({ratios.min():.2f}-{ratios.max():.2f})")
    print("CPU time per step (all threads; less affected by other work on the machine):")
    for name, values in cpu_ms.items():
        ratios = np.array(values) / np.array(cpu_ms["model.train"])
        print(f"  {name:<10}{np.median(values):>8.0f} ms ({min(values):.0f}-{max(values):.0f})"
              f"   vs model.train {np.median(ratios):.2f}x ({ratios.min():.2f}-{ratios.max():.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
