"""Othello: train on all 8 board symmetries, or only on the 4 that keep the start position?

Four of the square's eight symmetries (90-degree turns and the two axis mirrors) map Othello's
start to its colour-swapped twin, so the positions they make never occur from the real start
(0% overlap up to ply 6). Their labels are still right (the rules do not care), but they are half
of the samples. This A/B trains two networks on the same self-play games, same network,
optimiser, seed and number of steps (the learner's replay ratio of 8 over the training games),
one drawing each sample through all 8 symmetries (the learner's default), one through the 4 that
keep the start (0, 3, 4, 7). It scores both on held-out games (the newest 15%, unaugmented):
policy cross-entropy against the search's visits, value MSE against the outcome, and how often
the policy's top move is the search's; then the two play each other (paired random 4-move
openings, colours swapped, 32 simulations each).

Data: self-play of the shipped model, e.g.
    mkdir -p /tmp/oth/othello/models
    cp data/pretrained/othello.onnx /tmp/oth/othello/models/latest.onnx
    .venv/bin/python -m actor --game othello --data-dir /tmp/oth --simulations 100 --no-evaluation
    (stop it after ~3,000 games), then
    .venv/bin/python benchmarks/othello_symmetries.py /tmp/oth/othello/replay.db [--seeds 0 1]

Result on a 2-core machine: 3,160 games (163,478 training and 28,843
held-out positions), 5,108 steps of batch 256 per network:

    seed  symmetries  policy CE  value MSE  top move  match (all 8's wins-draws-losses)
    0     all 8       1.3850     0.6883     63.4%     101-7-92
    0     keep 4      1.3950     0.6812     62.7%
    1     all 8       1.3888     0.6696     63.2%     111-5-84
    1     keep 4      1.3935     0.6815     63.8%

All 8 was a little better in policy loss in both seeds, mixed in value loss, and scored 0.545
over the 400 games (212-12-176; about 1.8 standard errors). No sign that the unreachable half
costs anything: the learner keeps all 8.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actor.arena import AlphaZeroAgent, play_match  # noqa: E402
from engine import get_game  # noqa: E402
from learner.config import make_config  # noqa: E402
from learner.export import onnx_bytes  # noqa: E402
from learner.network import build_network  # noqa: E402
from learner.replay import Replay, ReplayWindow  # noqa: E402
from learner.train import alphazero_loss, build_optimizer  # noqa: E402

ARMS = {"all8": None, "keep4": [0, 3, 4, 7]}  # keep4: identity, 180 degrees, both diagonals
HELD_OUT = 0.15  # the newest games, scored and never trained on


def load(db: str) -> tuple:
    """(game, training arrays, held-out arrays) from replay.db, split by game."""
    game = get_game("othello")
    replay = Replay(game, Path(db), window_positions=3_000_000)
    replay.poll()
    window, n = replay.window, replay.window.size
    ids = window.game_ids[:n]
    games = np.unique(ids)
    train = ids < games[int(len(games) * (1 - HELD_OUT))]
    planes = window.planes[:n].astype(np.float32).reshape(n, *game.plane_shape)
    policy, values = window.policy[:n], window.values[:n]
    print(f"{len(games)} games, {n} positions: {train.sum()} trained on, {(~train).sum()} held out")
    return (
        game,
        (planes[train], policy[train], values[train], ids[train]),
        (planes[~train], policy[~train], values[~train]),
    )


def held_out_scores(model: torch.nn.Module, held_out: tuple) -> tuple[float, float, float]:
    """(policy cross-entropy, value MSE, top-move agreement) over the held-out positions."""
    planes, policy, values = (torch.from_numpy(a) for a in held_out)
    model.eval()
    sums = np.zeros(3)
    with torch.no_grad():
        for i in range(0, len(values), 4096):
            part = slice(i, i + 4096)
            logits, value = model(planes[part])
            _, ce, mse = alphazero_loss(logits, value, policy[part], values[part])
            top = (logits.argmax(1) == policy[part].argmax(1)).sum().item()
            sums += (ce.item() * len(values[part]), mse.item() * len(values[part]), top)
    model.train()
    return tuple(sums / len(values))


def train(game, data: tuple, symmetries, seed: int, ratio: float, held_out: tuple):
    """A network trained on `data` through `symmetries`; (model, final held-out scores)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    config = make_config("othello", seed=seed)
    planes, policy, values, ids = data
    window = ReplayWindow(game, len(values), symmetries)
    label = f"{len(symmetries) if symmetries else game.symmetry_cell_perms.shape[0]} symmetries"
    window.add(planes, policy, values, ids)
    model = build_network(game, config)
    optimizer = build_optimizer(config, model)
    steps = int(ratio * len(values) / config.batch_size)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        batch, target_policy, target_values = window.sample(config.batch_size, rng)
        logits, value = model(torch.from_numpy(batch))
        total, _, _ = alphazero_loss(
            logits, value, torch.from_numpy(target_policy), torch.from_numpy(target_values)
        )
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        if step % 1000 == 0 or step == steps:
            ce, mse, top = held_out_scores(model, held_out)
            print(
                f"  seed {seed}, {label}, step {step}/{steps}:"
                f" policy CE {ce:.4f}, value MSE {mse:.4f}, top move {top:.1%}"
                f" ({step / (time.perf_counter() - start):.1f} steps/s)",
                flush=True,
            )
    return model, (ce, mse, top)


def agent(game, model: torch.nn.Module, simulations: int, name: str) -> AlphaZeroAgent:
    model.eval()
    session = ort.InferenceSession(onnx_bytes(model, game, step=0))
    return AlphaZeroAgent(
        lambda planes: session.run(["policy", "value"], {"planes": planes}), simulations, name
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="an Othello replay.db")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--ratio", type=float, default=8.0, help="samples per training position")
    parser.add_argument("--games", type=int, default=200, help="match games per seed")
    parser.add_argument("--simulations", type=int, default=32, help="per match move")
    args = parser.parse_args()
    torch.set_num_threads(1)
    game, data, held_out = load(args.db)
    start = game.initial_state()
    for g in ARMS["keep4"]:
        assert np.array_equal(game.transform_state(start.copy(), g), start)
    results: dict[str, list] = {}
    for seed in args.seeds:
        agents = []
        for name, symmetries in ARMS.items():
            model, scores = train(game, data, symmetries, seed, args.ratio, held_out)
            results[f"{name}-seed{seed}"] = [round(s, 4) for s in scores]
            agents.append(agent(game, model, args.simulations, name))
        match = play_match(game, *agents, args.games, seed=seed, opening_moves=4)
        results[f"match-seed{seed}"] = [match.wins, match.draws, match.losses]
        print(f"seed {seed}: all 8 against keep 4: +{match.wins} ={match.draws} -{match.losses}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
