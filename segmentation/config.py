"""Settings of the segmentation pipeline: one frozen dataclass, every field explained."""

from __future__ import annotations

from dataclasses import dataclass, fields

VARIANTS = ("fashion", "naive")


@dataclass(frozen=True)
class SegmentationConfig:
    # Side of the centre sampling square, as a fraction of the frame's shorter side.
    sample_window: float = 0.1
    # Allowed hue distance from the sampled colour (OpenCV hue is 0-179 and wraps at 180).
    hue_tolerance: int = 12
    # Allowed saturation distance from the sampled colour (0-255).
    saturation_tolerance: int = 70
    # Allowed value (brightness) distance from the sampled colour (0-255).
    value_tolerance: int = 70
    # Below this sampled saturation the hue is ignored (white, grey and black have no hue).
    low_saturation: int = 40
    # Max L1 BGR distance to a border colour for background pixels; 0 uses the HSV range alone.
    background_tolerance: int = 100
    # If the centre colour shows on the border, also try the centre as background (trouser legs).
    second_look: bool = True
    # Side in pixels of the elliptic kernel used to close holes in the mask (at working size).
    close_kernel: int = 5
    # How many times the closing is applied.
    close_iterations: int = 2
    # Fill holes inside the garment's outline (Fashion-MNIST garments are solid silhouettes).
    fill_holes: bool = True
    # Smallest colour step (L1, BGR) across the object's outline; flatter is lighting; 0 = off.
    min_edge_contrast: float = 12.0
    # Smallest accepted object area, as a fraction of the frame area.
    min_area: float = 0.005
    # Largest accepted object area, as a fraction of the frame area.
    max_area: float = 0.95
    # Join pieces this close (fraction of the shorter side) to the object (shoe pairs); 0 = off.
    join_distance: float = 0.1
    # A piece is joined only when its area is at least this fraction of the chosen object's area.
    join_min_ratio: float = 0.3
    # Pixels (at frame resolution) added around the object's box before cropping.
    padding: int = 8
    # Side of the square model input in pixels.
    output_size: int = 28
    # "fashion": Fashion-MNIST-like conversion; "naive": the seed's stretch, for comparison.
    variant: str = "fashion"
    # Stretch the garment's intensities to span the full range, like Fashion-MNIST images do.
    normalise_contrast: bool = True
    # ...but only garments whose median negated intensity is below this: light garments that
    # would vanish on black. Stretching all (256) cost 4-8 of 84 real photos with each model.
    stretch_below: int = 64
    # Longer side of the downscaled image used for the mask work; 0 uses the full frame.
    work_size: int = 320

    def __post_init__(self):
        if not 0 < self.sample_window <= 1:
            raise ValueError(f"sample_window must be in (0, 1], got {self.sample_window}.")
        for name in ("hue_tolerance", "saturation_tolerance", "value_tolerance", "low_saturation",
                     "background_tolerance", "stretch_below"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
        if not self.min_edge_contrast >= 0:
            raise ValueError("min_edge_contrast must not be negative, "
                             f"got {self.min_edge_contrast}.")
        if self.close_kernel < 1 or self.close_iterations < 0:
            raise ValueError("close_kernel must be at least 1 and close_iterations at least 0, "
                             f"got {self.close_kernel} and {self.close_iterations}.")
        if not 0 <= self.min_area < self.max_area <= 1:
            raise ValueError("Need 0 <= min_area < max_area <= 1, "
                             f"got min_area={self.min_area}, max_area={self.max_area}.")
        if self.padding < 0 or self.join_distance < 0:
            raise ValueError("padding and join_distance must not be negative, "
                             f"got {self.padding} and {self.join_distance}.")
        if self.output_size < 4:
            raise ValueError(f"output_size must be at least 4, got {self.output_size}.")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}.")
        if self.work_size != 0 and self.work_size < 32:
            raise ValueError("work_size must be 0 (full frame) or at least 32, "
                             f"got {self.work_size}.")


def field_names() -> list[str]:
    """Names of the configuration fields, in declaration order (used by the command lines)."""
    return [field.name for field in fields(SegmentationConfig)]


def seed_config() -> SegmentationConfig:
    """Settings close to the seed pipeline, for comparison.

    Wide HSV tolerances, no background model, 3x3 closing five times, no hole filling or
    joining, no edge contrast check, and the naive conversion (the seed also used the mean
    colour and the largest contour; this package always uses the median and prefers the
    contour at the centre).
    """
    return SegmentationConfig(hue_tolerance=50, saturation_tolerance=70, value_tolerance=70,
                              low_saturation=0, background_tolerance=0, second_look=False,
                              close_kernel=3,
                              close_iterations=5, fill_holes=False, join_distance=0.0,
                              min_edge_contrast=0.0,
                              padding=0, variant="naive", normalise_contrast=False)
