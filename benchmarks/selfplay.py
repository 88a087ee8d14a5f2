"""Self-play throughput with a default-size (untrained) network, against raw ONNX Runtime.

For each game, in one run with the same ORT session settings: network evaluations/s inside
batched self-play, raw ONNX Runtime evaluations/s on random input at the same batch size,
positions/s and games/s of self-play, and the positions/s of one-position-at-a-time search
(`alphazero_search`, one leaf per network call) for the speed-up. Rates are per wall-clock second
and, because the machine is shared and wall time swings, also per CPU second of this process
(`cpu` columns: the ratio a quiet machine would show with ORT on one thread).

The evaluations/s against raw ONNX measure what the tree code and glue cost per network call, so
they are taken with the evaluation cache off (every leaf a network call; with it on, a cached
leaf is tree work with no call, and Tic-tac-toe self-play makes almost none). Positions/s and
games/s are the actor's defaults, cache on; positions/s without it are printed beside them.
The network is the one the actor plays: its int8 copy (actor.quantize) for Connect 4 and Othello,
the float model for Tic-tac-toe (`--int8`/`--no-int8` to choose); raw ONNX Runtime runs the same.
The last line is JSON: {game: {"nn_evals_per_s", "raw_onnx_evals_per_s", "positions_per_s",
"games_per_s", "batch", "cpu_ratio", "positions_per_s_no_cache", "precision"}}.

    .venv/bin/python benchmarks/selfplay.py --seconds 10 [--batch 128] [--threads 1]
    .venv/bin/python benchmarks/selfplay.py --seconds 3 --sweep     # batch x threads table
    .venv/bin/python benchmarks/selfplay.py --seconds 3 --profile   # tree code alone

`--profile` times self-play with a free evaluator (fixed answers, no network): the CPU time of
the tree code and its Python glue per network evaluation, the number to cut (the network's own
cost per evaluation is 1 / raw rate). `--sweep` is how the defaults were chosen:

Sweep on a 2-core machine (shared, loaded), `--seconds 3 --sweep`, default
networks (tictactoe MLP, connect4/othello ResNet); self-play evals/s per wall second, (ratio to
raw ONNX at the same batch and threads; ratio per CPU second):

    game   threads batch  raw/s  selfplay/s  ratio  cpu ratio
    tictactoe 1   32   787860   267691  0.34x  0.42x
    tictactoe 1   64   696875   203216  0.29x  0.39x
    tictactoe 1  128   301804   332829  1.10x  0.35x  best
    tictactoe 1  256  1023953   300200  0.29x  0.29x
    tictactoe 2   32   299553   118633  0.40x  0.41x
    tictactoe 2   64   380070   149839  0.39x  0.36x
    tictactoe 2  128   423421   151145  0.36x  0.34x
    tictactoe 2  256   483124   137065  0.28x  0.29x
    connect4  1   32     9218     8826  0.96x  0.95x
    connect4  1   64     9291     9055  0.97x  0.97x
    connect4  1  128     8956     9326  1.04x  0.96x  best
    connect4  1  256     9377     7506  0.80x  0.96x
    connect4  2   32     3493     3420  0.98x  0.97x
    connect4  2   64     3476     3332  0.96x  0.96x
    connect4  2  128     3550     3356  0.95x  0.93x
    connect4  2  256     3850     3605  0.94x  0.92x
    othello   1   32     5855     5431  0.93x  0.94x
    othello   1   64     5427     5249  0.97x  0.95x
    othello   1  128     5150     5597  1.09x  0.97x
    othello   1  256     5647     5640  1.00x  0.97x  best
    othello   2   32     2880     2676  0.93x  0.92x
    othello   2   64     2929     2713  0.93x  0.94x
    othello   2  128     2925     2875  0.98x  0.97x
    othello   2  256     2987     2896  0.97x  0.99x

Two ORT threads lose everywhere on 2 cores (the second core is busy with everything
else); for connect4 and othello the batch hardly matters (the network is ~100 us per position
and self-play stays within 5% of raw ONNX), for tictactoe (a 0.4 us MLP) the tree code
dominates at any batch. Hence the defaults: 128 games in parallel, 1 ORT thread.

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

from actor.config import ActorConfig  # noqa: E402
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


def int8_session(game, model: bytes, threads: int) -> ort.InferenceSession | None:
    """The session of the checked int8 copy the actor would play (actor.quantize); None, with
    the reason printed, when the actor would keep the float model."""
    import tempfile
    from pathlib import Path

    from actor.model import ModelError, load_model
    from actor.quantize import int8_copy

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        path.write_bytes(model)
        try:
            return int8_copy(load_model(path, game, threads=threads), game, threads=threads).session
        except ModelError as error:
            print(f"{game.name}: float model: {error}", flush=True)
            return None


def make_evaluator(session: ort.InferenceSession):
    def evaluate(planes: np.ndarray):
        policy, value = session.run(["policy", "value"], {"planes": planes})
        return policy, value

    return evaluate


def raw_onnx_rate(session, game, batch: int, seconds: float) -> tuple[float, float]:
    """(evaluations per wall second, per CPU second) on random 0/1 planes."""
    planes = (np.random.default_rng(0).random((batch, *game.plane_shape)) < 0.3).astype(np.float32)
    session.run(["policy", "value"], {"planes": planes})
    count, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        session.run(["policy", "value"], {"planes": planes})
        count += batch
    cpu = max(time.process_time() - cpu_start, 1e-9)
    return count / (time.perf_counter() - start), count / cpu


def selfplay_rates(
    game, evaluator, batch: int, simulations: int | None, seconds: float, **overrides
) -> dict:
    """Batched self-play rates over `seconds` (after a warm-up); `overrides` go to the config."""
    config = default_config(game, games_in_parallel=batch, simulations=simulations, **overrides)
    selfplay = SelfPlay(game, config, seed=0)
    warm_until = time.perf_counter() + min(2.0, seconds / 4)
    while time.perf_counter() < warm_until:
        selfplay.step(evaluator)
    evals, positions, games = selfplay.nn_evals, selfplay.positions, selfplay.games
    start, cpu_start = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        selfplay.step(evaluator)
    elapsed = time.perf_counter() - start
    cpu = max(time.process_time() - cpu_start, 1e-9)
    return {
        "nn_evals_per_s": (selfplay.nn_evals - evals) / elapsed,
        "nn_evals_per_cpu_s": (selfplay.nn_evals - evals) / cpu,
        "positions_per_s": (selfplay.positions - positions) / elapsed,
        "positions_per_cpu_s": (selfplay.positions - positions) / cpu,
        "games_per_s": (selfplay.games - games) / elapsed,
        "batch_fill": selfplay.batch_fill,
        "simulations": config.simulations,
    }


def free_evaluator(game, batch: int):
    """Fixed answers at no cost: what is left of a step's time is the tree code and glue."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(batch, game.num_actions)).astype(np.float32)
    values = rng.uniform(-0.5, 0.5, size=(batch, 1)).astype(np.float32)

    def evaluate(planes: np.ndarray):
        return logits[: planes.shape[0]], values[: planes.shape[0]]

    return evaluate


def profile(game, batch: int, simulations: int | None, seconds: float, repeats: int) -> float:
    """Median CPU microseconds of tree code + glue per network evaluation (free evaluator)."""
    runs = []
    for _ in range(repeats):
        evaluator = free_evaluator(game, batch)
        rates = selfplay_rates(game, evaluator, batch, simulations, seconds, eval_cache=0)
        runs.append(1e6 / rates["nn_evals_per_cpu_s"])
    return sorted(runs)[len(runs) // 2]


def sweep(name: str, game, model: bytes, args) -> None:
    """Self-play against raw ONNX over games in parallel x ORT threads; the best is marked."""
    rows = []
    for threads in (1, 2):
        session = make_session(model, threads)
        for batch in (32, 64, 128, 256):
            raw, raw_cpu = raw_onnx_rate(session, game, batch, args.seconds / 2)
            rates = selfplay_rates(
                game, make_evaluator(session), batch, args.simulations, args.seconds, eval_cache=0
            )
            rows.append((threads, batch, raw, raw_cpu, rates))
    best = max(rows, key=lambda row: row[4]["nn_evals_per_s"])
    for threads, batch, raw, raw_cpu, rates in rows:
        print(
            f"{name:10s} threads {threads} batch {batch:4d}: raw {raw:8.0f}/s  selfplay "
            f"{rates['nn_evals_per_s']:8.0f} evals/s ({rates['nn_evals_per_s'] / raw:4.2f}x raw; "
            f"cpu {rates['nn_evals_per_cpu_s'] / raw_cpu:4.2f}x)  "
            f"{rates['positions_per_s']:7.1f} positions/s"
            + ("  <- best" if (threads, batch) == best[:2] else ""),
            flush=True,
        )


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
    parser.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="play and time the int8 copy, as the actor does (default: the actor's per game)",
    )
    parser.add_argument("--sweep", action="store_true", help="table over batch and threads")
    parser.add_argument("--profile", action="store_true", help="tree code alone (free evaluator)")
    parser.add_argument("--repeats", type=int, default=3, help="--profile: median of this many")
    args = parser.parse_args()
    summary = {}
    for name in args.games or list_games():
        game = get_game(name)
        batch = args.batch or default_config(game).games_in_parallel
        if args.profile:
            micros = profile(game, batch, args.simulations, args.seconds, args.repeats)
            print(f"{name}: batch {batch}: tree code + glue {micros:.3f} CPU us per evaluation")
            summary[name] = {"tree_cpu_us_per_eval": round(micros, 3), "batch": batch}
            continue
        model = default_model_bytes(game)
        if args.sweep:
            sweep(name, game, model, args)
            continue
        session = make_session(model, args.threads)
        precision = "float32"
        if ActorConfig(game=name, int8=args.int8).int8_selfplay():
            quantized = int8_session(game, model, args.threads)
            if quantized is not None:
                session, precision = quantized, "int8"
        evaluator = make_evaluator(session)
        raw, raw_cpu = raw_onnx_rate(session, game, batch, args.seconds)
        rates = selfplay_rates(game, evaluator, batch, args.simulations, args.seconds, eval_cache=0)
        cached = selfplay_rates(game, evaluator, batch, args.simulations, args.seconds)
        single = single_search_positions_per_s(
            game, evaluator, rates["simulations"], min(args.seconds, 5.0)
        )
        print(
            f"{name}: {precision} network, batch {batch}, {rates['simulations']} simulations/move,"
            f" ORT threads {args.threads}: self-play {rates['nn_evals_per_s']:.0f} evals/s vs raw"
            f" ONNX {raw:.0f}/s ({rates['nn_evals_per_s'] / raw:.2f}x; per CPU second "
            f"{rates['nn_evals_per_cpu_s'] / raw_cpu:.2f}x; evaluation cache off), fill "
            f"{rates['batch_fill']:.3f}; {cached['positions_per_s']:.1f} positions/s and "
            f"{cached['games_per_s']:.2f} games/s with the evaluation cache "
            f"({rates['positions_per_s']:.1f} positions/s without); one-at-a-time search "
            f"{single:.2f} positions/s -> speed-up {rates['positions_per_s'] / single:.1f}x (both"
            " without the cache)",
            flush=True,
        )
        summary[name] = {
            "nn_evals_per_s": round(rates["nn_evals_per_s"], 1),
            "raw_onnx_evals_per_s": round(raw, 1),
            "positions_per_s": round(cached["positions_per_s"], 2),
            "games_per_s": round(cached["games_per_s"], 3),
            "batch": batch,
            "cpu_ratio": round(rates["nn_evals_per_cpu_s"] / raw_cpu, 3),
            "positions_per_s_no_cache": round(rates["positions_per_s"], 2),
            "precision": precision,
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
