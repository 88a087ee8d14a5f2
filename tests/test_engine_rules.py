"""Our rules against OpenSpiel's, move by move, in thousands of random games of every game.

Both engines use the same action numbering (docs/architecture.md), so one random move list drives
both; at every step the legal actions, the side to move, terminal and the winner must agree, and
the board our network planes show must be OpenSpiel's board.
"""

from __future__ import annotations

import random

import numpy as np
import pyspiel
import pytest

from engine import EngineContext, get_game, list_games
from engine.playouts import build_random_playouts

OPENSPIEL_NAMES = {"tictactoe": "tic_tac_toe", "connect4": "connect_four", "othello": "othello"}
RANDOM_GAMES = 1000


def openspiel_game(name: str) -> pyspiel.Game:
    if name not in OPENSPIEL_NAMES:
        pytest.skip(f"no OpenSpiel counterpart known for {name}")
    return pyspiel.load_game(OPENSPIEL_NAMES[name])


def openspiel_board(name: str, state: pyspiel.State) -> np.ndarray:
    """OpenSpiel's board as int [rows, cols], top row first: 1 first player, 2 second, 0 empty."""
    lines = str(state).splitlines()
    if name == "othello":  # "Black (x) to play:", column letters, then "1 - x o ... 1" rows
        rows = [line.split()[1:9] for line in lines if line[:1].isdigit()]
    else:  # rows of 'x', 'o', '.' with the top row first
        rows = [list(line) for line in lines if line]
    return np.array([[{"x": 1, "o": 2}.get(cell, 0) for cell in row] for row in rows])


@pytest.mark.parametrize("name", list_games())
def test_random_games_match_openspiel_move_by_move(name: str) -> None:
    theirs_game = openspiel_game(name)
    ctx = EngineContext(name)
    rng = random.Random(20261126)
    lengths = []
    for game_index in range(RANDOM_GAMES):
        ours = ctx.reset()
        theirs = theirs_game.new_initial_state()
        moves: list[int] = []
        while True:
            where = f"{name} game {game_index} after moves {moves}"
            assert ours.terminal == theirs.is_terminal(), where
            if ours.terminal:
                assert ours.winner == int(theirs.returns()[0]), where
                assert not ours.legal_mask.any(), where
                break
            legal = ours.legal_mask.nonzero()[0].tolist()
            assert legal == theirs.legal_actions(), where
            assert ours.to_play == theirs.current_player(), where
            action = rng.choice(legal)
            moves.append(action)
            ours = ctx.step(ours.state, action)
            theirs.apply_action(action)
        assert len(moves) <= ctx.game.max_game_length, where
        lengths.append(len(moves))
    # Random games must reach the end in varied ways, or the comparison proved little.
    assert len(set(lengths)) > 3


@pytest.mark.parametrize("name", list_games())
def test_network_planes_show_openspiels_board(name: str) -> None:
    theirs_game = openspiel_game(name)
    ctx = EngineContext(name)
    rng = random.Random(7)
    for _ in range(100):
        ours = ctx.reset()
        theirs = theirs_game.new_initial_state()
        while True:
            planes = ctx.encode(ours.state)
            assert planes.shape == ctx.game.plane_shape and planes.dtype == np.float32
            board = openspiel_board(name, theirs)
            # plane 0: the side to move's stones, plane 1: the opponent's
            first, second = (0, 1) if ours.to_play == 0 else (1, 0)
            np.testing.assert_array_equal(planes[first], board == 1)
            np.testing.assert_array_equal(planes[second], board == 2)
            if ours.terminal:
                break
            action = rng.choice(ours.legal_mask.nonzero()[0].tolist())
            ours = ctx.step(ours.state, action)
            theirs.apply_action(action)


@pytest.mark.parametrize("name", list_games())
def test_bulk_playouts_have_openspiels_random_game_statistics(name: str) -> None:
    """Jitted random playouts: same outcome rates and game length as OpenSpiel's random games."""
    theirs_game = openspiel_game(name)
    rng = random.Random(3)
    reference_games = 2000
    first_wins = 0
    lengths = np.empty(reference_games)
    for index in range(reference_games):
        state = theirs_game.new_initial_state()
        while not state.is_terminal():
            state.apply_action(rng.choice(state.legal_actions()))
        first_wins += state.returns()[0] > 0
        lengths[index] = state.move_number()
    ours_games = 20000
    totals = build_random_playouts(get_game(name))(ours_games, 11)
    assert totals[:3].sum() == ours_games

    def standard_error(variance: float) -> float:
        return float(np.sqrt(variance / reference_games + variance / ours_games))

    p = first_wins / reference_games
    assert abs(totals[0] / ours_games - p) < 5 * standard_error(p * (1 - p)) + 1e-9
    mean_length = totals[3] / ours_games
    assert abs(mean_length - lengths.mean()) < 5 * standard_error(lengths.var()) + 1e-9
