"""Random playouts per second: our jitted bulk path and Python API next to OpenSpiel's loop.

Run: ``.venv/bin/python benchmarks/engine.py [--seconds 0.5] [--repeats 5] [--games NAME ...]``.
Single core (it sets NUMBA_NUM_THREADS=1). For every registered game it measures, in one process:

- bulk: `engine.playouts.build_random_playouts` (one jitted call plays many games),
- api: `EngineContext.reset/step` with a random legal choice in a Python loop,
- openspiel: `state.legal_actions()`, `random.choice`, `state.apply_action` in a Python loop,

and prints the medians of a few interleaved repeats with ratios: bulk games/s over OpenSpiel's
games/s (target >= 20x) and API steps/s over OpenSpiel's steps/s (target >= 0.3x). The last line
is JSON.
Rates are per CPU second of this thread (`time.thread_time`), so other processes on a shared
machine slow every contender alike instead of whichever ran at a busy moment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["NUMBA_NUM_THREADS"] = "1"
# This file is called engine.py: keep its folder off the path so `import engine` finds the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import pyspiel  # noqa: E402

from engine import EngineContext, get_game, list_games  # noqa: E402
from engine.playouts import build_random_playouts  # noqa: E402

OPENSPIEL_NAMES = {"tictactoe": "tic_tac_toe", "connect4": "connect_four", "othello": "othello"}
BULK_TARGET = 20.0
API_TARGET = 0.3


def timed(run: Callable[[], tuple[int, int]], seconds: float) -> tuple[float, float]:
    """(games/s, steps/s) of calling `run` (-> games, steps) for `seconds` of CPU time."""
    games = steps = 0
    start = time.thread_time()
    while True:
        g, s = run()
        games += g
        steps += s
        elapsed = time.thread_time() - start
        if elapsed >= seconds:
            return games / elapsed, steps / elapsed


def bulk_runner(name: str) -> Callable[[], tuple[int, int]]:
    playouts = build_random_playouts(get_game(name))
    playouts(10, 0)  # compile outside the timing
    seed = iter(range(1, 1 << 30))
    batch = 200

    def run() -> tuple[int, int]:
        totals = playouts(batch, next(seed))
        return batch, int(totals[3])

    return run


def api_runner(name: str) -> Callable[[], tuple[int, int]]:
    ctx = EngineContext(name)
    rng = random.Random(0)
    choice = rng.choice
    ctx.step(ctx.reset().state, int(np.flatnonzero(ctx.reset().legal_mask)[0]))  # compile

    def run() -> tuple[int, int]:
        result = ctx.reset()
        steps = 0
        while not result.terminal:
            result = ctx.step(result.state, choice(result.legal_mask.nonzero()[0].tolist()))
            steps += 1
        return 1, steps

    return run


def openspiel_runner(name: str) -> Callable[[], tuple[int, int]]:
    game = pyspiel.load_game(OPENSPIEL_NAMES[name])
    rng = random.Random(0)
    choice = rng.choice

    def run() -> tuple[int, int]:
        state = game.new_initial_state()
        steps = 0
        while not state.is_terminal():
            state.apply_action(choice(state.legal_actions()))
            steps += 1
        return 1, steps

    return run


def measure(name: str, seconds: float, repeats: int) -> dict[str, float]:
    runners = {"bulk": bulk_runner(name), "api": api_runner(name)}
    if name in OPENSPIEL_NAMES:
        runners["openspiel"] = openspiel_runner(name)
    samples: dict[str, list[tuple[float, float]]] = {key: [] for key in runners}
    for _ in range(repeats):  # interleaved, so a slow moment of the machine hits all alike
        for key, run in runners.items():
            samples[key].append(timed(run, seconds))
    row: dict[str, float] = {}
    for key, values in samples.items():
        row[f"{key}_games_per_s"] = statistics.median(v[0] for v in values)
        row[f"{key}_steps_per_s"] = statistics.median(v[1] for v in values)
    if "openspiel" in runners:
        row["bulk_over_openspiel_games"] = row["bulk_games_per_s"] / row["openspiel_games_per_s"]
        row["api_over_openspiel_steps"] = row["api_steps_per_s"] / row["openspiel_steps_per_s"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="per timed sample")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--games", nargs="*", default=None, help="default: every registered game")
    args = parser.parse_args()
    results = {}
    for name in args.games or list_games():
        row = measure(name, args.seconds, args.repeats)
        results[name] = row
        line = (
            f"{name:10s} bulk {row['bulk_games_per_s']:10.0f} games/s "
            f"({row['bulk_steps_per_s'] / 1e6:6.2f} M steps/s)   "
            f"api {row['api_steps_per_s']:9.0f} steps/s"
        )
        if "openspiel_games_per_s" in row:
            bulk_ok = "ok" if row["bulk_over_openspiel_games"] >= BULK_TARGET else "MISSED"
            api_ok = "ok" if row["api_over_openspiel_steps"] >= API_TARGET else "MISSED"
            line += (
                f"   openspiel {row['openspiel_games_per_s']:8.0f} games/s "
                f"{row['openspiel_steps_per_s']:9.0f} steps/s   "
                f"bulk/os {row['bulk_over_openspiel_games']:6.1f}x "
                f"(target {BULK_TARGET:g}x {bulk_ok})   "
                f"api/os {row['api_over_openspiel_steps']:5.2f}x "
                f"(target {API_TARGET:g}x {api_ok})"
            )
        print(line, flush=True)
    print(json.dumps({"benchmark": "engine", "threads": 1, "results": results}))


if __name__ == "__main__":
    main()
