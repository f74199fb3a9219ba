"""Command-line options from the fields of frozen configuration dataclasses.

add_field_options is the one helper that turns fields into options, for SegmentationConfig
here and for model.config's training configurations (model.options). add_config_arguments
and config_from_arguments are the segmentation command lines' options: a preset and one
option per SegmentationConfig field that overrides it.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import fields, replace

from segmentation.config import PRESETS, VARIANTS, SegmentationConfig


def flag_of(config_field) -> str:
    """A field's option: its metadata "flag", else --field-name."""
    return config_field.metadata.get("flag") or "--" + config_field.name.replace("_", "-")


def add_field_options(parser, config_class, overrides_only: bool = False,
                      choices: dict | None = None) -> None:
    """Adds one option per field of config_class, recursing into a field whose default is
    itself a configuration dataclass; dest is the field's name.

    The help is the field's metadata "help", with its default and its allowed range (metadata
    "low" and "high") appended. A bool field gets --name/--no-name, a tuple field one or more
    values of its items' type. overrides_only: every option defaults to None, so that only
    the options given override a configuration (a preset). choices: allowed values by field
    name, else the field's metadata "choices" (model.options.option).
    """
    defaults = config_class()
    for config_field in fields(config_class):
        name = config_field.name
        default = getattr(defaults, name)
        if dataclasses.is_dataclass(default):
            add_field_options(parser, type(default), overrides_only, choices)
            continue
        low, high = config_field.metadata.get("low"), config_field.metadata.get("high")
        allowed = f"; {low} to {high}" if low is not None else ""
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else (
            "''" if default == "" else default)
        help_text = config_field.metadata.get("help", "").replace("%", "%%")
        keywords = {"dest": name, "default": None if overrides_only else default}
        if isinstance(default, bool):
            # BooleanOptionalAction itself appends a default that is not None.
            suffix = f" (default {shown})" if overrides_only else ""
            keywords.update(action=argparse.BooleanOptionalAction, help=help_text + suffix)
        else:
            keywords.update(type=type(default[0]) if isinstance(default, tuple) else type(default),
                            help=f"{help_text} (default {shown}{allowed})")
            if isinstance(default, tuple):
                keywords.update(nargs="+", default=None if overrides_only else list(default))
            allowed_values = (choices or {}).get(name) or config_field.metadata.get("choices")
            if allowed_values:
                keywords["choices"] = allowed_values
            else:
                keywords["metavar"] = name.upper()
        parser.add_argument(flag_of(config_field), **keywords)


def add_config_arguments(parser: argparse.ArgumentParser):
    """Adds --preset and one option per configuration field (e.g. --hue-tolerance 15)."""
    group = parser.add_argument_group("segmentation settings (override the preset's)")
    group.add_argument("--preset", choices=tuple(PRESETS), default="default",
                       help="settings to start from: the defaults, or the original tutorial's "
                            "(classic); default: default")
    add_field_options(group, SegmentationConfig, overrides_only=True,
                      choices={"variant": VARIANTS})


def config_from_arguments(arguments: argparse.Namespace) -> SegmentationConfig:
    """The configuration the options ask for; raises ValueError for invalid values."""
    config = PRESETS[arguments.preset]()
    overrides = {config_field.name: getattr(arguments, config_field.name)
                 for config_field in fields(SegmentationConfig)
                 if getattr(arguments, config_field.name, None) is not None}
    return replace(config, **overrides)
