"""Load, request limits and safe defaults against the real actor.

- 32 concurrent clients ask for moves for LOAD_S seconds while self-play runs: nothing but 200
  and deliberate 503s; p50/p99 latency and the self-play throughput drop are printed (the
  minute-long run with the same code is `benchmarks/load.py`).
- The event loop keeps answering while a long search runs; requests beyond capacity are
  answered 503 at once; a request over its time limit is answered 503 at the limit, and
  timed-out requests do not keep the server busy afterwards; oversized bodies get 413;
  simulations over the cap get 422. "At once" and "at the limit" are judged against the
  search itself, as /api/health's search counts show it (still running when the answer came),
  never against a number of seconds: on busy cores everything is slower, the search too.
- The server binds 127.0.0.1 unless --host says otherwise and warns about 0.0.0.0.
- Bounds a week-long run relies on: kept model files and log files (the replay window in
  replay.db: test_reliability_crash.py; the stats history: test_learner_train.py).
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import random
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from actor_models import make_model
from reliability_helpers import (
    PYTHON,
    ROOT,
    START_LIMIT_S,
    percentile,
    positions,
    start_actor,
    wait_for,
    wait_healthy,
)

from engine import get_game

CLIENTS = 32
# The server's 503s that are no fault: out of places for searches, or over the time limit.
DELIBERATE_503 = re.compile(r"too many move requests|the search took longer than")
LOAD_S = 10.0  # benchmarks/load.py: 60 s
BASELINE_S = 4.0  # benchmarks/load.py: 20 s


# ---- 32 clients while self-play runs ---------------------------------------------------------


def random_opening(rng: random.Random, length: int) -> list[int]:
    """A legal tic-tac-toe opening of `length` moves that does not finish the game."""
    game = get_game("tictactoe")
    while True:
        state, moves = game.initial_state(), []
        for _ in range(length):
            legal = [a for a, ok in enumerate(game.legal_mask(state)) if ok]
            move = rng.choice(legal)
            game.apply_action(state, move)
            moves.append(move)
        if game.status(state) == 0:
            return moves


async def hammer(url: str, seconds: float, clients: int, simulations: int, seed: int = 0):
    """`clients` concurrent loops of move requests; (latency, status) per request."""
    results: list[tuple[float, int]] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def one_client(index: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(seed * 1000 + index)
        while time.monotonic() < deadline:
            body = {"moves": random_opening(rng, rng.randrange(0, 5)), "simulations": simulations}
            started = time.monotonic()
            try:
                response = await client.post("/api/games/tictactoe/move", json=body)
            except httpx.HTTPError as error:
                errors.append(f"{type(error).__name__}: {error}")
                continue
            results.append((time.monotonic() - started, response.status_code))
            if response.status_code == 503 and DELIBERATE_503.search(response.text):
                await asyncio.sleep(0.05)  # a polite client backs off a little
            elif response.status_code != 200:
                errors.append(f"{response.status_code}: {response.text[:200]}")

    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        await asyncio.gather(*(one_client(i, client) for i in range(clients)))
    return results, errors


def selfplay_rate(db: Path, seconds: float) -> float:
    """Positions per second committed to replay.db over `seconds`."""
    start_positions, started = positions(db), time.monotonic()
    time.sleep(seconds)
    return (positions(db) - start_positions) / (time.monotonic() - started)


def load_run(data_dir: Path, load_s: float, baseline_s: float, clients: int = CLIENTS) -> dict:
    """Self-play alone, then with `clients` move clients: the figures (used by the benchmark)."""
    make_model(data_dir / "tictactoe" / "models" / "latest.onnx", step=3)
    db = data_dir / "tictactoe" / "replay.db"
    actor = start_actor(
        data_dir, "--game", "tictactoe", "--simulations", "32", "--games-in-parallel", "16",
        "--log-interval", "5",
    )  # fmt: skip
    try:
        wait_healthy(actor)
        assert wait_for(lambda: positions(db) > 0, START_LIMIT_S, 0.2), actor.log()[-3000:]
        first = positions(db)  # past start-up: the next batch's games are written
        assert wait_for(lambda: positions(db) > first, START_LIMIT_S, 0.2), actor.log()[-3000:]
        alone = selfplay_rate(db, baseline_s)
        loaded_start, started = positions(db), time.monotonic()
        results, errors = asyncio.run(hammer(actor.url, load_s, clients, simulations=64))
        loaded = (positions(db) - loaded_start) / (time.monotonic() - started)
        assert actor.alive(), actor.log()[-3000:]
        code = actor.terminate()
    finally:
        actor.close()
    ok = [latency for latency, status in results if status == 200]
    busy = [latency for latency, status in results if status == 503]
    return {
        "exit_code": code,
        "errors": errors,
        "requests": len(results),
        "ok": len(ok),
        "busy_503": len(busy),
        "p50_ms": 1000 * percentile(ok, 50),
        "p99_ms": 1000 * percentile(ok, 99),
        "busy_p99_ms": 1000 * percentile(busy, 99),
        "moves_per_s": len(ok) / load_s,
        "selfplay_alone": alone,
        "selfplay_loaded": loaded,
        "drop_percent": 100 * (1 - loaded / alone) if alone else float("nan"),
        "log_errors": [line for line in actor.log().splitlines() if "Traceback" in line],
    }


def test_32_clients_while_selfplay_runs(tmp_path: Path) -> None:
    figures = load_run(tmp_path, LOAD_S, BASELINE_S)
    print(
        f"\n{CLIENTS} clients for {LOAD_S:.0f} s: {figures['ok']} moves answered "
        f"({figures['moves_per_s']:.1f}/s), {figures['busy_503']} answered 503; "
        f"p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms, 503 p99 "
        f"{figures['busy_p99_ms']:.0f} ms; self-play {figures['selfplay_alone']:.0f} -> "
        f"{figures['selfplay_loaded']:.0f} positions/s ({figures['drop_percent']:.0f}% drop)"
    )
    assert figures["exit_code"] == 0
    assert not figures["errors"], figures["errors"][:10]
    assert not figures["log_errors"], figures["log_errors"][:10]
    assert figures["ok"] >= CLIENTS  # every client got answers, not only 503s
    assert figures["selfplay_loaded"] > 0  # self-play goes on under load


# ---- limits on a server with one search thread -----------------------------------------------

# Othello: 1-2.5 s on two idle cores, 10 s and more on busy ones; far past the time limit.
SLOW_BODY = {"moves": [], "simulations": 200_000, "player": "mcts"}
MOVE_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def narrow_actor(tmp_path_factory):
    """One search thread, one waiting place, a 0.5 s time limit, a high simulation cap."""
    data_dir = tmp_path_factory.mktemp("narrow")
    actor = start_actor(
        data_dir, "--no-selfplay", "--search-threads", "1", "--search-queue", "1",
        "--move-timeout", str(MOVE_TIMEOUT_S), "--max-simulations", "400000",
        "--max-body-bytes", "4096",
    )  # fmt: skip
    try:
        wait_healthy(actor)
        small = {"moves": [], "simulations": 8, "player": "mcts"}
        warm = lambda: httpx.post(  # noqa: E731 - compiles the othello search once
            actor.url + "/api/games/othello/move", json=small, timeout=30
        ).status_code == 200  # fmt: skip
        assert wait_for(warm, START_LIMIT_S, 0.5), actor.log()[-3000:]
        yield actor
    finally:
        code = actor.terminate()
        actor.close()
        assert code == 0, actor.log()[-3000:]


def posts(url: str, body: dict, count: int) -> list[tuple[int, str]]:
    """`count` concurrent othello move requests: (status, text) of each answer."""

    async def all_at_once() -> list[tuple[int, str]]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:

            async def one() -> tuple[int, str]:
                response = await client.post("/api/games/othello/move", json=body)
                return response.status_code, response.text

            return await asyncio.gather(*(one() for _ in range(count)))

    return asyncio.run(all_at_once())


def searches(url: str) -> dict[str, int]:
    """The server's move searches: running, waiting, started and dropped (/api/health)."""
    return httpx.get(url + "/api/health", timeout=60).json()["searches"]


def wait_idle(url: str) -> dict[str, int]:
    """Until no search runs or waits (earlier ones finished); the counts then."""

    def idle() -> bool:
        now = searches(url)
        return now["running"] == 0 and now["waiting"] == 0

    assert wait_for(idle, START_LIMIT_S, 0.1)
    return searches(url)


def test_api_stays_responsive_during_a_long_search(narrow_actor) -> None:
    """A search runs in a worker thread; the event loop must keep answering meanwhile. A jitted
    search that holds the GIL freezes every route, /api/health included, until it ends: then
    at most the first answer after it could still count the search as running."""
    url = narrow_actor.url
    before = wait_idle(url)
    slow = threading.Thread(
        target=lambda: httpx.post(url + "/api/games/othello/move", json=SLOW_BODY, timeout=60)
    )
    slow.start()
    try:
        assert wait_for(lambda: searches(url)["started"] > before["started"], START_LIMIT_S, 0.02)
        during = []
        for _ in range(5):
            during.append(searches(url))
            time.sleep(0.05)
    finally:
        slow.join(START_LIMIT_S)
    the_slow_one = before["started"] + 1
    assert all(c["running"] == 1 and c["started"] == the_slow_one for c in during), during


def test_requests_beyond_capacity_get_503_at_once(narrow_actor) -> None:
    """12 slow requests at once: one runs, one waits, the others are refused. Every answer,
    the refusals included, comes while the one search still runs: no refusal waited for it."""
    url = narrow_actor.url
    before = wait_idle(url)
    answers = posts(url, SLOW_BODY, 12)
    after = searches(url)
    refused = [text for status, text in answers if status == 503 and "too many" in text]
    assert len(refused) >= 9, answers  # 1 running + 1 waiting; (nearly) all others refused
    assert all(status in (200, 503) for status, _ in answers), answers
    assert after["running"] == 1 and after["started"] == before["started"] + 1, after


def test_time_limit_answers_503_at_the_limit(narrow_actor) -> None:
    """Answered when the limit is up, not before it, and not when the search ends after it."""
    url = narrow_actor.url
    before = wait_idle(url)
    started = time.monotonic()
    response = httpx.post(url + "/api/games/othello/move", json=SLOW_BODY, timeout=60)
    elapsed = time.monotonic() - started
    after = searches(url)
    assert response.status_code == 503 and "longer than 0.5 s" in response.json()["detail"]
    assert elapsed > MOVE_TIMEOUT_S - 0.1, elapsed
    assert after["running"] == 1 and after["started"] == before["started"] + 1, after


def test_timed_out_requests_do_not_keep_the_server_busy(narrow_actor) -> None:
    """Two slow requests (one running, one waiting) both time out: the waiting one is no longer
    wanted by anyone, so its search is dropped, not run once the running one ends."""
    url = narrow_actor.url
    before = wait_idle(url)
    answers = posts(url, SLOW_BODY, 2)
    assert [status for status, _ in answers] == [503, 503], answers
    after = wait_idle(url)
    assert after["started"] == before["started"] + 1, (before, after)
    assert after["dropped"] == before["dropped"] + 1, (before, after)


def test_simulations_cap_and_body_limit(narrow_actor) -> None:
    url = narrow_actor.url + "/api/games/tictactoe/move"
    games = httpx.get(narrow_actor.url + "/api/games").json()["games"]
    assert {g["max_simulations"] for g in games} == {400_000}
    response = httpx.post(url, json={"simulations": 400_001, "player": "random"})
    assert response.status_code == 422 and "400000" in response.json()["detail"]
    assert httpx.post(url, json={"simulations": 400_000, "player": "random"}).status_code == 200
    # A body over 4 kB: declared, chunked without a length, or a length that is not a number.
    assert httpx.post(url, content=b" " * 5000).status_code == 413
    response = httpx.post(url, content=iter([b" " * 1024] * 64))  # chunked transfer
    assert response.status_code == 413 and "larger than 4096" in response.json()["detail"]
    status = raw_post(narrow_actor.port, b"Content-Length: 99999999999999999999\r\n", b"{}")
    assert status in (400, 413)
    status = raw_post(narrow_actor.port, b"Content-Length: abc\r\n", b"{}")
    assert status in (400, 413)
    assert httpx.post(url, json={"moves": [4], "player": "random"}).status_code == 200


def raw_post(port: int, headers: bytes, body: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/games/tictactoe/move HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n" + headers + b"\r\n" + body
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


# ---- safe defaults ---------------------------------------------------------------------------


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # LISTEN
                found.add(address)
    return found


def test_server_binds_loopback_by_default(tmp_path: Path) -> None:
    actor = start_actor(tmp_path, "--no-selfplay")
    try:
        wait_healthy(actor)
        assert listening_addresses(actor.port) == {"0100007F"}  # 127.0.0.1 only
        assert "Uvicorn running on http://127.0.0.1:" in actor.log()
    finally:
        actor.terminate()
        actor.close()


def test_all_interfaces_is_warned_about(tmp_path: Path) -> None:
    """--host 0.0.0.0 logs a warning first. A socket already listening on the port makes the
    bind fail, so this test never opens a port beyond 127.0.0.1."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        command = [PYTHON, "-m", "actor", "--no-selfplay", "--no-warmup", "--host", "0.0.0.0"]
        command += ["--port", str(port), "--data-dir", str(tmp_path)]
        result = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=START_LIMIT_S
        )
    output = result.stdout + result.stderr
    assert "every machine on the network can reach the API" in output, output[-3000:]
    assert result.returncode != 0  # the bind failed: said, not hidden


@pytest.mark.parametrize("game_name", ["tictactoe", "connect4", "othello"])
def test_kept_model_files_are_bounded_over_a_week(tmp_path: Path, game_name: str) -> None:
    """A week at 100 steps/s: every file that prune() would keep by its rules (milestones and
    the newest ones) is created, then pruned once; the folder must not grow with run length."""
    import math

    from learner.config import make_config
    from learner.export import prune
    from runfiles.layout import model_step_name

    config = make_config(game_name)
    models = tmp_path / "models"
    models.mkdir()
    last_step = 100 * 7 * 24 * 3600
    last_step -= last_step % config.publish_every
    every = math.lcm(config.publish_every, config.milestone_every)  # published milestones
    steps = set(range(every, last_step + 1, every))
    steps |= {last_step - i * config.publish_every for i in range(config.keep_last_models + 5)}
    for step in steps:
        (models / model_step_name(step)).touch()
    prune(models, config.keep_last_models, config.milestone_every)
    kept = len(list(models.iterdir()))
    assert kept <= config.keep_last_models + 64, f"{kept} model files kept after a week"


def test_launcher_logs_rotate_at_their_limit(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import launch
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    log = launch.CappedLog(tmp_path / "actor.console.log", limit=10_000)
    for index in range(5_000):
        log.write(f"line {index} " + "x" * 60 + "\n")
    log.file.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["actor.console.log", "actor.console.log.1"]
    assert all((tmp_path / name).stat().st_size <= 10_000 + 100 for name in files)
    assert "line 4999" in (tmp_path / "actor.console.log").read_text()


def test_learner_log_file_is_bounded(tmp_path: Path) -> None:
    from learner.train import setup_logging

    root = logging.getLogger("learner")
    before = list(root.handlers)
    setup_logging(tmp_path)
    added = [h for h in root.handlers if h not in before]
    try:
        files = [h for h in added if isinstance(h, logging.FileHandler)]
        assert files, "setup_logging wrote no log file"
        for handler in files:
            assert isinstance(
                handler, logging.handlers.RotatingFileHandler
            ), f"{handler.baseFilename} grows without limit ({type(handler).__name__})"
            assert 0 < handler.maxBytes <= 100 * 1024 * 1024 and handler.backupCount >= 1
    finally:
        for handler in added:
            root.removeHandler(handler)
            handler.close()
