"""Classic MCTS speed: our jitted UCT search against OpenSpiel's C++ MCTSBot, same positions.

Both sides run UCT (c = 2) with one uniformly random rollout per leaf, `--simulations` per search,
on the initial position and a few random positions of each registered game, one core each
(OpenSpiel's bot is single-threaded C++; our search is one jitted call). OpenSpiel runs with
solve=False so that both do exactly the same number of simulations. Prints per-position medians
and, per game, the ratio of our simulations/s to OpenSpiel's; the last line is JSON.

    .venv/bin/python benchmarks/mcts.py [--simulations 1000] [--repeats 5] [--positions 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import pyspiel

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actor.mcts import DEFAULT_UCT_C, classic_mcts_search  # noqa: E402
from engine import EngineContext, list_games  # noqa: E402

SPIEL_NAMES = {"tictactoe": "tic_tac_toe", "connect4": "connect_four", "othello": "othello"}


def random_positions(name: str, count: int, seed: int) -> list[list[int]]:
    """Move lists: the initial position and `count` positions a few random moves in."""
    ctx = EngineContext(name)
    rng = np.random.default_rng(seed)
    positions: list[list[int]] = [[]]
    while len(positions) < count + 1:
        depth = int(rng.integers(2, 2 + ctx.game.max_game_length // 3))
        result, moves = ctx.reset(), []
        for _ in range(depth):
            action = int(rng.choice(np.flatnonzero(result.legal_mask)))
            result = ctx.step(result.state, action)
            moves.append(action)
            if result.terminal:
                break
        if not result.terminal:
            positions.append(moves)
    return positions


def time_ours(name: str, moves: list[int], simulations: int, repeats: int) -> float:
    ctx = EngineContext(name)
    state = ctx.reset().state
    for action in moves:
        state = ctx.step(state, action).state
    classic_mcts_search(ctx.game, state, simulations, seed=0)  # compile and warm up
    rates = []
    for repeat in range(repeats):
        start = time.perf_counter()
        classic_mcts_search(ctx.game, state, simulations, seed=repeat)
        rates.append(simulations / (time.perf_counter() - start))
    return statistics.median(rates)


def time_openspiel(name: str, moves: list[int], simulations: int, repeats: int) -> float:
    game = pyspiel.load_game(SPIEL_NAMES[name])
    state = game.new_initial_state()
    for action in moves:
        state.apply_action(action)
    rates = []
    for repeat in range(repeats + 1):
        evaluator = pyspiel.RandomRolloutEvaluator(1, repeat)
        bot = pyspiel.MCTSBot(
            game, evaluator, DEFAULT_UCT_C, simulations, 1000, False, repeat, False
        )
        start = time.perf_counter()
        bot.step(state)
        if repeat:  # the first run warms up
            rates.append(simulations / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--positions", type=int, default=3, help="random positions per game")
    parser.add_argument("--games", nargs="*", default=None)
    args = parser.parse_args()
    summary = {}
    for name in args.games or list_games():
        if name not in SPIEL_NAMES:
            print(f"{name}: no OpenSpiel counterpart, skipped")
            continue
        ratios, ours_all, spiel_all = [], [], []
        for moves in random_positions(name, args.positions, seed=1):
            ours = time_ours(name, moves, args.simulations, args.repeats)
            spiel = time_openspiel(name, moves, args.simulations, args.repeats)
            ratios.append(ours / spiel)
            ours_all.append(ours)
            spiel_all.append(spiel)
            print(
                f"{name:10s} {len(moves):2d} moves in: ours {ours:10.0f} sims/s  "
                f"openspiel {spiel:10.0f} sims/s  ratio {ours / spiel:5.2f}x",
                flush=True,
            )
        summary[name] = {
            "ours_sims_per_s": round(statistics.median(ours_all)),
            "openspiel_sims_per_s": round(statistics.median(spiel_all)),
            "min_ratio": round(min(ratios), 2),
            "median_ratio": round(statistics.median(ratios), 2),
        }
        print(f"{name}: median ratio {summary[name]['median_ratio']}x, "
              f"worst {summary[name]['min_ratio']}x")  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
