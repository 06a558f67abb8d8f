"""Command-line flags built from settings dataclasses (fields made with :func:`autodl.config.setting`).

A field ``name`` becomes ``--name`` (lower case, ``_`` -> ``-``) with the field's type, help text and
choices, default None (= the recipe's value).  Entry points add the flags of every registered
algorithm's settings, so a new algorithm's settings get their flags the day it is registered, and
:func:`settings_overrides` refuses, in one line, a flag that the chosen algorithm does not have.
"""
from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any, Iterable

from ..errors import ConfigError
from . import int_arg


def flag_name(field_name: str) -> str:
    return "--" + field_name.lower().replace("_", "-")


def add_settings_flags(parser: argparse.ArgumentParser, owners: dict[str, type], skip: Iterable[str] = (),
                       show_defaults: bool = False) -> None:
    """One flag per field of the settings classes in ``owners`` (owner name -> class; a field shared by
    several is added once, its help naming who takes it), except the fields in ``skip``.  ``show_defaults``:
    the help gives the fields' defaults (per owner where they differ), for settings that have no recipe."""
    skip = set(skip)
    takers: dict[str, list[str]] = {}
    fields: dict[str, tuple[dataclasses.Field, Any]] = {}
    defaults: dict[str, dict[str, Any]] = {}
    for owner, cls in owners.items():
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.name in skip or "help" not in field.metadata:
                continue
            takers.setdefault(field.name, []).append(owner)
            fields.setdefault(field.name, (field, _not_none(hints[field.name])))
            defaults.setdefault(field.name, {})[owner] = _default(field)
    for name, (field, hint) in fields.items():
        everyone = len(takers[name]) == len(owners)
        help_text = field.metadata["help"]
        if show_defaults and "default" not in help_text:
            values = defaults[name]
            shown = (f"{next(iter(values.values()))}" if len(set(map(repr, values.values()))) == 1
                     else ", ".join(f"{owner} {value}" for owner, value in values.items()))
            help_text += f" (default: {shown})"
        help_text += "" if everyone else f" [{', '.join(takers[name])}]"
        kwargs: dict[str, Any] = {"default": None, "help": help_text, "dest": name}
        if field.metadata.get("choices"):
            kwargs["choices"] = field.metadata["choices"]
        elif hint is bool:
            kwargs.update(type=int_arg, choices=[0, 1])
        elif typing.get_origin(hint) is list:
            kwargs.update(type=typing.get_args(hint)[0], nargs="+", metavar=name.upper())
        else:
            kwargs["type"] = int_arg if hint is int else hint
        parser.add_argument(flag_name(name), **kwargs)


def _not_none(hint: Any) -> Any:
    """``X`` of an optional ``X | None`` hint (the flag's type), else ``hint``."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return args[0] if type(None) in typing.get_args(hint) and len(args) == 1 else hint


def _default(field: dataclasses.Field) -> Any:
    return field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default


def settings_overrides(args: argparse.Namespace, owner: str, owners: dict[str, type]) -> dict[str, Any]:
    """The values given on the command line for ``owners[owner]``'s fields; a given flag that only
    other owners take is an error naming them."""
    own = typing.get_type_hints(owners[owner])
    values = {}
    for name in {field.name for cls in owners.values() for field in dataclasses.fields(cls)}:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in own:
            takers = [o for o, cls in owners.items() if name in {field.name for field in dataclasses.fields(cls)}]
            raise ConfigError(f"{flag_name(name)} is a setting of {', '.join(takers)}, not of {owner!r}; "
                              f"drop it or choose one of those")
        values[name] = bool(value) if own[name] is bool else value
    return values
