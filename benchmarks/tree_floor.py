"""How fast could any batched PUCT tree be for Tic-tac-toe? A floor for the self-play speed target.

The target asks that self-play reach 0.8x raw ONNX Runtime's evaluations/s, i.e. that the tree
code take at most a quarter of the network's time per evaluation. Tic-tac-toe's default network
(a 2x128 MLP) costs 0.31-0.37 us per evaluation at batch 128 on one thread, which leaves the
tree 0.08-0.09 us (some 250 cycles) per simulation.

This script times the leanest batched PUCT written for the purpose, as the yardstick for the
actor's tree code: Tic-tac-toe only, bitboards (two 9-bit masks per node), children contiguous,
one leaf per tree and batch, a free evaluator (fixed answers), softmax priors, exact terminal
values, backup. Nothing else the actor does: no tree reuse, no Dirichlet noise, no temperature
or move play, no records, no evaluation cache; each search starts from a cleared tree. It prints
CPU microseconds per evaluation for this floor and for the actor's self-play (the `--profile`
number of benchmarks/selfplay.py), the network's own cost, and the ratio to raw ONNX each would
reach at best (network / (network + tree)).

    .venv/bin/python benchmarks/tree_floor.py [--seconds 2] [--repeats 5]

The last line is JSON: {"network_us", "floor_tree_us", "actor_tree_us", "floor_best_ratio",
"actor_best_ratio", "tree_us_allowed_by_target"}.

Five runs on a 2-core machine (CPU us per evaluation): network 0.31-0.38,
floor 0.22-0.24, actor 0.46-0.52; at best 0.58-0.62x raw with the floor and 0.39-0.42x with
the actor's tree, where 0.8x allows 0.08-0.09. Even the floor costs 2.5 to 2.9 times that.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from selfplay import default_model_bytes, make_session, profile, raw_onnx_rate  # noqa: E402

from engine import get_game  # noqa: E402
from engine.games.tictactoe import WIN_LINES  # noqa: E402  (9-bit masks, cell i is bit i)

OPEN = 2  # `terminal` of a node whose game goes on (else its exact value for the side to move)
SIMULATIONS, GAMES, MAX_NODES = 100, 128, 1200


@numba.njit(cache=True)
def clear(trees: tuple, t: int) -> None:
    first, count, parent, mine, theirs, visits, value_sum, prior, terminal, nodes = trees
    nodes[t] = 1
    first[t, 0], count[t, 0], parent[t, 0] = -1, 0, -1
    mine[t, 0], theirs[t, 0], visits[t, 0], value_sum[t, 0], terminal[t, 0] = 0, 0, 0, 0, OPEN


@numba.njit(cache=True)
def select(trees: tuple, c: float, planes: np.ndarray, leaves: np.ndarray) -> int:
    """One leaf per unfinished tree, its planes written; terminal leaves are backed up on the
    spot and the tree descends again."""
    first, count, parent, mine, theirs, visits, value_sum, prior, terminal, nodes = trees
    found = 0
    for t in range(nodes.shape[0]):
        while visits[t, 0] < SIMULATIONS:
            node = 0
            while first[t, node] >= 0 and terminal[t, node] == OPEN:
                start = first[t, node]
                scale = c * math.sqrt(max(visits[t, node], 1.0))
                best, best_score = start, -1e30
                for child in range(start, start + count[t, node]):
                    n = visits[t, child]
                    score = value_sum[t, child] / max(n, 1.0) + scale * prior[t, child] / (1.0 + n)
                    if score > best_score:
                        best, best_score = child, score
                node = best
            if terminal[t, node] != OPEN:
                value = -np.float32(terminal[t, node])  # for the side that moved into the node
                while node >= 0:
                    visits[t, node] += 1
                    value_sum[t, node] += value
                    value, node = -value, parent[t, node]
                continue
            for i in range(9):
                planes[found, i] = (mine[t, node] >> i) & 1
                planes[found, 9 + i] = (theirs[t, node] >> i) & 1
            leaves[found, 0], leaves[found, 1] = t, node
            visits[t, node] += 1  # counted now: its backup adds the rest of the path
            found += 1
            break
    return found


@numba.njit(cache=True)
def expand_backup(trees: tuple, found: int, leaves, logits, values) -> None:
    """Softmax priors over the empty cells, children with exact values where the game ends,
    then the leaf's value up the path."""
    first, count, parent, mine, theirs, visits, value_sum, prior, terminal, nodes = trees
    weights = np.empty(9, np.float32)
    for b in range(found):
        t, node = leaves[b, 0], leaves[b, 1]
        occupied = mine[t, node] | theirs[t, node]
        top = np.float32(-1e30)
        for a in range(9):
            if not (occupied >> a) & 1:
                top = max(top, logits[b, a])
        total = np.float32(0.0)
        for a in range(9):
            if not (occupied >> a) & 1:
                weights[a] = math.exp(logits[b, a] - top)
                total += weights[a]
        child = start = nodes[t]
        for a in range(9):
            if not (occupied >> a) & 1:
                played = mine[t, node] | (1 << a)
                mine[t, child], theirs[t, child] = theirs[t, node], played  # the other side moves
                prior[t, child] = weights[a] / total
                visits[t, child], value_sum[t, child] = 0, 0
                first[t, child], count[t, child], parent[t, child] = -1, 0, node
                terminal[t, child] = OPEN
                for line in WIN_LINES:
                    if played & line == line:
                        terminal[t, child] = -1  # the side to move there has lost
                if terminal[t, child] == OPEN and played | theirs[t, node] == 511:
                    terminal[t, child] = 0
                child += 1
        nodes[t] = child
        first[t, node], count[t, node] = start, child - start
        value = -values[b]  # a node keeps its value for the side that moved into it
        value_sum[t, node] += value
        value, node = -value, parent[t, node]
        while node >= 0:
            visits[t, node] += 1
            value_sum[t, node] += value
            value, node = -value, parent[t, node]


def new_trees(games: int) -> tuple:
    """Node arrays for `games` trees of MAX_NODES nodes."""
    shape = (games, MAX_NODES)
    return (
        *(np.zeros(shape, np.int32) for _ in range(5)),
        *(np.zeros(shape, np.float32) for _ in range(3)),
        np.zeros(shape, np.int8),
        np.zeros(games, np.int64),
    )


def search(trees: tuple, logits: np.ndarray, values: np.ndarray, root: tuple = (0, 0)) -> int:
    """Clears the trees to the position `root` (bitboards of the side to move and the other;
    default the empty board), then runs every tree's search to SIMULATIONS visits with the
    fixed answers; the number of evaluations."""
    games = trees[-1].shape[0]
    for t in range(games):
        clear(trees, t)
    trees[3][:, 0], trees[4][:, 0] = root
    planes = np.zeros((games, 18), np.float32)
    leaves = np.zeros((games, 2), np.int64)
    evaluations = 0
    while found := select(trees, 1.5, planes, leaves):
        expand_backup(trees, found, leaves, logits, values)
        evaluations += found
    return evaluations


def floor_us(seconds: float, repeats: int) -> float:
    """Median CPU microseconds per evaluation of the lean tree with a free evaluator."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(GAMES, 9)).astype(np.float32)
    values = rng.uniform(-0.5, 0.5, GAMES).astype(np.float32)
    trees = new_trees(GAMES)
    search(trees, logits, values)  # compile and warm up
    runs = []
    for _ in range(repeats):
        evaluations, cpu, until = 0, time.process_time(), time.perf_counter() + seconds
        while time.perf_counter() < until:
            evaluations += search(trees, logits, values)
        runs.append((time.process_time() - cpu) / evaluations * 1e6)
    return sorted(runs)[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    game = get_game("tictactoe")
    session = make_session(default_model_bytes(game), threads=1)
    network = 1e6 / raw_onnx_rate(session, game, GAMES, args.seconds)[1]
    floor = floor_us(args.seconds, args.repeats)
    actor = profile(game, GAMES, SIMULATIONS, args.seconds, args.repeats)
    result = {
        "network_us": round(network, 3),
        "floor_tree_us": round(floor, 3),
        "actor_tree_us": round(actor, 3),
        "floor_best_ratio": round(network / (network + floor), 2),
        "actor_best_ratio": round(network / (network + actor), 2),
        "tree_us_allowed_by_target": round(network / 4, 3),
    }
    print(
        f"tictactoe, batch {GAMES}, {SIMULATIONS} simulations, CPU us per evaluation: network"
        f" {network:.3f} (raw ONNX, 1 thread); lean floor tree {floor:.3f} -> at best"
        f" {result['floor_best_ratio']:.2f}x raw; actor's tree {actor:.3f} -> at best"
        f" {result['actor_best_ratio']:.2f}x; 0.8x needs a tree of at most {network / 4:.3f}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
