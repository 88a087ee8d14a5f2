"""Perfect play where a game is solved: the win/draw/loss value of every move.

Used by evaluation (share of optimal moves) and by the "perfect" player on the page.
`solve_action_values(game_name, state)` -> float32[num_actions]: for each legal move, +1 if the
side to move wins after it with perfect play, 0 draw, -1 loss; NaN for illegal moves (all NaN once
the game is over). Connect 4 positions with very few stones can take minutes; pass `max_nodes`
or `time_limit_s` to get None instead of waiting.
"""

from __future__ import annotations

import numpy as np

SOLVABLE_GAMES = ("tictactoe", "connect4")


def solve_action_values(
    game_name: str,
    state: np.ndarray,
    *,
    max_nodes: int | None = None,
    time_limit_s: float | None = None,
) -> np.ndarray | None:
    """Value of each action for the side to move (see module doc); None if a budget ran out.

    The budgets apply to Connect 4 (Tic-tac-toe is a table look-up). A game without a solver or
    an inconsistent state gets a ValueError saying what is wrong.
    """
    if game_name == "tictactoe":
        from engine.solvers import tictactoe

        return tictactoe.action_values(state)
    if game_name == "connect4":
        from engine.solvers import connect4

        return connect4.action_values(state, max_nodes=max_nodes, time_limit_s=time_limit_s)
    raise ValueError(
        f"no solver for game {game_name!r}; solvable games: {', '.join(SOLVABLE_GAMES)}"
    )


def best_actions(
    game_name: str,
    state: np.ndarray,
    *,
    max_nodes: int | None = None,
    time_limit_s: float | None = None,
) -> list[int] | None:
    """The legal actions with the best value for the side to move ([] once the game is over)."""
    values = solve_action_values(game_name, state, max_nodes=max_nodes, time_limit_s=time_limit_s)
    if values is None:
        return None
    if np.all(np.isnan(values)):
        return []
    best = np.nanmax(values)
    return [int(a) for a in np.flatnonzero(values == best)]
