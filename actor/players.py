"""Move selection for the API's players: alphazero, mcts, random and perfect.

Each player answers with the same shape (a `MoveChoice`): the action, the value for the side to
move, and visit and prior distributions over all actions, so the web page draws every opponent
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.game import Game

PLAYERS = ("alphazero", "mcts", "random", "perfect")
SOLVED_GAMES = ("tictactoe", "connect4")
TIE_BREAK_SIMULATIONS = 400  # classic MCTS that picks among the solver's equally good moves


class PlayerError(ValueError):
    """A request this player cannot answer (e.g. `perfect` for an unsolved game)."""


@dataclass
class MoveChoice:
    action: int
    value: float
    visits: np.ndarray  # float32 [num_actions], sums to 1 over legal moves
    prior: np.ndarray  # float32 [num_actions]


def players_for(game_name: str) -> list[str]:
    return [p for p in PLAYERS if p != "perfect" or game_name in SOLVED_GAMES]


def _uniform(legal: np.ndarray) -> np.ndarray:
    return (legal / legal.sum()).astype(np.float32)


def choose_move(
    game: Game,
    state: np.ndarray,
    player: str,
    simulations: int,
    evaluator=None,
    *,
    seed: int = 0,
    solver_time_s: float | None = None,
) -> MoveChoice:
    """The move `player` makes in `state` (which must be ongoing) with `simulations` budget."""
    legal = game.legal_mask(state)
    if not legal.any():
        raise PlayerError("the game is over: no legal move")
    if player == "random":
        action = int(np.random.default_rng(seed).choice(np.flatnonzero(legal)))
        uniform = _uniform(legal)
        return MoveChoice(action, 0.0, uniform, uniform)
    if player == "perfect":
        return _perfect(game, state, legal, seed, solver_time_s)
    from actor import mcts  # built per game on first use (Numba)

    if player == "alphazero":
        result = mcts.alphazero_search(game, state, simulations, evaluator, seed=seed)
    elif player == "mcts":
        if simulations < 1:  # 0 is the network's policy alone: alphazero only
            raise PlayerError(f"player 'mcts' needs at least 1 simulation, got {simulations}")
        result = mcts.classic_mcts_search(game, state, simulations, seed=seed)
    else:
        raise PlayerError(f"unknown player {player!r}; players: {', '.join(PLAYERS)}")
    return MoveChoice(
        int(result.action),
        float(np.clip(result.value, -1.0, 1.0)),
        np.asarray(result.visits, dtype=np.float32),
        np.asarray(result.prior, dtype=np.float32),
    )


class SolverTimeout(RuntimeError):
    """The solver did not finish within its time budget (early Connect 4 positions)."""


def _perfect(
    game: Game, state: np.ndarray, legal: np.ndarray, seed: int, time_limit_s: float | None
) -> MoveChoice:
    """A best move by the solver (`perfect_choice`); visits spread over all best moves."""
    if game.name not in SOLVED_GAMES:
        raise PlayerError(f"player 'perfect' is not available for {game.name}")
    try:
        from engine.solvers import solve_action_values
    except ImportError:
        raise PlayerError("player 'perfect' is not available: no solver installed") from None
    try:
        values = solve_action_values(game.name, state, time_limit_s=time_limit_s)
    except ValueError as error:
        raise PlayerError(f"player 'perfect': {error}") from None
    if values is None:
        raise SolverTimeout(
            f"the {game.name} solver did not finish in {time_limit_s:g} s for this position"
        )
    action, best = perfect_choice(game, state, values, seed)
    visits = np.zeros(game.num_actions, dtype=np.float32)
    visits[best] = 1.0 / len(best)
    return MoveChoice(action, float(values[action]), visits, _uniform(legal))


def perfect_choice(
    game: Game, state: np.ndarray, values: np.ndarray, seed: int
) -> tuple[int, np.ndarray]:
    """(the move to play, the best moves) from the solver's `values` of every move.

    The solver knows win, draw or loss, not how long either takes, so its best moves are often
    many: every winning move, or every move of a lost position. Among them the one classic MCTS
    visits most is played, so that "perfect" takes a win at once rather than one in 15 moves,
    and when lost still blocks the threat in front of it instead of playing at random.
    """
    scores = np.where(game.legal_mask(state), np.nan_to_num(values, nan=-2.0), -np.inf)
    best = np.flatnonzero(scores == scores.max())
    if len(best) == 1:
        return int(best[0]), best
    from actor import mcts  # built per game on first use (Numba)

    visits = mcts.classic_mcts_search(game, state, TIE_BREAK_SIMULATIONS, seed=seed).visits
    return int(best[np.argmax(visits[best])]), best
