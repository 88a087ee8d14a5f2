"""The `perfect` player among equally good moves: the weak solver says only win, draw or loss,
so "perfect" must take a win at once rather than a slower one, and in a lost position block
the threat in front of it rather than play at random. Positions come from random play, judged
by the real solvers."""

from __future__ import annotations

import numpy as np
import pytest

from actor.arena import PerfectAgent
from actor.players import choose_move, perfect_choice
from engine import get_game
from engine.game import DRAW, ONGOING, Game
from engine.solvers import solve_action_values


def after(game: Game, state: np.ndarray, action: int) -> np.ndarray:
    child = state.copy()
    game.apply_action(child, action)
    return child


def wins_at_once(game: Game, state: np.ndarray, action: int) -> bool:
    status = game.status(after(game, state, action))
    return status not in (ONGOING, DRAW)  # the mover made a line


def allows_a_win_at_once(game: Game, state: np.ndarray, action: int) -> bool:
    child = after(game, state, action)
    if game.status(child) != ONGOING:
        return False
    return any(wins_at_once(game, child, int(a)) for a in np.flatnonzero(game.legal_mask(child)))


def positions(game: Game, wanted, count: int, min_stones: int, seed: int = 0):
    """Up to `count` positions of random games with at least `min_stones` moves for which
    `wanted(state, values)` holds."""
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(4000):
        state, stones = game.initial_state(), 0
        while game.status(state) == ONGOING and len(found) < count:
            if stones >= min_stones:
                values = solve_action_values(game.name, state)
                if wanted(state, values):
                    found.append((state.copy(), values))
                    break
            game.apply_action(state, int(rng.choice(np.flatnonzero(game.legal_mask(state)))))
            stones += 1
        if len(found) == count:
            break
    return found


def legal_values(game: Game, state: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.asarray(values)[np.flatnonzero(game.legal_mask(state))]


@pytest.mark.parametrize("game_name,min_stones", [("tictactoe", 1), ("connect4", 18)])
def test_perfect_takes_a_win_at_once_among_winning_moves(game_name: str, min_stones: int) -> None:
    game = get_game(game_name)

    def several_wins_one_at_once(state, values) -> bool:
        winning = [int(a) for a in np.flatnonzero(game.legal_mask(state)) if values[a] == 1]
        quick = [a for a in winning if wins_at_once(game, state, a)]
        return bool(quick) and len(winning) > len(quick)

    found = positions(game, several_wins_one_at_once, 8, min_stones)
    assert len(found) == 8
    for index, (state, values) in enumerate(found):
        for seed in range(3):
            action, best = perfect_choice(game, state, values, seed=index * 10 + seed)
            assert wins_at_once(game, state, action) and action in best


@pytest.mark.parametrize("game_name,min_stones", [("tictactoe", 1), ("connect4", 18)])
def test_perfect_blocks_when_every_move_loses(game_name: str, min_stones: int) -> None:
    game = get_game(game_name)

    def lost_but_one_move_holds_on(state, values) -> bool:
        legal = np.flatnonzero(game.legal_mask(state))
        if (legal_values(game, state, values) != -1).any():
            return False
        holding = [a for a in legal if not allows_a_win_at_once(game, state, int(a))]
        return 0 < len(holding) < len(legal)

    found = positions(game, lost_but_one_move_holds_on, 8, min_stones)
    assert len(found) == 8
    for index, (state, values) in enumerate(found):
        for seed in range(3):
            action, _ = perfect_choice(game, state, values, seed=index * 10 + seed)
            assert not allows_a_win_at_once(game, state, action)


def test_the_api_player_and_the_arena_agent_choose_alike() -> None:
    """Both go through perfect_choice; the API's visits show every best move, not the pick."""
    game = get_game("tictactoe")
    state = game.initial_state()
    for action in (0, 3, 1):  # x threatens 2; o must block (every o move loses: x forks)
        game.apply_action(state, action)
    answer = choose_move(game, state, "perfect", 0, seed=4)
    assert answer.action == PerfectAgent().act(game, state, seed=4) == 2
    values = solve_action_values("tictactoe", state)
    best = np.flatnonzero(np.nan_to_num(values, nan=-2) == np.nanmax(values))
    np.testing.assert_allclose(answer.visits[best], 1 / len(best))
