"""Command-line options that override SegmentationConfig fields, shared by the command lines."""

from __future__ import annotations

import argparse
import inspect
from dataclasses import fields, replace

from segmentation.config import SegmentationConfig, seed_config


def field_comments() -> dict[str, str]:
    """The comment above each SegmentationConfig field, used as its --help text."""
    comments, previous = {}, ""
    for line in inspect.getsource(SegmentationConfig).splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            previous = (previous + " " + stripped.lstrip("# ")).strip()
        elif ":" in stripped and not stripped.startswith(("def", "class", "@")):
            comments[stripped.split(":")[0].strip()] = previous
            previous = ""
    return comments


def add_config_arguments(parser: argparse.ArgumentParser):
    """Adds --seed-settings and one option per configuration field (e.g. --hue-tolerance 15)."""
    group = parser.add_argument_group("segmentation settings (override the defaults)")
    group.add_argument("--seed-settings", action="store_true",
                       help="start from the seed pipeline's settings instead of the defaults")
    comments = field_comments()
    defaults = SegmentationConfig()
    for config_field in fields(SegmentationConfig):
        name = config_field.name
        default = getattr(defaults, name)
        option = "--" + name.replace("_", "-")
        help_text = f"{comments.get(name, '')} (default {default})".replace("%", "%%")
        if isinstance(default, bool):
            group.add_argument(option, dest=name, action=argparse.BooleanOptionalAction,
                               default=None, help=help_text)
        elif name == "variant":
            group.add_argument(option, dest=name, choices=("fashion", "naive"), default=None,
                               help=help_text)
        else:
            group.add_argument(option, dest=name, type=type(default), default=None,
                               metavar=name.upper(), help=help_text)


def config_from_arguments(arguments: argparse.Namespace) -> SegmentationConfig:
    """The configuration the options ask for; raises ValueError for invalid values."""
    config = seed_config() if arguments.seed_settings else SegmentationConfig()
    overrides = {config_field.name: getattr(arguments, config_field.name)
                 for config_field in fields(SegmentationConfig)
                 if getattr(arguments, config_field.name, None) is not None}
    return replace(config, **overrides)
