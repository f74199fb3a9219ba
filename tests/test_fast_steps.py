"""The faster segmentation steps give exactly what the plain versions they replaced gave."""

import numpy as np
import pytest

from segmentation import steps


def test_integer_median_is_numpys_median_rounded_down():
    random = np.random.default_rng(3)
    for count in (1, 2, 3, 4, 5, 64, 577):
        values = random.integers(0, 256, (count, 3), dtype=np.uint8)
        assert steps.integer_median(values).tolist() == \
            np.median(values, axis=0).astype(int).tolist()
        pieces = random.integers(0, 256, (5, count, 3), dtype=np.uint8)
        assert steps.integer_median(pieces, axis=1).tolist() == \
            np.median(pieces, axis=1).astype(int).tolist()


def test_colour_differences_are_l1_distances():
    distances = steps.colour_differences([(0, 0, 0), (10, 250, 3)], (5, 5, 5))
    assert distances.tolist() == [15, 5 + 245 + 2]


def plain_distinct_colours(colours, min_difference=12):
    """The loop that distinct_colours replaced."""
    kept = []
    for colour in colours:
        if all(sum(abs(a - b) for a, b in zip(colour, other)) >= min_difference
               for other in kept):
            kept.append(colour)
    return kept


def test_distinct_colours_keeps_what_the_plain_loop_kept():
    random = np.random.default_rng(4)
    for _ in range(50):
        colours = [tuple(int(value) for value in colour)
                   for colour in random.integers(100, 130, (16, 3))]
        assert steps.distinct_colours(colours) == plain_distinct_colours(colours)
    assert steps.distinct_colours([]) == []


def plain_border_colours(image_bgr, strip_fraction=0.04, segments=4):
    """sample_border_colours as it was, one np.median per side."""
    if min(image_bgr.shape[:2]) >= 64:
        image_bgr = image_bgr[::2, ::2]
    height, width = image_bgr.shape[:2]
    strip = max(1, round(min(height, width) * strip_fraction))
    across, down = width // segments * segments, height // segments * segments
    sides = [image_bgr[:strip, :across], image_bgr[height - strip:, :across],
             image_bgr[:down, :strip].transpose(1, 0, 2),
             image_bgr[:down, width - strip:].transpose(1, 0, 2)]
    colours = []
    for side in sides:
        rows, columns = side.shape[:2]
        pieces = side.reshape(rows, segments, columns // segments, 3).transpose(1, 0, 2, 3)
        medians = np.median(pieces.reshape(segments, -1, 3), axis=1)
        colours.extend(tuple(int(value) for value in colour) for colour in medians)
    return colours


@pytest.mark.parametrize("shape", [(480, 640, 3), (240, 320, 3), (37, 53, 3), (300, 201, 3)])
def test_border_colours_as_before(shape):
    image = np.random.default_rng(5).integers(0, 256, shape, dtype=np.uint8)
    assert steps.sample_border_colours(image) == plain_border_colours(image)


@pytest.mark.parametrize("shape", [(240, 320, 3), (31, 47, 3), (500, 120, 3)])
def test_centre_colour_from_bgr_is_the_colour_of_the_whole_hsv_image(shape):
    import cv2

    image = np.random.default_rng(7).integers(0, 256, shape, dtype=np.uint8)
    for fraction in (0.1, 0.4, 1.0):
        assert steps.sample_centre_colour_bgr(image, fraction) == \
            steps.sample_centre_colour(cv2.cvtColor(image, cv2.COLOR_BGR2HSV), fraction)


def plain_colour_share_masks(image, window_fraction, border_ratio, centre_ratio,
                             least_share=0.02, strip_fraction=0.04):
    """colour_share_masks as it was, with one look-up per mask."""
    levels = image >> 5
    colours = (levels[..., 0].astype(np.uint16) << 6) | (levels[..., 1].astype(np.uint16) << 3) \
        | levels[..., 2]
    height, width = colours.shape
    strip = max(1, round(min(height, width) * strip_fraction))
    border = np.concatenate([colours[:strip].ravel(), colours[height - strip:].ravel(),
                             colours[strip:height - strip, :strip].ravel(),
                             colours[strip:height - strip, width - strip:].ravel()])
    x, y, w, h = steps.centre_window(image.shape, window_fraction)
    centre = colours[y:y + h, x:x + w].ravel()
    border_share = np.bincount(border, minlength=512) / border.size
    centre_share = np.bincount(centre, minlength=512) / centre.size
    background, garment = np.zeros(512, np.uint8), np.zeros(512, np.uint8)
    if border_ratio > 0:
        background[(border_share > border_ratio * centre_share) & (border_share > 0)] = 255
    if centre_ratio > 0:
        garment[(centre_share > centre_ratio * border_share) & (centre_share >= least_share)] = 255
    return np.take(background, colours), np.take(garment, colours)


@pytest.mark.parametrize("ratios", [(3.0, 10.0), (0, 10.0), (3.0, 0), (1.0, 1.0)])
def test_colour_share_masks_as_with_one_lookup_per_mask(ratios):
    random = np.random.default_rng(8)
    image = random.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    image[20:40, 25:55] = (30, 60, 200)  # A garment colour at the centre.
    image[:6] = (200, 200, 200)  # A border colour.
    got = steps.colour_share_masks(image, 0.4, *ratios)
    wanted = plain_colour_share_masks(image, 0.4, *ratios)
    assert np.array_equal(got[0], wanted[0]) and np.array_equal(got[1], wanted[1])
    assert got[0].any() or got[1].any()
