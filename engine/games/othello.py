"""Othello (Reversi) rules on 8x8 bitboards.

Cells and actions, row-major from the top-left (OpenSpiel's numbering); 64 = pass::

         a  b  c  d  e  f  g  h
     1   0  1  2  3  4  5  6  7
     2   8  9 10 11 12 13 14 15
     3  16 17 18 19 20 21 22 23
     4  24 25 26 27 28 29 30 31      start: d4 (27), e5 (36) white,
     5  32 33 34 35 36 37 38 39             e4 (28), d5 (35) black
     6  40 41 42 43 44 45 46 47
     7  48 49 50 51 52 53 54 55
     8  56 57 58 59 60 61 62 63

Bit i of a bitboard is cell i, so moving one column right is `<< 1` and one row down is `<< 8`.

State (int64[5]): [black's discs, white's discs, actions played (passes included), status,
legal moves of the side to move]. Black (first player) moves first; since a pass is an explicit
action, as in OpenSpiel, the side to move is the parity of the action count. Legal moves are
computed once in `apply_action`: it must know them anyway to decide whether the next side has to
pass or the game is over. An ONGOING state with no legal moves means the only legal action is pass.

Bit work is done in `np.uint64` with `np.uint64` constants (in Numba, uint64 op int64 gives
float64, and `>>` on a negative int64 is arithmetic); boards become int64 only in the state.
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

ROWS = 8
COLS = 8
NUM_CELLS = 64
PASS = 64
NUM_ACTIONS = 65
NUM_PLANES = 2  # side to move's discs, opponent's discs
STATE_SIZE = 5
# 60 disc placements at most. A pass is legal only when the opponent can move (otherwise the
# game is over), so every pass is followed by a placement, and the first action is a placement:
# at most 59 passes, 119 actions in all.
MAX_GAME_LENGTH = 120
ENCODING_VERSION = 1
# AlphaZero used 0.3 for chess (~30 legal moves) and scaled alpha down for wider games. Othello
# has ~10 legal moves in the middle game, so 0.3 puts the noise mass on a few moves at a time
# (alpha * legal ~ 3): it pushes the search to try some alternatives without flattening the prior.
DIRICHLET_ALPHA = 0.3

BLACK, WHITE, MOVES, STATUS, LEGAL = 0, 1, 2, 3, 4
INITIAL_BLACK = (1 << 28) | (1 << 35)
INITIAL_WHITE = (1 << 27) | (1 << 36)

ZERO = np.uint64(0)
ONE = np.uint64(1)
S1 = np.uint64(1)
S7 = np.uint64(7)
S8 = np.uint64(8)
S9 = np.uint64(9)
NOT_EDGE_COLUMNS = np.uint64(0x7E7E7E7E7E7E7E7E)  # for moves that change column: no wrapping
M1 = np.uint64(0x5555555555555555)
M2 = np.uint64(0x3333333333333333)
M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
H01 = np.uint64(0x0101010101010101)
S56 = np.uint64(56)

SYMMETRY_CELL_PERMS = square_symmetry_cell_perms(8)
SYMMETRY_ACTION_PERMS = np.concatenate(
    [SYMMETRY_CELL_PERMS, np.full((8, 1), PASS, dtype=np.int64)], axis=1
)  # pass stays pass


@numba.njit(cache=True, inline="always")
def _to_bits(value: int) -> np.uint64:
    return np.uint64(value)


@numba.njit(cache=True, inline="always")
def _to_int(bits: np.uint64) -> int:
    return np.int64(bits)


@numba.njit(cache=True, inline="always")
def _moves_left(own: np.uint64, between: np.uint64, empty: np.uint64, shift: np.uint64):
    """Empty cells that close a run of `between` discs started at `own`, going `<< shift`."""
    run = (own << shift) & between
    run |= (run << shift) & between
    run |= (run << shift) & between
    run |= (run << shift) & between
    run |= (run << shift) & between
    run |= (run << shift) & between
    return (run << shift) & empty


@numba.njit(cache=True, inline="always")
def _moves_right(own: np.uint64, between: np.uint64, empty: np.uint64, shift: np.uint64):
    """As `_moves_left`, going `>> shift`."""
    run = (own >> shift) & between
    run |= (run >> shift) & between
    run |= (run >> shift) & between
    run |= (run >> shift) & between
    run |= (run >> shift) & between
    run |= (run >> shift) & between
    return (run >> shift) & empty


@numba.njit(cache=True)
def _legal_moves(own: np.uint64, opponent: np.uint64) -> np.uint64:
    """Cells where `own` may place a disc (shift-based generation over the 8 directions)."""
    empty = ~(own | opponent)
    inner = opponent & NOT_EDGE_COLUMNS
    moves = _moves_left(own, opponent, empty, S8) | _moves_right(own, opponent, empty, S8)
    moves |= _moves_left(own, inner, empty, S1) | _moves_right(own, inner, empty, S1)
    moves |= _moves_left(own, inner, empty, S7) | _moves_right(own, inner, empty, S7)
    moves |= _moves_left(own, inner, empty, S9) | _moves_right(own, inner, empty, S9)
    return moves


@numba.njit(cache=True, inline="always")
def _flips_left(move: np.uint64, own: np.uint64, between: np.uint64, shift: np.uint64):
    """The discs a move flips going `<< shift`: a run of `between` discs closed by `own`."""
    run = (move << shift) & between
    run |= (run << shift) & between
    run |= (run << shift) & between
    run |= (run << shift) & between
    run |= (run << shift) & between
    run |= (run << shift) & between
    if (run << shift) & own:
        return run
    return ZERO


@numba.njit(cache=True, inline="always")
def _flips_right(move: np.uint64, own: np.uint64, between: np.uint64, shift: np.uint64):
    """As `_flips_left`, going `>> shift`."""
    run = (move >> shift) & between
    run |= (run >> shift) & between
    run |= (run >> shift) & between
    run |= (run >> shift) & between
    run |= (run >> shift) & between
    run |= (run >> shift) & between
    if (run >> shift) & own:
        return run
    return ZERO


@numba.njit(cache=True)
def _flips(move: np.uint64, own: np.uint64, opponent: np.uint64) -> np.uint64:
    inner = opponent & NOT_EDGE_COLUMNS
    flips = _flips_left(move, own, opponent, S8) | _flips_right(move, own, opponent, S8)
    flips |= _flips_left(move, own, inner, S1) | _flips_right(move, own, inner, S1)
    flips |= _flips_left(move, own, inner, S7) | _flips_right(move, own, inner, S7)
    flips |= _flips_left(move, own, inner, S9) | _flips_right(move, own, inner, S9)
    return flips


@numba.njit(cache=True)
def _count(bits: np.uint64) -> int:
    """Number of set bits (SWAR popcount)."""
    bits = bits - ((bits >> S1) & M1)
    bits = (bits & M2) + ((bits >> np.uint64(2)) & M2)
    bits = (bits + (bits >> np.uint64(4))) & M4
    return np.int64((bits * H01) >> S56)


@numba.njit(cache=True)
def _settle(state: np.ndarray) -> None:
    """Set the legal moves and status for the side to move, from the discs and the move count.

    The side to move plays if it can; else it must pass if the opponent can move; else the game
    is over and the side with more discs wins.
    """
    player = state[MOVES] & 1
    own = _to_bits(state[player])
    opponent = _to_bits(state[1 - player])
    moves = _legal_moves(own, opponent)
    state[LEGAL] = _to_int(moves)
    if moves != ZERO or _legal_moves(opponent, own) != ZERO:
        state[STATUS] = ONGOING
        return
    black = _count(_to_bits(state[BLACK]))
    white = _count(_to_bits(state[WHITE]))
    if black > white:
        state[STATUS] = FIRST_PLAYER_WON
    elif white > black:
        state[STATUS] = SECOND_PLAYER_WON
    else:
        state[STATUS] = DRAW


@numba.njit(cache=True)
def initial_state() -> np.ndarray:
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[BLACK] = INITIAL_BLACK
    state[WHITE] = INITIAL_WHITE
    _settle(state)
    return state


@numba.njit(cache=True)
def to_play(state: np.ndarray) -> int:
    return int(state[MOVES] & 1)


@numba.njit(cache=True)
def legal_mask(state: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The legal actions; fills and returns `out` when given (no allocation in hot loops)."""
    if out is None:
        out = np.empty(NUM_ACTIONS, dtype=np.bool_)
    moves = _to_bits(state[LEGAL]) if state[STATUS] == ONGOING else ZERO
    for cell in range(NUM_CELLS):
        out[cell] = (moves >> np.uint64(cell)) & ONE
    out[PASS] = state[STATUS] == ONGOING and moves == ZERO
    return out


@numba.njit(cache=True)
def apply_action(state: np.ndarray, action: int) -> None:
    player = state[MOVES] & 1
    if action != PASS:
        own = _to_bits(state[player])
        opponent = _to_bits(state[1 - player])
        move = ONE << np.uint64(action)
        flips = _flips(move, own, opponent)
        state[player] = _to_int(own | move | flips)
        state[1 - player] = _to_int(opponent & ~flips)
    state[MOVES] += 1
    _settle(state)


@numba.njit(cache=True)
def status(state: np.ndarray) -> int:
    return int(state[STATUS])


@numba.njit(cache=True)
def encode(state: np.ndarray, out: np.ndarray) -> None:
    player = state[MOVES] & 1
    own = _to_bits(state[player])
    opponent = _to_bits(state[1 - player])
    for cell in range(NUM_CELLS):
        r, c = cell // COLS, cell % COLS
        out[0, r, c] = np.float32((own >> np.uint64(cell)) & ONE)
        out[1, r, c] = np.float32((opponent >> np.uint64(cell)) & ONE)


@numba.njit(cache=True)
def _permute_bits(value: int, perm: np.ndarray) -> int:
    bits = _to_bits(value)
    result = ZERO
    for cell in range(NUM_CELLS):
        if (bits >> np.uint64(cell)) & ONE:
            result |= ONE << np.uint64(perm[cell])
    return _to_int(result)


@numba.njit(cache=True)
def transform_state(state: np.ndarray, symmetry: int) -> np.ndarray:
    perm = SYMMETRY_CELL_PERMS[symmetry]
    result = state.copy()
    result[BLACK] = _permute_bits(state[BLACK], perm)
    result[WHITE] = _permute_bits(state[WHITE], perm)
    result[LEGAL] = _permute_bits(state[LEGAL], perm)
    return result


# The experiment (engine.game.Game.settings), reasoned for a 2-core CPU shared by self-play and
# training. The network costs per position what Connect 4's does (64 instead of 42 cells). The
# learning rate steps down tenfold at 26k and 80k steps: 13 minutes from step 26,579 at 0.002
# scored 0.715 against the same 13 minutes at 0.02 (200 paired games), and from step 80,000
# (the shipped model continued) 13 minutes at 0.0002 scored 0.650 against 13 minutes at 0.002
# (data/pretrained/README.md). Training is in bfloat16 where that is faster
# (learner/precision.py): the learner then idles about half the time at replay ratio 8, and a
# second self-play worker plays in it: more self-play positions/s, so the same minutes buy a
# stronger model than a float32 learner with one worker.
SETTINGS = {
    # learner
    "precision": "auto",
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
    # self-play
    "simulations": 200,
    "temperature_moves": 16,
    # actor: int8 copies of the models play self-play (actor.quantize); the second worker,
    # niced below the learner, plays in the bfloat16 learner's idle time (with a float32
    # learner it finds none and gains nothing)
    "int8": True,
    "workers": 2,
    "evaluation_interval_s": 300.0,
    # the launcher: with more than two CPUs, half for the learner, the rest for self-play
    "spread_cpus": True,
    # background evaluation (actor.evaluation.EvaluationSettings)
    "evaluation": {"simulations": 100, "games_per_opponent": 6, "mcts_budgets": (200,)},
    # tournaments (actor.tournament): budgets, and random moves opening each game pair
    "tournament": {"simulations": 100, "mcts_budgets": (200,), "opening_moves": 2},
}


GAME = Game(
    name="othello",
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
