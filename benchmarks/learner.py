"""Learner speed: training samples/s end to end from replay.db vs the bare network step.

    .venv/bin/python benchmarks/learner.py [--game tictactoe] [--positions 1000000]

Builds a replay.db with `--positions` positions of random legal games, ingests it into a
window of the same size, then alternates rounds of
  (a) the network's forward + backward + optimiser step on fixed random tensors, and
  (b) the learner's own loop body: sample a batch from the window (random symmetry per
      sample) + the same training step, polling replay.db every `poll_every_steps` steps,
and prints the median samples/s of each and the ratio b/a (target >= 0.8: data handling costs
at most a fifth). Rounds alternate so load from other processes hits both sides alike.
`--precision float32` against the default `auto` shows what bfloat16 training gains here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import get_game  # noqa: E402
from learner.config import make_config  # noqa: E402
from learner.synthetic import build_random_games, create_db  # noqa: E402
from learner.train import Trainer  # noqa: E402
from runfiles.layout import RunFolder  # noqa: E402


def build_db(path: Path, game_name: str, positions: int) -> tuple[int, float]:
    """replay.db with at least `positions` positions of random games; (games, seconds)."""
    from engine.records import GameRecord, encode_record

    game = get_game(game_name)
    start = time.perf_counter()
    connection = create_db(path)
    total_games = total_positions = 0
    seed = 0
    while total_positions < positions:
        moves, offsets, outcomes, visits, roots = build_random_games(game)(20_000, seed)
        seed += 1
        rows = []
        for g in range(len(outcomes)):
            a, b = offsets[g], offsets[g + 1]
            record = GameRecord(moves[a:b], visits[a:b], roots[a:b], int(outcomes[g]))
            rows.append((time.time(), 0, int(b - a), int(outcomes[g]), encode_record(record)))
            total_positions += int(b - a)
            if total_positions >= positions:
                break
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO games (created_at, model_step, num_moves, outcome, data)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("COMMIT")
        total_games += len(rows)
    connection.close()
    return total_games, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="tictactoe")
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=300, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--precision", default="auto", help="auto | float32 | bfloat16 (learner.precision)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        overrides = dict(data_dir=tmp, window_positions=args.positions, threads=args.threads)
        overrides["precision"] = args.precision
        overrides.update(min_positions=1, replay_ratio=1e9)
        if args.batch_size:
            overrides["batch_size"] = args.batch_size
        config = make_config(args.game, **overrides)
        db_path = RunFolder.of(tmp, args.game).replay_db
        games, seconds = build_db(db_path, args.game, args.positions)
        print(f"replay.db: {games} games, {args.positions} positions written in {seconds:.1f} s")

        trainer = Trainer(config)
        trainer.replay.poll(max_rows=10)  # compile the decoder outside the timing
        start = time.perf_counter()
        trainer.replay.poll()
        seconds = time.perf_counter() - start
        size = trainer.replay.size
        print(f"ingest: {size} positions in {seconds:.2f} s = {size / seconds:,.0f} positions/s")

        batch = config.batch_size
        rng = np.random.default_rng(0)
        trainer.replay.sample(batch, rng)
        start = time.perf_counter()
        for _ in range(2_000):
            trainer.replay.sample(batch, rng)
        sample_rate = 2_000 * batch / (time.perf_counter() - start)
        print(f"sampling alone (batch {batch}, window {size}): {sample_rate:,.0f} samples/s")

        planes = np.random.default_rng(1).random((batch, *trainer.game.plane_shape), np.float32)
        policy = np.random.default_rng(2).dirichlet(np.ones(trainer.game.num_actions), batch)
        policy = policy.astype(np.float32)
        values = np.random.default_rng(3).uniform(-1, 1, batch).astype(np.float32)
        for _ in range(20):  # warm-up both paths
            trainer.train_step(planes, policy, values)
            trainer.train_step(*trainer.replay.sample(batch, rng))

        def bare_round() -> float:
            start = time.perf_counter()
            for _ in range(args.steps):
                trainer.train_step(planes, policy, values)
            return args.steps * batch / (time.perf_counter() - start)

        def end_to_end_round() -> float:
            start = time.perf_counter()
            for step in range(args.steps):
                if step % config.poll_every_steps == 0:
                    trainer.poll()
                trainer.train_step(*trainer.replay.sample(batch, trainer.rng))
            return args.steps * batch / (time.perf_counter() - start)

        bare, end_to_end = [], []
        for _ in range(args.rounds):
            bare.append(bare_round())
            end_to_end.append(end_to_end_round())
        bare_rate, e2e_rate = statistics.median(bare), statistics.median(end_to_end)
        print(
            f"network {type(trainer.model).__name__} on {trainer.device} in {trainer.precision}"
            f" ({trainer.precision_reason}), torch threads {torch.get_num_threads()}, batch "
            f"{batch}, {args.rounds} rounds x {args.steps} steps"
        )
        print(f"forward+backward+step on random tensors: {bare_rate:,.0f} samples/s")
        print(f"end to end from replay.db (sample+augment+step+poll): {e2e_rate:,.0f} samples/s")
        print(f"ratio end-to-end / bare: {e2e_rate / bare_rate:.2f}  (target >= 0.80)")
        trainer.replay.close()


if __name__ == "__main__":
    main()
