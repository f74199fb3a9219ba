"""Segmentation: from a camera frame or a photo to a Fashion-MNIST-like 28x28 input.

Uses numpy and OpenCV only (no Qt, no TensorFlow).

    from segmentation import SegmentationConfig, segment
    result = segment(frame_bgr, config=SegmentationConfig())
    result.found, result.reason, result.box, result.model_input   # uint8 (28, 28)
"""

from segmentation.config import SegmentationConfig, classic_config
from segmentation.pipeline import (
    EMPTY_FRAME,
    NO_CONTOUR,
    NOT_DISTINCT,
    TOO_LARGE,
    TOO_SMALL,
    SegmentationResult,
    segment,
)
from segmentation.steps import (
    as_bgr,
    choose_contour,
    close_mask,
    crop,
    find_contours,
    hsv_range_mask,
    join_nearby,
    padded_box,
    sample_centre_colour,
    to_fashion_mnist,
    to_naive,
)

__all__ = [
    "EMPTY_FRAME",
    "NO_CONTOUR",
    "NOT_DISTINCT",
    "TOO_LARGE",
    "TOO_SMALL",
    "SegmentationConfig",
    "SegmentationResult",
    "segment",
    "classic_config",
    "as_bgr",
    "choose_contour",
    "close_mask",
    "crop",
    "find_contours",
    "hsv_range_mask",
    "join_nearby",
    "padded_box",
    "sample_centre_colour",
    "to_fashion_mnist",
    "to_naive",
]
