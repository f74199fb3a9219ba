"""The segmentation steps, each a small function that can be used alone.

    hsv = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2HSV)
    colour = sample_centre_colour(hsv, window_fraction=0.1)
    mask = close_mask(hsv_range_mask(hsv, colour, 12, 70, 70), kernel_size=5, iterations=2)
    contour = choose_contour(find_contours(mask), centre=(320, 240))
"""

from __future__ import annotations

import cv2
import numpy as np

HUE_PERIOD = 180  # OpenCV stores hue as 0-179 in uint8 images.
NAIVE_BORDER = 20  # The original tutorial's black border around the crop, in pixels.


def as_bgr(frame) -> np.ndarray:
    """Returns the frame as a contiguous uint8 HxWx3 BGR image; grey and BGRA are converted.

    Raises ValueError for anything that is not a non-empty uint8 image.
    """
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"Frame must be a numpy array, got {type(frame).__name__}.")
    if frame.size == 0 or frame.ndim < 2 or min(frame.shape[:2]) == 0:
        raise ValueError(f"Frame is empty (shape {frame.shape}); pass a decoded image.")
    if frame.dtype != np.uint8:
        raise ValueError(f"Frame must be uint8 (0-255), got {frame.dtype}; "
                         "convert with np.clip(frame, 0, 255).astype(np.uint8) first.")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return np.ascontiguousarray(frame)
    raise ValueError(f"Frame must be HxW grey, HxWx3 BGR or HxWx4 BGRA, got shape {frame.shape}.")


def downscale(frame: np.ndarray, work_size: int) -> tuple[np.ndarray, float]:
    """Shrinks the frame so its longer side is at most work_size; returns (image, scale).

    scale multiplies frame coordinates into image coordinates (1.0 when nothing was done).
    """
    longer_side = max(frame.shape[:2])
    if work_size <= 0 or longer_side <= work_size:
        return frame, 1.0
    scale = work_size / longer_side
    height = max(1, round(frame.shape[0] * scale))
    width = max(1, round(frame.shape[1] * scale))
    source = frame
    if scale < 0.5:
        # Area averaging of a large frame is slow; a bilinear step to twice the size first
        # keeps most of its smoothing at a fraction of the cost.
        source = cv2.resize(frame, (2 * width, 2 * height), interpolation=cv2.INTER_LINEAR)
    small = cv2.resize(source, (width, height), interpolation=cv2.INTER_AREA)
    return small, width / frame.shape[1]


def centre_window(shape, window_fraction: float) -> tuple[int, int, int, int]:
    """The centre sampling square as (x, y, w, h); its side is a fraction of the shorter side."""
    height, width = shape[:2]
    side = max(1, round(min(height, width) * window_fraction))
    return (width - side) // 2, (height - side) // 2, side, side


def centre_pixels(image: np.ndarray, window_fraction: float, most: int = 48) -> np.ndarray:
    """(N, channels) pixels of the centre sampling square; of a side above most pixels, every
    k-th row and column only (k = side // most), which gives the same medians faster."""
    x, y, w, h = centre_window(image.shape, window_fraction)
    stride = max(1, w // most)
    return image[y:y + h:stride, x:x + w:stride].reshape(-1, image.shape[2])


def circular_median_hue(hues: np.ndarray) -> int:
    """Median of OpenCV hues (0-179) that respects the wrap-around (reds on both ends)."""
    angles = hues.astype(np.float32) * (2 * np.pi / HUE_PERIOD)
    # sum / size is .mean() (the same float32 sum and division) without its overhead.
    mean_angle = np.arctan2(np.sin(angles).sum() / angles.size,
                            np.cos(angles).sum() / angles.size)
    mean_hue = mean_angle * HUE_PERIOD / (2 * np.pi)
    # Rotate so the circular mean sits mid-range, take a plain median, rotate back.
    shifted = (hues.astype(np.float32) - mean_hue + HUE_PERIOD / 2) % HUE_PERIOD
    return int(round(float_median(shifted) + mean_hue - HUE_PERIOD / 2)) % HUE_PERIOD


def float_median(values: np.ndarray):
    """np.median of a non-empty 1-D float array, the same value and dtype, without its
    overhead: the middle value, or the mean of the two middle values."""
    half, odd = divmod(values.size, 2)
    if odd:
        return np.partition(values, half)[half]
    ordered = np.partition(values, (half - 1, half))
    return (ordered[half - 1] + ordered[half]) / 2


def sample_centre_colour(hsv: np.ndarray, window_fraction: float) -> tuple[int, int, int]:
    """Median HSV colour of the centre square, so a small logo at the centre does not decide it."""
    return median_hsv(centre_pixels(hsv, window_fraction))


def sample_centre_colour_bgr(image_bgr: np.ndarray, window_fraction: float
                             ) -> tuple[int, int, int]:
    """sample_centre_colour of the image's HSV conversion, converting the centre square's
    sampled pixels alone (the same colour, without converting the whole image)."""
    pixels = np.ascontiguousarray(centre_pixels(image_bgr, window_fraction))
    return median_hsv(cv2.cvtColor(pixels[np.newaxis], cv2.COLOR_BGR2HSV)[0])


def median_hsv(pixels: np.ndarray) -> tuple[int, int, int]:
    """The median of uint8 (N, 3) HSV pixels: circular for the hue, rounded down."""
    saturation, value = integer_median(pixels[:, 1:])
    return circular_median_hue(pixels[:, 0]), int(saturation), int(value)


def integer_median(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """int(np.median(values, axis)) of non-negative integers, as int64, without np.median's
    overhead: the middle value, or the two middle values' mean rounded down."""
    middle, odd = divmod(values.shape[axis], 2)
    if odd:
        return np.partition(values, middle, axis=axis).take(middle, axis=axis).astype(np.int64)
    both = np.partition(values, (middle - 1, middle), axis=axis)
    return (both.take(middle - 1, axis=axis).astype(np.int64)
            + both.take(middle, axis=axis)) // 2


def hsv_range_mask(hsv: np.ndarray, colour, hue_tolerance: int, saturation_tolerance: int,
                   value_tolerance: int, low_saturation: int = 0) -> np.ndarray:
    """0/255 mask of pixels within the tolerances of colour; hue wraps around at 180.

    When the colour's saturation is below low_saturation its hue is noise, so any hue passes.
    """
    hue, saturation, value = (int(channel) for channel in colour)
    saturation_range = (max(0, saturation - saturation_tolerance),
                        min(255, saturation + saturation_tolerance))
    value_range = (max(0, value - value_tolerance), min(255, value + value_tolerance))
    if saturation < low_saturation or hue_tolerance >= HUE_PERIOD // 2:
        hue_ranges = [(0, HUE_PERIOD - 1)]
    else:
        low, high = hue - hue_tolerance, hue + hue_tolerance
        if low < 0:
            hue_ranges = [(0, high), (low + HUE_PERIOD, HUE_PERIOD - 1)]
        elif high >= HUE_PERIOD:
            hue_ranges = [(low, HUE_PERIOD - 1), (0, high - HUE_PERIOD)]
        else:
            hue_ranges = [(low, high)]
    mask = None
    for hue_low, hue_high in hue_ranges:
        lower = np.array([hue_low, saturation_range[0], value_range[0]], dtype=np.uint8)
        upper = np.array([hue_high, saturation_range[1], value_range[1]], dtype=np.uint8)
        part = cv2.inRange(hsv, lower, upper)
        mask = part if mask is None else cv2.bitwise_or(mask, part)
    return mask


def close_mask(mask: np.ndarray, kernel_size: int, iterations: int) -> np.ndarray:
    """Closes small holes and gaps (dilate, then erode) with an elliptic kernel."""
    if iterations <= 0 or kernel_size <= 1:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel_size, kernel_size))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=iterations)


def find_contours(mask: np.ndarray) -> list[np.ndarray]:
    """The outer contours of the mask's pieces."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return list(contours)


def choose_contour(contours, centre) -> np.ndarray | None:
    """The contour that contains the centre point, else the largest one (None if there are none)."""
    if not contours:
        return None
    point = (float(centre[0]), float(centre[1]))
    for contour in contours:
        if cv2.pointPolygonTest(contour, point, False) >= 0:
            return contour
    return max(contours, key=cv2.contourArea)


def box_gap(box_a, box_b) -> float:
    """Distance in pixels between two (x, y, w, h) boxes; 0 when they touch or overlap."""
    gap_x = max(box_a[0] - (box_b[0] + box_b[2]), box_b[0] - (box_a[0] + box_a[2]), 0)
    gap_y = max(box_a[1] - (box_b[1] + box_b[3]), box_b[1] - (box_a[1] + box_a[3]), 0)
    return float(np.hypot(gap_x, gap_y))


def join_nearby(contours, chosen, max_gap: float, min_ratio: float) -> list[np.ndarray]:
    """The chosen contour plus pieces at most max_gap pixels away that are large enough.

    A piece counts when its area is at least min_ratio of the chosen contour's, so a pair of
    shoes is joined while crumbs of background are not. Joining repeats until nothing changes.
    """
    chosen_area = cv2.contourArea(chosen)
    candidates = [contour for contour in contours if contour is not chosen
                  and cv2.contourArea(contour) >= min_ratio * chosen_area]
    joined = [chosen]
    if max_gap <= 0:
        return joined
    joined_box = cv2.boundingRect(chosen)
    changed = True
    while changed and candidates:
        changed = False
        for contour in list(candidates):
            if box_gap(joined_box, cv2.boundingRect(contour)) <= max_gap:
                joined.append(contour)
                candidates = [other for other in candidates if other is not contour]
                joined_box = cv2.boundingRect(np.concatenate(joined))
                changed = True
    return joined


def padded_box(box, padding: int, shape) -> tuple[int, int, int, int]:
    """The (x, y, w, h) box grown by padding pixels on each side and clipped to the image."""
    x, y, w, h = box
    height, width = shape[:2]
    left, top = max(0, x - padding), max(0, y - padding)
    right, bottom = min(width, x + w + padding), min(height, y + h + padding)
    return left, top, right - left, bottom - top


def crop(image: np.ndarray, box) -> np.ndarray:
    """The part of the image inside the (x, y, w, h) box (a view, not a copy)."""
    x, y, w, h = box
    return image[y:y + h, x:x + w]


def stretch_contrast(values: np.ndarray, weights: np.ndarray, below: float = 256) -> np.ndarray:
    """Stretches garment intensities (float) so the brightest garment pixels reach 255.

    Only garments whose median intensity is below `below` are stretched (light garments,
    faint once negated). The darkest garment pixels stay above zero so the garment does not
    melt into the background.
    """
    garment = values[weights > 0.5]
    if garment.size < 4 or float_median(garment) >= below:
        return values
    low, high = percentiles(garment, (2, 98))
    if high - low < 1:
        return values
    floor = 40.0  # Keeps faint garment parts visible against the black background.
    stretched = floor + (values - low) * ((255.0 - floor) / (high - low))
    return np.clip(stretched, 0, 255)


def percentiles(values: np.ndarray, percents) -> list[np.float64]:
    """np.percentile(values, percents) of a 1-D float array for a sequence of percents, to the
    bit (its default linear method, float64), with one partition and without its overhead."""
    count = values.size
    neighbours = []
    for percent in percents:
        position = (count - 1) * np.float64(percent / 100)
        below = min(int(np.floor(position)), count - 1)
        neighbours.append((below, min(below + 1, count - 1), position - below))
    ordered = np.partition(values, sorted({index for below, above, _ in neighbours
                                           for index in (below, above)}))
    result = []
    for below, above, weight in neighbours:
        low, high = ordered[below], ordered[above]
        difference = high - low
        # As numpy's _lerp: in float64, from the nearer end.
        result.append(np.float64(high) - difference * (1 - weight) if weight >= 0.5
                      else np.float64(low) + difference * weight)
    return result


def to_fashion_mnist(crop_bgr: np.ndarray, crop_mask: np.ndarray, output_size: int = 28,
                     normalise_contrast: bool = False, stretch_below: float = 256) -> np.ndarray:
    """The garment as a Fashion-MNIST-like uint8 image (output_size x output_size).

    Background 0, greyscale, garment intensities negated (dark garments show bright), the
    longest edge of the garment fitted to output_size with its aspect kept, centred.
    crop_mask (uint8 0-255, same size as crop_bgr) marks the garment; soft edges are kept. With
    normalise_contrast, garments fainter than stretch_below are stretched (stretch_contrast).
    """
    if crop_bgr.shape[:2] != crop_mask.shape[:2]:
        raise ValueError(f"crop_bgr {crop_bgr.shape[:2]} and crop_mask {crop_mask.shape[:2]} "
                         "must have the same height and width.")
    canvas = np.zeros((output_size, output_size), dtype=np.uint8)
    _, inside = cv2.threshold(crop_mask, 127, 255, cv2.THRESH_BINARY)
    x, y, w, h = cv2.boundingRect(inside)  # Of the pixels above 127.
    if w == 0 or h == 0:
        return canvas
    grey = crop_bgr if crop_bgr.ndim == 2 else cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    grey, mask = grey[y:y + h, x:x + w], crop_mask[y:y + h, x:x + w]
    scale = output_size / max(w, h)
    new_w = max(1, min(output_size, round(w * scale)))
    new_h = max(1, min(output_size, round(h * scale)))
    small_grey = cv2.resize(grey, (new_w, new_h), interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask, (new_w, new_h), interpolation=cv2.INTER_AREA)
    weights = small_mask.astype(np.float32) / 255.0
    garment = 255.0 - small_grey.astype(np.float32)
    if normalise_contrast:
        garment = stretch_contrast(garment, weights, stretch_below)
    image = np.clip(garment * weights, 0, 255).astype(np.uint8)
    top, left = (output_size - new_h) // 2, (output_size - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = image
    return canvas


def to_naive(crop_bgr: np.ndarray, output_size: int = 28) -> np.ndarray:
    """The original tutorial's conversion: 20 px black border, grey, stretched, no negation."""
    bordered = cv2.copyMakeBorder(crop_bgr, NAIVE_BORDER, NAIVE_BORDER, NAIVE_BORDER,
                                  NAIVE_BORDER, cv2.BORDER_CONSTANT, value=0)
    grey = bordered if bordered.ndim == 2 else cv2.cvtColor(bordered, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, (output_size, output_size), interpolation=cv2.INTER_AREA)


def colour_distance(planes, colour) -> np.ndarray:
    """Per-pixel L1 distance (uint8, saturating at 255) between an image and one BGR colour.

    planes is the image split into its blue, green and red planes (cv2.split), so that many
    colours can be measured against one split, which is much faster than whole images.
    """
    blue, green, red = planes
    distance = cv2.add(absolute_difference(blue, colour[0]), absolute_difference(green, colour[1]))
    return cv2.add(distance, absolute_difference(red, colour[2]))


def absolute_difference(plane: np.ndarray, value) -> np.ndarray:
    """|plane - value| per pixel, uint8, for a uint8 plane and a number.

    OpenCV 5 reads a 1x1 or 4x1 array beside a number as a Scalar and returns a 4x1 float64
    array, so planes of four pixels or fewer are compared with a plane of the value instead.
    """
    other = float(value) if plane.size > 4 else np.full_like(plane, int(value))
    return cv2.absdiff(plane, other)


class ColourDistances:
    """colour_distance of one BGR image to any number of colours, each computed once.

    The image is split into its planes once (planes: uint8 HxW blue, green, red), and each
    colour's distance image is kept, so the background model's readings of one frame share
    them.
    """

    def __init__(self, image_bgr: np.ndarray):
        self.planes = cv2.split(image_bgr)
        self.shape = image_bgr.shape[:2]
        self._distances = {}

    def to(self, colour) -> np.ndarray:
        """uint8 HxW L1 distances (saturating at 255) to the BGR colour; do not write to it."""
        key = tuple(int(value) for value in colour)
        if key not in self._distances:
            self._distances[key] = colour_distance(self.planes, key)
        return self._distances[key]


def median_colour(image: np.ndarray) -> tuple[int, int, int]:
    """Per-channel median of a 3-channel image region (rounded down, as int)."""
    return tuple(int(value) for value in integer_median(image.reshape(-1, 3)))


def colour_differences(colours, colour) -> np.ndarray:
    """L1 distances, int64 (N,), between N BGR colours (a list of triples or (N, 3) array)
    and one colour."""
    colours = np.asarray(colours, np.int64).reshape(-1, 3)
    return np.abs(colours - np.asarray(colour, np.int64)).sum(axis=1)


def sample_border_colours(image_bgr: np.ndarray, strip_fraction: float = 0.04,
                          segments: int = 4) -> list[tuple[int, int, int]]:
    """Median BGR colours of short pieces of the frame border (the likely background).

    Each side is cut into segments pieces, so 4 * segments colours come back (fewer for
    images too small to cut).
    """
    if min(image_bgr.shape[:2]) >= 64:
        image_bgr = image_bgr[::2, ::2]  # Every other pixel gives the same medians, 4x faster.
    height, width = image_bgr.shape[:2]
    strip = max(1, round(min(height, width) * strip_fraction))
    across, down = width // segments * segments, height // segments * segments
    if across == 0 or down == 0:
        return [median_colour(image_bgr)]
    sides = [image_bgr[:strip, :across], image_bgr[height - strip:, :across],
             image_bgr[:down, :strip].transpose(1, 0, 2),
             image_bgr[:down, width - strip:].transpose(1, 0, 2)]
    medians = []
    for pair in (sides[:2], sides[2:]):
        # (rows, segments * length, 3) -> (segments, rows * length, 3): one median per piece;
        # the top and bottom (then left and right) pieces are as long, so one median call.
        pieces = [side.reshape(side.shape[0], segments, -1, 3).transpose(1, 0, 2, 3)
                  .reshape(segments, -1, 3) for side in pair]
        medians.append(integer_median(np.concatenate(pieces), axis=1))
    return [tuple(colour) for colour in np.concatenate(medians).tolist()]


def distinct_colours(colours, min_difference: int = 24) -> list[tuple[int, int, int]]:
    """The colours without near-duplicates (L1 difference below min_difference).

    Each kept colour stands for those within min_difference of it, so a distance image is
    computed for about 6 of the 16 border colours of a demo frame (9.3 at 12, the value
    before 2026-12-05; the same answers on all demo frames and on 284 of 290 validation
    photos; docs/experiments.md).
    """
    points = np.asarray(colours, np.int64).reshape(-1, 3)
    near = (np.abs(points[:, None] - points[None]).sum(axis=2) < min_difference).tolist()
    kept = []
    for index, row in enumerate(near):
        if not any(row[other] for other in kept):
            kept.append(index)
    return [colours[index] for index in kept]


def matches_border(garment_colour, border_colours, same_colour: int = 24) -> int:
    """How many border colours are within same_colour (L1) of the garment's colour."""
    return int((colour_differences(border_colours, garment_colour) < same_colour).sum())


def background_colours(border_colours, centre_colour, tolerance: int) -> list:
    """The border colours that show background when the centre does too.

    A colour unlike the centre's (more than tolerance, L1) that few border pieces show (a
    quarter or fewer within tolerance of it) is the garment reaching the edge, such as trouser
    legs at the bottom of the frame, and is left out; the others are kept.
    """
    colours = np.asarray(border_colours, np.int32).reshape(-1, 3)
    pieces_like = (np.abs(colours[:, None] - colours[None]).sum(axis=2) <= tolerance).sum(axis=1)
    like_centre = np.abs(colours - np.asarray(centre_colour, np.int32)).sum(axis=1) <= tolerance
    keep = like_centre | (pieces_like > len(border_colours) / 4)
    return [colour for colour, kept in zip(border_colours, keep) if kept]


def background_mask(image_bgr: np.ndarray | ColourDistances, garment_colour, border_colours,
                    tolerance: int, same_colour: int = 24,
                    centre_is_background: bool | None = None) -> np.ndarray:
    """0/255 mask of pixels that look like the background (the border colours).

    A pixel is background when its nearest colour is a border colour rather than the garment's,
    and it lies within tolerance (L1 in BGR) of that border colour. Border colours within
    same_colour of the garment's are the garment touching the edge and are skipped. When most
    of the border has the garment's colour, the centre shows background (the gap between two
    shoes): then every pixel within tolerance / 2 of a border colour is background, except the
    border colours that are the garment reaching the edge (see background_colours).
    centre_is_background overrides that majority vote when given. image_bgr may be given as
    the ColourDistances of the image, to share its distance images with other calls.
    """
    matching = (colour_differences(border_colours, garment_colour) < same_colour).tolist()
    if centre_is_background is None:
        centre_is_background = sum(matching) > len(border_colours) / 2
    if centre_is_background:
        candidates, limit = background_colours(border_colours, garment_colour, tolerance), \
            tolerance // 2
    else:
        candidates = [colour for colour, match in zip(border_colours, matching) if not match]
        limit = tolerance
    distances = image_bgr if isinstance(image_bgr, ColourDistances) else \
        ColourDistances(image_bgr)
    nearest = None
    for colour in distinct_colours(candidates):
        distance = distances.to(colour)
        nearest = distance if nearest is None else cv2.min(nearest, distance)
    if nearest is None:
        return np.zeros(distances.shape, dtype=np.uint8)
    _, within = cv2.threshold(nearest, limit, 255, cv2.THRESH_BINARY_INV)
    if centre_is_background:
        return within
    closer = cv2.compare(nearest, distances.to(garment_colour), cv2.CMP_LT)
    return cv2.bitwise_and(closer, within)


def colour_share_masks(image_bgr: np.ndarray, window_fraction: float, border_ratio: float,
                       centre_ratio: float, least_share: float = 0.02,
                       strip_fraction: float = 0.04, planes=None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(background, garment): 0/255 masks of the pixels whose colour is much more common in
    the border strip than in the centre square (window_fraction of the shorter side), and the
    other way round.

    Colours are counted with 8 levels per BGR channel (512 colours). Background: at least
    border_ratio times the colour's share of the centre. Unlike the border's median colours,
    the counts hold every colour of a patterned floor, and a colour that the garment shows at
    the centre stays garment although it also reaches the border. Garment: at least
    centre_ratio times the colour's share of the border and at least least_share of the centre
    (a dark garment on a dark floor). A ratio of 0 gives an empty mask. planes, when given, is
    the image's cv2.split (ColourDistances.planes), which saves splitting it again.
    """
    colours = colour_bins(cv2.split(image_bgr) if planes is None else planes)
    height, width = colours.shape
    strip = max(1, round(min(height, width) * strip_fraction))
    border = np.concatenate([colours[:strip].ravel(), colours[height - strip:].ravel(),
                             colours[strip:height - strip, :strip].ravel(),
                             colours[strip:height - strip, width - strip:].ravel()])
    x, y, w, h = centre_window(image_bgr.shape, window_fraction)
    centre = colours[y:y + h, x:x + w].ravel()
    border_share = np.bincount(border, minlength=512) / border.size
    centre_share = np.bincount(centre, minlength=512) / centre.size
    # One look-up for both masks: bit 0 marks background colours, bit 1 garment colours.
    kinds = np.zeros(512, np.uint8)
    if border_ratio > 0:
        kinds[(border_share > border_ratio * centre_share) & (border_share > 0)] = 1
    if centre_ratio > 0:
        kinds[(centre_share > centre_ratio * border_share) & (centre_share >= least_share)] |= 2
    pixel_kinds = np.take(kinds, colours)
    # Bit 0 and bit 1 (kinds are at most 3) times 255: faster than a look-up table each.
    return (pixel_kinds & 1) * np.uint8(255), (pixel_kinds >> 1) * np.uint8(255)


def colour_bins(planes) -> np.ndarray:
    """uint16 HxW bin of each pixel's colour, 8 levels per channel: blue level * 64 + green
    level * 8 + red level (0-511), from the uint8 HxW blue, green and red planes."""
    blue, green, red = planes
    return ((blue & 0xE0).astype(np.uint16) << 1) | (((green & 0xE0) >> 2) | (red >> 5))


def edge_contrast(image_bgr: np.ndarray, object_mask: np.ndarray, halvings: int = 2,
                  reach: int = 1) -> float:
    """Median colour step (L1, BGR) across the object's outline; near 0 for a lighting patch.

    A garment has an edge: the colour changes where the background starts. A patch cut out of
    a plain wall by a lighting gradient has none. Near the outline, the mean colour of the
    object's pixels within reach pixels is compared with the mean colour of the other pixels
    there, so a gradient across the frame hardly counts, only a local step does. The work is
    done on the images halved halvings times (reach counts those pixels; halving by area
    averaging is OpenCV's fast path). The frame edge is no outline. Returns 0.0 when the
    object has no outline inside the frame.
    """
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
    # Box means with the frame edge replicated, so the frame edge shows no step.
    share_in = cv2.blur(inside, window, borderType=cv2.BORDER_REPLICATE)
    mean_all = cv2.blur(image, window, borderType=cv2.BORDER_REPLICATE)
    # The object's pixels, zero elsewhere (cv2.multiply: the same products as numpy's
    # broadcast, faster on three channels).
    masked = cv2.multiply(image, cv2.cvtColor(inside, cv2.COLOR_GRAY2BGR))
    mean_masked = cv2.blur(masked, window, borderType=cv2.BORDER_REPLICATE)
    # Pixels whose window holds a fair share of both the object and the background (their
    # flat indices: taking rows by index is faster than a boolean mask over three channels).
    outline = np.flatnonzero((share_in > 0.25) & (share_in < 0.75))
    if outline.size == 0:
        return 0.0
    # With share s of the window inside, mean inside - mean outside = (M - s A) / (s (1 - s)),
    # M the window mean of the object's pixels (zero elsewhere) and A of all pixels.
    share = share_in.reshape(-1)[outline]
    difference = mean_masked.reshape(-1, 3)[outline] \
        - share[:, None] * mean_all.reshape(-1, 3)[outline]
    steps_across = np.abs(difference).sum(axis=1) / (share * (1.0 - share))
    middle = len(steps_across) // 2
    return float(np.partition(steps_across, middle)[middle])  # The median, without its overhead.
