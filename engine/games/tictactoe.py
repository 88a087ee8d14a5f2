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


# The experiment (engine.game.Game.settings), reasoned for a 2-core CPU shared by self-play and
# training. Tic-tac-toe has 4520 non-terminal positions: a 2x128 MLP (20k parameters) fits them,
# is far cheaper per actor evaluation than a CNN, and trains at ~1000 steps/s of batch 128 on
# one core. Adam plus publishing every 300 steps (about a second) lets the actor's data improve
# quickly; the window (30k positions, 10-20 s of self-play at the actor's 1.5-4k positions/s)
# drops stale targets fast; replay ratio 16 keeps the learner busy without memorising a few
# hundred games. Beside self-play that samples every move by visit count (temperature for all 9
# plies), these bring the raw policy to no non-optimal move against any opponent, on either
# side, within minutes (data/pretrained/README.md).
SETTINGS = {
    # learner
    "network": "mlp",
    "hidden": 128,
    "mlp_layers": 2,
    "optimizer": "adam",
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "batch_size": 128,
    "window_positions": 30_000,
    "min_positions": 500,
    "replay_ratio": 16.0,
    "publish_every": 300,
    "checkpoint_every": 500,
    "milestone_every": 10_000,
    "poll_every_steps": 10,
    # self-play: every move sampled, so that it sees (and refutes) every blunder
    "simulations": 100,
    "temperature_moves": 9,
    # actor: float self-play, not int8 copies: the copy often disagrees with the float model on
    # the best move (data/pretrained/README.md), and training waits on the learner, not on
    # self-play, so a faster copy buys nothing
    "int8": False,
    # an evaluation costs ~0.2 CPU-s (benchmarks/evaluation.py): about 1% of one core
    "evaluation_interval_s": 30.0,
    # the launcher: it learns in minutes on two CPUs and gains nothing from more
    "spread_cpus": False,
    # background evaluation (actor.evaluation.EvaluationSettings)
    "evaluation": {"simulations": 64, "games_per_opponent": 20, "mcts_budgets": (64,)},
    # tournaments (actor.tournament): budgets, and random moves opening each game pair
    "tournament": {"simulations": 64, "mcts_budgets": (64, 1000), "opening_moves": 1},
}


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
    settings=SETTINGS,
)
