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


def plain_distinct_colours(colours, min_difference):
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
        for min_difference in (12, 24):
            assert steps.distinct_colours(colours, min_difference) == \
                plain_distinct_colours(colours, min_difference)
    assert steps.distinct_colours([]) == []


def test_colours_within_24_count_as_one_by_default():
    colours = [(100, 100, 100), (110, 110, 100), (111, 111, 100), (130, 100, 100)]
    assert steps.distinct_colours(colours) == [(100, 100, 100), (130, 100, 100)]
    assert steps.distinct_colours(colours, 12) == [(100, 100, 100), (110, 110, 100),
                                                   (130, 100, 100)]


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


def test_colour_bins_are_the_eight_level_colours():
    import cv2

    image = np.random.default_rng(9).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    levels = image.astype(np.uint16) >> 5
    wanted = levels[..., 0] * 64 + levels[..., 1] * 8 + levels[..., 2]
    bins = steps.colour_bins(cv2.split(image))
    assert bins.dtype == np.uint16 and np.array_equal(bins, wanted)


def test_colour_share_masks_from_given_planes_as_from_the_image():
    import cv2

    image = np.random.default_rng(10).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    image[20:40, 25:55] = (30, 60, 200)
    got = steps.colour_share_masks(image, 0.4, 3.0, 10.0, planes=cv2.split(image))
    wanted = steps.colour_share_masks(image, 0.4, 3.0, 10.0)
    assert np.array_equal(got[0], wanted[0]) and np.array_equal(got[1], wanted[1])


def test_colour_distances_keep_one_image_per_colour():
    import cv2

    image = np.random.default_rng(11).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    distances = steps.ColourDistances(image)
    first = distances.to((10, 200, 30))
    assert first is distances.to(np.array([10, 200, 30]))  # The same colour is not measured again.
    wanted = np.minimum(np.abs(image.astype(int) - (10, 200, 30)).sum(axis=2), 255)
    assert np.array_equal(first, wanted) and distances.shape == (20, 30)
    assert np.array_equal(distances.to((0, 0, 0)),
                          steps.colour_distance(cv2.split(image), (0, 0, 0)))


@pytest.mark.parametrize("centre_is_background", [None, True, False])
def test_background_mask_from_shared_distances_as_from_the_image(centre_is_background):
    random = np.random.default_rng(12)
    image = random.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    border = [tuple(int(value) for value in colour) for colour in random.integers(0, 256, (16, 3))]
    garment = border[0]  # One border piece has the garment's colour.
    distances = steps.ColourDistances(image)
    for _ in range(2):  # The second call reads the kept distance images.
        got = steps.background_mask(distances, garment, border, 100,
                                    centre_is_background=centre_is_background)
        wanted = steps.background_mask(image, garment, border, 100,
                                       centre_is_background=centre_is_background)
        assert np.array_equal(got, wanted)


def plain_edge_contrast(image_bgr, object_mask, halvings=2, reach=1):
    """edge_contrast as it was: numpy's broadcast product and boolean selection."""
    import cv2

    image, inside = image_bgr, object_mask
    for _ in range(halvings):
        if min(inside.shape[:2]) < 8:
            break
        size = (inside.shape[1] // 2, inside.shape[0] // 2)
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        inside = cv2.resize(inside, size, interpolation=cv2.INTER_AREA)
    image = image.astype(np.float32)
    inside = inside.astype(np.float32) * (1.0 / 255.0)
    window = (2 * reach + 1, 2 * reach + 1)
    share_in = cv2.blur(inside, window, borderType=cv2.BORDER_REPLICATE)
    mean_all = cv2.blur(image, window, borderType=cv2.BORDER_REPLICATE)
    mean_masked = cv2.blur(image * inside[..., None], window, borderType=cv2.BORDER_REPLICATE)
    outline = (share_in > 0.25) & (share_in < 0.75)
    if not outline.any():
        return 0.0
    share = share_in[outline]
    difference = mean_masked[outline] - share[:, None] * mean_all[outline]
    steps_across = np.abs(difference).sum(axis=1) / (share * (1.0 - share))
    middle = len(steps_across) // 2
    return float(np.partition(steps_across, middle)[middle])


@pytest.mark.parametrize("shape", [(240, 320), (37, 53), (9, 7), (3, 2), (1, 1)])
def test_edge_contrast_as_before(shape):
    import cv2

    random = np.random.default_rng(13)
    for _ in range(5):
        image = random.integers(0, 256, shape + (3,), dtype=np.uint8)
        mask = np.zeros(shape, np.uint8)
        cv2.ellipse(mask, (shape[1] // 2, shape[0] // 2), (shape[1] // 3 + 1, shape[0] // 4 + 1),
                    0, 0, 360, 255, -1)
        assert steps.edge_contrast(image, mask) == plain_edge_contrast(image, mask)
    assert steps.edge_contrast(image, np.full(shape, 255, np.uint8)) == 0.0  # No outline.


def plain_stretch_contrast(values, weights, below=256):
    """stretch_contrast as it was, with np.median and np.percentile."""
    garment = values[weights > 0.5]
    if garment.size < 4 or np.median(garment) >= below:
        return values
    low, high = np.percentile(garment, (2, 98))
    if high - low < 1:
        return values
    floor = 40.0
    stretched = floor + (values - low) * ((255.0 - floor) / (high - low))
    return np.clip(stretched, 0, 255)


def test_stretch_contrast_as_with_numpys_median_and_percentile():
    random = np.random.default_rng(14)
    for index in range(300):
        shape = (int(random.integers(2, 29)), int(random.integers(2, 29)))
        values = random.integers(0, 256, shape).astype(np.float32)
        if index % 3 == 0:
            values = (random.random(shape) * 300 - 20).astype(np.float32)
        weights = random.random(shape).astype(np.float32)
        for below in (64, 256):
            got = steps.stretch_contrast(values, weights, below)
            wanted = plain_stretch_contrast(values, weights, below)
            assert got.dtype == wanted.dtype and np.array_equal(got, wanted)


def test_float_median_and_percentiles_are_numpys():
    random = np.random.default_rng(15)
    for count in list(range(1, 12)) + [575, 576, 1001]:
        values = (random.random(count) * 255).astype(np.float32)
        assert steps.float_median(values) == np.median(values)
        assert type(steps.float_median(values)) is type(np.median(values))
        percents = (0, 2, 50, 98, 100)
        got, wanted = steps.percentiles(values, percents), np.percentile(values, percents)
        assert got == wanted.tolist() and all(isinstance(value, np.float64) for value in got)


def plain_circular_median_hue(hues):
    """circular_median_hue as it was, with .mean() and np.median."""
    angles = hues.astype(np.float32) * (2 * np.pi / 180)
    mean_angle = np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())
    mean_hue = mean_angle * 180 / (2 * np.pi)
    shifted = (hues.astype(np.float32) - mean_hue + 90) % 180
    return int(round(np.median(shifted) + mean_hue - 90)) % 180


def test_circular_median_hue_as_before():
    random = np.random.default_rng(16)
    for _ in range(500):
        count = int(random.integers(1, 700))
        centre, spread = random.integers(0, 180), random.integers(1, 60)
        hues = (random.normal(centre, spread, count) % 180).astype(np.uint8)
        assert steps.circular_median_hue(hues) == plain_circular_median_hue(hues)


def plain_centre_garment_colour(small, border_colours, config, near=48, shown_by=0.4):
    """pipeline.centre_garment_colour as it was, with numpy's sum over the colour axis."""
    centre = steps.median_colour(steps.centre_pixels(small, config.sample_window))
    pixels = steps.centre_pixels(small, config.garment_window)
    wide = steps.median_colour(pixels)
    if steps.colour_differences(border_colours, wide).min() >= \
            steps.colour_differences(border_colours, centre).min():
        return wide
    matching = steps.matches_border(wide, border_colours)
    shown = np.abs(pixels.astype(np.int32) - np.asarray(wide, np.int32)).sum(axis=1) <= near
    if 0 < matching <= len(border_colours) / 4 and shown.mean() >= shown_by:
        return wide
    return centre


def test_centre_garment_colour_as_before():
    from segmentation import SegmentationConfig
    from segmentation.pipeline import centre_garment_colour

    random = np.random.default_rng(17)
    config, branches = SegmentationConfig(), set()
    for _ in range(300):
        image = random.integers(0, 256, (60, 80, 3), dtype=np.uint8)
        garment, floor = random.integers(30, 226, 3), random.integers(0, 256, 3)
        # The wide square: part garment (with noise), the rest random; a print at the centre.
        rows, noise = int(random.integers(8, 25)), int(random.integers(1, 40))
        image[18:18 + rows, 28:52] = np.clip(
            garment + random.integers(-noise, noise + 1, (rows, 24, 3)), 0, 255)
        image[27:33, 37:43] = random.integers(0, 256, 3)
        border = [tuple(int(value) for value in floor + random.integers(-30, 31, 3))
                  for _ in range(15)] + [tuple(int(value) for value in garment)]
        got = centre_garment_colour(image, border, config)
        assert got == plain_centre_garment_colour(image, border, config)
        branches.add(got == steps.median_colour(steps.centre_pixels(image, 0.4)))
    assert branches == {True, False}  # Both the wide and the centre square's colour came back.
