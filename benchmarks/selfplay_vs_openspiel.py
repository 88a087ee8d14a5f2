"""AlphaZero self-play per CPU second: ours against OpenSpiel's AlphaZero search.

The peer is what OpenSpiel's Python AlphaZero actors run (`open_spiel.python.algorithms.
alpha_zero`): `mcts.MCTSBot` with PUCT selection and Dirichlet noise at the root, one network call
per leaf through an evaluator with an LRU cache of 2**16 positions keyed on the observation, and
the move picked by visit counts for the first plies, then the most visited. Its evaluator runs
the same network as ours (the learner's default architecture and size for the game, untrained)
in the same ONNX Runtime settings, fed with OpenSpiel's observation tensor. Both sides use our
per-game settings: simulations per move, c_puct, Dirichlet alpha and fraction, temperature plies.

Ours is `actor.selfplay.SelfPlay` as the actor runs it (128 games at once, tree reuse, an
evaluation cache of 2**16 positions), and once more without tree reuse, where every move gets
`simulations` fresh simulations as in the peer.

For Connect 4 and Othello, ours is also measured with the int8 copy of the network that the actor
plays (actor.quantize; the peer keeps the float network, so that column is not the same network).

Rates are positions (moves played) per CPU second of this process, one ORT thread. Windows of
`--seconds` alternate between the sides, `--rounds` times; medians and their ratio are printed.

    .venv/bin/python benchmarks/selfplay_vs_openspiel.py [--seconds 10] [--rounds 3] [--games ...]

The last line is JSON: {game: {"ours_positions_per_cpu_s", "ours_no_reuse_positions_per_cpu_s",
"openspiel_positions_per_cpu_s", "ratio", "ratio_no_reuse", "simulations"}}, plus
"ours_int8_positions_per_cpu_s" and "ratio_int8" where the actor plays an int8 copy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

import numpy as np
import pyspiel
from open_spiel.python.algorithms import mcts as spiel_mcts
from open_spiel.python.utils import lru_cache

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actor.config import ActorConfig  # noqa: E402
from actor.mcts import DEFAULT_C_PUCT, softmax_legal  # noqa: E402
from actor.selfplay import default_config  # noqa: E402
from benchmarks.selfplay import (  # noqa: E402
    default_model_bytes,
    int8_session,
    make_evaluator,
    make_session,
    selfplay_rates,
)
from engine import get_game, list_games  # noqa: E402

SPIEL_NAMES = {"tictactoe": "tic_tac_toe", "connect4": "connect_four", "othello": "othello"}
CACHE_SIZE = 2**16  # OpenSpiel AlphaZero's default evaluator cache


class OnnxSpielEvaluator(spiel_mcts.Evaluator):
    """OpenSpiel's AlphaZeroEvaluator with the network in ONNX Runtime: a batch of one per call,
    answers cached by observation and legal mask."""

    def __init__(self, session, observation_shape: tuple[int, ...]) -> None:
        self.session = session
        self.shape = (1, *observation_shape)
        self.cache = lru_cache.LRUCache(CACHE_SIZE)

    def _inference(self, state) -> tuple[float, np.ndarray]:
        obs = np.asarray(state.observation_tensor(), dtype=np.float32)
        mask = np.asarray(state.legal_actions_mask(), dtype=bool)

        def run() -> tuple[float, np.ndarray]:
            logits, value = self.session.run(
                ["policy", "value"], {"planes": obs.reshape(self.shape)}
            )
            return float(value[0, 0]), softmax_legal(logits[0], mask)

        return self.cache.make(obs.tobytes() + mask.tobytes(), run)

    def evaluate(self, state) -> np.ndarray:
        value, _ = self._inference(state)
        return (
            np.array([value, -value]) if state.current_player() == 0 else np.array([-value, value])
        )

    def prior(self, state) -> list[tuple[int, float]]:
        _, policy = self._inference(state)
        return [(action, policy[action]) for action in state.legal_actions()]


def peer_session(game, spiel_game, threads: int):
    """The default network for `game`, built for OpenSpiel's observation planes."""
    planes = spiel_game.observation_tensor_shape()[0]
    peer_game = dataclasses.replace(game, num_planes=planes)
    return make_session(default_model_bytes(peer_game), threads)


def openspiel_rate(name: str, game, session, seconds: float, seed: int) -> float:
    """Positions per CPU second of OpenSpiel MCTSBot self-play (whole games, then the rest of
    the window's last game)."""
    config = default_config(game)
    spiel_game = pyspiel.load_game(SPIEL_NAMES[name])
    evaluator = OnnxSpielEvaluator(session, tuple(spiel_game.observation_tensor_shape()))
    rng = np.random.RandomState(seed)
    bot = spiel_mcts.MCTSBot(
        spiel_game, DEFAULT_C_PUCT, config.simulations, evaluator, solve=False, random_state=rng,
        child_selection_fn=spiel_mcts.SearchNode.puct_value,
        dirichlet_noise=(config.dirichlet_fraction, game.dirichlet_alpha),
        dont_return_chance_node=True,
    )  # fmt: skip
    positions, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        state = spiel_game.new_initial_state()
        plies = 0
        while not state.is_terminal() and time.perf_counter() - start < seconds:
            root = bot.mcts_search(state)
            if plies < config.temperature_moves:
                visits = np.zeros(spiel_game.num_distinct_actions())
                for child in root.children:
                    visits[child.action] = child.explore_count
                action = rng.choice(len(visits), p=visits / visits.sum())
            else:
                action = root.best_child().action
            state.apply_action(action)
            plies += 1
            positions += 1
    return positions / max(time.process_time() - cpu_start, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per window")
    parser.add_argument("--rounds", type=int, default=3, help="windows per side")
    parser.add_argument("--threads", type=int, default=1, help="ORT intra_op_num_threads")
    parser.add_argument("--games", nargs="*", default=None)
    args = parser.parse_args()
    summary = {}
    for name in args.games or list_games():
        if name not in SPIEL_NAMES:
            continue
        game = get_game(name)
        config = default_config(game)
        model = default_model_bytes(game)
        ours_eval = make_evaluator(make_session(model, args.threads))
        plays_int8 = ActorConfig(game=name).int8_selfplay()
        quantized = int8_session(game, model, args.threads) if plays_int8 else None
        peer = peer_session(game, pyspiel.load_game(SPIEL_NAMES[name]), args.threads)
        ours, ours_fresh, ours_int8, theirs = [], [], [], []
        runs = [(ours_eval, True, ours), (ours_eval, False, ours_fresh)]
        if quantized is not None:
            runs.append((make_evaluator(quantized), True, ours_int8))
        for round_index in range(args.rounds):
            batch = config.games_in_parallel
            for evaluator, tree_reuse, out in runs:
                rates = selfplay_rates(
                    game, evaluator, batch, None, args.seconds, tree_reuse=tree_reuse
                )
                out.append(rates["positions_per_cpu_s"])
            theirs.append(openspiel_rate(name, game, peer, args.seconds, seed=round_index))
            print(
                f"{name} round {round_index + 1}: ours {ours[-1]:.1f}, ours without tree reuse "
                f"{ours_fresh[-1]:.1f}, OpenSpiel {theirs[-1]:.2f} positions per CPU second"
                + (f"; ours with the int8 copy {ours_int8[-1]:.1f}" if ours_int8 else ""),
                flush=True,
            )
        row = {
            "ours_positions_per_cpu_s": round(statistics.median(ours), 2),
            "ours_no_reuse_positions_per_cpu_s": round(statistics.median(ours_fresh), 2),
            "openspiel_positions_per_cpu_s": round(statistics.median(theirs), 3),
            "simulations": config.simulations,
        }
        row["ratio"] = round(
            row["ours_positions_per_cpu_s"] / row["openspiel_positions_per_cpu_s"], 1
        )
        row["ratio_no_reuse"] = round(
            row["ours_no_reuse_positions_per_cpu_s"] / row["openspiel_positions_per_cpu_s"], 1
        )
        if ours_int8:
            row["ours_int8_positions_per_cpu_s"] = round(statistics.median(ours_int8), 2)
            row["ratio_int8"] = round(
                row["ours_int8_positions_per_cpu_s"] / row["openspiel_positions_per_cpu_s"], 1
            )
        print(
            f"{name}: {config.simulations} simulations/move: ours {row['ratio']}x OpenSpiel's "
            f"AlphaZero search per CPU second ({row['ratio_no_reuse']}x without tree reuse"
            + (f"; {row['ratio_int8']}x with the int8 copy" if ours_int8 else "")
            + ")",
            flush=True,
        )
        summary[name] = row
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
