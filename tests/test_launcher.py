"""scripts/launch.py (what start_training.sh runs) with the real actor and learner.

One process dies -> the launcher says which and why, stops the other, exits non-zero.
Ctrl-C (SIGINT to the launcher) -> both stop, exit 0. Everything on 127.0.0.1, bounded waits.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from reliability_helpers import (
    PYTHON,
    Proc,
    children_of,
    cmdline,
    free_port,
    group_members,
    pid_alive,
    wait_for,
)

SMALL_RUN = [
    "--no-warmup", "--simulations", "8", "--games-in-parallel", "4", "--log-interval", "2",
    "--min-positions", "200", "--stats-every-s", "2",
]  # fmt: skip


def start_launcher(tmp_path: Path, *extra: str) -> Proc:
    port = free_port()
    command = [PYTHON, "scripts/launch.py", "tictactoe", "--data-dir", str(tmp_path)]
    command += ["--port", str(port), *SMALL_RUN, *extra]
    return Proc(command, tmp_path / "launcher.out")


def child(launcher: Proc, module: str) -> int | None:
    for pid in children_of(launcher.pid):
        if f"-m {module} " in cmdline(pid):
            return pid
    return None


def both_running(launcher: Proc) -> tuple[int, int]:
    """(actor pid, learner pid) once both have started their work."""
    ready = wait_for(
        lambda: "Uvicorn running on http://127.0.0.1" in launcher.log()
        and "learner tictactoe:" in launcher.log(),
        120,
        0.3,
    )
    assert ready, launcher.log()[-3000:]
    actor, learner = child(launcher, "actor"), child(launcher, "learner")
    assert actor and learner, launcher.log()[-3000:]
    return actor, learner


def cleanup(launcher: Proc, pids: list[int]) -> None:
    """Kills whatever of the launcher's children is left (each runs in its own session)."""
    for pid in pids:
        for member in group_members(pid):
            try:
                os.kill(member, signal.SIGKILL)
            except ProcessLookupError:
                pass
    launcher.close()


def test_learner_killed_stops_actor_and_exits_non_zero(tmp_path: Path) -> None:
    launcher = start_launcher(tmp_path)
    pids: list[int] = []
    try:
        actor, learner = both_running(launcher)
        pids = [actor, learner]
        workers = [p for p in group_members(actor) if p != actor]
        assert workers, "the actor has no self-play worker"
        os.kill(learner, signal.SIGKILL)
        code = launcher.process.wait(60)
        output = launcher.log()
        assert code == 1, output[-3000:]
        assert "the learner was killed by signal SIGKILL; stopping the rest" in output
        assert "last lines of the learner" in output
        assert wait_for(lambda: not group_members(actor), 10), "the actor outlived the launcher"
        assert not any(pid_alive(p) for p in workers)
        logs = tmp_path / "tictactoe" / "logs"
        assert "self-play tictactoe" in (logs / "actor.console.log").read_text()
    finally:
        cleanup(launcher, pids)
    # One line, one copy: the learner's own log file and the launcher's copy of its output must
    # not be the same file (each line twice, and the launcher's rotation would detach the
    # learner's handle from the visible file).
    learner_log = (logs / "learner.log").read_text()
    assert learner_log.count("learner tictactoe:") == 1, learner_log[:2000]


def test_actor_killed_takes_its_workers_and_the_learner_down(tmp_path: Path) -> None:
    """SIGKILL to the actor alone (as the OOM killer would): the launcher names it, stops the
    learner, and leaves none of the actor's self-play workers running."""
    launcher = start_launcher(tmp_path)
    pids: list[int] = []
    try:
        actor, learner = both_running(launcher)
        pids = [actor, learner]
        workers = [p for p in group_members(actor) if p != actor]
        os.kill(actor, signal.SIGKILL)
        code = launcher.process.wait(60)
        output = launcher.log()
        assert code == 1, output[-3000:]
        assert "the actor was killed by signal SIGKILL; stopping the rest" in output
        assert wait_for(lambda: not pid_alive(learner), 10), "the learner outlived the launcher"
        assert wait_for(lambda: not any(pid_alive(p) for p in workers), 10), "orphaned workers"
    finally:
        cleanup(launcher, pids)


def test_ctrl_c_stops_both_and_exits_zero(tmp_path: Path) -> None:
    launcher = start_launcher(tmp_path)
    pids: list[int] = []
    try:
        actor, learner = both_running(launcher)
        pids = [actor, learner]
        everything = group_members(actor) + [learner]
        launcher.process.send_signal(signal.SIGINT)
        code = launcher.process.wait(60)
        output = launcher.log()
        assert code == 0, output[-3000:]
        assert "stopping actor and learner" in output
        assert wait_for(lambda: not any(pid_alive(p) for p in everything), 10)
        assert "was killed" not in output and "exited with code" not in output
    finally:
        cleanup(launcher, pids)


def test_a_process_failing_at_start_is_named_with_its_reason(tmp_path: Path) -> None:
    launcher = start_launcher(tmp_path, "--lr", "-1")  # the learner refuses this
    try:
        code = launcher.process.wait(120)
        output = launcher.log()
    finally:
        actor = child(launcher, "actor")
        cleanup(launcher, [actor] if actor else [])
    assert code == 1, output[-3000:]
    assert "the learner exited with code 2" in output
    assert "lr and replay_ratio must be positive" in output


@pytest.mark.parametrize("argv", [["chess"], ["tictactoe", "--no-such-flag", "1"]])
def test_bad_command_line_is_refused_before_starting(tmp_path: Path, argv: list[str]) -> None:
    proc = Proc([PYTHON, "scripts/launch.py", *argv], tmp_path / "bad.out")
    try:
        code = proc.process.wait(60)
    finally:
        proc.close()
    assert code != 0 and ("unknown game" in proc.log() or "unknown option" in proc.log())
