"""Classic MCTS against OpenSpiel's MCTSBot: in the same positions, the same best move and close
visit shares.

Both searches are UCT with c = DEFAULT_UCT_C and one uniformly random rollout per leaf: a leaf's
first visit is a rollout, its second expands it, and unvisited children are tried in random
order. The reference is OpenSpiel's Python MCTSBot (`open_spiel.python.algorithms.mcts`) with its
RandomRolloutEvaluator, given one rule of ours (`uct_like_ours`): OpenSpiel scores a child whose
game is over at its result alone, without the exploration bonus, and plays a winning one whatever
its visits; ours scores it like any other child and plays the most-visited move. With
OpenSpiel's own rule the shares below differ by a total variation of up to about 0.1 (a child
with a known result is visited less), although the preferred move is the same:
`test_openspiels_own_bot_prefers_the_same_moves` checks that much with its C++ bot.

Each position is searched twice by each side (seeds 0 and 1) and the mean shares compared; the
bound is on the mean total variation over a game's positions. Over seed pairs (2k, 2k + 1), that
mean was at most 0.014 / 0.024 / 0.068 (Tic-tac-toe 16 pairs / Connect 4 7 / Othello 7) with
the search as it is, and at least 0.044 / 0.087 / 0.157 when ours ran with c = 1 or c = 3
instead of 2, or with a rollout's result of the wrong sign. Each bound (0.025 / 0.05 / 0.10)
sits between the two, at least 1.5 times from either.
"""

from __future__ import annotations

import math

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import mcts as openspiel_mcts
from test_engine_rules import openspiel_game

from actor.mcts import DEFAULT_UCT_C, classic_mcts_search
from engine import get_game

SEEDS = (0, 1)


# (game, simulations, bound on the mean total variation, [(moves played, the preferred move)])
CASES = [
    ("tictactoe", 4000, 0.025, [
        ([0, 3, 1, 4], 2),  # win at once
        ([4, 8, 2], 6),  # block
        ([5, 6, 8, 3], 2),  # win at once rather than block at 0
        ([7, 1, 0, 3], 8),  # the only winning move: a fork
        ([7, 8], 4),  # mid-game: one of four drawing moves, the centre
        ([7, 0], 6),  # mid-game: the only winning move
    ]),
    ("connect4", 3000, 0.05, [
        ([3, 0, 3, 0, 3, 6], 3),  # win at once
        ([3, 2, 3, 2, 3], 3),  # block
        # From random games: the solver's only winning move.
        ([1, 1, 6, 4, 0, 1, 3, 6, 6, 1, 4, 0, 1], 2),
        ([0, 1, 5, 0, 4, 0, 2, 6, 2, 2, 0, 5, 1], 3),
        ([1, 6, 1, 6, 2, 5, 0, 4, 6, 2], 3),
        ([2, 3, 4, 2, 3, 4, 4, 4, 0, 1, 5, 4], 3),
    ]),
    ("othello", 2000, 0.10, [  # late positions of random games: short rollouts
        ([44, 29, 22, 43, 34, 42, 20, 53, 49, 15, 38, 25, 41, 12, 11, 10, 2, 19, 52, 21, 18,
          51, 16, 17, 26, 24, 62, 4, 60, 56, 50, 3, 13, 54, 32, 37, 57, 40, 5, 59, 46, 58, 9,
          8, 61, 1, 0, 30, 39], 63),
        ([44, 29, 19, 52, 53, 10, 51, 60, 30, 34, 45, 62, 43, 37, 20, 59, 26, 21, 42, 23, 13,
          41, 12, 18, 61, 38, 48, 22, 63, 4, 11, 40, 39, 2, 5, 47, 54, 33, 58, 14, 9, 46, 1, 6,
          15], 55),
        ([37, 29, 22, 45, 19, 15, 53, 26, 18, 10, 9, 61, 38, 46, 25, 8, 11, 39, 55, 24, 32, 42,
          30, 34, 49, 12, 60, 54, 43, 33, 16, 50, 4, 3, 57, 5, 51, 20, 31, 40, 2, 59, 41, 58, 6,
          23, 44, 21, 0, 56, 17], 48),
    ]),
]  # fmt: skip
GAMES = [case[0] for case in CASES]


def uct_like_ours(node, parent_explore_count: int, uct_c: float) -> float:
    """OpenSpiel's UCT value, except that a child whose game is over gets the exploration bonus
    too, as in our search (OpenSpiel's own rule scores it at its result alone)."""
    if node.outcome is None:
        return openspiel_mcts.SearchNode.uct_value(node, parent_explore_count, uct_c)
    # A child has an outcome only once a simulation has reached it: explore_count >= 1.
    mean = node.total_reward / node.explore_count
    return mean + uct_c * math.sqrt(math.log(parent_explore_count) / node.explore_count)


def our_shares(name: str, moves: list[int], simulations: int, seed: int) -> np.ndarray:
    game = get_game(name)
    state = game.initial_state()
    for move in moves:
        game.apply_action(state, move)
    return classic_mcts_search(game, state, simulations, seed=seed).visits.astype(np.float64)


def root_shares(root, num_actions: int) -> np.ndarray:
    """The visit share of each action at an OpenSpiel search root (zero where unvisited)."""
    visits = np.zeros(num_actions)
    for child in root.children:
        visits[child.action] = child.explore_count
    return visits / visits.sum()


def openspiel_shares(name: str, moves: list[int], simulations: int, seed: int) -> np.ndarray:
    game = openspiel_game(name)
    state = game.new_initial_state()
    for move in moves:
        state.apply_action(move)
    bot = openspiel_mcts.MCTSBot(
        game,
        DEFAULT_UCT_C,
        # OpenSpiel's first simulation is the root's own rollout, which ours runs on top of its
        # `simulations`: one more here gives both the same number of visits below the root.
        simulations + 1,
        openspiel_mcts.RandomRolloutEvaluator(1, np.random.RandomState(seed)),
        solve=False,
        random_state=np.random.RandomState(seed),
        child_selection_fn=uct_like_ours,
    )
    return root_shares(bot.mcts_search(state), game.num_distinct_actions())


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


@pytest.mark.parametrize(("name", "simulations", "bound", "positions"), CASES, ids=GAMES)
def test_classic_mcts_visits_moves_as_openspiels_bot(name, simulations, bound, positions):
    distances = []
    for moves, preferred in positions:
        ours = np.mean([our_shares(name, moves, simulations, s) for s in SEEDS], axis=0)
        theirs = np.mean([openspiel_shares(name, moves, simulations, s) for s in SEEDS], axis=0)
        where = f"{name} after {moves}: ours {ours.round(3)}, OpenSpiel's {theirs.round(3)}"
        assert ours.argmax() == theirs.argmax() == preferred, where
        distances.append(total_variation(ours, theirs))
    assert np.mean(distances) < bound, [round(d, 3) for d in distances]


@pytest.mark.parametrize(("name", "simulations", "_", "positions"), CASES, ids=GAMES)
def test_openspiels_own_bot_prefers_the_same_moves(name, simulations, _, positions):
    """OpenSpiel's C++ MCTSBot, with its own rule for finished children, visits the same moves
    most."""
    game = openspiel_game(name)
    for moves, preferred in positions:
        state = game.new_initial_state()
        for move in moves:
            state.apply_action(move)
        bot = pyspiel.MCTSBot(
            game,
            pyspiel.RandomRolloutEvaluator(1, 0),
            DEFAULT_UCT_C,
            simulations,
            1000,
            False,
            0,
            False,
        )
        shares = root_shares(bot.mcts_search(state), game.num_distinct_actions())
        assert shares.argmax() == preferred, (name, moves, shares.round(3))
