"""Settings declared once, as pydantic fields, and everything derived from that declaration.

A process declares its settings as a `Settings` model, each field made by `setting(...)`: its
type (a `Literal` for a choice), bounds (`ge`, `gt`, `le`), help text and --help group, and
whether a resumed run keeps it. From that declaration come the command line (`add_flags`),
the validation of values from flags, TOML files and saved config files alike (`Settings.build`),
and their one-line messages (`describe`), which name the setting as it is written in a TOML file
and, with dashes, on the command line.

Kept free of engine/Numba imports: the actor parses its command line before Numba is imported.
"""

from __future__ import annotations

import argparse
import difflib
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from runfiles.cli import shown

# What a value of each type must be, for messages ("must be a whole number", not "int_parsing").
_KINDS: dict[Any, str] = {int: "a whole number", float: "a number", str: "text"}
_KINDS[bool] = "true or false"
_METAVARS: dict[Any, str] = {int: "N", float: "X", str: "TEXT"}
# Bound constraints and how a message says each.
_BOUNDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}


class SettingsError(ValueError):
    """A setting that is unknown, of the wrong type or out of range: its message is one line."""


def setting(
    default: Any,
    help: str,
    *,
    group: str | None = None,
    resumed: bool = False,
    metavar: str | None = None,
    kind: str | None = None,
    flag: str | None = None,
    **bounds: Any,
) -> Any:
    """One declared setting: its default, the help of its flag, its --help `group` (None: the
    general options), whether a resumed run keeps its value (`resumed`), and pydantic's bounds
    (`ge=1`, `gt=0`, `le=1`). `metavar` and `kind` (the messages' "must be ...") default to the
    type's, `flag` to `--name-with-dashes`."""
    extra = {"group": group, "resumed": resumed, "metavar": metavar, "kind": kind, "flag": flag}
    return Field(default, description=help, json_schema_extra=extra, **bounds)


class Settings(BaseModel):
    """A declared set of settings. Floats must be finite (they reach stats.json, plain JSON),
    an unknown name is refused, and so is a `true` where a number is declared (Python's bool is
    an int: `batch_size = true` trained batches of 1)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)
    # What the message about an unknown setting says when no declared name is close.
    unknown_hint: ClassVar[str] = ""
    # Whether the settings are command-line flags only (no file sets them): messages then name
    # the flag, as argparse does.
    flags_only: ClassVar[bool] = False

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Self:
        """The settings for `values` (the declaration's defaults for the rest), or a
        SettingsError saying, in one line, which value is not usable."""
        for name, value in values.items():
            if name not in cls.model_fields:
                close = difflib.get_close_matches(name, cls.model_fields, n=1)
                hint = f": did you mean {close[0]!r}?" if close else cls.unknown_hint
                raise SettingsError(f"unknown setting {name!r}{hint}")
            if isinstance(value, bool) and _annotation(cls, name) is not bool:
                raise SettingsError(
                    f"{subject(cls, name)} must be {kind_of(cls, name)}, got {value!r}"
                )
        try:
            return cls.model_validate(dict(values))
        except ValidationError as error:
            raise SettingsError(describe(cls, error.errors()[0])) from None

    @classmethod
    def names(cls, **extra: Any) -> tuple[str, ...]:
        """The declared names, or those whose `setting(...)` options match `extra`
        (`names(resumed=True)`)."""
        return tuple(
            name
            for name, field in cls.model_fields.items()
            if all(_extra(field).get(key) == value for key, value in extra.items())
        )

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


def describe(model: type[Settings], error: ErrorDetails) -> str:
    """One validation error as one line that names the setting (`subject`)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if not error["loc"]:  # a check of several settings: its own message
        return str(ctx.get("error", error["msg"]))
    name = str(error["loc"][0])
    return f"{subject(model, name)} {_predicate(model, name, kind, ctx, error['input'])}"


def subject(model: type[Settings], name: str) -> str:
    """How messages name setting `name`: as written in a file (`lr`), or for settings that are
    flags only, as argparse names a flag (`argument --move-timeout:`)."""
    if not model.flags_only:
        return name
    flag = _extra(model.model_fields[name]).get("flag") or "--" + name.replace("_", "-")
    return f"argument {flag}:"


def _predicate(model: type[Settings], name: str, kind: str, ctx: dict, value: Any) -> str:
    if kind == "value_error":  # a validator's own words, after the setting's name
        return str(ctx.get("error", ""))
    for bound, words in _BOUNDS.items():
        if bound in ctx and kind.startswith(("greater", "less")):
            return f"must be {words} {shown(ctx[bound])}, got {value}"
    if kind == "literal_error":
        return f"must be one of {', '.join(map(str, choices(model, name)))}"
    if kind == "finite_number":
        return f"must be a finite number, got {value}"
    return f"must be {kind_of(model, name)}, got {value!r}"


def choices(model: type[Settings], name: str) -> tuple[Any, ...]:
    """The values a choice setting (a `Literal`) takes; () for any other."""
    annotation = model.model_fields[name].annotation
    return typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()


def kind_of(model: type[Settings], name: str) -> str:
    """What a value of setting `name` must be, in words."""
    return _extra(model.model_fields[name]).get("kind") or _KINDS.get(_annotation(model, name), "")


def add_flags(
    parser: argparse.ArgumentParser,
    model: type[Settings],
    notes: Callable[[str], str | None],
    names: tuple[str, ...] | None = None,
) -> None:
    """One flag per setting of `model` (or of `names`), in its group, its help followed by
    `notes(name)` in parentheses where that is not None. `--name-with-dashes VALUE`, or the
    setting's own `flag`; a bool whose default is on is switched off by its `flag` (`--no-X`),
    an optional bool takes `--X` and `--no-X`. Every flag's value is None when it is not given,
    so that whoever parses knows what the command line set. `--name_with_underscores` (the TOML
    key) is accepted too, but not listed: the help shows each flag once."""
    groups: dict[str, Any] = {}
    for name in names or tuple(model.model_fields):
        field = model.model_fields[name]
        extra = _extra(field)
        title = extra.get("group")
        target: Any = parser
        if title:
            target = groups.get(title) or groups.setdefault(title, parser.add_argument_group(title))
        dashed = "--" + name.replace("_", "-")
        flag = extra.get("flag") or dashed
        options: dict[str, Any] = {"dest": name, "default": None, "help": field.description}
        kind = _annotation(model, name)
        if kind is bool and field.default is True:
            options["action"] = "store_false"
        elif kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        else:
            values = choices(model, name)
            metavar = "{" + ",".join(map(str, values)) + "}" if values else _METAVARS.get(kind)
            options["metavar"] = extra.get("metavar") or metavar
        note = notes(name)
        if note is not None:
            options["help"] += f" ({note})"
        target.add_argument(flag, **options)
        if flag == dashed and "_" in name:
            hidden = {**options, "help": argparse.SUPPRESS}
            parser.add_argument("--" + name, **hidden)


def _annotation(model: type[Settings], name: str) -> Any:
    """The declared type of `name`; `int` for `int | None` (None: "the game's")."""
    annotation = model.model_fields[name].annotation
    kinds = [kind for kind in typing.get_args(annotation) if kind is not type(None)]
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(kinds) == 1
    return kinds[0] if optional else annotation


def _extra(field: Any) -> dict[str, Any]:
    return field.json_schema_extra or {}
