"""Connect 4 solver: the win/draw/loss value of every move, for evaluation and a "perfect" player.

A weak solver (values -1/0/+1 only): AlphaZero does not care how fast it wins, and a weak search
is far cheaper than an exact-score one. Negamax with alpha-beta in Numba over Pons' bitboards
(7 bits per column: 6 cells and a guard bit, the same layout as `engine/games/connect4.py`):

    row 5 (top)    5 12 19 26 33 40 47
                   ...
    row 0 (bottom) 0  7 14 21 28 35 42

Search: null-window tests (is it a win? if not, is it a loss?), a transposition table of
lower/upper bounds kept across calls (bounds on the game-theoretic value stay true whatever
position asked), enhanced transposition cutoffs (a child's stored bound can settle a node), only
non-losing moves searched (forced blocks; never play under an opponent's winning cell), moves
ordered by the number of winning cells they create, centre first among equals. Iterative with
an explicit stack: Numba cannot load a cached recursive function.

Speed (benchmarks/connect4_solver.py): every move's value from 8 random stones on takes about a
second; positions with fewer stones can take many seconds. Node/time budgets make a search that
runs out return None instead of hanging; a time limit under 30 s with fewer than 4 stones on the
board returns None at once. Searches share one table and stack, so they run one at a time: a
search that waits for another spends its time limit waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

WIDTH = 7
HEIGHT = 6
CELLS = WIDTH * HEIGHT
COLUMN_BITS = HEIGHT + 1
BOTTOM_MASK = sum(1 << (c * COLUMN_BITS) for c in range(WIDTH))
BOARD_MASK = BOTTOM_MASK * ((1 << HEIGHT) - 1)
COLUMN_CELLS = (1 << HEIGHT) - 1
COLUMN_ORDER = np.array([3, 2, 4, 1, 5, 0, 6], dtype=np.int64)  # centre first
# A position with fewer stones takes longer than this many seconds to solve (half a minute to
# minutes, data/pretrained/README.md), so a shorter time limit returns None at once.
SLOW_STONES, SLOW_SECONDS = 4, 30.0

# Transposition table: a prime number of slots near 2^23. The key (current + mask, < 2^49) is
# stored as its low 32 bits: with the slot index (key mod a prime > 2^17) that identifies the
# key exactly (Chinese remainder theorem), so a hit is never a collision.
TABLE_SIZE = 8388593
EMPTY = 0  # a slot's int8: 0 empty, else 1 + 3 * (lower + 1) + (upper + 1) (value bounds)

# stats[] slots shared by the search functions (flat array so Numba code stays plain).
NODES, ABORTED, MAX_NODES, CHECK_TIME = 0, 1, 2, 3
TIME_CHECK_INTERVAL = 1 << 14


@numba.njit(cache=True)
def _popcount(bits: int) -> int:
    count = 0
    while bits:
        bits &= bits - 1
        count += 1
    return count


@numba.njit(cache=True)
def _winning_cells(position: int, mask: int) -> int:
    """Empty cells (playable now or not) where `position`'s owner would complete four."""
    h = HEIGHT
    # vertical
    r = (position << 1) & (position << 2) & (position << 3)
    # horizontal
    p = (position << (h + 1)) & (position << (2 * (h + 1)))
    r |= p & (position << (3 * (h + 1)))
    r |= p & (position >> (h + 1))
    p = (position >> (h + 1)) & (position >> (2 * (h + 1)))
    r |= p & (position << (h + 1))
    r |= p & (position >> (3 * (h + 1)))
    # diagonal one way
    p = (position << h) & (position << (2 * h))
    r |= p & (position << (3 * h))
    r |= p & (position >> h)
    p = (position >> h) & (position >> (2 * h))
    r |= p & (position << h)
    r |= p & (position >> (3 * h))
    # diagonal the other way
    p = (position << (h + 2)) & (position << (2 * (h + 2)))
    r |= p & (position << (3 * (h + 2)))
    r |= p & (position >> (h + 2))
    p = (position >> (h + 2)) & (position >> (2 * (h + 2)))
    r |= p & (position << (h + 2))
    r |= p & (position >> (3 * (h + 2)))
    return r & (BOARD_MASK ^ mask)


@numba.njit(cache=True)
def _has_four(position: int) -> bool:
    for shift in (1, HEIGHT, HEIGHT + 1, HEIGHT + 2):
        pairs = position & (position >> shift)
        if pairs & (pairs >> (2 * shift)):
            return True
    return False


@numba.njit(cache=True)
def _playable(mask: int) -> int:
    return (mask + BOTTOM_MASK) & BOARD_MASK


@numba.njit(cache=True)
def _non_losing_moves(current: int, mask: int) -> int:
    """Moves after which the opponent cannot win at once (0: every move loses)."""
    possible = _playable(mask)
    opponent_wins = _winning_cells(current ^ mask, mask)
    forced = possible & opponent_wins
    if forced:
        if forced & (forced - 1):
            return 0  # two threats to block at once
        possible = forced
    return possible & ~(opponent_wins >> 1)


@numba.njit(cache=True)
def _out_of_budget(stats: np.ndarray, deadline: float) -> bool:
    stats[NODES] += 1
    if stats[MAX_NODES] > 0 and stats[NODES] > stats[MAX_NODES]:
        stats[ABORTED] = 1
    elif stats[CHECK_TIME] and stats[NODES] % TIME_CHECK_INTERVAL == 0:
        with numba.objmode(now="float64"):
            now = time.perf_counter()
        if now > deadline:
            stats[ABORTED] = 1
    return stats[ABORTED] != 0


# Frame fields of the explicit search stack (Numba cannot load cached recursive functions).
F_CURRENT, F_MASK, F_MOVES, F_ALPHA, F_BETA, F_WINDOW_ALPHA = 0, 1, 2, 3, 4, 5
F_BEST, F_LOWER, F_UPPER, F_SLOT, F_KEY, F_NEXT, F_COUNT = 6, 7, 8, 9, 10, 11, 12
FRAME_FIELDS = 13


@numba.njit(cache=True)
def _store(frames: np.ndarray, depth: int, keys: np.ndarray, bounds: np.ndarray) -> int:
    """Record what a finished node proved, intersected with what the table knew; its value."""
    best = frames[depth, F_BEST]
    lower = frames[depth, F_LOWER]
    upper = frames[depth, F_UPPER]
    if best >= frames[depth, F_BETA]:
        lower = max(lower, best)
    elif best <= frames[depth, F_WINDOW_ALPHA]:
        upper = min(upper, best)
    else:
        lower = best
        upper = best
    slot = frames[depth, F_SLOT]
    keys[slot] = np.uint32(frames[depth, F_KEY] & 0xFFFFFFFF)
    bounds[slot] = np.int8(1 + 3 * (lower + 1) + (upper + 1))
    return best


@numba.njit(cache=True)
def _negamax(
    current: int,
    mask: int,
    moves: int,
    alpha: int,
    beta: int,
    keys: np.ndarray,
    bounds: np.ndarray,
    scratch: np.ndarray,
    frames: np.ndarray,
    stats: np.ndarray,
    deadline: float,
) -> int:
    """Fail-soft win/draw/loss bound for the side to move, who must have no immediate win.

    Iterative negamax: `frames[d]` holds the open node at depth d; its sorted candidate moves
    are in `scratch[:, moves * WIDTH:]` (a node's move count is unique along the path).
    """
    depth = 0
    result = 0
    while True:
        # Enter the node (current, mask, moves, alpha, beta): settle it here or open a frame.
        if _out_of_budget(stats, deadline):
            return 0
        opened = False
        candidates = _non_losing_moves(current, mask)
        if candidates == 0:
            result = -1
        elif moves >= CELLS - 2:
            result = 0  # no win for us now, none for the opponent after our non-losing move
        else:
            key = current + mask
            slot = key % TABLE_SIZE
            code = np.int64(bounds[slot])
            lower = -1
            upper = 1
            settled = False
            if code != EMPTY and keys[slot] == np.uint32(key & 0xFFFFFFFF):
                lower = (code - 1) // 3 - 1
                upper = (code - 1) % 3 - 1
                if lower >= beta or lower == upper:
                    result = lower
                    settled = True
                elif upper <= alpha:
                    result = upper
                    settled = True
                else:
                    alpha = max(alpha, lower)
                    beta = min(beta, upper)
            if not settled:
                # Enhanced transposition cutoff: a child already known bad enough for the
                # opponent settles this node without searching.
                for i in range(WIDTH):
                    move = candidates & (COLUMN_CELLS << (i * COLUMN_BITS))
                    if move:
                        child_key = (current ^ mask) + (mask | move)
                        child_slot = child_key % TABLE_SIZE
                        child_code = np.int64(bounds[child_slot])
                        if child_code != EMPTY and keys[child_slot] == np.uint32(
                            child_key & 0xFFFFFFFF
                        ):
                            child_upper = (child_code - 1) % 3 - 1
                            if -child_upper >= beta:
                                result = -child_upper
                                settled = True
                                break
            if not settled:
                # Order: most new winning cells first, centre first among equals.
                base = moves * WIDTH
                count = 0
                for i in range(WIDTH):
                    move = candidates & (COLUMN_CELLS << (COLUMN_ORDER[i] * COLUMN_BITS))
                    if move:
                        score = _popcount(_winning_cells(current | move, mask))
                        pos = count
                        while pos > 0 and scratch[1, base + pos - 1] < score:
                            scratch[0, base + pos] = scratch[0, base + pos - 1]
                            scratch[1, base + pos] = scratch[1, base + pos - 1]
                            pos -= 1
                        scratch[0, base + pos] = move
                        scratch[1, base + pos] = score
                        count += 1
                frames[depth, F_CURRENT] = current
                frames[depth, F_MASK] = mask
                frames[depth, F_MOVES] = moves
                frames[depth, F_ALPHA] = alpha
                frames[depth, F_BETA] = beta
                frames[depth, F_WINDOW_ALPHA] = alpha
                frames[depth, F_BEST] = -2
                frames[depth, F_LOWER] = lower
                frames[depth, F_UPPER] = upper
                frames[depth, F_SLOT] = slot
                frames[depth, F_KEY] = key
                frames[depth, F_NEXT] = 1
                frames[depth, F_COUNT] = count
                depth += 1
                move = scratch[0, base]
                current, mask, moves, alpha, beta = (
                    current ^ mask,
                    mask | move,
                    moves + 1,
                    -beta,
                    -alpha,
                )
                opened = True
        if opened:
            continue
        # Hand `result` up the stack until a frame has another child to search.
        while True:
            if depth == 0:
                return result
            top = depth - 1
            value = -result
            if value > frames[top, F_BEST]:
                frames[top, F_BEST] = value
            if value > frames[top, F_ALPHA]:
                frames[top, F_ALPHA] = value
            if value >= frames[top, F_BETA] or frames[top, F_NEXT] == frames[top, F_COUNT]:
                result = _store(frames, top, keys, bounds)
                depth = top
                continue
            move = scratch[0, frames[top, F_MOVES] * WIDTH + frames[top, F_NEXT]]
            frames[top, F_NEXT] += 1
            current = frames[top, F_CURRENT] ^ frames[top, F_MASK]
            mask = frames[top, F_MASK] | move
            moves = frames[top, F_MOVES] + 1
            alpha = -frames[top, F_BETA]
            beta = -frames[top, F_ALPHA]
            break


@numba.njit(cache=True)
def _solve(
    current: int,
    mask: int,
    moves: int,
    keys: np.ndarray,
    bounds: np.ndarray,
    scratch: np.ndarray,
    frames: np.ndarray,
    stats: np.ndarray,
    deadline: float,
) -> int:
    """The win/draw/loss value for the side to move of a position where nobody has won yet."""
    if _winning_cells(current, mask) & _playable(mask):
        return 1
    if moves >= CELLS:
        return 0
    # Two null-window tests: is it a win? if not, is it a loss?
    if _negamax(current, mask, moves, 0, 1, keys, bounds, scratch, frames, stats, deadline) > 0:
        return 1
    if stats[ABORTED]:
        return 0
    if _negamax(current, mask, moves, -1, 0, keys, bounds, scratch, frames, stats, deadline) < 0:
        return -1
    return 0


@numba.njit(cache=True)
def _action_values(
    current: int,
    mask: int,
    keys: np.ndarray,
    bounds: np.ndarray,
    scratch: np.ndarray,
    frames: np.ndarray,
    stats: np.ndarray,
    deadline: float,
) -> np.ndarray:
    """Value of each column for the side to move (NaN where full); stats[ABORTED] on budget."""
    values = np.full(WIDTH, np.nan, dtype=np.float32)
    moves = _popcount(mask)
    wins = _winning_cells(current, mask)
    for column in range(WIDTH):
        move = (mask + (1 << (column * COLUMN_BITS))) & (COLUMN_CELLS << (column * COLUMN_BITS))
        if move == 0:
            continue
        if move & wins:
            values[column] = 1.0
        elif moves + 1 >= CELLS:
            values[column] = 0.0
        else:
            child = _solve(
                current ^ mask, mask | move, moves + 1, keys, bounds, scratch, frames, stats,
                deadline,
            )  # fmt: skip
            if stats[ABORTED]:
                return values
            values[column] = -child
    return values


class _Workspace:
    """The transposition table (allocated on first use, then kept: its bounds stay true for
    any later position) and the search stack, shared by every search. `lock` lets one search
    use them at a time: the time check leaves Numba for Python (`numba.objmode`), where the GIL
    passes to other threads mid-search (the API searches in several)."""

    keys: np.ndarray | None = None
    bounds: np.ndarray | None = None
    scratch = np.zeros((2, (CELLS + 1) * WIDTH), dtype=np.int64)
    frames = np.zeros((CELLS + 1, FRAME_FIELDS), dtype=np.int64)
    last_nodes = 0
    lock = threading.Lock()

    @classmethod
    def table(cls) -> tuple[np.ndarray, np.ndarray]:
        if cls.keys is None or cls.bounds is None:
            cls.keys = np.zeros(TABLE_SIZE, dtype=np.uint32)
            cls.bounds = np.zeros(TABLE_SIZE, dtype=np.int8)
        return cls.keys, cls.bounds


def reset_table() -> None:
    """Forget everything learned so far (for fair timings); frees the table's 42 MB."""
    with _Workspace.lock:
        _Workspace.keys = None
        _Workspace.bounds = None


def last_node_count() -> int:
    """Nodes searched by the last solver call (for benchmarks)."""
    return _Workspace.last_nodes


def _budget(max_nodes: int | None, time_limit_s: float | None) -> tuple[np.ndarray, float]:
    stats = np.zeros(4, dtype=np.int64)
    deadline = 0.0
    if max_nodes is not None:
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes <= 0:
            raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
        stats[MAX_NODES] = max_nodes
    if time_limit_s is not None:
        if not isinstance(time_limit_s, int | float) or not time_limit_s > 0:
            raise ValueError(f"time_limit_s must be a positive number, got {time_limit_s!r}")
        stats[CHECK_TIME] = 1
        deadline = time.perf_counter() + float(time_limit_s)
    return stats, deadline


def _run_action_values(
    current: int, mask: int, max_nodes: int | None, time_limit_s: float | None
) -> np.ndarray | None:
    stats, deadline = _budget(max_nodes, time_limit_s)
    if time_limit_s is not None and time_limit_s < SLOW_SECONDS and _popcount(mask) < SLOW_STONES:
        _Workspace.last_nodes = 0
        return None  # it would run out: spend none of it
    values = _search(_action_values, current, mask, stats=stats, deadline=deadline)
    return None if stats[ABORTED] else values


def _search(function: Callable, *position: int, stats: np.ndarray, deadline: float) -> Any:
    """`function(*position, <workspace>, stats, deadline)`, one search at a time. Waiting for
    another search counts against the deadline: a search that cannot start before it is
    aborted (stats[ABORTED]) without running, so a request's time limit holds."""
    timeout = max(0.0, deadline - time.perf_counter()) if stats[CHECK_TIME] else -1
    if not _Workspace.lock.acquire(timeout=timeout):
        stats[ABORTED] = 1
        return None
    try:
        keys, bounds = _Workspace.table()
        result = function(
            *position, keys, bounds, _Workspace.scratch, _Workspace.frames, stats, deadline
        )
        _Workspace.last_nodes = int(stats[NODES])
    finally:
        _Workspace.lock.release()
    return result


def board_from_moves(moves: list[int] | tuple[int, ...] | np.ndarray) -> tuple[int, int, bool]:
    """(stones of the side to move, all stones, someone has won) after 0-indexed `moves`.

    A ValueError names the first bad move (not a column 0..6, a full column, or a move after
    the game was already won).
    """
    current, mask = 0, 0
    won = False
    for index, column in enumerate(moves):
        if isinstance(column, bool) or not isinstance(column, int | np.integer):
            raise ValueError(f"move {index} must be an integer column, got {column!r}")
        column = int(column)
        if not 0 <= column < WIDTH:
            raise ValueError(f"move {index}: column {column} is not in 0..{WIDTH - 1}")
        if won:
            raise ValueError(f"move {index}: the game was already won")
        move = (mask + (1 << (column * COLUMN_BITS))) & (COLUMN_CELLS << (column * COLUMN_BITS))
        if move == 0:
            raise ValueError(f"move {index}: column {column} is full")
        current |= move
        won = bool(_has_four(current))
        current ^= mask | move  # the opponent's stones: now the side to move
        mask |= move
    return current, mask, won


def solve_connect4_moves(
    moves: list[int] | tuple[int, ...] | np.ndarray,
    *,
    max_nodes: int | None = None,
    time_limit_s: float | None = None,
) -> np.ndarray | None:
    """Value of each column (0-indexed) after `moves` for the side to move: +1/0/-1, NaN if full.

    All NaN once the game is over. None if `max_nodes` or `time_limit_s` ran out first.
    """
    current, mask, won = board_from_moves(moves)
    if won:
        return np.full(WIDTH, np.nan, dtype=np.float32)
    return _run_action_values(current, mask, max_nodes, time_limit_s)


def position_value(
    moves: list[int] | tuple[int, ...] | np.ndarray,
    *,
    max_nodes: int | None = None,
    time_limit_s: float | None = None,
) -> int | None:
    """The win/draw/loss value (+1/0/-1) for the side to move after `moves` (game not over).

    Cheaper than `solve_connect4_moves` when only the position's value is needed.
    """
    current, mask, won = board_from_moves(moves)
    if won:
        raise ValueError("the game is already over")
    stats, deadline = _budget(max_nodes, time_limit_s)
    value = _search(_solve, current, mask, _popcount(mask), stats=stats, deadline=deadline)
    return None if stats[ABORTED] else int(value)


def _is_gravity_consistent(mask: int) -> bool:
    for column in range(WIDTH):
        bits = (mask >> (column * COLUMN_BITS)) & ((1 << COLUMN_BITS) - 1)
        if bits & (bits + 1):  # not of the form 0..0111: a stone floats above an empty cell
            return False
    return True


def board_from_state(state: np.ndarray) -> tuple[int, int, bool]:
    """(stones of the side to move, all stones, game over) from an engine connect4 state.

    The engine's state is [first player's stones, second's, moves played, status] with the same
    bitboard layout as here. Inconsistent states get a ValueError saying what is wrong.
    """
    if not isinstance(state, np.ndarray) or state.shape != (4,):
        raise ValueError("connect4 state must be a numpy array of shape (4,)")
    if not np.issubdtype(state.dtype, np.integer):
        raise ValueError(f"connect4 state must be an integer array, got {state.dtype}")
    first, second, moves, status = (int(v) for v in state)
    if first < 0 or second < 0 or (first | second) & ~BOARD_MASK or first & second:
        raise ValueError("connect4 state has stones outside the board or on the same cell")
    mask = first | second
    if not _is_gravity_consistent(mask):
        raise ValueError("connect4 state has a stone above an empty cell")
    count_first, count_second = _popcount(first), _popcount(second)
    if moves != count_first + count_second or count_first - count_second not in (0, 1):
        raise ValueError(
            f"connect4 state: {count_first} first and {count_second} second stones "
            f"do not fit {moves} moves played"
        )
    if not 0 <= status <= 3:
        raise ValueError(f"connect4 state has unknown status {status}")
    if status == 0 and (_has_four(first) or _has_four(second) or moves == CELLS):
        raise ValueError("connect4 state says the game goes on but it is over")
    current = second if moves & 1 else first
    return current, mask, status != 0


def action_values(
    state: np.ndarray, *, max_nodes: int | None = None, time_limit_s: float | None = None
) -> np.ndarray | None:
    """Value of each column for the side to move of an engine connect4 state (see module doc).

    All NaN when the state's status says the game is over (no legal moves), as the engine's
    legal mask. None if a budget ran out first.
    """
    current, mask, over = board_from_state(state)
    if over:
        return np.full(WIDTH, np.nan, dtype=np.float32)
    return _run_action_values(current, mask, max_nodes, time_limit_s)
