"""Real processes for the tests and benchmarks/load.py: start, watch, wait on, kill.

Every process is started in its own session (process group), so a test can SIGKILL exactly the
group it started, workers included, and nothing else. Every wait waits on its event (an exit,
an answer, a line or a row) and is bounded by a limit that is a safety net, not an expectation:
it holds on two cores shared with five busy processes, where a first start compiles the Numba
searches for minutes.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Two cores shared by both processes and the test: one compute thread each.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
START_LIMIT_S = 300.0  # a process's start, or its first games: a first run compiles Numba
STOP_LIMIT_S = 120.0  # an orderly stop (the learner publishes and checkpoints first)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float, interval: float = 0.1) -> bool:
    """Polls `condition` until it is truthy or `timeout` seconds passed; whether it became so.
    For events with nothing to block on (a line in a log, a row in replay.db, an answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def wait_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Blocks until every process in `pids` has exited (a zombie has), at most `timeout`
    seconds; the pids still running then. Waits on the exits themselves (Linux pidfds), so it
    works for processes that are not our children, such as an actor's workers."""
    waiting: dict[int, int] = {}
    for pid in pids:
        try:
            waiting[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            pass
    try:
        poller = select.poll()
        for fd in waiting:
            poller.register(fd, select.POLLIN)
        deadline = time.monotonic() + timeout
        pending = set(waiting)
        while pending and (left := deadline - time.monotonic()) > 0:
            for fd, _ in poller.poll(left * 1000):
                poller.unregister(fd)
                pending.discard(fd)
        return [waiting[fd] for fd in pending if pid_alive(waiting[fd])]
    finally:
        for fd in waiting:
            os.close(fd)


def wait_group_gone(pgid: int, timeout: float) -> list[int]:
    """`wait_gone` for every member of process group `pgid`, those that join it meanwhile
    included; the members still running after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (members := group_members(pgid)) and time.monotonic() < deadline:
        wait_gone(members, deadline - time.monotonic())
    return group_members(pgid)


class Proc:
    """A child process in its own process group, its output in `log_path`."""

    def __init__(self, command: list[str], log_path: Path, env: dict | None = None) -> None:
        self.command = command
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **THREAD_ENV, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,
        )
        self.pid = self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def group_alive(self) -> list[int]:
        """Pids still running in this process's group (orphaned workers included)."""
        return group_members(self.pid)

    def kill_group(self) -> None:
        """SIGKILL to the whole group (the crash of the process and every child)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = STOP_LIMIT_S) -> int:
        """SIGTERM, then the group's SIGKILL if it does not stop in `timeout` seconds."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            code = self.process.wait(10)
        return code

    def close(self) -> None:
        """SIGKILL to whatever of this group still runs; returns once all of it is gone."""
        try:
            if self.alive() or self.group_alive():
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(30)
                wait_group_gone(self.pid, 30)
        finally:
            self._log.close()


def _process_stats() -> list[tuple[int, str, int, int]]:
    """(pid, state, parent pid, process group) of every process, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found.append((int(entry), fields[0], int(fields[1]), int(fields[2])))
    return found


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) pids whose process group is `pgid`."""
    return [p for p, state, _, group in _process_stats() if group == pgid and state not in "ZX"]


def children_of(pid: int) -> list[int]:
    """Live direct children of `pid`."""
    return [p for p, state, parent, _ in _process_stats() if parent == pid and state not in "ZX"]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in ("Z", "X")


def start_actor(
    data_dir: Path, *args: str, port: int | None = None, log_name: str = "", warm_up: bool = False
) -> Proc:
    """`python -m actor --data-dir DIR --port P [--no-warmup] ARGS` on 127.0.0.1."""
    port = port or free_port()
    command = [PYTHON, "-m", "actor", "--data-dir", str(data_dir), "--port", str(port)]
    command += [*([] if warm_up else ["--no-warmup"]), *args]
    proc = Proc(command, Path(data_dir) / f"actor{log_name}-{port}.log")
    proc.port = port  # type: ignore[attr-defined]
    proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    return proc


def wait_healthy(proc: Proc, timeout: float = START_LIMIT_S) -> None:
    """Until the actor's /api/health answers 200; RuntimeError with its log if it exits first or
    does not answer in `timeout` seconds."""
    import httpx

    def healthy() -> bool:
        if not proc.alive():
            raise RuntimeError(f"process exited at start:\n{proc.log()[-3000:]}")
        try:
            return httpx.get(proc.url + "/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    if not wait_for(healthy, timeout, 0.2):
        raise RuntimeError(f"actor not healthy in {timeout} s:\n{proc.log()[-3000:]}")


def start_learner(data_dir: Path, *args: str, log_name: str = "learner") -> Proc:
    command = [PYTHON, "-m", "learner", "--data-dir", str(data_dir), *args]
    return Proc(command, Path(data_dir) / f"{log_name}.out")


# ---- replay.db as an outside reader sees it ----------------------------------------------------


def read_ids(db: Path) -> list[int]:
    """Committed game ids (empty when the db or table does not exist yet)."""
    if not Path(db).exists():
        return []
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return [row[0] for row in connection.execute("SELECT id FROM games ORDER BY id")]
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise
    finally:
        connection.close()


def positions(db: Path) -> int:
    """Positions (sum of num_moves) committed so far."""
    if not Path(db).exists():
        return 0
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(
            connection.execute("SELECT COALESCE(SUM(num_moves), 0) FROM games").fetchone()[0]
        )
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return 0
        raise
    finally:
        connection.close()


def integrity(db: Path) -> str:
    connection = sqlite3.connect(db, timeout=30)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


def summed(pattern: str, text: str) -> int:
    """Sum of the integers captured by `pattern` in `text` (e.g. 'stopped after (\\d+) games')."""
    return sum(int(value) for value in re.findall(pattern, text))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
