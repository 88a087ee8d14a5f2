"""Files of a run folder that other processes read at any moment: written whole, and set aside,
never lost.

The actor and the learner both write such files (stats.json, evaluations.json, models,
checkpoints) and both keep a damaged or refused one under a new name for the user. This package
is the one copy of both, beside the engine (rules only, no I/O): the actor and the learner never
import each other (docs/architecture.md), and both import this. `runfiles.layout` is the run
folder's contract: every file and folder name in it; `runfiles.stats` is stats.json's format:
the learner writes it, the actor's API serves it; `runfiles.cli`, the look of both command
lines' help.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)


def utc_stamp() -> str:
    """The time now, UTC, for the names of files and folders set aside: 20261127-105400."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def write_atomic(path: Path, data: bytes) -> None:
    """Writes `data` to a temporary file next to `path` (`.<name>.*.tmp`), fsyncs it, then
    os.replace()s it: readers see the old file or the new one, never half of one, and a failed
    write leaves the old file and no temporary file. Mode 0644: readers may be other users'."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), 0o644)  # mkstemp makes 0600
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def free_name(path: Path) -> Path:
    """`path`, or the first of `path-2`, `path-3`, ... that nothing has taken yet."""
    candidate, number = path, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def set_aside(
    path: Path, label: str, *, stamp: str | None = None, log: logging.Logger = _log
) -> Path | None:
    """Renames `path` to `<name>.<label>-<UTC time or stamp>` for the user; the new name. A
    name already taken (two set-asides in one second) gets `-2`, `-3`, ...: never overwritten.
    A failed rename is logged to `log` and gives None: a copy that cannot be kept must not stop
    the caller. Looking for a free name and renaming are two steps: callers that could race
    hold a lock or are the file's only writer."""
    path = Path(path)
    target = free_name(path.with_name(f"{path.name}.{label}-{stamp or utc_stamp()}"))
    try:
        os.rename(path, target)
    except OSError as error:
        log.warning("cannot rename %s to %s: %s", path, target.name, error)
        return None
    return target


def read_settings(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """`names`' values in the JSON object at `path` (a run's config.json or actor_config.json:
    what a restart keeps); none where the file is missing, unreadable or not an object."""
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: nested too deeply
        return {}
    if not isinstance(saved, dict):
        return {}
    return {name: saved[name] for name in names if name in saved}
