"""model.train with the photo part of every batch balanced over the photo folders.

    python -m experiments.balanced_photos --init-from assets/fashion_cnn.keras --epochs 10 \\
        --learning-rate 0.01 --seed 41 --photos PHOTOS/train --photo-labels PHOTOS/labels.csv \\
        --validation-photos PHOTOS/validation --validation-photo-labels PHOTOS/labels.csv \\
        --out runs/ft-balanced

Takes model.train's options and runs it, with one change: each photo of a batch is drawn from
a folder chosen uniformly (each folder its own shuffled, endless stream of its photos and their
views), instead of uniformly over all photos. The training folders are uneven (793 t-shirts,
198 pairs of shoes, 184 coats), and shoes and dresses are where the app says "not sure" most;
this asks whether seeing them as often as the others helps. What it showed: docs/experiments.md,
2026-12-05, "photos balanced over folders".
"""

from __future__ import annotations

import numpy as np

import model.train as train_module


def balanced_photo_batches(photo_set, config, batch_size: int):
    """An endless stream of augmented photo batches of (image, accepted-class mask), each photo
    from a folder chosen uniformly (tf.data's sample_from_datasets, seeded by config.seed)."""
    import tensorflow as tf

    from model.augment import augment_photo

    streams = []
    for offset, folder in enumerate(sorted(set(photo_set.folders.tolist()))):
        chosen = photo_set.folders == folder
        stream = tf.data.Dataset.from_tensor_slices((
            photo_set.images[chosen][..., np.newaxis].astype(np.float32),
            photo_set.accepted[chosen].astype(np.float32)))
        streams.append(stream.shuffle(int(chosen.sum()), seed=config.seed + 1 + offset,
                                      reshuffle_each_iteration=True).repeat())
    dataset = tf.data.Dataset.sample_from_datasets(streams, seed=config.seed)
    dataset = dataset.map(augment_photo, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size, drop_remainder=True)


def main(argv=None) -> int:
    train_module.photo_batches = balanced_photo_batches
    return train_module.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
