"""Runs the actor and the learner of one game side by side; `start_training.sh` calls this.

Each process's output is prefixed with its name and also written to
`<run>/logs/<name>.console.log` (size-capped, one rotated copy; not `<name>.log`, which the
learner writes itself: two writers of one file doubled every line and the rotation detached the
learner's handle from the visible file). Ctrl-C or SIGTERM stops both; when one process exits
on its own, the other is stopped and this exits non-zero, saying which one died and how.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(REPO_ROOT))
from actor.config import ActorConfig  # noqa: E402
from actor.config import build_parser as build_actor_parser  # noqa: E402
from actor.config import parse_args as parse_actor_args  # noqa: E402
from actor.worker import selfplay_config  # noqa: E402
from engine import get_game, list_games  # noqa: E402
from learner.config import ConfigError, load_toml  # noqa: E402
from learner.config import build_parser as build_learner_parser  # noqa: E402
from learner.config import parse_args as parse_learner_args  # noqa: E402
from learner.run_lock import RunInUse, check_run_free  # noqa: E402
from runfiles.cli import help_formatter  # noqa: E402
from runfiles.layout import RunFolder  # noqa: E402

LOG_LIMIT_BYTES = 20 * 1024 * 1024
STOP_GRACE_S = 15.0
# Each self-play worker and each learner thread is one CPU's worth of compute: library thread
# pools stay at one thread unless a process asks for more (the learner's --threads).
CHILD_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
# The learner's small networks (batch 256) gain from a second torch thread (benchmarks/learner.py,
# data/pretrained/README.md); more threads are unmeasured and small convolutions scale ever
# worse, so a big machine's other CPUs play.
LEARNER_THREAD_CAP = 4
# From this many CPUs on, one is kept free of self-play for the actor's own process: the API's
# move searches and the background evaluation. Beside a worker on every CPU an evaluation (at
# nice 19) takes minutes, and a fast learner outruns it by tens of thousands of steps; with the
# CPU free the first (compiling) takes about a minute and the next seconds
# (data/pretrained/README.md).
SPARE_CPU_FROM = 8
# With that CPU, evaluations may come this often: one costs 2-4 CPU-s (Connect 4).
SPARE_CPU_EVALUATION_INTERVAL_S = 60
# What a child process runs to learn whether torch finds a CUDA GPU (see `torch_sees_gpu`).
GPU_PROBE = "import torch; print(torch.cuda.is_available())"
# Options whose value is a path: made absolute from the folder the user ran the script in
# (start_training.sh passes it as CARTRIDGE_CWD), since the processes run in the repository.
PATH_OPTIONS = ("--data-dir", "--pretrained-dir", "--web-dist", "--config")
PR_SET_PDEATHSIG = 1  # prctl(2): a signal for this process when its parent dies


class LaunchError(Exception):
    """A command line or folder that cannot work: said before anything starts."""


def option_names(parser: argparse.ArgumentParser) -> set[str]:
    return {name for name in parser._option_string_actions if name.startswith("--")}


def split_overrides(
    argv: list[str], actor_options: set[str], learner_options: set[str]
) -> tuple[list[str], list[str]]:
    """Route each `--flag [values]` to the process(es) that know the flag, written with dashes
    (`--data_dir` reaches both processes as `--data-dir`)."""
    actor_args: list[str] = []
    learner_args: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        if not token.startswith("--"):
            raise LaunchError(f"unexpected argument {token!r}: overrides look like --name value")
        name, equals, value = token.partition("=")
        name = "--" + name[2:].replace("_", "-")
        group = [name + equals + value]
        index += 1
        while index < len(argv) and not argv[index].startswith("--"):
            group.append(argv[index])
            index += 1
        if name not in actor_options and name not in learner_options:
            raise LaunchError(f"unknown option {name}; ./start_training.sh --help lists them")
        if name in actor_options:
            actor_args += group
        if name in learner_options:
            learner_args += group
    return actor_args, learner_args


def cpu_plan(game: str, cpus: int, gpu_learner: bool = False) -> tuple[int, int] | None:
    """(self-play workers, learner threads) for `cpus` CPUs, or None to keep each process's own
    defaults. Those are measured for two CPUs (one worker and one learner thread, Othello a
    second worker in its bfloat16 learner's idle time). With more CPUs, Connect 4 and Othello
    give half to the learner (at most LEARNER_THREAD_CAP threads) and the rest to self-play,
    keeping a game's extra worker; a learner on a GPU computes there and keeps one thread for
    sampling. From SPARE_CPU_FROM CPUs on, one CPU plays no self-play (see there). A game whose
    `spread_cpus` setting is off (Tic-tac-toe, which learns in minutes on two) keeps the
    defaults."""
    if cpus <= 2 or not get_game(game).settings.get("spread_cpus", False):
        return None
    threads = 1 if gpu_learner else min(cpus // 2, LEARNER_THREAD_CAP)
    spare = 1 if cpus >= SPARE_CPU_FROM else 0
    return cpus - threads - spare + ActorConfig(game=game).selfplay_workers() - 1, threads


def take_cpus(argv: list[str]) -> tuple[int, list[str]]:
    """(CPUs to plan for, the other arguments): `--cpus N`, else those this process may run on
    (its affinity mask, e.g. under taskset; all of them where there is none, as on macOS)."""
    value = flag_value(argv, "--cpus")
    if value is None and "--cpus" in argv:
        raise LaunchError("--cpus needs a number, e.g. --cpus 4")
    if value is None:
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0)), argv
        return os.cpu_count() or 1, argv
    if not value.isdigit() or int(value) < 1:
        raise LaunchError(f"--cpus must be a whole number of at least 1, got {value!r}")
    return int(value), without_option(argv, "--cpus")  # each --cpus: no process knows it


def flag_value(args: list[str], name: str) -> str | None:
    """The value argparse reads for `name` in `args`: the last `--name value` or `--name=value`
    (the first one made the launcher check port 8230 while the actor served `--port 8231`),
    else None; None too when that last one has no value (argparse refuses it)."""
    value = None
    for index, arg in enumerate(args):
        if arg == name:
            value = args[index + 1] if index + 1 < len(args) else None
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def learner_setting(learner_args: list[str], name: str) -> tuple[str | None, str | None]:
    """(value, where) of learner setting `name`: its `--flag` on the command line, else its key
    in the learner's --config file (where: that file), else (None, None)."""
    value = flag_value(learner_args, "--" + name.replace("_", "-"))
    if value is not None:
        return value, None
    config_file = flag_value(learner_args, "--config")
    if config_file is None:
        return None, None
    try:
        settings = load_toml(Path(config_file))
    except ConfigError:
        return None, None  # the learner refuses the file itself, saying why
    return (str(settings[name]), config_file) if name in settings else (None, None)


def torch_sees_gpu() -> bool:
    """Whether torch finds a CUDA GPU, asked in a child process (GPU_PROBE): importing torch
    here would keep its memory in this process for the whole run."""
    try:
        probe = subprocess.run(
            [sys.executable, "-c", GPU_PROBE],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        return False
    return probe.stdout.strip() == "True"


def apply_cpu_plan(game: str, cpus: int, actor_args: list[str], learner_args: list[str]) -> str:
    """Adds `--workers` and `--threads` from `cpu_plan` where the user set neither (on the
    command line or, for the learner, in its --config file); says what runs where. Whether the
    learner trains on a GPU is its --device, and for `auto` (the default) what torch finds."""
    gpu = False
    if cpu_plan(game, cpus) is not None:
        device = learner_setting(learner_args, "device")[0] or "auto"
        gpu = device == "cuda" or (device == "auto" and torch_sees_gpu())
    plan = cpu_plan(game, cpus, gpu)
    spare = ""
    if plan is not None and flag_value(actor_args, "--workers") is None:
        actor_args += ["--workers", str(plan[0])]
        if cpus >= SPARE_CPU_FROM:
            if flag_value(actor_args, "--evaluation-interval") is None:
                actor_args += ["--evaluation-interval", str(SPARE_CPU_EVALUATION_INTERVAL_S)]
            spare = ", 1 CPU for the API and evaluation"
    threads, threads_file = learner_setting(learner_args, "threads")
    if plan is not None and threads is None:
        learner_args += ["--threads", str(plan[1])]
    default_workers = ActorConfig(game=game).selfplay_workers()
    workers = flag_value(actor_args, "--workers") or f"{default_workers} (default)"
    shown = f"from {threads_file}" if threads_file else flag_value(learner_args, "--threads")
    where = ", the learner on a GPU" if gpu else ""
    line = f"{cpus} CPUs{where}: self-play workers {workers}, learner threads {shown or 1}{spare}"
    asked = flag_value(actor_args, "--workers")
    if asked is not None and asked.isdigit() and int(asked) > cpus:
        # more workers than CPUs play fewer positions/s in all, in more memory (each its own)
        line += "; more workers than CPUs only share them, each slower, in more memory"
    return line


def help_text(game: str | None) -> str:
    """The help of start_training.sh: its own options, then the actor's and the learner's groups
    (argparse's `parents`), each flag once, its help ending with what `game` takes when it is
    not given (for no game: each game's)."""
    parser = argparse.ArgumentParser(
        prog="./start_training.sh",
        usage="%(prog)s [GAME] [--data-dir DIR] [--port PORT] [--cpus N] [--FLAG VALUE ...]",
        description="Train GAME with self-play (the actor) and training (the learner) side by"
        " side; the page at http://127.0.0.1:PORT. Each flag goes to the process that takes it."
        " Values in parentheses: what a flag takes when not given"
        + (f" ({game})." if game else "; ./start_training.sh GAME --help shows one game's."),
        parents=[build_actor_parser(game, describe=True), build_learner_parser(game)],
        add_help=False,
        conflict_handler="resolve",  # the options below replace the processes' own listing
        formatter_class=help_formatter,
    )
    parser.add_argument(
        "game", nargs="?", metavar="GAME", help=f"{', '.join(list_games())}; --game GAME works"
        " too (default tictactoe)"
    )  # fmt: skip
    parser.add_argument("--game", help=argparse.SUPPRESS)
    parser.add_argument(
        "--data-dir", metavar="DIR", help="folder of the run folders: the run is DIR/GAME/,"
        " a relative DIR from the current folder (default data/ in the repository)"
    )  # fmt: skip
    parser.add_argument("--seed", metavar="N", help="random seed of both processes (default 0)")
    parser.add_argument(
        "--cpus", metavar="N", help="CPUs to plan self-play workers and learner threads for"
        " (default: all this process may use)"
    )  # fmt: skip
    return parser.format_help()


def help_game(argv: list[str]) -> str | None:
    """The game a help request names (first word or --game), else None."""
    if argv and argv[0] in list_games():
        return argv[0]
    return flag_value(argv, "--game") if flag_value(argv, "--game") in list_games() else None


class CappedLog:
    """An append-only log file that rotates to `<name>.1` once it passes a size limit."""

    def __init__(self, path: Path, limit: int = LOG_LIMIT_BYTES) -> None:
        self.path = path
        self.limit = limit
        self.file = path.open("a", encoding="utf-8")

    def write(self, line: str) -> None:
        self.file.write(line)
        self.file.flush()
        if self.file.tell() > self.limit:
            self.file.close()
            os.replace(self.path, self.path.with_suffix(self.path.suffix + ".1"))
            self.file = self.path.open("a", encoding="utf-8")


def pump(name: str, process: subprocess.Popen, log: CappedLog, tail: deque) -> None:
    """Copy a child's output to our stdout (prefixed) and its log, keeping the last lines."""
    assert process.stdout is not None
    for line in process.stdout:
        tail.append(line.rstrip())
        log.write(line)
        sys.stdout.write(f"[{name}] {line}")
        sys.stdout.flush()


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL whatever is left of a child's process group (each child leads its own session),
    e.g. the self-play workers of an actor that was itself killed."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.wait()
        kill_group(process)  # stragglers of a process that stopped without its children


def describe_exit(code: int) -> str:
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    return f"exited with code {code}"


def take_game(argv: list[str]) -> tuple[str, list[str]]:
    """(game, the other arguments): the first word, or `--game NAME` (not both, unless equal)."""
    game = None
    if argv and not argv[0].startswith("-"):
        game, argv = argv[0], argv[1:]
    flagged = flag_value(argv, "--game")
    if flagged is not None:
        if game is not None and flagged != game:
            raise LaunchError(f"two games: {game} and --game {flagged}")
        game, argv = flagged, without_option(argv, "--game")
    else:  # a game name that is no option's value: `--port 8081 connect4`
        for index, arg in enumerate(argv):
            after_value = index > 0 and not (
                argv[index - 1].startswith("--") and "=" not in argv[index - 1]
            )
            if arg in list_games() and after_value:
                raise LaunchError(f"the game goes first: ./start_training.sh {arg} [options]")
    game = game or "tictactoe"
    if game not in list_games():
        raise LaunchError(f"unknown game {game!r}; games: {', '.join(list_games())}")
    return game, argv


def without_option(args: list[str], name: str) -> list[str]:
    """`args` without each `name` and its value (`--name value` or `--name=value`): a flag
    given twice leaves none of its values behind to outvote the one the launcher passes."""
    out: list[str] = []
    index = 0
    while index < len(args):
        if args[index] == name:
            index += 2
        elif args[index].startswith(name + "="):
            index += 1
        else:
            out.append(args[index])
            index += 1
    return out


def absolute_paths(args: list[str], base: Path) -> list[str]:
    """`args` with the values of PATH_OPTIONS made absolute from `base`."""
    out = list(args)
    for index, arg in enumerate(out):
        name, equals, value = arg.partition("=")
        if name not in PATH_OPTIONS:
            continue
        if equals:
            out[index] = f"{name}={resolve(value, base)}"
        elif index + 1 < len(out):
            out[index + 1] = resolve(out[index + 1], base)
    return out


def resolve(path: str, base: Path) -> str:
    return os.path.abspath(os.path.join(base, os.path.expanduser(path)))


def run_data_dir(actor_args: list[str], learner_args: list[str], base: Path) -> Path:
    """The data folder both processes must share: the command line's, else the learner's
    --config file's, else the repository's data/."""
    value = flag_value(actor_args, "--data-dir")
    if value is None:
        value = learner_setting(learner_args, "data_dir")[0]
    return Path(resolve(value, base)) if value else REPO_ROOT / "data"


def check_arguments(game: str, actor_args: list[str], learner_args: list[str]) -> None:
    """Both processes' command lines parsed here first: a bad value is refused before anything
    starts, in one line, rather than after both processes have started."""
    try:
        parse_learner_args(["--game", game, *learner_args])
    except ConfigError as error:
        raise LaunchError(f"learner: {error}") from None
    parser = build_actor_parser()

    def refuse(message: str) -> None:
        raise LaunchError(f"actor: {message}")

    parser.error = refuse  # argparse would print the whole usage and exit
    check_selfplay(parse_actor_args(["--game", game, *actor_args], parser))


def check_selfplay(config: ActorConfig) -> None:
    """The actor's own check of its self-play values (actor/__main__.py), made here so that
    a bad value (`--c-puct -1`) is refused before the learner starts and the run folder is made.
    Imports actor.selfplay (Numba, which `engine` has imported already) and compiles nothing."""
    if not config.selfplay:
        return
    try:
        selfplay_config(get_game(config.game), config)
    except ValueError as error:
        raise LaunchError(f"actor: {error}") from None


def check_port(actor_args: list[str]) -> str:
    """The page's address; LaunchError when its port is taken (uvicorn would fail after
    self-play had started)."""
    host = flag_value(actor_args, "--host") or "127.0.0.1"
    port = int(flag_value(actor_args, "--port") or 8080)
    if not 0 < port < 65536:
        raise LaunchError(f"--port must be between 1 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise LaunchError(
                f"cannot serve on {host}:{port} ({error.strerror}): another actor may be"
                " running there; pass --port N to use another port"
            ) from None
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def die_with_parent() -> None:
    """Runs in each child before it starts (Linux): SIGTERM when the launcher dies, even by
    SIGKILL, so no actor or learner is left training on its own."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the launcher's signal handlers remain
        pass


def prepare(argv: list[str]) -> tuple[str, dict[str, list[str]], Path, str, str]:
    """(game, each process's command, log folder, the page's address, the CPU line) for a
    command line; LaunchError for one that cannot work."""
    base = Path(os.environ.get("CARTRIDGE_CWD") or os.getcwd())
    game, argv = take_game(argv)
    actor_options = option_names(build_actor_parser())
    learner_options = option_names(build_learner_parser())
    cpus, argv = take_cpus(argv)
    actor_args, learner_args = split_overrides(argv, actor_options, learner_options)
    actor_args, learner_args = absolute_paths(actor_args, base), absolute_paths(learner_args, base)
    data_dir = run_data_dir(actor_args, learner_args, base)
    actor_args = [*without_option(actor_args, "--data-dir"), "--data-dir", str(data_dir)]
    learner_args = [*without_option(learner_args, "--data-dir"), "--data-dir", str(data_dir)]
    check_arguments(game, actor_args, learner_args)
    url = check_port(actor_args)  # before any folder: a refused run leaves none behind
    try:
        check_run_free(data_dir / game)
        log_dir = RunFolder.of(data_dir, game).logs
        log_dir.mkdir(parents=True, exist_ok=True)
    except RunInUse as error:
        raise LaunchError(str(error)) from None
    except OSError as error:
        raise LaunchError(f"cannot use the data folder {data_dir}: {error}") from None
    cpu_line = apply_cpu_plan(game, cpus, actor_args, learner_args)
    commands = {
        "actor": [sys.executable, "-u", "-m", "actor", "--game", game, *actor_args],
        "learner": [sys.executable, "-u", "-m", "learner", "--game", game, *learner_args],
    }
    return game, commands, log_dir, url, cpu_line


def main(argv: list[str]) -> int:
    if "-h" in argv or "--help" in argv:
        print(help_text(help_game(argv)), end="")
        return 0
    try:
        game, commands, log_dir, url, cpu_line = prepare(argv)
        logs = {name: CappedLog(log_dir / f"{name}.console.log") for name in commands}
    except (LaunchError, OSError) as error:
        print(f"start_training: {error}", file=sys.stderr)
        return 2
    env = {**os.environ, **CHILD_THREAD_ENV, "PYTHONUNBUFFERED": "1"}
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: terminal closed
        signal.signal(signum, on_signal)
    # Both start before any thread does: preexec_fn runs in the forked child, which is only
    # safe while this process has no other threads.
    processes = {
        name: subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            preexec_fn=die_with_parent,
        )
        for name, command in commands.items()
    }
    tails = {name: deque(maxlen=20) for name in processes}
    for name, process in processes.items():
        threading.Thread(
            target=pump, args=(name, process, logs[name], tails[name]), daemon=True
        ).start()
    print(f"[launch] training {game}; logs in {log_dir}; Ctrl-C stops both", flush=True)
    print(f"[launch] {cpu_line} (--cpus N, --workers N, --threads N to change)", flush=True)
    print(f"[launch] the page: {url}", flush=True)

    while not stopping.is_set():
        for name, process in processes.items():
            code = process.poll()
            if code is not None:
                return stop_after(name, code, processes, tails[name])
        stopping.wait(0.5)
    print("[launch] stopping actor and learner", flush=True)
    stop(processes)
    return 0


def stop_after(name: str, code: int, processes: dict[str, subprocess.Popen], tail: deque) -> int:
    """One process ended on its own: stops the other. 0 when the learner finished its
    --max-steps, else 1, with the process's last lines."""
    others = {n: p for n, p in processes.items() if n != name}
    if name == "learner" and code == 0 and flag_value(processes[name].args, "--max-steps"):
        print("[launch] the learner finished (--max-steps); stopping the actor", flush=True)
        stop(others)
        return 0
    print(f"[launch] the {name} {describe_exit(code)}; stopping the rest", flush=True)
    print(f"[launch] last lines of the {name}:", *tail, sep="\n  ", flush=True)
    kill_group(processes[name])
    stop(others)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
