"""An exclusive lock across processes on a lock file (flock).

The kernel drops a flock when its holder exits, so a crashed or killed process never leaves a
lock held. Each `open` is its own lock owner, so threads of one process exclude each other too.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Holds an exclusive lock on `path` (made if missing; its folder must exist)."""
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
