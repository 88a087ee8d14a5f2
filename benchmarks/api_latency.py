"""Move latency of the actor's API: p50/p99 with self-play off and on, same machine, same run.

    .venv/bin/python benchmarks/api_latency.py [--seconds 10] [--simulations 200] [--compare-nice]

For each game it starts a real `python -m actor` on 127.0.0.1 (first with --no-selfplay, then
with self-play of that game), publishes an untrained network of the learner's default size as
latest.onnx, and asks for `alphazero` moves in positions reached by random legal moves. The last
line of output is one JSON object: {game: {"off": {"p50_ms", "p99_ms"}, "on": {...}}}.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import EngineContext  # noqa: E402
from runfiles.layout import RunFolder  # noqa: E402


def publish_default_model(data_dir: Path, game_name: str) -> None:
    """An untrained network of the learner's default size, published the learner's way."""
    from engine import get_game
    from learner.export import onnx_bytes, write_atomic
    from learner.network import build_network

    game = get_game(game_name)
    data = onnx_bytes(build_network(game), game, step=1)
    write_atomic(RunFolder.of(data_dir, game_name).latest_model, data)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def positions(game_name: str, count: int, seed: int) -> list[list[int]]:
    """Move lists of random games cut at a random ongoing point."""
    rng = np.random.default_rng(seed)
    ctx = EngineContext(game_name)
    found = []
    while len(found) < count:
        result, moves = ctx.reset(), []
        target = int(rng.integers(0, ctx.game.max_game_length // 2))
        while not result.terminal and len(moves) < target:
            action = int(rng.choice(np.flatnonzero(result.legal_mask)))
            next_result = ctx.step(result.state, action)
            if next_result.terminal:
                break
            moves.append(action)
            result = next_result
        found.append(moves)
    return found


def games_in_db(db: Path) -> int:
    try:
        connection = sqlite3.connect(db, timeout=30)
        try:
            return int(connection.execute("SELECT count(*) FROM games").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error:
        return 0


def log_size(path: str) -> int:
    return Path(path).stat().st_size


def positions_rate(path: str, offset: int) -> float:
    """Mean self-play positions/s of the actor's progress lines written after `offset`."""
    with open(path, "rb") as file:
        file.seek(offset)
        text = file.read().decode(errors="replace")
    rates = [float(m) for m in re.findall(r"([0-9.]+) positions/s", text)]
    return float(np.mean(rates)) if rates else 0.0


def measure(
    game: str, selfplay: bool, args: argparse.Namespace, data_dir: Path, extra: list[str]
) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "actor", "--game", game, "--data-dir", str(data_dir)]
    command += ["--port", str(port), "--no-warmup", "--log-interval", "1", *extra]
    if not selfplay:
        command.append("--no-selfplay")
    log = open(data_dir / f"actor-{game}-{selfplay}-{len(extra)}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"actor did not start; see {log.name}") from None
                time.sleep(0.3)
        body = {"moves": [], "simulations": args.simulations, "player": "alphazero"}
        warm = 0
        while warm < 3:  # compile the search for this game (503s while it compiles)
            response = httpx.post(url + f"/api/games/{game}/move", json=body, timeout=300)
            if response.status_code == 503 and time.monotonic() < deadline + 300:
                time.sleep(1)
                continue
            response.raise_for_status()
            warm += 1
        idle_rate = serving_rate = 0.0
        if selfplay:  # wait until self-play has compiled and is writing games
            while games_in_db(RunFolder.of(data_dir, game).replay_db) == 0:
                if time.monotonic() > deadline + 120:
                    raise RuntimeError("self-play wrote no game")
                time.sleep(0.5)
            time.sleep(2)
            mark = log_size(log.name)
            time.sleep(args.seconds)  # self-play alone
            idle_rate = positions_rate(log.name, mark)
        mark = log_size(log.name)
        latencies = []
        requests = positions(game, 200, seed=1)
        started = time.monotonic()
        with httpx.Client(timeout=60) as client:
            while time.monotonic() - started < args.seconds:
                moves = requests[len(latencies) % len(requests)]
                body = {"moves": moves, "simulations": args.simulations, "player": "alphazero"}
                begin = time.perf_counter()
                response = client.post(url + f"/api/games/{game}/move", json=body)
                latencies.append(time.perf_counter() - begin)
                response.raise_for_status()
                assert response.json()["model_step"] == 1
        if selfplay:
            serving_rate = positions_rate(log.name, mark)
    finally:
        process.terminate()
        process.wait(60)
        log.close()
    milliseconds = np.array(latencies) * 1000
    return {
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 2),
        "p99_ms": round(float(np.percentile(milliseconds, 99)), 2),
        "mean_ms": round(float(milliseconds.mean()), 2),
        "requests": len(latencies),
        "selfplay_positions_per_s_alone": round(idle_rate, 1),
        "selfplay_positions_per_s_serving": round(serving_rate, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", nargs="+", default=["tictactoe", "connect4"])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each window")
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument(
        "--compare-nice",
        action="store_true",
        help="also measure with self-play workers at the API's priority",
    )
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="api-latency-") as temp:
        data_dir = Path(temp)
        for game in args.games:
            publish_default_model(data_dir, game)
            results[game] = {}
            modes = [("off", False, []), ("on", True, [])]
            if args.compare_nice:
                modes.append(("on_nice0", True, ["--worker-nice", "0"]))
            for mode, selfplay, extra in modes:
                results[game][mode] = measure(game, selfplay, args, data_dir, extra)
                r = results[game][mode]
                print(
                    f"{game:10s} self-play {mode:8s}: p50 {r['p50_ms']:8.2f} ms  p99 "
                    f"{r['p99_ms']:8.2f} ms  mean {r['mean_ms']:8.2f} ms  ({r['requests']} "
                    f"moves, {args.simulations} simulations); self-play positions/s alone "
                    f"{r['selfplay_positions_per_s_alone']}, while serving "
                    f"{r['selfplay_positions_per_s_serving']}",
                    flush=True,
                )
            ratio = results[game]["on"]["p50_ms"] / max(results[game]["off"]["p50_ms"], 1e-9)
            print(f"{game:10s} p50 with self-play / without: {ratio:.2f}x", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
