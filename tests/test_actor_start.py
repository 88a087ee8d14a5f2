"""The actor refuses a run folder it cannot use before it starts anything, with a message that
names the folder: no traceback, and no self-play worker dying after the API is up."""

import json
import multiprocessing
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import START_LIMIT_S, free_port, wait_for

from runfiles.layout import RunFolder


def start_actor(data_dir: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "actor", "--game", "tictactoe", "--data-dir", str(data_dir),
               "--port", str(free_port()), "--workers", "1", "--no-warmup"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=START_LIMIT_S)


def test_a_run_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tictactoe").write_text("a file where the run folder should be")
    result = start_actor(tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"cannot write the run folder {tmp_path / 'tictactoe'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_replay_db_that_is_not_sqlite_is_refused_before_the_api_starts(tmp_path: Path) -> None:
    run = tmp_path / "tictactoe"
    run.mkdir()
    RunFolder(run).replay_db.write_bytes(b"\x13" * 50_000)
    result = start_actor(tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{run / 'replay.db'} is not an SQLite database" in result.stderr
    assert f"mv {run / 'replay.db'} {run / 'replay.db'}.bad" in result.stderr  # how to recover
    assert "Uvicorn running" not in result.stderr and "Traceback" not in result.stderr


def test_a_bad_number_names_the_flag_and_the_value(capsys) -> None:
    from actor.config import parse_args

    refused = {
        "abc": "argument --simulations: must be a whole number, got 'abc'",
        "0": "argument --simulations: must be at least 1, got 0",
        "1.5": "argument --simulations: must be a whole number, got '1.5'",
    }
    for value, message in refused.items():
        with pytest.raises(SystemExit):
            parse_args(["--simulations", value])
        error = capsys.readouterr().err
        assert f"python -m actor: error: {message}\n" in error and "Traceback" not in error


def test_the_logged_config_shows_the_games_defaults_not_none() -> None:
    """`'simulations': 'None'` told a reader nothing: the values self-play uses are shown."""
    from actor.config import parse_args
    from actor.worker import effective_selfplay
    from engine import get_game

    config = parse_args(["--game", "connect4", "--c-puct", "2"])
    logged = config.as_log_dict(effective_selfplay(get_game("connect4"), config))
    assert logged["simulations"] == "128" and logged["opening_moves"] == "14"
    assert logged["c_puct"] == "2.0" and logged["workers"] == "1" and logged["int8"] == "True"
    assert logged["dirichlet_alpha"] == str(get_game("connect4").dirichlet_alpha)
    assert logged["evaluation_interval_s"] == "300.0"
    assert "None" not in logged.values()


def test_the_evaluation_interval_reaches_the_background_evaluation(tmp_path: Path) -> None:
    """--evaluation-interval (the launcher's 60 s where a CPU is kept for evaluation), else the
    game's; --no-evaluation: none."""
    from actor.__main__ import evaluation_service
    from actor.config import parse_args

    for argv, seconds in (([], 300.0), (["--evaluation-interval", "60"], 60.0)):
        config = parse_args(["--game", "connect4", "--data-dir", str(tmp_path), *argv])
        service = evaluation_service(config)
        try:
            assert service.min_interval_s == seconds and service.game_name == "connect4"
        finally:
            service.close()
    assert evaluation_service(parse_args(["--no-evaluation"])) is None


def test_help_shows_the_games_self_play_values(capsys) -> None:
    """The help said `(game default)` or nothing where Connect 4 plays 128 simulations after up
    to 14 random moves; parsing without --help still leaves Numba unimported (set_thread_env
    must come first)."""
    from actor.config import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--help", "--game", "connect4"])
    text = " ".join(capsys.readouterr().out.split())  # unwrapped
    assert "MCTS simulations per self-play move (connect4: 128)" in text
    assert "positions strong play never reaches (connect4: 14)" in text
    assert "--int8, --no-int8 self-play with int8 copies" in text
    assert "checks of actor.quantize (connect4: on)" in text
    assert "port of the page and API (default 8080)" in text
    assert "background evaluations at least (connect4: 300)" in text
    check = "import sys; from actor.config import parse_args; parse_args([]); print(*sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=START_LIMIT_S
    )
    assert result.returncode == 0 and "numba" not in result.stdout.split(), result.stderr


def test_a_restart_keeps_the_runs_own_self_play_settings(tmp_path: Path) -> None:
    """A run started with --simulations 200 and restarted without it keeps 200, not the game's
    128: its actor_config.json supplies the self-play settings no flag gives (not the
    machine's: workers, threads, port); a flag still changes them."""
    from actor.config import parse_args

    run = tmp_path / "connect4"
    run.mkdir()
    saved = {"simulations": "200", "c_puct": "2.5", "opening_moves": "abc", "workers": "7"}
    RunFolder(run).actor_config.write_text(json.dumps(saved))
    data = ["--game", "connect4", "--data-dir", str(tmp_path)]
    config = parse_args(data)
    assert (config.simulations, config.c_puct, config.workers) == (200, 2.5, None)
    assert config.opening_moves is None  # a hand-edited value: the game's default plays
    assert parse_args([*data, "--simulations", "50"]).simulations == 50
    assert parse_args(["--game", "othello", "--data-dir", str(tmp_path)]).simulations is None


def test_search_trees_bigger_than_the_machine_are_refused_at_start(tmp_path: Path, capsys) -> None:
    """--games-in-parallel 100000000 (5.34 TiB of trees): the actor refuses it before anything
    starts, saying what it would take, rather than a worker dying with numpy's traceback."""
    from actor.__main__ import main

    argv = ["--game", "connect4", "--games-in-parallel", "100000000", "--port", "1"]
    assert main([*argv, "--data-dir", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []  # nothing started, no run folder
    error = capsys.readouterr().err
    assert "games_in_parallel 100,000,000 with 128 simulations needs" in error
    assert "GiB of search trees per worker" in error


def play_one_batch(ready, stop_event, endless: bool) -> None:
    """A self-play worker's batch, in a spawned process: SIGTERM only asks it to stop (as the
    worker's handler does); an `endless` one never gets back to its stop check, as one that
    compiles the search for minutes on a busy machine."""
    signal.signal(signal.SIGTERM, lambda *_: None)
    ready.set()
    while endless or not stop_event.is_set():
        time.sleep(0.05)


def test_stopping_the_actor_kills_workers_that_do_not_stop_in_time() -> None:
    """A stopping actor waits a grace period for its workers, then kills those still busy: a
    worker's SIGTERM handler takes SIGTERM only as a request, so asking would leave a worker of
    a killed launcher running for minutes. The worker that stops between batches ends by
    itself; the other is killed."""
    from actor.__main__ import stop_workers

    context = multiprocessing.get_context("spawn")
    stop_event = context.Event()
    ready = [context.Event(), context.Event()]
    workers = [
        context.Process(target=play_one_batch, args=(ready[i], stop_event, i == 1), daemon=True)
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        assert all(event.wait(START_LIMIT_S) for event in ready)
        stop_workers(workers, stop_event, grace_s=2.0)
        assert [worker.exitcode for worker in workers] == [0, -signal.SIGKILL]
    finally:
        for worker in workers:
            worker.kill()
            worker.join()


def test_health_says_what_a_start_prepares(tmp_path: Path, processes) -> None:
    """While self-play starts (a first start compiles its search; here the worker waits for
    the model of a resumed learner checkpoint, which holds it there as long as the test needs)
    /api/health says so, and that the move searches wait for it. Once the worker plays, the
    API prepares its searches, the game being trained first."""
    import httpx
    from actor_models import make_model

    run = tmp_path / "tictactoe"
    RunFolder(run).checkpoints.mkdir(parents=True)
    RunFolder(run).checkpoint.write_bytes(b"a checkpoint whose model is not out yet")
    actor = processes.actor(
        tmp_path, "--game", "tictactoe", "--workers", "1", "--simulations", "8",
        "--games-in-parallel", "4", "--no-evaluation", "--resume-wait", "600", warm_up=True,
    )  # fmt: skip

    def startup() -> dict:
        return httpx.get(actor.url + "/api/health", timeout=30).json()["startup"]

    first = startup()
    assert first["selfplay"] == "starting" and first["move_searches"] == "waiting", first
    assert first["searches_ready"] == [] and first["seconds"] > 0
    make_model(RunFolder(run).latest_model, step=3)
    assert wait_for(lambda: startup()["selfplay"] == "playing", START_LIMIT_S), actor.log()
    assert wait_for(lambda: startup()["searches_ready"], START_LIMIT_S), actor.log()
    now = startup()
    assert now["searches_ready"][0] == "tictactoe", now
    assert now["move_searches"] in ("compiling", "ready") and now["seconds"] > first["seconds"]
