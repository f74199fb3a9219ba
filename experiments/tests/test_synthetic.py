"""Fashion-MNIST images rendered as photos and brought back by the segmentation pipeline."""

import numpy as np
import pytest

from experiments.synthetic import (PhotoRenderConfig, contact_sheet, pipeline_images,
                                   render_photo, silhouette)


def intersection_over_union(first, second):
    first, second = silhouette(first) > 0, silhouette(second) > 0
    return (first & second).sum() / max(1, (first | second).sum())


def test_a_rendered_photo_has_the_garment_at_the_centre_on_a_background(fashion_mnist):
    image = fashion_mnist.train_images[1]  # A T-shirt: solid at the centre.
    photo = render_photo(image, np.random.default_rng(0))
    assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3
    height, width = photo.shape[:2]
    assert min(height, width) > PhotoRenderConfig().garment_side[0]
    # Background along the border, the garment at the centre: they differ in colour.
    border = np.concatenate([photo[0], photo[-1], photo[:, 0], photo[:, -1]]).astype(float)
    centre = photo[height // 2 - 3:height // 2 + 3, width // 2 - 3:width // 2 + 3].reshape(-1, 3)
    assert not np.allclose(np.median(border, axis=0), np.median(centre, axis=0), atol=3)


def test_pipeline_images_keep_the_garment_and_do_not_depend_on_processes(fashion_mnist):
    images = fashion_mnist.train_images[:60]
    seen, found = pipeline_images(images, seed=5, processes=1)
    assert seen.shape == images.shape and seen.dtype == np.uint8
    assert found.mean() >= 0.9
    overlaps = [intersection_over_union(a, b) for a, b in zip(images[found], seen[found])]
    assert np.median(overlaps) > 0.7  # The same garment, with the pipeline's artefacts.
    assert np.mean([not np.array_equal(a, b) for a, b in zip(images, seen)]) > 0.9
    again, found_again = pipeline_images(images, seed=5, processes=2)
    assert np.array_equal(seen, again) and np.array_equal(found, found_again)
    other, _ = pipeline_images(images[:10], seed=6, processes=1)
    assert not np.array_equal(other, seen[:10])
    sheet = contact_sheet(images, seen, 5, PhotoRenderConfig(), range(4))
    assert sheet.ndim == 3 and sheet.shape[1] == 3 * 3 * 112  # Three triples to a row.


def test_pipeline_images_refuse_other_shapes():
    with pytest.raises(ValueError, match="uint8"):
        pipeline_images(np.zeros((3, 32, 32), np.uint8))
