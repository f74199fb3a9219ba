"""Settings of the segmentation pipeline: one frozen dataclass, every field explained.

Each field's help (its metadata) is also its --help text on the command lines. Presets name
whole configurations: "default" and "classic" (the original tutorial's settings).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields

VARIANTS = ("fashion", "naive")


def setting(default, help: str, low=None, high=None):
    """A configuration field with its explanation, shown by --help, and its allowed range.

    A number field must lie in [low, high] (both given, inclusive) and be finite; an int
    field must be a whole number.
    """
    return field(default=default, metadata={"help": help, "low": low, "high": high})


def check_range(name: str, value, default, low, high):
    """Raises ValueError unless value is a finite number of default's kind in [low, high]."""
    kind = numbers.Integral if isinstance(default, int) else numbers.Real
    if (isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value)
            or not low <= value <= high):
        whole = "a whole number" if kind is numbers.Integral else "a number"
        raise ValueError(f"{name} must be {whole} from {low} to {high}, got {value!r}.")


@dataclass(frozen=True)
class SegmentationConfig:
    sample_window: float = setting(
        0.1, "Side of the centre sampling square, as a fraction of the frame's shorter side.",
        0, 1)
    garment_window: float = setting(
        0.4, "Side of the wider centre square whose median is the garment's colour for the "
             "background model, unless it is more like the border than the centre square's "
             "(floor around a small garment); 0 = the centre square alone.", 0, 1)
    hue_tolerance: int = setting(
        12, "Allowed hue distance from the sampled colour (OpenCV hue is 0-179 and wraps at 180, "
            "so 90 takes every hue).", 0, 90)
    saturation_tolerance: int = setting(
        70, "Allowed saturation distance from the sampled colour (0-255).", 0, 255)
    value_tolerance: int = setting(
        70, "Allowed value (brightness) distance from the sampled colour (0-255).", 0, 255)
    low_saturation: int = setting(
        40, "Below this sampled saturation the hue is ignored (white, grey and black have no "
            "hue).", 0, 255)
    background_tolerance: int = setting(
        100, "Max L1 BGR distance to a border colour for background pixels; 0 uses the HSV range "
             "alone.", 0, 765)
    border_ratio: float = setting(
        3.0, "Also background: pixels whose colour (8 levels per BGR channel) is at least this "
             "many times more common in the frame border than in the garment window (patterned "
             "floors); 0 = off.", 0, 1000)
    centre_ratio: float = setting(
        10.0, "Garment after all, if that at least doubles the object: pixels whose colour is "
              "at least this many times more common in the garment window than in the frame "
              "border, and at least 2% of the window (a dark garment on a dark floor); 0 = off.",
        0, 1000)
    second_look: bool = setting(
        True, "If the centre colour shows on the border, also try the centre as background "
              "(trouser legs).")
    close_kernel: int = setting(
        5, "Side in pixels of the elliptic kernel used to close holes in the mask (at working "
           "size).", 1, 255)
    close_iterations: int = setting(2, "How many times the closing is applied.", 0, 100)
    fill_holes: bool = setting(
        True, "Fill holes inside the garment's outline (Fashion-MNIST garments are solid "
              "silhouettes).")
    min_edge_contrast: float = setting(
        12.0, "Smallest colour step (L1, BGR) across the object's outline; flatter is lighting; "
              "0 = off.", 0, 765)
    min_area: float = setting(
        0.005, "Smallest accepted object area, as a fraction of the frame area.", 0, 1)
    max_area: float = setting(
        0.95, "Largest accepted object area, as a fraction of the frame area.", 0, 1)
    join_distance: float = setting(
        0.1, "Join pieces this close (fraction of the shorter side) to the object (shoe pairs); "
             "0 = off.", 0, 1)
    join_min_ratio: float = setting(
        0.3, "A piece is joined only when its area is at least this fraction of the chosen "
             "object's area.", 0, 1)
    padding: int = setting(
        8, "Pixels (at frame resolution) added around the object's box before cropping.",
        0, 10000)
    output_size: int = setting(28, "Side of the square model input in pixels.", 4, 1024)
    variant: str = setting(
        "fashion", '"fashion": Fashion-MNIST-like conversion; "naive": the original tutorial\'s '
                   "conversion (grey, stretched to a square, not negated).")
    normalise_contrast: bool = setting(
        True, "Stretch the garment's intensities to span the full range, like Fashion-MNIST "
              "images do...")
    stretch_below: int = setting(
        64, "...but only garments whose median negated intensity is below this: light garments, "
            "which would vanish on black; 256 stretches all.", 0, 256)
    work_size: int = setting(
        320, "Longer side of the downscaled image used for the mask work; 0 uses the full "
             "frame.", 0, 100000)

    def __post_init__(self):
        for config_field in fields(self):
            if config_field.metadata.get("low") is not None:
                check_range(config_field.name, getattr(self, config_field.name),
                            config_field.default, config_field.metadata["low"],
                            config_field.metadata["high"])
        if self.sample_window == 0:
            raise ValueError("sample_window must be above 0, got 0.")
        if not self.min_area < self.max_area:
            raise ValueError("min_area must be below max_area, "
                             f"got min_area={self.min_area}, max_area={self.max_area}.")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}.")
        if self.work_size != 0 and self.work_size < 32:
            raise ValueError("work_size must be 0 (full frame) or at least 32, "
                             f"got {self.work_size}.")

    def sampling_windows(self) -> tuple[float, ...]:
        """Sides of the centre squares the colours are sampled from: sample_window, and
        garment_window when the background model uses a wider one."""
        if self.background_tolerance > 0 and self.garment_window > self.sample_window:
            return self.sample_window, self.garment_window
        return (self.sample_window,)


def classic_config() -> SegmentationConfig:
    """The original tutorial's settings, for comparison.

    Wide HSV tolerances, no background model, 3x3 closing five times, no hole filling or
    joining, no edge contrast check, and the naive conversion (the tutorial also used the mean
    colour and the largest contour; this package always uses the median and prefers the
    contour at the centre).
    """
    return SegmentationConfig(hue_tolerance=50, saturation_tolerance=70, value_tolerance=70,
                              low_saturation=0, background_tolerance=0, second_look=False,
                              close_kernel=3, close_iterations=5, fill_holes=False,
                              join_distance=0.0, min_edge_contrast=0.0, padding=0,
                              variant="naive", normalise_contrast=False)


# Named starting points for the command lines' --preset.
PRESETS = {"default": SegmentationConfig, "classic": classic_config}
