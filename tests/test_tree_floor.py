"""benchmarks/tree_floor.py times a lean PUCT as the floor for the actor's tree code: that
number means something only if the lean tree is a correct search."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_tree_floor():
    sys.path.insert(0, str(BENCHMARKS))  # it imports its sibling benchmarks/selfplay.py
    spec = importlib.util.spec_from_file_location("tree_floor", BENCHMARKS / "tree_floor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lean_tree_is_a_correct_search() -> None:
    floor = load_tree_floor()
    games = 3
    trees = floor.new_trees(games)
    first, count, parent, mine, theirs, visits, value_sum, prior, terminal, nodes = trees
    logits = np.zeros((games, 9), np.float32)
    values = np.zeros(games, np.float32)
    evaluations = floor.search(trees, logits, values)
    assert 0 < evaluations <= games * floor.SIMULATIONS
    for t in range(games):
        assert visits[t, 0] == floor.SIMULATIONS
        np.testing.assert_allclose(prior[t, 1:10], 1 / 9, rtol=1e-6)  # softmax of equal logits
        for node in range(nodes[t]):  # every visit went to exactly one child
            if first[t, node] >= 0:
                children = slice(first[t, node], first[t, node] + count[t, node])
                assert visits[t, node] == 1 + visits[t, children].sum()
                assert (parent[t, children] == node).all()
    # X (to move) has cells 0 and 1, O has 3 and 4: cell 2 wins at once, found and preferred
    floor.search(trees, logits, values, root=(0b11, 0b11000))
    children = range(first[0, 0], first[0, 0] + count[0, 0])
    best = max(children, key=lambda child: visits[0, child])
    assert theirs[0, best] == 0b111 and terminal[0, best] == -1
    assert visits[0, best] > floor.SIMULATIONS / 2
