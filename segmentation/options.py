"""Command-line options that override SegmentationConfig fields, shared by the command lines."""

from __future__ import annotations

import argparse
from dataclasses import fields, replace

from segmentation.config import PRESETS, VARIANTS, SegmentationConfig


def add_config_arguments(parser: argparse.ArgumentParser):
    """Adds --preset and one option per configuration field (e.g. --hue-tolerance 15)."""
    group = parser.add_argument_group("segmentation settings (override the preset's)")
    group.add_argument("--preset", choices=tuple(PRESETS), default="default",
                       help="settings to start from: the defaults, or the original tutorial's "
                            "(classic); default: default")
    defaults = SegmentationConfig()
    for config_field in fields(SegmentationConfig):
        name = config_field.name
        default = getattr(defaults, name)
        option = "--" + name.replace("_", "-")
        low, high = config_field.metadata.get("low"), config_field.metadata.get("high")
        allowed = f"; {low} to {high}" if low is not None else ""
        help_text = f"{config_field.metadata['help']} (default {default}{allowed})".replace(
            "%", "%%")
        if isinstance(default, bool):
            group.add_argument(option, dest=name, action=argparse.BooleanOptionalAction,
                               default=None, help=help_text)
        elif name == "variant":
            group.add_argument(option, dest=name, choices=VARIANTS, default=None, help=help_text)
        else:
            group.add_argument(option, dest=name, type=type(default), default=None,
                               metavar=name.upper(), help=help_text)


def config_from_arguments(arguments: argparse.Namespace) -> SegmentationConfig:
    """The configuration the options ask for; raises ValueError for invalid values."""
    config = PRESETS[arguments.preset]()
    overrides = {config_field.name: getattr(arguments, config_field.name)
                 for config_field in fields(SegmentationConfig)
                 if getattr(arguments, config_field.name, None) is not None}
    return replace(config, **overrides)
