"""Self-play throughput with a default-size (untrained) network, against raw ONNX Runtime.

For each game, in one run with the same ORT session settings: network evaluations/s inside
batched self-play, raw ONNX Runtime evaluations/s on random input at the same batch size,
positions/s and games/s of self-play, and the positions/s of one-position-at-a-time search
(`alphazero_search`, one leaf per network call) for the speed-up. The last line is JSON:
{game: {"nn_evals_per_s", "raw_onnx_evals_per_s", "positions_per_s", "games_per_s", "batch"}}.

    .venv/bin/python benchmarks/selfplay.py --seconds 10 [--batch 128] [--threads 1]
    .venv/bin/python benchmarks/selfplay.py --seconds 5 --sweep   # batch x threads table

Network: `learner.network.build_network(game)` (the learner's default per game) exported by
`learner.export.onnx_bytes`; a small residual net defined here when the learner is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actor.mcts import alphazero_search  # noqa: E402
from actor.selfplay import SelfPlay, default_config  # noqa: E402
from engine import get_game, list_games  # noqa: E402


def default_model_bytes(game) -> bytes:
    """ONNX bytes of the default network for `game` (untrained)."""
    import torch

    torch.manual_seed(0)
    try:
        from learner.export import onnx_bytes
        from learner.network import build_network

        return onnx_bytes(build_network(game), game, step=0)
    except ImportError:
        return _fallback_model_bytes(game)


def _fallback_model_bytes(game) -> bytes:
    import io

    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, ch: int) -> None:
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU())
            self.b = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))

        def forward(self, x):
            return torch.relu(x + self.b(self.a(x)))

    class Net(nn.Module):
        def __init__(self, ch: int = 32, blocks: int = 4) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(game.num_planes, ch, 3, padding=1), nn.ReLU())
            self.blocks = nn.Sequential(*[Block(ch) for _ in range(blocks)])
            cells = game.rows * game.cols
            self.policy = nn.Linear(ch * cells, game.num_actions)
            self.value = nn.Sequential(nn.Linear(ch * cells, 1), nn.Tanh())

        def forward(self, x):
            h = self.blocks(self.stem(x)).flatten(1)
            return self.policy(h), self.value(h)

    buffer = io.BytesIO()
    torch.onnx.export(
        Net().eval(),
        (torch.zeros(1, *game.plane_shape),),
        buffer,
        dynamo=False,
        input_names=["planes"],
        output_names=["policy", "value"],
        dynamic_axes={"planes": {0: "batch"}, "policy": {0: "batch"}, "value": {0: "batch"}},
    )
    return buffer.getvalue()


def make_session(model: bytes, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def make_evaluator(session: ort.InferenceSession):
    def evaluate(planes: np.ndarray):
        policy, value = session.run(["policy", "value"], {"planes": planes})
        return policy, value

    return evaluate


def raw_onnx_rate(session, game, batch: int, seconds: float) -> float:
    planes = (np.random.default_rng(0).random((batch, *game.plane_shape)) < 0.3).astype(np.float32)
    session.run(["policy", "value"], {"planes": planes})
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(["policy", "value"], {"planes": planes})
        count += batch
    return count / (time.perf_counter() - start)


def selfplay_rates(game, evaluator, batch: int, simulations: int | None, seconds: float) -> dict:
    config = default_config(game, games_in_parallel=batch, simulations=simulations)
    selfplay = SelfPlay(game, config, seed=0)
    warm_until = time.perf_counter() + min(2.0, seconds / 4)
    while time.perf_counter() < warm_until:
        selfplay.step(evaluator)
    evals, positions, games = selfplay.nn_evals, selfplay.positions, selfplay.games
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        selfplay.step(evaluator)
    elapsed = time.perf_counter() - start
    return {
        "nn_evals_per_s": (selfplay.nn_evals - evals) / elapsed,
        "positions_per_s": (selfplay.positions - positions) / elapsed,
        "games_per_s": (selfplay.games - games) / elapsed,
        "batch_fill": selfplay.batch_fill,
        "simulations": config.simulations,
    }


def single_search_positions_per_s(game, evaluator, simulations: int, seconds: float) -> float:
    """Positions/s of one search at a time, one leaf per network call (no batching)."""
    state = game.initial_state()
    alphazero_search(game, state, 2, evaluator, leaves_per_batch=1)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        alphazero_search(game, state, simulations, evaluator, leaves_per_batch=1, seed=count)
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--batch", type=int, default=None, help="games in parallel (default: ours)")
    parser.add_argument("--threads", type=int, default=1, help="ORT intra_op_num_threads")
    parser.add_argument("--simulations", type=int, default=None, help="default: per game")
    parser.add_argument("--games", nargs="*", default=None)
    parser.add_argument("--sweep", action="store_true", help="table over batch and threads")
    args = parser.parse_args()
    summary = {}
    for name in args.games or list_games():
        game = get_game(name)
        model = default_model_bytes(game)
        if args.sweep:
            for threads in (1, 2):
                session = make_session(model, threads)
                for batch in (16, 32, 64, 128, 256):
                    raw = raw_onnx_rate(session, game, batch, args.seconds / 2)
                    rates = selfplay_rates(
                        game, make_evaluator(session), batch, args.simulations, args.seconds
                    )
                    print(
                        f"{name:10s} threads {threads} batch {batch:4d}: raw {raw:8.0f}/s  "
                        f"selfplay {rates['nn_evals_per_s']:8.0f} evals/s "
                        f"({rates['nn_evals_per_s'] / raw:4.2f}x raw)  "
                        f"{rates['positions_per_s']:7.1f} positions/s",
                        flush=True,
                    )
            continue
        batch = args.batch or default_config(game).games_in_parallel
        session = make_session(model, args.threads)
        evaluator = make_evaluator(session)
        raw = raw_onnx_rate(session, game, batch, args.seconds)
        rates = selfplay_rates(game, evaluator, batch, args.simulations, args.seconds)
        single = single_search_positions_per_s(
            game, evaluator, rates["simulations"], min(args.seconds, 5.0)
        )
        print(
            f"{name}: batch {batch}, {rates['simulations']} simulations/move, ORT threads "
            f"{args.threads}: self-play {rates['nn_evals_per_s']:.0f} evals/s vs raw ONNX "
            f"{raw:.0f}/s ({rates['nn_evals_per_s'] / raw:.2f}x), "
            f"{rates['positions_per_s']:.1f} positions/s, {rates['games_per_s']:.2f} games/s, "
            f"fill {rates['batch_fill']:.3f}; one-at-a-time search {single:.2f} positions/s "
            f"-> speed-up {rates['positions_per_s'] / single:.1f}x",
            flush=True,
        )
        summary[name] = {
            "nn_evals_per_s": round(rates["nn_evals_per_s"], 1),
            "raw_onnx_evals_per_s": round(raw, 1),
            "positions_per_s": round(rates["positions_per_s"], 2),
            "games_per_s": round(rates["games_per_s"], 3),
            "batch": batch,
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
