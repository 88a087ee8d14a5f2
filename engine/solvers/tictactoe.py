"""Tic-tac-toe solved exactly: the minimax value of every reachable position, in one table.

The table is indexed by (first player's cells, second player's cells) as 9-bit masks, the same
as the engine's state (`engine/games/tictactoe.py`): `VALUES[first * 512 + second]` is the value
for the side to move (+1 win, 0 draw, -1 loss), or UNREACHABLE. It is filled once at import by a
memoised search over the 5,478 reachable positions.
"""

from __future__ import annotations

import numpy as np

from engine.game import DRAW, FIRST_PLAYER_WON, ONGOING, SECOND_PLAYER_WON
from engine.games.tictactoe import WIN_LINES

NUM_ACTIONS = 9
FULL_BOARD = 0b111111111
UNREACHABLE = -2
REACHABLE_POSITIONS = 5478  # including finished games
REACHABLE_ONGOING_POSITIONS = 4520
_LINES = [int(line) for line in WIN_LINES]


def _has_line(cells: int) -> bool:
    return any(cells & line == line for line in _LINES)


def _build_table() -> np.ndarray:
    """Memoised minimax from the empty board (plain Python: ~5k positions, tens of ms once)."""
    values = np.full(512 * 512, UNREACHABLE, dtype=np.int8)

    def fill(first: int, second: int, first_to_move: bool) -> int:
        index = first * 512 + second
        if values[index] != UNREACHABLE:
            return int(values[index])
        if _has_line(second if first_to_move else first):
            value = -1  # the previous move won
        elif first | second == FULL_BOARD:
            value = 0
        else:
            value = -1
            for cell in range(NUM_ACTIONS):
                bit = 1 << cell
                if not (first | second) & bit:
                    if first_to_move:
                        value = max(value, -fill(first | bit, second, False))
                    else:
                        value = max(value, -fill(first, second | bit, True))
        values[index] = value
        return value

    fill(0, 0, True)
    return values


VALUES = _build_table()
VALUES.flags.writeable = False


def _check_state(state: np.ndarray) -> tuple[int, int, int, int]:
    """(first, second, moves, status) of a reachable engine state, else a ValueError."""
    if not isinstance(state, np.ndarray) or state.shape != (4,):
        raise ValueError("tictactoe state must be a numpy array of shape (4,)")
    if not np.issubdtype(state.dtype, np.integer):
        raise ValueError(f"tictactoe state must be an integer array, got {state.dtype}")
    first, second, moves, status = (int(v) for v in state)
    if not (0 <= first <= FULL_BOARD and 0 <= second <= FULL_BOARD) or first & second:
        raise ValueError("tictactoe state has cells outside the board or taken twice")
    if VALUES[first * 512 + second] == UNREACHABLE:
        raise ValueError("tictactoe state is not reachable from the initial position")
    if moves != first.bit_count() + second.bit_count():
        raise ValueError(f"tictactoe state: move count {moves} does not match the board")
    if status != _status_of(first, second):
        raise ValueError(f"tictactoe state: status {status} does not match the board")
    return first, second, moves, status


def position_value(state: np.ndarray) -> int:
    """Minimax value (+1/0/-1) for the side to move of a game still going on."""
    first, second, _, status = _check_state(state)
    if status != ONGOING:
        raise ValueError("the game is already over")
    return int(VALUES[first * 512 + second])


def action_values(state: np.ndarray) -> np.ndarray:
    """float32[9]: the minimax value after each move for the side to move; NaN where illegal."""
    first, second, moves, status = _check_state(state)
    values = np.full(NUM_ACTIONS, np.nan, dtype=np.float32)
    if status != ONGOING:
        return values
    for cell in range(NUM_ACTIONS):
        bit = 1 << cell
        if (first | second) & bit:
            continue
        child_first, child_second = (
            (first | bit, second) if moves % 2 == 0 else (first, second | bit)
        )
        values[cell] = -VALUES[child_first * 512 + child_second]
    return values


def _status_of(first: int, second: int) -> int:
    if _has_line(first):
        return FIRST_PLAYER_WON
    if _has_line(second):
        return SECOND_PLAYER_WON
    if first | second == FULL_BOARD:
        return DRAW
    return ONGOING


def reachable_positions(include_finished: bool = False) -> np.ndarray:
    """int64[N, 4] engine states of every position reachable from the empty board.

    Without finished games there are 4,520 (where the evaluator checks a bot's every move).
    """
    indices = np.flatnonzero(VALUES != UNREACHABLE)
    first, second = (indices // 512).tolist(), (indices % 512).tolist()
    pairs = list(zip(first, second, strict=True))
    counts = [f.bit_count() + s.bit_count() for f, s in pairs]
    status = np.array([_status_of(f, s) for f, s in pairs])
    states = np.stack([first, second, counts, status], axis=1).astype(np.int64)
    if not include_finished:
        states = states[status == ONGOING]
    return states
