"""Connect 4 rules: 7 columns x 6 rows, four in a row (horizontal, vertical, diagonal) wins.

Actions are columns 0..6 from the left (OpenSpiel's numbering). Stones live in bitboards with
7 bits per column (6 cells plus one empty guard bit on top, Pons' layout), so a win check is a
few shifts and the cell a stone drops into is `occupied + bottom bit of the column`::

    row 5 (top)    5 12 19 26 33 40 47
                   4 11 18 25 32 39 46
                   3 10 17 24 31 38 45
                   2  9 16 23 30 37 44
                   1  8 15 22 29 36 43
    row 0 (bottom) 0  7 14 21 28 35 42
    column         0  1  2  3  4  5  6      (bits 6, 13, ... 48 stay empty: the guard row)

State (int64[4]): [first player's stones, second player's stones, moves played, status]. The
first player moves when the move count is even. Network planes and `symmetry_cell_perms` use
row-major cells with row 0 = the TOP row as displayed (as OpenSpiel's observation string
prints it): plane cell (r, c) is bit `c * 7 + (5 - r)`.
"""

import numba
import numpy as np

from engine.game import DRAW, FIRST_PLAYER_WON, ONGOING, SECOND_PLAYER_WON, Game

ROWS = 6
COLS = 7
NUM_ACTIONS = 7
NUM_PLANES = 2  # side to move's stones, opponent's stones
STATE_SIZE = 4
MAX_GAME_LENGTH = 42
ENCODING_VERSION = 1
DIRICHLET_ALPHA = 1.0

FIRST, SECOND, MOVES, STATUS = 0, 1, 2, 3
COLUMN_BITS = ROWS + 1  # 6 cells and a guard bit per column
COLUMN_CELLS = (1 << ROWS) - 1  # the 6 cell bits of one column, before shifting
WIN_SHIFTS = (1, COLUMN_BITS, COLUMN_BITS - 1, COLUMN_BITS + 1)  # |, -, \, /

SYMMETRY_CELL_PERMS = np.array(
    [[r * COLS + c for r in range(ROWS) for c in range(COLS)],
     [r * COLS + (COLS - 1 - c) for r in range(ROWS) for c in range(COLS)]],
    dtype=np.int64,
)  # fmt: skip
SYMMETRY_ACTION_PERMS = np.array([list(range(COLS)), list(range(COLS - 1, -1, -1))], dtype=np.int64)


@numba.njit(cache=True)
def initial_state() -> np.ndarray:
    return np.zeros(STATE_SIZE, dtype=np.int64)


@numba.njit(cache=True)
def to_play(state: np.ndarray) -> int:
    return int(state[MOVES] & 1)


@numba.njit(cache=True)
def legal_mask(state: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The columns with room; fills and returns `out` when given (no allocation in hot loops)."""
    if out is None:
        out = np.empty(NUM_ACTIONS, dtype=np.bool_)
    free = ~(state[FIRST] | state[SECOND]) if state[STATUS] == ONGOING else 0
    for column in range(COLS):  # free top cell <=> legal column
        out[column] = (free >> (column * COLUMN_BITS + ROWS - 1)) & 1
    return out


@numba.njit(cache=True)
def _has_four(stones: int) -> bool:
    for shift in WIN_SHIFTS:
        pairs = stones & (stones >> shift)
        if pairs & (pairs >> (2 * shift)):
            return True
    return False


@numba.njit(cache=True)
def apply_action(state: np.ndarray, action: int) -> None:
    player = to_play(state)
    occupied = state[FIRST] | state[SECOND]
    column_cells = COLUMN_CELLS << (action * COLUMN_BITS)
    bottom = 1 << (action * COLUMN_BITS)
    state[player] |= (occupied + bottom) & column_cells
    state[MOVES] += 1
    if _has_four(state[player]):
        state[STATUS] = FIRST_PLAYER_WON if player == 0 else SECOND_PLAYER_WON
    elif state[MOVES] == ROWS * COLS:
        state[STATUS] = DRAW


@numba.njit(cache=True)
def status(state: np.ndarray) -> int:
    return int(state[STATUS])


@numba.njit(cache=True)
def encode(state: np.ndarray, out: np.ndarray) -> None:
    player = to_play(state)
    own = state[player]
    opponent = state[1 - player]
    for r in range(ROWS):
        for c in range(COLS):
            bit = c * COLUMN_BITS + (ROWS - 1 - r)
            out[0, r, c] = np.float32((own >> bit) & 1)
            out[1, r, c] = np.float32((opponent >> bit) & 1)


@numba.njit(cache=True)
def _mirror_columns(bits: int) -> int:
    result = 0
    for c in range(COLS):
        column = (bits >> (c * COLUMN_BITS)) & COLUMN_CELLS
        result |= column << ((COLS - 1 - c) * COLUMN_BITS)
    return result


@numba.njit(cache=True)
def transform_state(state: np.ndarray, symmetry: int) -> np.ndarray:
    result = state.copy()
    if symmetry == 1:
        result[FIRST] = _mirror_columns(state[FIRST])
        result[SECOND] = _mirror_columns(state[SECOND])
    return result


# The experiment (engine.game.Game.settings), reasoned for a 2-core CPU shared by self-play and
# training. 4 residual blocks x 32 channels is ~6 MFLOP per position, so one core still
# evaluates a few thousand positions per second for self-play. The learning rate steps down
# tenfold at 26k and 80k steps: at 0.02 the solver-judged accuracy stopped rising after about
# 20k steps; a 28-minute run stepping down at 13k instead scored 0.333 against one at 26k
# (the shipped model's run, data/pretrained/README.md).
SETTINGS = {
    # learner
    "network": "resnet",
    "blocks": 4,
    "channels": 32,
    "hidden": 64,
    "optimizer": "sgd",
    "lr": 0.02,
    "lr_schedule": "milestones",
    "lr_milestones": (26_000, 80_000),
    "lr_gamma": 0.1,
    "batch_size": 256,
    "window_positions": 200_000,
    "min_positions": 5_000,
    "publish_every": 250,
    "checkpoint_every": 250,
    # self-play: 128 simulations as in the shipped model's run, more games per hour on 2 cores;
    # random openings teach the positions that follow a blunder, which the held-out
    # evaluation is made of (data/pretrained/README.md)
    "simulations": 128,
    "temperature_moves": 8,
    "opening_moves": 14,
    # actor: int8 copies of the models play self-play (actor.quantize); an evaluation costs
    # ~2-4 CPU-s (benchmarks/evaluation.py): about 1% of one core
    "int8": True,
    "evaluation_interval_s": 300.0,
    # the launcher: with more than two CPUs, half for the learner, the rest for self-play
    "spread_cpus": True,
    # background evaluation (actor.evaluation.EvaluationSettings)
    "evaluation": {"simulations": 200, "games_per_opponent": 10, "mcts_budgets": (200,)},
    # tournaments (actor.tournament): budgets, random moves opening each game pair, and the
    # fewest stones the perfect player plays from (from 8 the solver takes about a second a
    # move)
    "tournament": {
        "simulations": 200,
        "mcts_budgets": (200, 1000),
        "opening_moves": 2,
        "perfect_min_opening": 8,
    },
}


GAME = Game(
    name="connect4",
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
    settings=SETTINGS,
)
