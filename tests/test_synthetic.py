"""Fashion-MNIST images rendered as photos and brought back by the segmentation pipeline."""

import numpy as np
import pytest

from segmentation.synthetic import (PhotoConfig, pipeline_images, render_photo, shoe_pair,
                                    silhouette)


def intersection_over_union(first, second):
    first, second = silhouette(first) > 0, silhouette(second) > 0
    return (first & second).sum() / max(1, (first | second).sum())


def test_a_rendered_photo_has_the_garment_at_the_centre_on_a_background(fashion_mnist):
    image = fashion_mnist.train_images[1]  # A T-shirt: solid at the centre.
    photo = render_photo(image, np.random.default_rng(0))
    assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3
    height, width = photo.shape[:2]
    assert min(height, width) > PhotoConfig().garment_side[0]
    # Background along the border, the garment at the centre: they differ in colour.
    border = np.concatenate([photo[0], photo[-1], photo[:, 0], photo[:, -1]]).astype(float)
    centre = photo[height // 2 - 3:height // 2 + 3, width // 2 - 3:width // 2 + 3].reshape(-1, 3)
    assert not np.allclose(np.median(border, axis=0), np.median(centre, axis=0), atol=3)


def test_pipeline_images_keep_the_garment_and_do_not_depend_on_processes(fashion_mnist):
    images = fashion_mnist.train_images[:60]
    seen, found, paired = pipeline_images(images, seed=5, processes=1)
    assert not paired.any()  # Nothing was marked as a shoe that may be paired.
    assert seen.shape == images.shape and seen.dtype == np.uint8
    assert found.mean() >= 0.9
    overlaps = [intersection_over_union(a, b) for a, b in zip(images[found], seen[found])]
    assert np.median(overlaps) > 0.7  # The same garment, with the pipeline's artefacts.
    assert np.mean([not np.array_equal(a, b) for a, b in zip(images, seen)]) > 0.9
    again, found_again, _ = pipeline_images(images, seed=5, processes=2)
    assert np.array_equal(seen, again) and np.array_equal(found, found_again)
    other, _, _ = pipeline_images(images[:10], seed=6, processes=1)
    assert not np.array_equal(other, seen[:10])


def test_pipeline_images_refuse_other_shapes():
    with pytest.raises(ValueError, match="uint8"):
        pipeline_images(np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="one flag per image"):
        pipeline_images(np.zeros((3, 28, 28), np.uint8), pairable=np.ones(2, bool))


def test_a_shoe_pair_is_two_mirrored_shoes_turned_upright(fashion_mnist):
    sneaker = fashion_mnist.train_images[fashion_mnist.train_labels == 7][0]
    for seed in range(5):
        pair = shoe_pair(sneaker, np.random.default_rng(seed))
        assert pair.shape[0] == pair.shape[1] and pair.dtype == np.uint8
        rows, columns = np.nonzero(pair)
        # A side-view sneaker is wide and low; turned upright, two of them side by side
        # are about as tall as wide, and each half holds one shoe.
        assert np.ptp(rows) > 20
        middle = (columns.min() + columns.max()) / 2
        left, right = pair[:, :int(middle)].sum(), pair[:, int(middle) + 1:].sum()
        assert 0.7 < left / right < 1.4


def test_shoes_become_pairs_only_where_allowed(fashion_mnist):
    shoes = fashion_mnist.train_images[np.isin(fashion_mnist.train_labels, (5, 7, 9))][:20]
    pairable = np.arange(20) < 10
    config = PhotoConfig(pair_probability=1.0)
    seen, found, paired = pipeline_images(shoes, seed=3, processes=1, photo_config=config,
                                          pairable=pairable)
    assert np.array_equal(paired, pairable)
    assert found.mean() >= 0.9
    single, _, _ = pipeline_images(shoes, seed=3, processes=1, photo_config=config)
    assert np.array_equal(single[10:], seen[10:])  # Not pairable: rendered as before.
    assert all(not np.array_equal(a, b) for a, b in zip(single[:10], seen[:10]))
