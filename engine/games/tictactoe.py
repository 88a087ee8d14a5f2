"""Tic-tac-toe rules.

Cells and actions, row-major from the top-left (OpenSpiel's numbering)::

    0 | 1 | 2
    3 | 4 | 5
    6 | 7 | 8

State (int64[4]): [first player's cells bitmask, second player's cells bitmask,
moves played, status]. The first player (x) moves when the move count is even.
"""

import numba
import numpy as np

from engine.game import (
    DRAW,
    FIRST_PLAYER_WON,
    ONGOING,
    SECOND_PLAYER_WON,
    Game,
    square_symmetry_cell_perms,
)

ROWS = 3
COLS = 3
NUM_ACTIONS = 9
NUM_PLANES = 2  # side to move's cells, opponent's cells
STATE_SIZE = 4
MAX_GAME_LENGTH = 9
ENCODING_VERSION = 1
DIRICHLET_ALPHA = 1.0

FIRST, SECOND, MOVES, STATUS = 0, 1, 2, 3
FULL_BOARD = 0b111111111
WIN_LINES = np.array(
    [0b000000111, 0b000111000, 0b111000000, 0b001001001, 0b010010010, 0b100100100,
     0b100010001, 0b001010100],
    dtype=np.int64,
)  # fmt: skip
SYMMETRY_CELL_PERMS = square_symmetry_cell_perms(3)
SYMMETRY_ACTION_PERMS = SYMMETRY_CELL_PERMS.copy()


@numba.njit(cache=True)
def initial_state() -> np.ndarray:
    return np.zeros(STATE_SIZE, dtype=np.int64)


@numba.njit(cache=True)
def to_play(state: np.ndarray) -> int:
    return int(state[MOVES] & 1)


@numba.njit(cache=True)
def legal_mask(state: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The legal cells; fills and returns `out` when given (no allocation in hot loops)."""
    if out is None:
        out = np.empty(NUM_ACTIONS, dtype=np.bool_)
    free = ~(state[FIRST] | state[SECOND]) if state[STATUS] == ONGOING else 0
    for cell in range(9):  # branch-free: this runs once per node in every search
        out[cell] = (free >> cell) & 1
    return out


@numba.njit(cache=True)
def _has_line(cells: int) -> bool:
    found = False
    for line in WIN_LINES:  # no early exit: a fixed loop that LLVM unrolls, no mispredictions
        found |= cells & line == line
    return found


@numba.njit(cache=True)
def apply_action(state: np.ndarray, action: int) -> None:
    player = to_play(state)
    state[player] |= 1 << action
    state[MOVES] += 1
    if _has_line(state[player]):
        state[STATUS] = FIRST_PLAYER_WON if player == 0 else SECOND_PLAYER_WON
    elif (state[FIRST] | state[SECOND]) == FULL_BOARD:
        state[STATUS] = DRAW


@numba.njit(cache=True)
def status(state: np.ndarray) -> int:
    return int(state[STATUS])


@numba.njit(cache=True)
def encode(state: np.ndarray, out: np.ndarray) -> None:
    player = to_play(state)
    own = state[player]
    opponent = state[1 - player]
    for cell in range(9):
        r, c = cell // COLS, cell % COLS
        out[0, r, c] = np.float32((own >> cell) & 1)
        out[1, r, c] = np.float32((opponent >> cell) & 1)


@numba.njit(cache=True)
def _permute_bits(bits: int, perm: np.ndarray) -> int:
    result = 0
    for cell in range(9):
        if (bits >> cell) & 1:
            result |= 1 << perm[cell]
    return result


@numba.njit(cache=True)
def transform_state(state: np.ndarray, symmetry: int) -> np.ndarray:
    perm = SYMMETRY_CELL_PERMS[symmetry]
    result = state.copy()
    result[FIRST] = _permute_bits(state[FIRST], perm)
    result[SECOND] = _permute_bits(state[SECOND], perm)
    return result


GAME = Game(
    name="tictactoe",
    rows=ROWS,
    cols=COLS,
    num_actions=NUM_ACTIONS,
    num_planes=NUM_PLANES,
    state_size=STATE_SIZE,
    max_game_length=MAX_GAME_LENGTH,
    encoding_version=ENCODING_VERSION,
    dirichlet_alpha=DIRICHLET_ALPHA,
    symmetry_action_perms=SYMMETRY_ACTION_PERMS,
    symmetry_cell_perms=SYMMETRY_CELL_PERMS,
    initial_state=initial_state,
    legal_mask=legal_mask,
    apply_action=apply_action,
    status=status,
    to_play=to_play,
    encode=encode,
    transform_state=transform_state,
)
