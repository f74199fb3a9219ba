"""Tests of the segmentation pipeline on images the tests draw themselves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from segmentation import (NO_CONTOUR, NOT_DISTINCT, TOO_LARGE, TOO_SMALL, SegmentationConfig,
                          SegmentationResult, choose_contour, classic_config, close_mask,
                          hsv_range_mask, padded_box, sample_centre_colour, segment,
                          to_fashion_mnist, to_naive)
from segmentation.steps import circular_median_hue, join_nearby
from segmentation.steps import edge_contrast
from synthetic_images import (SHOE_OUTLINE, TROUSER_OUTLINE, TSHIRT_OUTLINE, add_noise, box_iou,
                              draw_garment, hsv_colour, lit_wall, mirrored, plain_background,
                              polygon, tshirt_photo, union_box)

REPOSITORY = Path(__file__).resolve().parent.parent
HSV_ONLY = SegmentationConfig(background_tolerance=0)


def nonzero_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the non-zero pixels of a 2-D image."""
    return cv2.boundingRect(cv2.findNonZero((image > 0).astype(np.uint8)))


# --- The API the camera app relies on -------------------------------------------------------

def test_result_has_the_promised_fields_and_types():
    image, _ = tshirt_photo()
    result = segment(image)
    assert isinstance(result, SegmentationResult)
    assert result.found and result.reason is None
    assert result.mask.dtype == np.uint8 and set(np.unique(result.mask)) <= {0, 255}
    assert result.contour.dtype == np.int32 and result.contour.ndim == 3
    assert result.contour.shape[1:] == (1, 2)
    assert len(result.box) == 4 and all(isinstance(value, int) for value in result.box)
    assert result.crop.shape[:2] == (result.crop_box[3], result.crop_box[2])
    assert result.model_input.shape == (28, 28) and result.model_input.dtype == np.uint8
    assert 0 < result.area_fraction < 1
    assert {"hsv", "mask", "close", "contour"} <= set(result.timings)


def test_contour_is_in_frame_coordinates_for_a_downscaled_frame():
    image, true_box = tshirt_photo(height=1080, width=1920)
    result = segment(image)
    assert max(result.mask.shape) == SegmentationConfig().work_size  # The mask work was small.
    contour_box = cv2.boundingRect(result.contour)
    assert box_iou(contour_box, true_box) >= 0.9
    assert box_iou(result.box, true_box) >= 0.9


@pytest.mark.parametrize("bad_config", [
    dict(variant="fancy"), dict(min_area=0.5, max_area=0.1), dict(sample_window=0),
    dict(hue_tolerance=-1), dict(output_size=3), dict(padding=-1), dict(work_size=10),
    dict(min_edge_contrast=-1),
])
def test_invalid_configuration_is_refused(bad_config):
    with pytest.raises(ValueError):
        SegmentationConfig(**bad_config)


# --- Input checks -----------------------------------------------------------------------------

@pytest.mark.parametrize("frame, message", [
    (np.zeros((0, 0, 3), np.uint8), "empty"),
    (np.zeros((10, 0), np.uint8), "empty"),
    (np.zeros((20, 20, 3), np.float32), "uint8"),
    (np.zeros((20, 20, 3), np.uint16), "uint8"),
    (np.zeros((20, 20, 5), np.uint8), "shape"),
    ([[1, 2], [3, 4]], "numpy"),
])
def test_bad_frames_raise_value_error_with_a_clear_message(frame, message):
    with pytest.raises(ValueError, match=message):
        segment(frame)


def test_grey_and_bgra_frames_are_converted():
    image, true_box = tshirt_photo(colour=(40, 40, 40))
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    for frame in (grey, grey[..., None], bgra):
        result = segment(frame)
        assert result.found
        assert box_iou(result.box, true_box) >= 0.9


def test_tiny_frame_does_not_crash():
    image, _ = tshirt_photo(height=12, width=16)
    result = segment(image)
    assert result.model_input.shape == (28, 28)
    # OpenCV reads an array of one or four values as a Scalar: frames of that size still work.
    for shape in ((1, 1, 3), (4, 1, 3)):
        tiny = segment(np.zeros(shape, np.uint8))
        assert not tiny.found and tiny.reason


def test_4k_frame_is_downscaled_and_box_mapped_back():
    image, true_box = tshirt_photo(height=2160, width=3840, size=0.5)
    result = segment(image)
    assert result.mask.shape[1] == SegmentationConfig().work_size
    assert box_iou(result.box, true_box) >= 0.9
    full = segment(image, SegmentationConfig(work_size=0))
    assert full.mask.shape == image.shape[:2]
    assert box_iou(full.box, true_box) >= 0.9


# --- Finding the garment ----------------------------------------------------------------------

@pytest.mark.parametrize("background", ["plain", "textured", "noisy"])
@pytest.mark.parametrize("size", [0.25, 0.5, 0.8])
@pytest.mark.parametrize("config", [SegmentationConfig(), HSV_ONLY], ids=["default", "hsv-only"])
def test_garment_box_matches_the_truth(background, size, config):
    image, true_box = tshirt_photo(size=size, background=background, colour=(150, 60, 30),
                                   background_colour=(185, 200, 210))
    result = segment(image, config)
    assert result.found, result.reason
    assert box_iou(result.box, true_box) >= 0.9


@pytest.mark.parametrize("centre", [(0.4, 0.45), (0.6, 0.55), (0.45, 0.6)])
def test_off_centre_garment_is_found(centre):
    image, true_box = tshirt_photo(size=0.5, centre=centre, background="textured")
    result = segment(image)
    assert box_iou(result.box, true_box) >= 0.9


@pytest.mark.parametrize("centre", [(0.5, 0.3), (0.3, 0.5), (0.5, 0.75)])
def test_garment_touching_an_edge_is_found(centre):
    image, true_box = tshirt_photo(size=0.75, centre=centre)
    assert true_box[0] == 0 or true_box[1] == 0 or true_box[1] + true_box[3] == image.shape[0]
    result = segment(image)
    assert result.found
    assert box_iou(result.box, true_box) >= 0.9


def test_of_two_objects_the_one_at_the_centre_is_chosen():
    image, true_box = tshirt_photo(size=0.4, colour=(40, 120, 40))
    # A larger object of another colour near the left edge must not win.
    draw_garment(image, polygon(TROUSER_OUTLINE, 5, 40, 120, 420), (30, 30, 160))
    result = segment(image)
    assert box_iou(result.box, true_box) >= 0.9


def test_when_the_centre_is_background_the_largest_object_is_chosen():
    image = plain_background(480, 640)
    small = draw_garment(image, polygon(SHOE_OUTLINE, 20, 20, 80, 60), (40, 40, 160))
    large = draw_garment(image, polygon(TROUSER_OUTLINE, 420, 60, 160, 360), (40, 40, 160))
    result = segment(image, SegmentationConfig(join_distance=0))
    assert box_iou(result.box, large) >= 0.9
    assert box_iou(result.box, small) == 0


@pytest.mark.parametrize("hue", [0, 2, 176, 179])
def test_red_garments_across_the_hue_wrap_around(hue):
    image, true_box = tshirt_photo(colour=hsv_colour(hue, 220, 170),
                                   background_colour=(60, 170, 60))
    # Hue noise of +-4 makes part of the garment wrap past 0/179.
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV).astype(np.int16)
    garment = cv2.inRange(image, hsv_colour(hue, 220, 170), hsv_colour(hue, 220, 170)) > 0
    noise = np.random.default_rng(1).integers(-4, 5, garment.sum())
    hsv[..., 0][garment] = (hsv[..., 0][garment] + noise) % 180
    image = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
    for config in (SegmentationConfig(), HSV_ONLY):
        result = segment(image, config)
        assert box_iou(result.box, true_box) >= 0.9


# --- Reasons when nothing is found --------------------------------------------------------

def test_uniform_frame_has_no_contour_or_is_too_large():
    # The background model sees only background; the HSV range alone takes the whole frame.
    assert segment(plain_background(480, 640)).reason == NO_CONTOUR
    result = segment(plain_background(480, 640), HSV_ONLY)
    assert not result.found and result.reason == TOO_LARGE
    assert result.box is None and result.contour is None and result.crop is None
    assert result.model_input.shape == (28, 28) and not result.model_input.any()


def test_speck_at_the_centre_is_too_small():
    image = plain_background(480, 640)
    cv2.circle(image, (320, 240), 6, (30, 30, 160), -1)
    result = segment(image)
    assert not result.found and result.reason == TOO_SMALL
    assert 0 < result.area_fraction < SegmentationConfig().min_area


def test_centre_colour_matching_no_pixel_gives_no_contour():
    # Left half hue 30, right half hue 90: the centre's median hue (60) matches neither.
    image = plain_background(480, 640, hsv_colour(30))
    image[:, 320:] = hsv_colour(90)
    result = segment(image, SegmentationConfig(background_tolerance=0, hue_tolerance=5))
    assert not result.found and result.reason == NO_CONTOUR


def test_not_found_result_has_no_garment_and_an_empty_input_of_the_asked_size():
    mask = np.zeros((30, 40), np.uint8)
    result = SegmentationResult.not_found(TOO_SMALL, mask, 32, area_fraction=0.001, scale=0.5)
    assert not result.found and result.reason == TOO_SMALL and result.mask is mask
    assert result.contour is None and result.box is None and result.crop is None
    assert result.model_input.shape == (32, 32) and not result.model_input.any()
    assert result.area_fraction == 0.001 and result.scale == 0.5 and result.timings == {}


# --- The steps alone ---------------------------------------------------------------------------

def test_circular_median_hue_handles_the_wrap_around():
    hues = np.array([177, 178, 179, 0, 1, 2, 3], dtype=np.uint8)
    assert circular_median_hue(hues) in (0, 179, 1)
    assert circular_median_hue(np.array([60, 61, 62], dtype=np.uint8)) == 61


def test_median_sampling_ignores_a_logo_at_the_centre():
    image, _ = tshirt_photo(colour=hsv_colour(110, 200, 150))
    cv2.rectangle(image, (314, 234), (326, 246), hsv_colour(20, 200, 250), -1)  # A small logo.
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue, _, _ = sample_centre_colour(hsv, 0.1)
    assert abs(hue - 110) <= 2


def test_hsv_range_mask_wraps_and_ignores_hue_of_grey():
    hsv = np.zeros((1, 4, 3), np.uint8)
    hsv[0, :, 0] = [178, 3, 90, 10]
    hsv[0, :, 1:] = 200
    mask = hsv_range_mask(hsv, (1, 200, 200), 5, 10, 10)
    assert mask[0].tolist() == [255, 255, 0, 0]
    grey_sample = hsv_range_mask(hsv, (1, 10, 200), 5, 255, 10, low_saturation=40)
    assert grey_sample[0].tolist() == [255, 255, 255, 255]


def test_closing_fills_small_gaps():
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 255
    mask[19:21, 10:30] = 0  # A 2-pixel crack.
    assert close_mask(mask, 5, 1)[20, 20] == 255
    assert close_mask(mask, 5, 0)[20, 20] == 0


def test_choose_contour_prefers_the_centre_then_the_largest():
    small = np.array([[[45, 45]], [[55, 45]], [[55, 55]], [[45, 55]]], np.int32)
    large = np.array([[[0, 0]], [[30, 0]], [[30, 30]], [[0, 30]]], np.int32)
    assert choose_contour([large, small], (50, 50)) is small
    assert choose_contour([large, small], (80, 80)) is large
    assert choose_contour([], (0, 0)) is None


def test_padded_box_is_clipped_to_the_image():
    assert padded_box((5, 5, 10, 10), 8, (100, 100)) == (0, 0, 23, 23)
    assert padded_box((90, 90, 10, 10), 8, (100, 100)) == (82, 82, 18, 18)


def test_join_nearby_takes_close_large_pieces_only():
    def square(x, y, side):
        return np.array([[[x, y]], [[x + side, y]], [[x + side, y + side]], [[x, y + side]]],
                        np.int32)
    chosen, neighbour, crumb, far = square(0, 0, 40), square(45, 0, 40), square(0, 45, 3), \
        square(200, 0, 40)
    joined = join_nearby([chosen, neighbour, crumb, far], chosen, max_gap=10, min_ratio=0.3)
    assert len(joined) == 2 and joined[1] is neighbour


# --- The 28x28 model input ---------------------------------------------------------------------

def test_model_input_looks_like_fashion_mnist():
    image, _ = tshirt_photo(colour=(40, 40, 40), background_colour=(220, 220, 220), size=0.6)
    result = segment(image, SegmentationConfig(normalise_contrast=False))
    model_input = result.model_input
    x, y, w, h = nonzero_box(model_input)
    assert max(w, h) == 28  # Longest edge fitted to 28.
    assert model_input[0, 0] == 0 and model_input[-1, -1] == 0  # Background is 0.
    assert model_input[14, 14] > 200  # A dark garment shows bright (negated).
    # Centred: equal empty space on both sides of the shorter edge (within a pixel).
    left, right = x, 28 - (x + w)
    top, bottom = y, 28 - (y + h)
    assert abs(left - right) <= 1 and abs(top - bottom) <= 1


def test_aspect_ratio_is_kept():
    image = plain_background(480, 640)
    true_box = draw_garment(image, polygon(TROUSER_OUTLINE, 260, 40, 120, 400), (50, 30, 30))
    result = segment(image)
    x, y, w, h = nonzero_box(result.model_input)
    assert h == 28
    assert abs(w / h - true_box[2] / true_box[3]) < 0.1


def test_negation_makes_dark_garments_brighter_than_light_ones():
    dark, _ = tshirt_photo(colour=(30, 30, 30), background_colour=(120, 160, 120))
    light, _ = tshirt_photo(colour=(225, 225, 225), background_colour=(120, 160, 120))
    config = SegmentationConfig(normalise_contrast=False)
    dark_input = segment(dark, config).model_input
    light_input = segment(light, config).model_input
    assert dark_input[14, 14] > light_input[14, 14] + 100


def test_to_fashion_mnist_alone():
    crop_bgr = np.full((50, 100, 3), 60, np.uint8)
    crop_mask = np.zeros((50, 100), np.uint8)
    crop_mask[10:40, 5:95] = 255
    image = to_fashion_mnist(crop_bgr, crop_mask)
    x, y, w, h = nonzero_box(image)
    assert (x, w) == (0, 28) and h == 9 and y == (28 - 9) // 2
    assert image[14, 14] == 255 - 60
    with pytest.raises(ValueError, match="same height and width"):
        to_fashion_mnist(crop_bgr, crop_mask[:10])
    assert not to_fashion_mnist(crop_bgr, np.zeros_like(crop_mask)).any()


def test_classic_preset_reproduces_the_tutorial_conversion():
    image, _ = tshirt_photo(colour=(40, 40, 40), background_colour=(220, 220, 220))
    result = segment(image, classic_config())
    model_input = result.model_input
    assert model_input.shape == (28, 28)
    # The 20 px black border survives as a dark frame; the garment is not negated.
    assert model_input[0].max() < 10 and model_input[:, 0].max() < 10
    assert model_input[14, 14] < 100
    assert np.array_equal(to_naive(result.crop), model_input)


def test_contrast_option_changes_the_input():
    image, _ = tshirt_photo(background="noisy", colour=(90, 90, 90))
    plain = segment(image, SegmentationConfig(normalise_contrast=False)).model_input
    stretched = segment(image, SegmentationConfig(stretch_below=256)).model_input
    assert stretched.max() > plain.max()


# --- Robustness (issue 7) ----------------------------------------------------------------------

def test_a_pair_of_shoes_is_joined():
    image = add_noise(plain_background(480, 640, (200, 210, 215)), 6)
    left = draw_garment(image, polygon(SHOE_OUTLINE, 150, 200, 150, 110), (40, 40, 40))
    right = draw_garment(image, polygon(mirrored(SHOE_OUTLINE), 340, 205, 150, 110), (40, 40, 40))
    result = segment(image)  # The centre falls in the gap between the shoes.
    assert result.found
    assert box_iou(result.box, union_box(left, right)) >= 0.9
    alone = segment(image, SegmentationConfig(join_distance=0))
    assert box_iou(alone.box, union_box(left, right)) < 0.6


def test_garment_close_to_the_background_colour_is_found():
    image, true_box = tshirt_photo(colour=(120, 125, 130), background_colour=(145, 150, 155),
                                   background="noisy", size=0.6)
    result = segment(image)
    assert result.found
    assert box_iou(result.box, true_box) >= 0.9


def test_second_look_when_the_centre_shows_background():
    # Floor colour at the centre (between the legs) and on a bit of the border; the garment
    # is nearer the other background colour than the floor's, so the first reading keeps only
    # the floor patch at the centre.
    floor, rug, garment_colour = (200, 200, 200), (40, 100, 40), (40, 100, 110)
    image = plain_background(480, 640, rug)
    cv2.rectangle(image, (320, 420), (479, 479), floor, -1)  # One border piece shows floor.
    true_box = (200, 80, 240, 320)
    cv2.rectangle(image, (200, 80), (439, 399), garment_colour, -1)
    cv2.rectangle(image, (290, 200), (350, 280), floor, -1)
    # The centre square alone (garment_window=0) sees only the floor patch.
    result = segment(image, SegmentationConfig(garment_window=0))
    assert box_iou(result.box, true_box) >= 0.9
    first_reading = segment(image, SegmentationConfig(second_look=False, garment_window=0))
    assert box_iou(first_reading.box, true_box) < 0.5
    # The wider square's median is the garment's colour: found at the first reading.
    assert box_iou(segment(image, SegmentationConfig(second_look=False)).box, true_box) >= 0.9


def test_second_look_leaves_out_the_garment_where_it_reaches_the_border():
    # Dark trousers lying on a light floor with a slightly darker band down the middle; the
    # centre shows the band between the legs (as do two pieces of the top border), and the legs
    # fill two pieces of the bottom border. Read with the centre as background, those two
    # pieces are the garment reaching the edge, not background.
    floor, band, trousers = (215, 210, 200), (185, 178, 168), (40, 38, 45)
    image = plain_background(480, 640, floor)
    cv2.rectangle(image, (160, 0), (479, 479), band, -1)
    legs = np.array([[200, 60], [440, 60], [520, 479], [380, 479], [320, 110], [260, 479],
                     [120, 479]], np.int32)
    cv2.fillPoly(image, [legs], trousers)
    result = segment(image)
    assert result.found
    assert box_iou(result.box, (120, 60, 401, 420)) >= 0.9  # Before: the band, (160, 0, 320, 480).


def test_only_faint_garments_are_stretched():
    dark, _ = tshirt_photo(colour=(90, 90, 90), background_colour=(200, 210, 190))
    light, _ = tshirt_photo(colour=(235, 235, 235), background_colour=(60, 110, 160))
    plain = SegmentationConfig(normalise_contrast=False)
    assert np.array_equal(segment(dark).model_input, segment(dark, plain).model_input)
    light_input = segment(light).model_input
    assert light_input.max() > segment(light, plain).model_input.max() + 100
    assert np.median(light_input[light_input > 0]) >= 40  # Visible against the black.


@pytest.mark.parametrize("background_colour", [(150, 150, 150), (60, 110, 160)])
def test_white_garment_is_found_and_visible(background_colour):
    image, true_box = tshirt_photo(colour=(245, 245, 245), background_colour=background_colour,
                                   background="noisy")
    result = segment(image)
    assert box_iou(result.box, true_box) >= 0.9
    garment = result.model_input[result.model_input > 0]
    assert garment.size > 200  # A silhouette, not a few specks.
    assert np.median(garment) >= 40  # Still visible against the black background.


# --- Empty walls: lighting is not a garment ------------------------------------------------------

@pytest.mark.parametrize("direction, colour, gain", [
    ("horizontal", (185, 175, 165), (0.85, 1.1)),
    ("horizontal", (120, 160, 200), (1.1, 0.8)),
    ("vertical", (230, 230, 230), (0.7, 1.15)),
    ("radial", (60, 60, 60), (1.1, 0.8)),
])
@pytest.mark.parametrize("sigma", [4, 12])
def test_plain_wall_with_a_lighting_gradient_is_no_garment(direction, colour, gain, sigma):
    wall = lit_wall(colour=colour, gain=gain, direction=direction, sigma=sigma)
    result = segment(wall)
    assert not result.found and result.reason == NOT_DISTINCT
    assert result.box is None and not result.model_input.any()
    assert result.edge_contrast < SegmentationConfig().min_edge_contrast
    # Without the check the gradient cuts a garment-sized patch out of the wall.
    unchecked = segment(wall, SegmentationConfig(min_edge_contrast=0))
    assert unchecked.found and unchecked.area_fraction > 0.1


@pytest.mark.parametrize("garment_colour, wall_colour", [
    ((120, 40, 30), (185, 175, 165)),   # A dark blue top on a warm wall.
    ((40, 40, 170), (120, 160, 200)),   # A red top on a beige wall.
    ((150, 140, 130), (185, 175, 165)),  # A garment only a little darker than the wall.
    ((240, 240, 240), (150, 150, 150)),  # A white garment on a grey wall.
])
@pytest.mark.parametrize("direction", ["horizontal", "radial"])
def test_garment_on_a_wall_with_a_lighting_gradient_is_found(garment_colour, wall_colour,
                                                             direction):
    image = lit_wall(colour=wall_colour, direction=direction, sigma=0)
    true_box = draw_garment(image, polygon(TSHIRT_OUTLINE, 200, 110, 260, 250), garment_colour)
    image = add_noise(image, 6)
    result = segment(image)
    assert result.found, result.reason
    assert box_iou(result.box, true_box) >= 0.9
    assert result.edge_contrast >= SegmentationConfig().min_edge_contrast


def test_edge_contrast_sees_a_step_but_not_a_gradient():
    mask = np.zeros((240, 320), np.uint8)
    mask[:, 100:220] = 255  # A strip from the top edge to the bottom edge.
    gradient = np.repeat(np.linspace(120, 200, 320, dtype=np.float32)[None, :], 240, axis=0)
    smooth = cv2.merge([gradient.astype(np.uint8)] * 3)
    stepped = smooth.copy()
    stepped[mask > 0] = (60, 60, 60)
    assert edge_contrast(smooth, mask) < 5
    assert edge_contrast(stepped, mask) > 100
    assert edge_contrast(smooth, np.zeros_like(mask)) == 0.0
    assert edge_contrast(smooth, np.full_like(mask, 255)) == 0.0  # Only the frame edge.


# --- Package boundaries ------------------------------------------------------------------------

def test_import_pulls_in_neither_qt_nor_tensorflow():
    code = ("import sys, segmentation, segmentation.evaluate, segmentation.__main__; "
            "print(sorted(name for name in ('PyQt5', 'tensorflow', 'keras') "
            "if name in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True,
                            text=True, check=True).stdout.strip()
    assert output == "[]"


def test_sampling_windows_are_the_squares_in_use():
    assert SegmentationConfig().sampling_windows() == (0.1, 0.4)
    assert SegmentationConfig(garment_window=0).sampling_windows() == (0.1,)
    assert SegmentationConfig(background_tolerance=0).sampling_windows() == (0.1,)


def garment_colour_of(image, config=SegmentationConfig()):
    from segmentation.pipeline import centre_garment_colour
    from segmentation.steps import downscale, sample_border_colours

    small, _ = downscale(image, config.work_size)
    return centre_garment_colour(small, sample_border_colours(small), config)


def test_garment_colour_is_the_wide_median_around_a_print():
    # A dark T-shirt on a light bed, running off the bottom edge (two of the sixteen border
    # pieces), with a small yellow print at the centre: the centre square sees only the print.
    bed, shirt, print_colour = (200, 210, 220), (50, 50, 55), (0, 220, 240)
    image = plain_background(480, 640, bed)
    body = np.array([[200, 60], [440, 60], [560, 160], [500, 220], [440, 180], [440, 479],
                     [200, 479], [200, 180], [140, 220], [80, 160]], np.int32)
    cv2.fillPoly(image, [body], shirt)
    cv2.rectangle(image, (295, 215), (345, 265), print_colour, -1)
    assert garment_colour_of(image, SegmentationConfig(garment_window=0)) == print_colour
    assert garment_colour_of(image) == shirt
    result = segment(image)
    assert box_iou(result.box, (80, 60, 481, 420)) >= 0.9
    print_only = segment(image, SegmentationConfig(garment_window=0))
    assert box_iou(print_only.box, (295, 215, 51, 51)) >= 0.9


@pytest.mark.parametrize("case", ["small garment", "blend with the floor"])
def test_garment_colour_is_the_centre_median_when_the_wide_square_takes_in_floor(case):
    floor, garment, between = (170, 180, 190), (60, 80, 100), (115, 130, 145)
    image = plain_background(240, 320, floor)  # At the working size already.
    if case == "blend with the floor":
        # Pixel stripes garment, garment, between, floor, floor across the wide square (96
        # pixels): its median is the in-between colour, which fewer than a fifth of its pixels
        # show; one border piece shows it too, so it could pass for the garment at the edge.
        for offset, colour in enumerate([garment, garment, between, floor, floor]):
            image[72:168, 112 + offset:208:5] = colour
        image[:12, :80] = between  # The first of four pieces of the top border.
    image[108:132, 148:172] = garment  # The garment fills the centre square (24 pixels).
    assert garment_colour_of(image) == garment
    wide_only = SegmentationConfig(sample_window=0.4, garment_window=0)
    assert garment_colour_of(image, wide_only) != garment


def tiled_floor(height: int, width: int, colours, tile: int = 16, seed: int = 0) -> np.ndarray:
    """A floor of square tiles, each of one of colours at random (a patterned rug)."""
    random = np.random.default_rng(seed)
    choice = random.integers(0, len(colours), (height // tile + 1, width // tile + 1))
    tiles = np.asarray(colours, np.uint8)[choice]
    return np.repeat(np.repeat(tiles, tile, 0), tile, 1)[:height, :width].copy()


FLOOR_COLOURS = [(40, 40, 200), (40, 200, 40), (200, 60, 40), (40, 200, 220)]


def test_colour_shares_take_the_floor_pattern_and_keep_the_garment():
    from segmentation.steps import colour_share_masks

    image = tiled_floor(240, 320, FLOOR_COLOURS)
    image[60:240, 110:210] = (128, 128, 128)  # A grey garment reaching the bottom edge.
    background, garment = colour_share_masks(image, 0.4, 3.0, 10.0)
    assert set(np.unique(background)) == {0, 255} and set(np.unique(garment)) == {0, 255}
    assert (background[60:240, 110:210] == 0).all()  # Also where it touches the border.
    floor = np.ones(image.shape[:2], bool)
    floor[60:240, 110:210] = False
    assert (background[floor] == 255).all()
    assert (garment[60:240, 110:210] == 255).all() and (garment[floor] == 0).all()
    # A colour as common at the centre as on the border is neither.
    image[60:240, 110:210] = FLOOR_COLOURS[0]
    background, garment = colour_share_masks(image, 0.4, 3.0, 10.0)
    assert (background[100:200, 130:190] == 0).all() and (garment[100:200, 130:190] == 0).all()
    # A ratio of 0 turns its side off.
    assert not colour_share_masks(image, 0.4, 0, 0)[0].any()


def test_garment_on_a_patterned_floor_is_cut_out_without_the_floor():
    image = tiled_floor(480, 640, FLOOR_COLOURS, tile=8)  # Border pieces' medians are blends.
    true_box = draw_garment(image, polygon(TSHIRT_OUTLINE, 200, 120, 240, 240), (150, 150, 150))
    result = segment(image)
    assert result.found
    assert box_iou(result.box, true_box) >= 0.9
    # The border's median colours alone leave tiles of the floor in the mask.
    without = segment(image, SegmentationConfig(border_ratio=0))
    assert not without.found or box_iou(without.box, true_box) < 0.5


def test_dark_garment_with_a_print_on_a_dark_floor_is_cut_out_whole():
    # The print decides the garment's colour, and the shirt is nearer the floor's colour than
    # the print's, so the border's median colours alone leave only the print.
    image = plain_background(480, 640, (40, 45, 50))
    true_box = draw_garment(image, polygon(TSHIRT_OUTLINE, 170, 90, 300, 300), (25, 25, 25))
    cv2.rectangle(image, (275, 195), (365, 285), (60, 200, 60), thickness=cv2.FILLED)
    image = add_noise(image, 6)
    result = segment(image)
    assert result.found
    assert box_iou(result.box, true_box) >= 0.9
    without = segment(image, SegmentationConfig(centre_ratio=0))
    assert not without.found or box_iou(without.box, true_box) < 0.5
