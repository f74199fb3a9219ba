"""The faster segmentation steps give exactly what the plain versions they replaced gave."""

import cv2
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


@pytest.mark.parametrize("size", [(640, 480), (320, 240), (33, 17)])
def test_halving_gives_area_averaging(size):
    frame = np.random.default_rng(6).integers(0, 256, (2 * size[1], 2 * size[0], 3),
                                              dtype=np.uint8)
    small, scale = steps.downscale(frame, max(size))
    assert scale == 0.5
    assert np.array_equal(small, cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
