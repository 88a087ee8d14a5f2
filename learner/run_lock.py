"""One learner per run folder: two would write the same checkpoint, models and stats.json, each
undoing the other's steps (two `start_training.sh` on one folder did exactly that).

An flock on `<run>/.learner.lock`, held for the learner's life; the kernel drops it when the
process ends, however it ends, so a crash never leaves the run locked.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from runfiles.layout import RunFolder


class RunInUse(Exception):
    """Another learner holds the run folder."""


def hold_run_lock(run_dir: Path) -> IO[str]:
    """Takes the run's lock and writes this process's pid in it; keep the returned file open
    for as long as the lock must hold. RunInUse, naming the holder, when another has it."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    handle = open(RunFolder(run_dir).learner_lock, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise RunInUse(
            f"another learner (pid {holder}) is training {run_dir}: stop it first, or use"
            " another --data-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def check_run_free(run_dir: Path) -> None:
    """RunInUse when a learner holds `run_dir` (the launcher asks before starting anything)."""
    if RunFolder(run_dir).learner_lock.exists():
        hold_run_lock(run_dir).close()
