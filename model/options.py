"""Command-line options from frozen training configuration dataclasses.

Each field becomes `--field-name`, with its help from the field's metadata (see option());
a field whose default is itself a configuration dataclass contributes its own fields, so a
config that holds another is filled from the same command line. The options are made by
segmentation.options.add_field_options, the one helper for every configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import field

from segmentation.config import check_range
from segmentation.options import add_field_options


def option(default, help_text: str, flag: str = "", low=None, high=None, choices=None):
    """A dataclass field with its command-line help (and, optionally, its own flag name, the
    range [low, high] a number, or each number of a tuple, must lie in, and the values a
    string may take; check_fields)."""
    metadata = {"help": help_text, "flag": flag, "low": low, "high": high, "choices": choices}
    if dataclasses.is_dataclass(default):
        return field(default_factory=lambda: default, metadata=metadata)
    return field(default=default, metadata=metadata)


def check_fields(config) -> None:
    """Raises ValueError naming the first field of config (a dataclass) whose number, or a
    number of whose tuple, lies outside its option's range, or whose string is not one of
    its choices; called by __post_init__."""
    for config_field in dataclasses.fields(config):
        choices = config_field.metadata.get("choices")
        if choices is not None and getattr(config, config_field.name) not in choices:
            raise ValueError(f"{config_field.name} must be one of "
                             f"{', '.join(map(repr, choices))}, got "
                             f"{getattr(config, config_field.name)!r}.")
        low, high = config_field.metadata.get("low"), config_field.metadata.get("high")
        if low is None:
            continue
        value, default = getattr(config, config_field.name), config_field.default
        if isinstance(default, tuple):
            if not isinstance(value, tuple) or not value:
                raise ValueError(f"{config_field.name} must be one or more numbers, "
                                 f"got {value!r}.")
            for item in value:
                check_range(config_field.name, item, default[0], low, high)
        else:
            check_range(config_field.name, value, default, low, high)


def add_config_arguments(parser: argparse.ArgumentParser, config_class) -> None:
    """Adds one option per leaf field of config_class (recursing into held configs)."""
    add_field_options(parser, config_class)


def config_from_arguments(config_class, values: dict):
    """Builds config_class (and the configs it holds) from parsed option values."""
    defaults = config_class()
    keywords = {}
    for config_field in dataclasses.fields(config_class):
        default = getattr(defaults, config_field.name)
        if dataclasses.is_dataclass(default):
            keywords[config_field.name] = config_from_arguments(type(default), values)
        elif config_field.name in values:
            value = values[config_field.name]
            keywords[config_field.name] = tuple(value) if isinstance(default, tuple) else value
    return config_class(**keywords)


def config_from_dict(config_class, values: dict, where: str = ""):
    """Builds config_class from a nested dict such as dataclasses.asdict() gives.

    Missing fields keep their defaults. Raises ValueError naming the field for an unknown
    field or a value of the wrong type.
    """
    holder = f"field '{where.rstrip('.')}'" if where else "the configuration"
    if not isinstance(values, dict):
        raise ValueError(f"{holder} must be a JSON object of fields, "
                         f"got {type(values).__name__}.")
    defaults = config_class()
    known = {config_field.name for config_field in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown field '{where}{unknown[0]}'; the fields of {holder} are: "
                         f"{', '.join(sorted(known))}.")
    keywords = {}
    for name, value in values.items():
        default = getattr(defaults, name)
        if dataclasses.is_dataclass(default):
            keywords[name] = config_from_dict(type(default), value, f"{where}{name}.")
        else:
            keywords[name] = checked_value(value, default, where + name)
    return config_class(**keywords)


def checked_value(value, default, name: str):
    """value as the type of default (an int is a float, a list a tuple), or ValueError."""
    if isinstance(default, tuple):
        if isinstance(value, list) and value:
            return tuple(checked_value(item, default[0], name) for item in value)
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, type(default)) and (isinstance(default, bool)
                                                or not isinstance(value, bool)):
        return value
    wanted = (f"a non-empty list of {type(default[0]).__name__}" if isinstance(default, tuple)
              else type(default).__name__)
    raise ValueError(f"field {name!r} must be {wanted}, got {value!r}.")


def argument_values(config) -> dict:
    """The option values of a config (recursing into held configs), as config_from_arguments
    reads them: the inverse of it."""
    values = {}
    for config_field in dataclasses.fields(config):
        value = getattr(config, config_field.name)
        if dataclasses.is_dataclass(value):
            values.update(argument_values(value))
        else:
            values[config_field.name] = list(value) if isinstance(value, tuple) else value
    return values
