"""Solved test positions for judging moves against perfect play.

A `PositionSet` holds positions and the exact win/draw/loss value of every legal move there
(+1/0/-1 for the side to move, NaN for illegal moves), so "was this move optimal?" is a lookup:
a move is optimal when its value equals the best one (any winning move is right). A position is
decisive when some legal move is not optimal: only there can a move be wrong, so accuracy is
reported on decisive positions, per phase of the game (by stones on the board, `PHASES`).

- Tic-tac-toe: every reachable non-terminal position (4,520), each move solved by minimax in
  memory (a second).
- Connect 4: the shipped set `actor/positions/connect4.txt` (how it was made: the README
  there), decisive positions only, each move solved once by the project's solver; read, never
  solved, when a run evaluates.
- Pascal Pons' benchmark sets, shipped in `engine/solvers/pons/` (source and licence in its
  README) and solved once per run folder (the files give only the position's score, not each
  move's value).
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import engine.solvers
from engine import get_game
from engine.game import ONGOING, Game
from runfiles import write_atomic
from runfiles.layout import RunFolder

log = logging.getLogger(__name__)

PONS_DIR = Path(engine.solvers.__file__).resolve().parent / "pons"  # package data
PONS_SETS = ("Test_L3_R1", "Test_L2_R1", "Test_L2_R2", "Test_L1_R1", "Test_L1_R2", "Test_L1_R3")
POSITIONS_DIR = Path(__file__).resolve().parent / "positions"  # package data
CONNECT4_POSITIONS_FILE = POSITIONS_DIR / "connect4.txt"
VALUE_CHARS = {1: "+", 0: "=", -1: "-"}  # a move's value in the positions file; "." illegal
# Phases by stones on the board: opening up to the first bound, middle up to the second, then end.
PHASES = ("opening", "middle", "end")
PHASE_LAST_STONES = {"tictactoe": (2, 5), "connect4": (10, 24)}
MOVES_PLAYED = 2  # both games' states are [first's stones, second's, moves played, status]


@dataclass(frozen=True, eq=False)
class PositionSet:
    """Positions (int64 [P, state_size]) and each move's exact value (float32 [P, A], NaN where
    illegal); `skipped` counts positions the solver could not finish within its budget."""

    game: str
    name: str
    states: np.ndarray
    action_values: np.ndarray
    skipped: int = 0

    def __len__(self) -> int:
        return int(self.states.shape[0])

    @property
    def optimal_mask(self) -> np.ndarray:
        """bool [P, A]: the moves whose value equals the best one."""
        values = np.nan_to_num(self.action_values, nan=-np.inf)
        return values == values.max(axis=1, keepdims=True)

    def optimal_rate(self, actions: np.ndarray) -> float:
        """The share of positions where `actions[i]` is an optimal move."""
        if len(self) == 0:
            raise ValueError(f"position set {self.name} is empty")
        actions = np.asarray(actions, dtype=np.int64)
        if actions.shape != (len(self),):
            raise ValueError(f"need one action per position ({len(self)}), got {actions.shape}")
        return float(self.optimal_mask[np.arange(len(self)), actions].mean())

    @property
    def random_rate(self) -> float:
        """The optimal-move rate of a uniformly random legal move: the chart's floor. It is far
        above 0 where many moves are equally good (Tic-tac-toe: most moves keep the draw)."""
        if len(self) == 0:
            return 0.0
        legal = ~np.isnan(self.action_values)
        optimal = (self.optimal_mask & legal).sum(axis=1)
        return float((optimal / np.maximum(legal.sum(axis=1), 1)).mean())

    @property
    def decisive_mask(self) -> np.ndarray:
        """bool [P]: positions where some legal move is not optimal (a move can be wrong)."""
        legal = ~np.isnan(self.action_values)
        return ~(self.optimal_mask | ~legal).all(axis=1)

    @property
    def trivial_share(self) -> float:
        """The share of positions where every legal move is optimal (they test nothing)."""
        return float((~self.decisive_mask).mean()) if len(self) else 0.0

    def phase_masks(self) -> dict[str, np.ndarray]:
        """bool [P] per phase (`PHASES`), by the stones on the board."""
        opening_last, middle_last = PHASE_LAST_STONES[self.game]
        stones = self.states[:, MOVES_PLAYED]
        return {
            "opening": stones <= opening_last,
            "middle": (stones > opening_last) & (stones <= middle_last),
            "end": stones > middle_last,
        }

    def subset(self, mask: np.ndarray, name: str) -> PositionSet:
        return PositionSet(self.game, name, self.states[mask], self.action_values[mask])

    def decisive(self) -> PositionSet:
        """The decisive positions only (`decisive_mask`)."""
        return self.subset(self.decisive_mask, f"{self.name}-decisive")

    def judge(self, actions: np.ndarray) -> dict[str, object]:
        """How `actions[i]` (one per position) fare: on decisive positions, "positions",
        "optimal_moves" and "optimal_move_rate" (None without decisive positions), and the
        same counts per phase ("phases"); on every position, "all_positions"."""
        actions = np.asarray(actions, dtype=np.int64)
        if actions.shape != (len(self),):
            raise ValueError(f"need one action per position ({len(self)}), got {actions.shape}")
        optimal = self.optimal_mask[np.arange(len(self)), actions]
        decisive = self.decisive_mask
        count, right = int(decisive.sum()), int((optimal & decisive).sum())
        phases = {
            phase: {
                "positions": int((mask & decisive).sum()),
                "optimal_moves": int((mask & decisive & optimal).sum()),
            }
            for phase, mask in self.phase_masks().items()
        }
        return {
            "positions": count,
            "optimal_moves": right,
            "optimal_move_rate": right / count if count else None,
            "phases": phases,
            "all_positions": {"positions": len(self), "optimal_moves": int(optimal.sum())},
        }


def _atomic_save_npz(path: Path, **arrays: np.ndarray) -> None:
    """The arrays as one .npz file, written whole: a killed write leaves no half a cache."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def _load_cached(path: Path, game: str, name: str) -> PositionSet | None:
    """The cached set in `path`, or None when missing or unreadable (then it is rebuilt)."""
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            states = data["states"].astype(np.int64)
            values = data["action_values"].astype(np.float32)
            skipped = int(data["skipped"])
    except Exception as error:  # a damaged cache is rebuilt, never trusted
        log.warning("ignoring unreadable position cache %s: %s", path, error)
        return None
    rules = get_game(game)
    shapes = (rules.state_size, rules.num_actions)
    if states.ndim != 2 or values.ndim != 2 or states.shape[0] != values.shape[0]:
        log.warning("ignoring inconsistent position cache %s", path)
        return None
    if (states.shape[1], values.shape[1]) != shapes:  # another engine version's states
        log.warning("ignoring position cache %s: rows do not fit %s", path, game)
        return None
    return PositionSet(game, name, states, values, skipped)


# ---------------------------------------------------------------- tic-tac-toe


def reachable_positions(game: Game) -> np.ndarray:
    """Every non-terminal position reachable from the start, int64 [P, state_size], in
    breadth-first order (by number of moves)."""
    start = game.initial_state()
    seen = {start.tobytes()}
    frontier = [start]
    found: list[np.ndarray] = []
    while frontier:
        next_frontier = []
        for state in frontier:
            if game.status(state) != ONGOING:
                continue
            found.append(state)
            for action in np.flatnonzero(game.legal_mask(state)):
                child = state.copy()
                game.apply_action(child, int(action))
                key = child.tobytes()
                if key not in seen:
                    seen.add(key)
                    next_frontier.append(child)
        frontier = next_frontier
    return np.stack(found)


def _solve(game_name: str, state: np.ndarray, time_limit_s: float | None = None):
    from engine.solvers import solve_action_values

    return solve_action_values(game_name, state, time_limit_s=time_limit_s)


@functools.cache
def tictactoe_positions() -> PositionSet:
    """All 4,520 reachable non-terminal Tic-tac-toe positions with each move's minimax value."""
    states = reachable_positions(get_game("tictactoe"))
    values = np.stack([_solve("tictactoe", state) for state in states]).astype(np.float32)
    return PositionSet("tictactoe", "tictactoe-all", states, values)


# ---------------------------------------------------------------- connect 4


def read_connect4_positions(path: Path = CONNECT4_POSITIONS_FILE) -> PositionSet:
    """The positions file's set (format: `format_connect4_line`; lines starting with # are
    comments). A ValueError names the first bad line: an impossible move, a finished game, or
    values that do not mark exactly the legal moves."""
    from engine.solvers.connect4 import board_from_moves

    game = get_game("connect4")
    char_values = {char: float(value) for value, char in VALUE_CHARS.items()} | {".": np.nan}
    states, values = [], []
    with open(path, encoding="ascii") as file:
        for number, line in enumerate(file, 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            try:
                if len(fields) != 2 or not fields[0].isdigit() or len(fields[1]) != 7:
                    raise ValueError("expected '<columns 1-7> <7 value chars>'")
                moves = [int(digit) - 1 for digit in fields[0]]
                if board_from_moves(moves)[2]:
                    raise ValueError("the game is over")
                row = np.array([char_values[char] for char in fields[1]], dtype=np.float32)
            except (ValueError, KeyError) as error:
                raise ValueError(f"{path}:{number}: {error}") from None
            state = game.initial_state()
            for move in moves:
                game.apply_action(state, move)
            if not np.array_equal(~np.isnan(row), game.legal_mask(state)):
                raise ValueError(f"{path}:{number}: values do not mark the legal moves")
            states.append(state)
            values.append(row)
    if not states:
        raise ValueError(f"{path}: no positions")
    return PositionSet("connect4", Path(path).stem, np.stack(states), np.stack(values))


@functools.cache
def connect4_positions(count: int | None = None) -> PositionSet:
    """The shipped Connect 4 set, or `count` of its positions spread evenly over it."""
    positions = read_connect4_positions()
    if count is None or count >= len(positions):
        return positions
    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    picked = np.zeros(len(positions), dtype=bool)
    picked[np.linspace(0, len(positions) - 1, count).round().astype(np.int64)] = True
    return positions.subset(picked, f"{positions.name}-n{count}")


def format_connect4_line(moves: list[int], values: np.ndarray) -> str:
    """'<columns 1-7 played> <value char per column>', the positions file's line format."""
    chars = "".join("." if np.isnan(v) else VALUE_CHARS[int(v)] for v in values)
    return f"{''.join(str(move + 1) for move in moves)} {chars}"


def read_pons_set(path: Path, limit: int | None = None) -> list[tuple[list[int], int]]:
    """(0-indexed moves, Pons score) per line of a benchmark file; a ValueError names a bad line."""
    entries = []
    with open(path, encoding="ascii") as file:
        for number, line in enumerate(file, 1):
            if limit is not None and len(entries) >= limit:
                break
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[0].isdigit():
                raise ValueError(f"{path}:{number}: expected '<moves> <score>', got {line!r}")
            moves = [int(digit) - 1 for digit in fields[0]]
            if any(not 0 <= move < 7 for move in moves):
                raise ValueError(f"{path}:{number}: columns must be digits 1-7")
            entries.append((moves, int(fields[1])))
    return entries


def pons_positions(
    set_name: str,
    run_dir: Path | None = None,
    *,
    limit: int = 100,
    solver_time_s: float = 5.0,
    bench_dir: Path = PONS_DIR,
) -> PositionSet:
    """The first `limit` positions of Pons' set `set_name` with each move's value, solved once
    and cached in `<run>/evaluation/` (the files are read in place, never copied). A position
    whose solve runs past `solver_time_s` is skipped; one whose best value disagrees with the
    file's score raises (the solver would be wrong)."""
    if set_name not in PONS_SETS:
        raise ValueError(f"unknown Pons set {set_name!r}; sets: {', '.join(PONS_SETS)}")
    source = Path(bench_dir) / set_name
    if not source.exists():
        raise FileNotFoundError(f"Pons benchmark file not found: {source}")
    name = f"pons-{set_name}-n{limit}"
    path = None if run_dir is None else RunFolder(run_dir).evaluation_cache / f"{name}.npz"
    if path is not None:
        cached = _load_cached(path, "connect4", name)
        if cached is not None:
            return cached
    from engine.solvers.connect4 import board_from_moves, solve_connect4_moves

    game = get_game("connect4")
    states, values, skipped = [], [], 0
    for moves, score in read_pons_set(source, limit):
        solved = solve_connect4_moves(moves, time_limit_s=solver_time_s)
        if solved is None:
            skipped += 1
            continue
        expected = int(np.sign(score))
        if int(np.nanmax(solved)) != expected:
            raise ValueError(f"solver disagrees with {set_name} on {moves}: {solved} vs {score}")
        state = game.initial_state()
        for move in moves:
            game.apply_action(state, move)
        board_from_moves(moves)  # validates the line once more (raises on a bad move)
        states.append(state)
        values.append(solved)
    if not states:
        raise ValueError(f"no position of {set_name} was solved within {solver_time_s} s")
    positions = PositionSet("connect4", name, np.stack(states), np.stack(values), skipped)
    if path is not None:
        _atomic_save_npz(
            path, states=positions.states, action_values=positions.action_values,
            skipped=np.int64(skipped),
        )  # fmt: skip
    return positions
