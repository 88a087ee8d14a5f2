"""The command-line help both processes print (and start_training.sh, which joins them): one
look, and each flag's help ending with what it takes when not given, per game."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from typing import Any


def help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter, at most 100 columns wide (it fills a wide terminal, hard to read)
    and with the flags' help from column 30, so that most flags keep theirs on their line."""
    width = min(shutil.get_terminal_size().columns, 100) - 2
    return argparse.HelpFormatter(prog, max_help_position=30, width=width)


def shown(value: Any) -> str:
    """A default as it is typed on the command line."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return str(value)


def default_note(
    values: dict[str, Any], game: str | None, show: Callable[[Any], str] = shown
) -> str:
    """What a flag takes when not given, from its value for each game: `default X` where all
    games agree, else `GAME: X` for `game`, or `per game: ...` without one."""
    texts = {name: show(value) for name, value in values.items()}
    if len(set(texts.values())) == 1:
        return f"default {next(iter(texts.values()))}"
    if game in texts:
        return f"{game}: {texts[game]}"
    return "per game: " + ", ".join(f"{name} {text}" for name, text in texts.items())
