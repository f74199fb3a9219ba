"""The settings the user can change in the window: one table drives its controls.

Each row names a setting (a FrameSettings field, or a field of its SegmentationConfig), how it
is shown, and, by its name, where it is kept between runs. No Qt here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from camera_app.frame import FrameSettings
from segmentation.config import VARIANTS, SegmentationConfig


@dataclass(frozen=True)
class Control:
    # The setting: a FrameSettings field, or a field of its SegmentationConfig.
    name: str
    # The text shown with the control.
    label: str
    # "slider", "spin", "choice" or "check".
    kind: str
    # Range of a slider or spin box, in control units.
    low: int = 0
    high: int = 0
    # Control units per setting unit (100 shows a fraction as a percentage).
    scale: int = 1
    # The items of a choice.
    choices: tuple = ()
    # Help shown when the pointer rests on the control.
    tooltip: str = ""


# The settings the user can change, in the order shown. Each is also kept between runs
# (QSettings, under its name).
CONTROLS = (
    Control("background_tolerance", "Background tolerance", "slider", 0, 255,
            tooltip="How far a pixel's colour may be from the frame border's colours to count "
                    "as background; 0 uses the HSV tolerances below instead."),
    Control("hue_tolerance", "Hue tolerance", "slider", 0, 90),
    Control("saturation_tolerance", "Saturation tolerance", "slider", 0, 255),
    Control("value_tolerance", "Value tolerance", "slider", 0, 255),
    Control("sample_window", "Sampling window %", "slider", 2, 50, scale=100),
    Control("garment_window", "Garment window %", "slider", 0, 80, scale=100,
            tooltip="The wider centre square whose median colour is the garment's (with the "
                    "background model); 0 uses the sampling window alone."),
    Control("close_iterations", "Closing iterations", "spin", 0, 10),
    Control("variant", "Variant", "choice", choices=VARIANTS),
    Control("answer_threshold", "Not-sure threshold %", "slider", 1, 100, scale=100),
    Control("mirror", "Mirror", "check"),
    Control("flip_averaging", "Flip averaging", "check",
            tooltip="Average the answers for the image and its mirror image."),
)
SEGMENTATION_FIELDS = {field.name for field in dataclasses.fields(SegmentationConfig)}
HSV_TOLERANCES = ("hue_tolerance", "saturation_tolerance", "value_tolerance")


def setting_of(settings: FrameSettings, name: str):
    """The value of a FrameSettings field, or of a field of its segmentation configuration."""
    return getattr(settings.segmentation if name in SEGMENTATION_FIELDS else settings, name)


def with_settings(settings: FrameSettings, values: dict) -> FrameSettings:
    """The settings with the given values (by name, as in CONTROLS) replaced."""
    segmentation = {name: value for name, value in values.items() if name in SEGMENTATION_FIELDS}
    others = {name: value for name, value in values.items() if name not in SEGMENTATION_FIELDS}
    return dataclasses.replace(
        settings, segmentation=dataclasses.replace(settings.segmentation, **segmentation),
        **others)


def stored_setting(control: Control, stored):
    """The setting a stored value stands for, as the control shows it; None when the value is
    missing, of the wrong kind or outside the control's range (it then keeps its default).

    stored is what QSettings gives back: a str from an INI file, or a bool, int, float, list
    or anything else from a file Qt did not write. A number between two steps of a slider is
    taken at the step the slider shows (0.255 -> 0.26 for a percentage).
    """
    if control.kind == "check":
        if isinstance(stored, str) and stored.lower() in ("true", "false"):
            return stored.lower() == "true"
        return stored if isinstance(stored, bool) else None
    if control.kind == "choice":
        return stored if isinstance(stored, str) and stored in control.choices else None
    if isinstance(stored, bool) or not isinstance(stored, (int, float, str)):
        return None
    try:
        shown = round(float(stored) * control.scale)
    except (ValueError, OverflowError):  # Not a number, nan or infinite.
        return None
    if not control.low <= shown <= control.high:
        return None
    return shown if control.scale == 1 else shown / control.scale
