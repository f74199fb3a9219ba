"""From a camera frame or a photo to a Fashion-MNIST-like 28x28 input.

    from segmentation import SegmentationConfig, segment
    result = segment(frame_bgr, config=SegmentationConfig())
    if result.found:
        probabilities = predictor.predict(result.model_input[None])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from segmentation import steps
from segmentation.config import SegmentationConfig

DEFAULT_CONFIG = SegmentationConfig()

# Why nothing was found: the values of SegmentationResult.reason.
NO_CONTOUR = "no contour"  # The mask holds no object at all.
TOO_SMALL = "too small"  # Below config.min_area.
TOO_LARGE = "too large"  # Above config.max_area.
NOT_DISTINCT = "no object distinct from the background"  # Below config.min_edge_contrast.
EMPTY_FRAME = "empty frame"  # No usable frame (the app's reason; segment raises ValueError).


@dataclass(frozen=True)
class SegmentationResult:
    # True when a garment of acceptable size was found.
    found: bool
    # Why nothing was found (NO_CONTOUR, TOO_SMALL, ...); None when found.
    reason: str | None
    # uint8 0/255 mask at working resolution: the chosen garment, or the colour mask when not found.
    mask: np.ndarray
    # int32 (N, 1, 2) outline of the garment in frame coordinates, or None.
    contour: np.ndarray | None
    # (x, y, w, h) box around the garment in frame coordinates, or None.
    box: tuple[int, int, int, int] | None
    # BGR crop of the frame inside crop_box (the box plus padding), or None.
    crop: np.ndarray | None
    # uint8 (output_size, output_size) input for the classifier; all zeros when not found.
    model_input: np.ndarray
    # Garment area as a fraction of the frame area (0.0 when there is no contour).
    area_fraction: float
    # Milliseconds spent in each step, by step name.
    timings: dict = field(default_factory=dict)
    # Median HSV colour sampled at the centre (OpenCV ranges), or None for an empty frame.
    sample_colour: tuple[int, int, int] | None = None
    # Working-resolution coordinates = frame coordinates * scale.
    scale: float = 1.0
    # (x, y, w, h) of the crop: the box grown by config.padding and clipped to the frame, or None.
    crop_box: tuple[int, int, int, int] | None = None
    # Colour step (L1, BGR) across the object's outline; 0.0 when it was not measured.
    edge_contrast: float = 0.0

    @classmethod
    def not_found(cls, reason: str, mask: np.ndarray, output_size: int,
                  **measured) -> SegmentationResult:
        """A result without a garment: no contour, box or crop, an all-zero model input.

        measured sets what was measured on the way (area_fraction, timings, sample_colour,
        scale, edge_contrast).
        """
        return cls(found=False, reason=reason, mask=mask, contour=None, box=None, crop=None,
                   model_input=np.zeros((output_size, output_size), np.uint8),
                   area_fraction=float(measured.pop("area_fraction", 0.0)), **measured)


class _StepTimer:
    """Records the milliseconds between successive calls under the given step names."""

    def __init__(self):
        self.timings = {}
        self.last = time.perf_counter()

    def lap(self, name: str):
        now = time.perf_counter()
        self.timings[name] = (now - self.last) * 1000.0
        self.last = now


def mask_for_box(object_mask: np.ndarray, box, scale: float) -> np.ndarray:
    """The working-resolution mask resampled onto a frame-coordinate box (smooth edges)."""
    x, y, w, h = box
    # Maps each crop pixel centre to working coordinates (an inverse affine map).
    matrix = np.array([[scale, 0, (x + 0.5) * scale - 0.5],
                       [0, scale, (y + 0.5) * scale - 0.5]], dtype=np.float64)
    return cv2.warpAffine(object_mask, matrix, (w, h),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def select_object(mask: np.ndarray, config: SegmentationConfig):
    """The garment's pieces in the closed colour mask: (contours, object_mask) or (None, None)."""
    contours = steps.find_contours(mask)
    height, width = mask.shape[:2]
    chosen = steps.choose_contour(contours, ((width - 1) / 2, (height - 1) / 2))
    if chosen is None:
        return None, None
    max_gap = config.join_distance * min(height, width)
    pieces = steps.join_nearby(contours, chosen, max_gap, config.join_min_ratio)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, pieces, -1, 255, thickness=cv2.FILLED)
    # Without hole filling, holes inside the garment (a bag's handle) stay open.
    object_mask = filled if config.fill_holes else cv2.bitwise_and(filled, mask)
    return pieces, object_mask


def colour_mask(small_bgr: np.ndarray, hsv: np.ndarray, colour, config: SegmentationConfig,
                garment_colour=None, border_colours=None, centre_is_background=None,
                distances: steps.ColourDistances | None = None):
    """(mask, centre colours): 0/255 masks of the garment's pixels at working resolution, and
    of the pixels whose colour is much more common at the centre than in the border (None
    when not used).

    The HSV range around the centre colour is the base. With a background model
    (config.background_tolerance > 0, garment_colour and border_colours in BGR) every pixel
    that does not look like the frame border is kept instead, which also keeps prints and
    stripes. Then colours much more common in the border than at the centre are background
    too (config.border_ratio; a patterned floor). The centre colours (config.centre_ratio) may
    be garment after all (a dark garment on a dark floor), or a brightly lit patch of floor:
    find_object adds them only when that at least doubles the object; steps.colour_share_masks
    counts both. Neither in the second look, which reads the centre as background.
    distances (steps.ColourDistances of small_bgr), when given, shares the colour distance
    images with the frame's other readings.
    """
    if config.background_tolerance <= 0 or border_colours is None:
        return steps.hsv_range_mask(hsv, colour, config.hue_tolerance,
                                    config.saturation_tolerance, config.value_tolerance,
                                    config.low_saturation), None
    if distances is None:
        distances = steps.ColourDistances(small_bgr)
    background = steps.background_mask(distances, garment_colour, border_colours,
                                       config.background_tolerance,
                                       centre_is_background=centre_is_background)
    if centre_is_background or (config.border_ratio <= 0 and config.centre_ratio <= 0):
        return cv2.bitwise_not(background), None
    border_colours_mask, centre_colours_mask = steps.colour_share_masks(
        small_bgr, max(config.garment_window, config.sample_window), config.border_ratio,
        config.centre_ratio, planes=distances.planes)
    return (cv2.bitwise_not(cv2.bitwise_or(background, border_colours_mask)),
            centre_colours_mask if config.centre_ratio > 0 else None)


def object_area(object_mask) -> float:
    """Fraction of the working image covered by the object mask (0 when there is none)."""
    if object_mask is None:
        return 0.0
    return cv2.countNonZero(object_mask) / float(object_mask.shape[0] * object_mask.shape[1])


def stands_out(small: np.ndarray, object_mask, config: SegmentationConfig) -> bool:
    """True when the object's outline is a real colour step, not a lighting gradient."""
    if config.min_edge_contrast <= 0:
        return True
    if object_mask is None:
        return False
    return steps.edge_contrast(small, object_mask) >= config.min_edge_contrast


def larger_reading(small: np.ndarray, current, other, config: SegmentationConfig) -> bool:
    """True when other (closed mask, pieces, object mask) should replace current: its object
    holds the centre in its box, stands out, is not too large, and is at least twice the
    current object's area (counted as 0 when the current one took everything or is only
    lighting)."""
    _, other_pieces, other_object = other
    if other_pieces is None:
        return False
    x, y, w, h = cv2.boundingRect(np.concatenate(other_pieces))
    centre_x, centre_y = small.shape[1] / 2, small.shape[0] / 2
    holds_centre = x <= centre_x <= x + w and y <= centre_y <= y + h
    other_area, current_area = object_area(other_object), object_area(current[2])
    if not holds_centre or not 0 < other_area <= config.max_area:
        return False
    if (other_area < 2 * current_area and current_area <= config.max_area
            and stands_out(small, current[2], config)):
        return False
    return stands_out(small, other_object, config)


def closed_object(mask: np.ndarray, config: SegmentationConfig):
    """(closed mask, pieces, object mask) of a raw 0/255 garment mask."""
    mask = steps.close_mask(mask, config.close_kernel, config.close_iterations)
    return (mask, *select_object(mask, config))


def centre_garment_colour(small: np.ndarray, border_colours, config: SegmentationConfig,
                          near: int = 48, shown_by: float = 0.4):
    """The garment's BGR colour for the background model.

    The median of the wider centre square (config.garment_window) is not decided by a print
    or by the floor between trouser legs, as the centre square's median can be. It is used
    when it is at least as far from every border colour as the centre's median, or when it is
    the garment reaching the edge: a colour that a few border pieces show (a quarter or fewer)
    and that at least shown_by of the square's pixels are within near (L1) of. Otherwise (the
    wide square takes in floor around a small garment, or its median is a blend of garment and
    floor) the centre square's median is used.
    """
    centre = steps.median_colour(steps.centre_pixels(small, config.sample_window))
    if config.garment_window <= config.sample_window:
        return centre
    pixels = steps.centre_pixels(small, config.garment_window)
    wide = steps.median_colour(pixels)

    to_border = steps.colour_differences(border_colours, wide).min(), \
        steps.colour_differences(border_colours, centre).min()
    if to_border[0] >= to_border[1]:
        return wide
    matching = steps.matches_border(wide, border_colours)
    if not 0 < matching <= len(border_colours) / 4:
        return centre
    # L1 distances to the wide median, channel by channel (numpy's sum over an axis of three
    # is slow); int16 holds up to 765.
    differences = np.abs(pixels.astype(np.int16) - np.asarray(wide, np.int16))
    shown = differences[:, 0] + differences[:, 1] + differences[:, 2] <= near
    return wide if np.count_nonzero(shown) / shown.size >= shown_by else centre


def find_object(small: np.ndarray, hsv: np.ndarray, colour, config: SegmentationConfig,
                timer: _StepTimer | None = None):
    """(closed mask, pieces, object mask) of the garment at working resolution.

    When the centre's colour also shows on the frame border, the centre may be background
    (the floor between two trouser legs): then the frame is also read with the centre as
    background. That reading wins when it finds an object at least twice as large whose box
    holds the centre, or when the first object does not stand out from the background and the
    second does. Adding the colours common at the centre (see colour_mask) is such a reading
    too. timer, when given, records the steps.
    """
    lap = timer.lap if timer is not None else (lambda name: None)
    garment_colour = border_colours = distances = None
    if config.background_tolerance > 0:
        border_colours = steps.sample_border_colours(small)
        garment_colour = centre_garment_colour(small, border_colours, config)
        distances = steps.ColourDistances(small)  # Shared by both readings of the frame.
    mask, centre_colours = colour_mask(small, hsv, colour, config, garment_colour,
                                       border_colours, distances=distances)
    lap("mask")
    mask = steps.close_mask(mask, config.close_kernel, config.close_iterations)
    lap("close")
    current = (mask, *select_object(mask, config))
    lap("contour")
    if border_colours is None:
        return current
    if centre_colours is not None and cv2.countNonZero(cv2.subtract(centre_colours, mask)):
        other = closed_object(cv2.bitwise_or(mask, centre_colours), config)
        lap("centre_colours")
        if larger_reading(small, current, other, config):
            current = other
    matching = steps.matches_border(garment_colour, border_colours)
    if config.second_look and 0 < matching <= len(border_colours) / 2:
        other = closed_object(colour_mask(small, hsv, colour, config, garment_colour,
                                          border_colours, centre_is_background=True,
                                          distances=distances)[0], config)
        lap("second_look")
        if larger_reading(small, current, other, config):
            return other
    return current


def segment(frame, config: SegmentationConfig = DEFAULT_CONFIG) -> SegmentationResult:
    """Finds the garment at the centre of the frame and turns it into the model input.

    frame: uint8 HxWx3 BGR (HxW grey and HxWx4 BGRA are converted). Raises ValueError for an
    empty array or a wrong dtype. Large frames are downscaled to config.work_size for the mask
    work; the box and contour are mapped back to frame coordinates.
    """
    timer = _StepTimer()
    frame = steps.as_bgr(frame)
    timer.lap("convert")
    small, scale = steps.downscale(frame, config.work_size)
    timer.lap("downscale")
    # The HSV image is needed whole only for the HSV range mask (no background model);
    # otherwise the centre square alone is converted, for the sample colour.
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV) if config.background_tolerance <= 0 else None
    timer.lap("hsv")
    colour = steps.sample_centre_colour(hsv, config.sample_window) if hsv is not None else \
        steps.sample_centre_colour_bgr(small, config.sample_window)
    timer.lap("sample")
    mask, pieces, object_mask = find_object(small, hsv, colour, config, timer)

    def not_found(reason, **measured):
        return SegmentationResult.not_found(reason, mask, config.output_size,
                                            timings=timer.timings, sample_colour=colour,
                                            scale=scale, **measured)

    if pieces is None:
        return not_found(NO_CONTOUR)
    work_area = float(small.shape[0] * small.shape[1])
    area_fraction = cv2.countNonZero(object_mask) / work_area
    if area_fraction < config.min_area:
        return not_found(TOO_SMALL, area_fraction=area_fraction)
    if area_fraction > config.max_area:
        return not_found(TOO_LARGE, area_fraction=area_fraction)
    contrast = 0.0
    if config.min_edge_contrast > 0:
        contrast = steps.edge_contrast(small, object_mask)
        timer.lap("contrast")
        if contrast < config.min_edge_contrast:
            # A patch of plain wall cut out by a lighting gradient has no edge of its own.
            return not_found(NOT_DISTINCT, area_fraction=area_fraction, edge_contrast=contrast)
    points = np.concatenate(pieces)
    outline = points if len(pieces) == 1 else cv2.convexHull(points)
    contour = np.round((outline.astype(np.float32) + 0.5) / scale - 0.5).astype(np.int32)
    x, y, w, h = cv2.boundingRect(points)
    frame_height, frame_width = frame.shape[:2]
    left, top = int(np.floor(x / scale)), int(np.floor(y / scale))
    right = min(frame_width, int(np.ceil((x + w) / scale)))
    bottom = min(frame_height, int(np.ceil((y + h) / scale)))
    box = (left, top, right - left, bottom - top)
    crop_box = steps.padded_box(box, config.padding, frame.shape)
    crop = steps.crop(frame, crop_box)
    timer.lap("box")
    if config.variant == "naive":
        model_input = steps.to_naive(crop, config.output_size)
    elif min(w, h) >= 2 * config.output_size:
        # The working image has detail enough for 28 pixels; it is much cheaper than the frame.
        model_input = steps.to_fashion_mnist(small[y:y + h, x:x + w], object_mask[y:y + h, x:x + w],
                                             config.output_size, config.normalise_contrast,
                                             config.stretch_below)
    else:
        crop_mask = mask_for_box(object_mask, crop_box, scale)
        model_input = steps.to_fashion_mnist(crop, crop_mask, config.output_size,
                                             config.normalise_contrast, config.stretch_below)
    timer.lap("to_input")
    return SegmentationResult(found=True, reason=None, mask=object_mask, contour=contour,
                              box=box, crop=crop, model_input=model_input,
                              area_fraction=float(area_fraction), timings=timer.timings,
                              sample_colour=colour, scale=scale, crop_box=crop_box,
                              edge_contrast=contrast)
