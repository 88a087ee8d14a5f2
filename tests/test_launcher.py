"""scripts/launch.py (what start_training.sh runs) with the real actor and learner.

One process dies -> the launcher says which and why, stops the other, exits non-zero.
Ctrl-C (SIGINT to the launcher) -> both stop, exit 0. Everything on 127.0.0.1; each wait is on
its event (an exit, a log line), bounded by limits that hold on two busy cores.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
import torch
from reliability_helpers import (
    PYTHON,
    START_LIMIT_S,
    STOP_LIMIT_S,
    Proc,
    children_of,
    cmdline,
    free_port,
    group_members,
    pid_alive,
    wait_for,
    wait_gone,
    wait_group_gone,
)

from runfiles.layout import RunFolder

SMALL_RUN = [
    "--no-warmup", "--simulations", "8", "--games-in-parallel", "4", "--log-interval", "2",
    "--min-positions", "200", "--stats-every-s", "2",
]  # fmt: skip


def start_launcher(tmp_path: Path, *extra: str, game: str = "tictactoe") -> Proc:
    port = free_port()
    command = [PYTHON, "scripts/launch.py", game, "--data-dir", str(tmp_path)]
    command += ["--port", str(port), *SMALL_RUN, *extra]
    proc = Proc(command, tmp_path / "launcher.out")
    proc.url = f"http://127.0.0.1:{port}"
    return proc


def load_launch_module(name: str = "launch"):
    """scripts/<name>.py as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location(name, Path(f"scripts/{name}.py").resolve())
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
        START_LIMIT_S,
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
        code = launcher.process.wait(STOP_LIMIT_S)
        output = launcher.log()
        assert code == 1, output[-3000:]
        assert "the learner was killed by signal SIGKILL; stopping the rest" in output
        assert "last lines of the learner" in output
        assert not wait_group_gone(actor, STOP_LIMIT_S), "the actor outlived the launcher"
        assert not wait_gone(workers, STOP_LIMIT_S)
        logs = RunFolder(tmp_path / "tictactoe").logs
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
        code = launcher.process.wait(STOP_LIMIT_S)
        output = launcher.log()
        assert code == 1, output[-3000:]
        assert "the actor was killed by signal SIGKILL; stopping the rest" in output
        assert not wait_gone([learner], STOP_LIMIT_S), "the learner outlived the launcher"
        assert not wait_gone(workers, STOP_LIMIT_S), "orphaned workers"
    finally:
        cleanup(launcher, pids)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP])  # SIGHUP: terminal closed
def test_ctrl_c_or_a_closed_terminal_stops_both_and_exits_zero(tmp_path: Path, signum) -> None:
    launcher = start_launcher(tmp_path)
    pids: list[int] = []
    try:
        actor, learner = both_running(launcher)
        pids = [actor, learner]
        everything = group_members(actor) + [learner]
        launcher.process.send_signal(signum)
        code = launcher.process.wait(STOP_LIMIT_S)
        output = launcher.log()
        assert code == 0, output[-3000:]
        assert "stopping actor and learner" in output
        assert not wait_gone(everything, STOP_LIMIT_S)
        assert "was killed" not in output and "exited with code" not in output
    finally:
        cleanup(launcher, pids)


def test_a_killed_launcher_takes_both_processes_down(tmp_path: Path) -> None:
    """SIGKILL to the launcher (no handler runs): the children, each in its own session, get
    SIGTERM from the kernel (PR_SET_PDEATHSIG) rather than training on unseen; the actor stops
    its self-play workers, by SIGKILL where one is inside a long batch (compiling, on a busy
    machine), so none is left either."""
    launcher = start_launcher(tmp_path)
    pids: list[int] = []
    try:
        actor, learner = both_running(launcher)
        pids = [actor, learner]
        os.kill(launcher.pid, signal.SIGKILL)
        left = wait_gone([learner], STOP_LIMIT_S) + wait_group_gone(actor, STOP_LIMIT_S)
        assert not left, [cmdline(p) for p in left]
    finally:
        cleanup(launcher, pids)


def run_until_it_ends(tmp_path: Path, *extra: str, timeout: float) -> tuple[int, str]:
    """(exit code, output) of a launcher that is expected to end by itself."""
    launcher = start_launcher(tmp_path, *extra)
    try:
        return launcher.process.wait(timeout), launcher.log()
    finally:
        actor = child(launcher, "actor")
        cleanup(launcher, [actor] if actor else [])


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_a_process_failing_at_start_is_named_with_its_reason(tmp_path: Path) -> None:
    code, output = run_until_it_ends(tmp_path, "--device", "cuda", timeout=START_LIMIT_S)
    assert code == 1, output[-3000:]
    assert "the learner exited with code 2" in output
    assert "--device cuda, but torch finds no CUDA GPU here" in output


def test_the_page_address_and_port_are_checked_before_starting() -> None:
    launch = load_launch_module()
    for port in ("0", "70000", "-1"):
        with pytest.raises(launch.LaunchError, match="--port must be between 1 and 65535"):
            launch.check_port(["--port", port])
    port = str(free_port())  # IPv6, as uvicorn serves it for a host with a colon
    assert launch.check_port(["--host", "::1", "--port", port]) == f"http://[::1]:{port}/"


def test_a_learner_stopped_from_outside_is_not_called_finished(tmp_path: Path) -> None:
    """Exit code 0 is 'finished' only for a run given --max-steps: a learner stopped by a plain
    `kill` exits 0 too, and the launcher said "finished" and exited 0."""
    launcher = start_launcher(tmp_path)
    pids: list[int] = []
    try:
        actor, learner = both_running(launcher)
        pids = [actor, learner]
        os.kill(learner, signal.SIGTERM)
        code = launcher.process.wait(STOP_LIMIT_S)
        output = launcher.log()
    finally:
        cleanup(launcher, pids)
    assert code == 1, output[-3000:]
    assert "the learner exited with code 0; stopping the rest" in output
    assert "finished (--max-steps)" not in output


def test_a_finished_learner_ends_the_run_with_exit_zero(tmp_path: Path) -> None:
    code, output = run_until_it_ends(tmp_path, "--max-steps", "20", timeout=2 * START_LIMIT_S)
    assert code == 0, output[-3000:]
    assert "the learner finished (--max-steps); stopping the actor" in output


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--lr", "-1"], "learner: lr must be above 0, got -1"),
        (["--simulations", "0"], "actor: argument --simulations: must be at least 1, got 0"),
        (
            ["--simulations", "1.5"],
            "actor: argument --simulations: must be a whole number, got '1.5'",
        ),
        # The actor's declared bounds, checked here: refused before the learner starts and the
        # run's logs/ folder is made.
        (["--c-puct", "-1"], "actor: argument --c-puct: must be above 0, got -1"),
        (["--c-puct", "nan"], "actor: argument --c-puct: must be a finite number, got nan"),
        (["--dirichlet-alpha", "0"], "actor: argument --dirichlet-alpha: must be above 0, got 0"),
        (
            ["--temperature-moves", "-3"],
            "actor: argument --temperature-moves: must be at least 0, got -3",
        ),
        (
            ["--eval-cache", "1000"],
            "actor: argument --eval-cache: must be 0 or a power of two, got 1000",
        ),
        (
            ["--opening-moves", "200"],
            "actor: argument --opening-moves: must be at most 100, got 200",
        ),
        # Refused here, not by the actor with a traceback (given twice, argparse reads the last).
        (["--port", "99999"], "--port must be between 1 and 65535, got 99999"),
    ],
)
def test_bad_values_are_refused_before_anything_starts(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    launcher = start_launcher(tmp_path, *extra)
    try:
        code = launcher.process.wait(START_LIMIT_S)
    finally:
        launcher.close()
    output = launcher.log()
    assert code == 2 and message in output, output[-3000:]
    assert "[launch] training" not in output and "[actor]" not in output  # nothing started
    assert len(output.splitlines()) == 1, output[-3000:]  # one line, no traceback
    assert not (tmp_path / "tictactoe").exists()  # and no run folder made


def test_a_second_launch_on_the_same_run_is_refused(tmp_path: Path) -> None:
    """Two launches on one run folder made two learners write one checkpoint and one models/
    (each undoing the other's steps); the second is refused, naming the first learner."""
    first = start_launcher(tmp_path / "run")
    pids: list[int] = []
    try:
        actor, learner = both_running(first)
        pids = [actor, learner]
        second = start_launcher(tmp_path / "run")  # another free port, the same folder
        code = second.process.wait(START_LIMIT_S)
        second.close()
        assert code == 2, second.log()[-3000:]
        assert f"another learner (pid {learner}) is training" in second.log()
        direct = subprocess.run(  # the learner on its own refuses too
            [PYTHON, "-m", "learner", "--data-dir", str(tmp_path / "run")],
            capture_output=True,
            text=True,
            timeout=START_LIMIT_S,
        )
        assert direct.returncode == 2 and "another learner" in direct.stderr
        assert first.alive() and pid_alive(learner)
    finally:
        cleanup(first, pids)


def test_a_busy_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [PYTHON, "scripts/launch.py", "--data-dir", str(tmp_path), "--port", str(port)]
        proc = Proc(command, tmp_path / "busy.out")
        try:
            code = proc.process.wait(START_LIMIT_S)
        finally:
            proc.close()
    assert code == 2 and f"cannot serve on 127.0.0.1:{port}" in proc.log(), proc.log()
    assert "pass --port N" in proc.log()
    assert not (tmp_path / "tictactoe").exists()  # refused before the run's logs/ was made


def test_a_flag_given_twice_is_read_as_the_processes_read_it(tmp_path: Path, monkeypatch) -> None:
    """argparse takes a flag's last value, and so does the launcher: it checks and shows the
    port the actor serves on, 8231 of `--port 8230 --port 8231` (and so for --workers, --device,
    --data-dir...)."""
    launch = load_launch_module()
    args = ["--port", "1", "--workers", "2", "--port=3", "--workers", "4"]
    assert launch.flag_value(args, "--port") == "3" and launch.flag_value(args, "--workers") == "4"
    assert launch.flag_value(["--port", "1", "--port"], "--port") is None  # argparse refuses
    assert launch.take_cpus(["--cpus", "6", "--lr", "0.1", "--cpus=3"]) == (3, ["--lr", "0.1"])
    with pytest.raises(launch.LaunchError, match="--cpus needs a number"):
        launch.take_cpus(["--cpus", "6", "--cpus"])
    assert launch.take_game(["--game", "connect4", "--game", "othello", "--lr", "1"]) == (
        "othello",
        ["--lr", "1"],
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy, port = str(taken.getsockname()[1]), str(free_port())
        assert launch.check_port(["--port", busy, "--port", port]) == f"http://127.0.0.1:{port}/"
        with pytest.raises(launch.LaunchError, match=f"cannot serve on 127.0.0.1:{busy}"):
            launch.check_port(["--port", port, "--port", busy])
    monkeypatch.setattr(launch, "torch_sees_gpu", lambda: False)
    monkeypatch.setenv("CARTRIDGE_CWD", str(tmp_path))
    argv = ["connect4", "--data-dir", "a", "--port", port, "--data-dir", "b", "--cpus", "8"]
    more = ["--workers", "9", "--workers", "2", "--device", "cpu", "--device", "cuda"]
    commands = launch.prepare([*argv, *more])[1]
    for command in commands.values():  # one --data-dir, the last, in both processes
        assert [arg for arg in command if arg.endswith(("/a", "/b"))] == [str(tmp_path / "b")]
    assert (tmp_path / "b" / "connect4" / "logs").is_dir() and not (tmp_path / "a").exists()
    assert launch.flag_value(commands["actor"], "--workers") == "2"  # the user's, not the plan's
    assert launch.flag_value(commands["learner"], "--threads") == "1"  # a GPU learner's plan


def test_paths_are_the_users_and_both_processes_share_one_data_dir(
    tmp_path: Path, monkeypatch
) -> None:
    """Relative paths are read from where the user ran the script (it runs the processes in
    the repository); a data_dir from the learner's --config file reaches the actor too; the
    game may be given as --game; a game after the options is pointed out."""
    launch = load_launch_module()
    monkeypatch.setattr(launch, "apply_cpu_plan", lambda *args: "")
    monkeypatch.setenv("CARTRIDGE_CWD", str(tmp_path))
    port = ["--port", str(free_port())]
    commands = launch.prepare(["connect4", "--data-dir", "runs", *port])[1]
    for command in commands.values():
        assert launch.flag_value(command, "--data-dir") == str(tmp_path / "runs")
    (tmp_path / "learner.toml").write_text('data_dir = "from-toml"\n')
    game, commands = launch.prepare(["--game", "othello", "--config", "learner.toml", *port])[:2]
    assert game == "othello"
    for name, command in commands.items():
        assert launch.flag_value(command, "--data-dir") == str(tmp_path / "from-toml"), name
        assert launch.flag_value(command, "--game") == "othello"
    assert launch.flag_value(commands["learner"], "--config") == str(tmp_path / "learner.toml")
    with pytest.raises(launch.LaunchError, match="the game goes first"):
        launch.prepare([*port, "connect4"])
    game, commands = launch.prepare(["connect4", "--data-dir", "othello", *port])[:2]
    assert game == "connect4"  # a folder named like a game is no game
    assert launch.flag_value(commands["actor"], "--data-dir") == str(tmp_path / "othello")


@pytest.mark.parametrize("argv", [["chess"], ["tictactoe", "--no-such-flag", "1"]])
def test_bad_command_line_is_refused_before_starting(tmp_path: Path, argv: list[str]) -> None:
    proc = Proc([PYTHON, "scripts/launch.py", *argv], tmp_path / "bad.out")
    try:
        code = proc.process.wait(START_LIMIT_S)
    finally:
        proc.close()
    assert code != 0 and ("unknown game" in proc.log() or "unknown option" in proc.log())


def test_cpu_plan_splits_big_machines_and_keeps_two_cpu_defaults() -> None:
    launch = load_launch_module()
    for game in ("tictactoe", "connect4", "othello"):
        assert launch.cpu_plan(game, 1) is None and launch.cpu_plan(game, 2) is None
    assert launch.cpu_plan("tictactoe", 16) is None
    assert launch.cpu_plan("connect4", 3) == (2, 1)
    assert launch.cpu_plan("connect4", 4) == (2, 2)
    # From 8 CPUs on, one is the API's and evaluation's.
    assert launch.cpu_plan("connect4", 8) == (3, 4)
    assert launch.cpu_plan("connect4", 16) == (11, 4)  # the learner's threads are capped
    assert launch.cpu_plan("othello", 8) == (4, 4)  # its extra worker in the learner's idle time
    assert launch.cpu_plan("connect4", 16, gpu_learner=True) == (14, 1)
    assert launch.cpu_plan("othello", 8, gpu_learner=True) == (7, 1)
    assert launch.cpu_plan("connect4", 2, gpu_learner=True) is None


def test_a_learner_on_a_gpu_leaves_the_other_cpus_to_self_play(tmp_path: Path, monkeypatch) -> None:
    """--device cuda (command line or TOML), or auto where torch finds a GPU: one learner
    thread; --device cpu: the CPU split, without asking torch."""
    launch = load_launch_module()
    asked = []
    monkeypatch.setattr(launch, "torch_sees_gpu", lambda: asked.append(1) or True)
    actor, learner = [], []
    line = launch.apply_cpu_plan("connect4", 16, actor, learner)
    assert actor == ["--workers", "14", "--evaluation-interval", "60"]
    assert learner == ["--threads", "1"]
    assert line == (
        "16 CPUs, the learner on a GPU: self-play workers 14, learner threads 1,"
        " 1 CPU for the API and evaluation"
    )
    actor, learner = [], ["--device", "cpu"]
    launch.apply_cpu_plan("connect4", 16, actor, learner)
    assert actor == ["--workers", "11", "--evaluation-interval", "60"]
    assert learner == ["--device", "cpu", "--threads", "4"]
    assert len(asked) == 1
    monkeypatch.setattr(launch, "torch_sees_gpu", lambda: False)
    config = tmp_path / "learner.toml"
    config.write_text('device = "cuda"\n')
    actor, learner = [], ["--config", str(config)]
    actor.append("--evaluation-interval=5")  # the user's interval stays
    launch.apply_cpu_plan("othello", 8, actor, learner)
    assert actor == ["--evaluation-interval=5", "--workers", "7"]
    assert learner == ["--config", str(config), "--threads", "1"]


def test_the_gpu_probe_answers_as_torch_does(monkeypatch) -> None:
    import torch

    launch = load_launch_module()
    assert launch.torch_sees_gpu() == torch.cuda.is_available()
    for answer, seen in (("print(True)", True), ("print(False)", False), ("1/0", False)):
        monkeypatch.setattr(launch, "GPU_PROBE", answer)  # a child that says so, or crashes
        assert launch.torch_sees_gpu() is seen


def test_the_users_workers_and_threads_win_over_the_cpu_plan(tmp_path: Path, monkeypatch) -> None:
    launch = load_launch_module()
    monkeypatch.setattr(launch, "torch_sees_gpu", lambda: False)
    actor, learner = ["--workers", "3"], []
    line = launch.apply_cpu_plan("connect4", 8, actor, learner)
    assert actor == ["--workers", "3"] and learner == ["--threads", "4"]
    assert line == "8 CPUs: self-play workers 3, learner threads 4"
    config = tmp_path / "learner.toml"
    config.write_text("[learner]\nthreads = 2\n")
    actor, learner = [], ["--config", str(config)]
    line = launch.apply_cpu_plan("connect4", 8, actor, learner)
    assert actor == ["--workers", "3", "--evaluation-interval", "60"]
    assert learner == ["--config", str(config)]
    assert line.endswith(f"learner threads from {config}, 1 CPU for the API and evaluation")
    line = launch.apply_cpu_plan("connect4", 2, ["--workers", "50"], [])
    assert line.endswith("workers 50, learner threads 1; more workers than CPUs only share them,"
                         " each slower, in more memory")  # fmt: skip
    assert "more workers" not in launch.apply_cpu_plan("connect4", 2, ["--workers", "2"], [])
    actor, learner = [], ["--threads=1"]
    launch.apply_cpu_plan("othello", 2, actor, learner)  # two CPUs: the processes' defaults
    assert actor == [] and learner == ["--threads=1"]
    assert launch.take_cpus(["--lr", "0.1", "--cpus=6"]) == (6, ["--lr", "0.1"])
    assert launch.take_cpus(["--cpus", "6", "--lr", "0.1"]) == (6, ["--lr", "0.1"])
    with pytest.raises(launch.LaunchError, match="--cpus must be"):
        launch.take_cpus(["--cpus", "0"])
    with pytest.raises(launch.LaunchError, match="--cpus needs a number"):
        launch.take_cpus(["--lr", "0.1", "--cpus"])
    assert launch.take_cpus(["--lr", "0.1"]) == (len(os.sched_getaffinity(0)), ["--lr", "0.1"])


def test_overrides_reach_the_processes_that_know_them_dashes_or_underscores() -> None:
    launch = load_launch_module()
    actor = launch.option_names(launch.build_actor_parser())
    learner = launch.option_names(launch.build_learner_parser())
    argv = ["--data_dir", "/tmp/x", "--lr", "0.1", "--simulations=64", "--lr_milestones", "5,9"]
    actor_args, learner_args = launch.split_overrides(argv, actor, learner)
    assert actor_args == ["--data-dir", "/tmp/x", "--simulations=64"]
    assert learner_args == ["--data-dir", "/tmp/x", "--lr", "0.1", "--lr-milestones", "5,9"]


def test_cpus_are_counted_where_there_is_no_affinity_mask(monkeypatch) -> None:
    """macOS has no os.sched_getaffinity: the launcher counts all CPUs instead of failing."""
    launch = load_launch_module()
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 12)
    assert launch.take_cpus([]) == (12, [])


def test_cpus_spreads_connect4_over_workers_and_learner_threads(tmp_path: Path) -> None:
    """A real run planned for 4 CPUs: the actor starts 2 self-play workers (its health lists
    them) and the learner trains on 2 torch threads (its effective config says so). On the CPU
    whether or not the machine has a GPU, so that the split is the same everywhere."""
    launcher = start_launcher(tmp_path, "--cpus", "4", "--device", "cpu", game="connect4")
    config = RunFolder(tmp_path / "connect4").learner_config

    def learner_threads() -> int | None:
        try:  # the learner writes the file once at start; it may be half-written when read
            return json.loads(config.read_text())["threads"]
        except (OSError, ValueError, KeyError):
            return None

    try:
        assert wait_for(lambda: learner_threads() is not None, START_LIMIT_S), launcher.log()[
            -3000:
        ]
        assert learner_threads() == 2

        def workers() -> int:
            try:
                return len(httpx.get(launcher.url + "/api/health", timeout=5).json()["workers"])
            except httpx.HTTPError:
                return 0

        assert wait_for(lambda: workers() == 2, START_LIMIT_S), launcher.log()[-3000:]
        assert "4 CPUs: self-play workers 2, learner threads 2" in launcher.log()
    finally:
        cleanup(
            launcher, [pid for pid in (child(launcher, m) for m in ("actor", "learner")) if pid]
        )


def test_a_bad_number_is_refused_naming_the_flag_and_the_value() -> None:
    """argparse named the type function: `invalid _positive value: 'abc'`."""
    launch = load_launch_module()
    refusals = {
        "--simulations": "argument --simulations: must be a whole number, got 'abc'",
        "--move-timeout": "argument --move-timeout: must be a number, got 'abc'",
        "--seed": "argument --seed: must be a whole number, got 'abc'",
        "--c-puct": "argument --c-puct: must be a number, got 'abc'",
    }
    for flag, message in refusals.items():
        with pytest.raises(launch.LaunchError) as refused:
            launch.check_arguments("tictactoe", [flag, "abc"], [])
        assert str(refused.value) == f"actor: {message}"


def listed_flags(help_text: str) -> list[str]:
    """The flags a --help lists, in order (`--int8, --no-int8` is two)."""
    flags = []
    for line in help_text.splitlines():
        match = re.match(r"  (-[^ ,]+(?:, -[^ ,]+)*)", line)
        if match:
            flags += match.group(1).split(", ")
    return flags


def test_help_shows_each_flag_once_with_the_value_the_game_uses(tmp_path: Path) -> None:
    """It listed bare flag names, the learner's twice (--lr-schedule and --lr_schedule); the
    learner's own help said `default 0.02 (game defaults may differ)` for Tic-tac-toe's 0.002."""
    env = {**os.environ, "COLUMNS": "200"}
    run = [PYTHON, "scripts/launch.py"]
    one = subprocess.run([*run, "tictactoe", "--help"], capture_output=True, text=True, env=env)
    assert one.returncode == 0, one.stderr
    lines = {line.split()[0]: line for line in one.stdout.splitlines() if line[:3] == "  -"}
    assert "(tictactoe: 0.002)" in lines["--lr"] and "(tictactoe: adam)" in lines["--optimizer"]
    assert "(tictactoe: 100)" in lines["--simulations"] and "(default 0.9)" in lines["--momentum"]
    assert max(map(len, one.stdout.splitlines())) <= 100  # a wide terminal too
    flags = listed_flags(one.stdout)
    assert len(flags) == len(set(flags)) and not [flag for flag in flags if "_" in flag]
    launch = load_launch_module()
    known = launch.option_names(launch.build_actor_parser())
    known |= launch.option_names(launch.build_learner_parser())
    known = {flag.replace("_", "-") for flag in known} - {"--game"} | {"--cpus", "-h", "--help"}
    assert set(flags) == known  # --game: listed as GAME
    readme = Path("README.md").read_text().split("## What is where")[0]
    assert set(re.findall(r"--[a-z][a-z0-9-]*", readme)) <= known | {"--game"}
    every = subprocess.run([*run, "--help"], capture_output=True, text=True, env=env).stdout
    every = " ".join(every.split())  # unwrapped
    assert "(per game: tictactoe 0.002, connect4 0.02, othello 0.02)" in every
    assert "(per game: tictactoe 100, connect4 128, othello 200)" in every


def test_a_fresh_clones_help_says_why_it_installs_first(tmp_path: Path) -> None:
    """On a fresh clone `./start_training.sh GAME --help` installs everything before it can
    print the help (which reads each game's values from the code): it says so first. The
    script runs for real up to creating .venv, which a fake python3 fails."""
    (tmp_path / "start_training.sh").write_text(Path("start_training.sh").read_text())
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_python = fake_bin / "python3"
    fake_python.write_text('#!/bin/sh\n[ "$1" = "-m" ] && exit 1\nexit 0\n')
    fake_python.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    for args, explained in ((["connect4", "--help"], True), (["connect4"], False)):
        result = subprocess.run(
            ["bash", str(tmp_path / "start_training.sh"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode != 0 and "creating .venv (first run only" in result.stdout
        assert ("installing it first" in result.stdout) is explained, result.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_first_run_install_says_what_to_expect_and_shows_progress(
    tmp_path: Path, monkeypatch
) -> None:
    """After `creating .venv and installing the project` nothing appeared for 73 s or more
    (pip ran quietly into a log): a fake pip that sleeps shows the announcement, then lines
    with the time taken, pip's latest step and, once a step takes a while, its own time; its
    failure shows the log's end."""
    install = load_launch_module("install")
    log = tmp_path / "setup.log"
    pip = "import time; print('Collecting torch==2.13.0', flush=True); time.sleep(2.1)"
    out = io.StringIO()  # no terminal (CI, a log file): plain lines
    assert install.install_packages([PYTHON, "-c", pip], log, every_s=0.5, out=out) == 0
    first, *progress, last = out.getvalue().splitlines()
    assert "the first time" in first and "PyTorch" in first and f"log: {log}" in first
    assert len(progress) >= 2 and all(" s: Collecting torch==2.13.0" in line for line in progress)
    assert "s on this step)" in progress[-1]
    assert last.startswith("[setup] installed in")
    monkeypatch.delenv("CI", raising=False)
    terminal = Terminal()  # a terminal: one line, redrawn
    fail = "print('ERROR: No matching distribution found for torch'); raise SystemExit(3)"
    assert install.install_packages([PYTHON, "-c", fail], log, every_s=0.5, out=terminal) == 3
    assert "ERROR: No matching distribution found for torch" in terminal.getvalue()
    assert f"failed (above; all in {log})" in terminal.getvalue()
    terminal = Terminal()
    assert install.install_packages([PYTHON, "-c", pip], log, every_s=0.5, out=terminal) == 0
    assert re.search(r"\r\[setup\] \d s: Collecting torch==2.13.0\x1b\[K\r", terminal.getvalue())


def test_the_install_says_which_collected_package_goes_in(tmp_path: Path) -> None:
    """While pip installs what it collected, its log's last line is a stale one for minutes
    ("Successfully uninstalled setuptools" while PyTorch unpacks): the progress says how many
    of the collected packages are in, counted by their new dist-info folders, and which goes in
    now; a package that was there before the install is not counted."""
    install = load_launch_module("install")
    site = tmp_path / "site-packages"
    (site / "pip-23.2.1.dist-info").mkdir(parents=True)
    os.utime(site / "pip-23.2.1.dist-info", (0, 0))
    pip = (
        "import pathlib, sys, time\n"
        "print('Installing collected packages: numpy, setuptools, torch', flush=True)\n"
        "pathlib.Path(sys.argv[1], 'numpy-2.4.6.dist-info').mkdir()\n"
        "print('  Attempting uninstall: setuptools', flush=True)\n"
        "pathlib.Path(sys.argv[1], 'setuptools-84.2.1.dist-info').mkdir()\n"
        "print('      Successfully uninstalled setuptools-65.5.0', flush=True)\n"
        "time.sleep(1.6)\n"
        "pathlib.Path(sys.argv[1], 'torch-2.13.0.dist-info').mkdir()\n"
        "print('Successfully installed numpy-2.4.6 setuptools-84.2.1 torch-2.13.0', flush=True)\n"
        "time.sleep(1.1)\n"
    )
    out = io.StringIO()
    command = [PYTHON, "-c", pip, str(site)]
    log = tmp_path / "setup.log"
    assert install.install_packages(command, log, every_s=0.5, out=out, site_packages=site) == 0
    progress = out.getvalue().splitlines()[1:-1]
    assert any(
        line.endswith(" s: installing the 3 packages: 2 in, now torch") for line in progress
    ), progress
    assert not any("Successfully uninstalled" in line for line in progress), progress
    assert "Successfully installed numpy-2.4.6" in progress[-1], progress
