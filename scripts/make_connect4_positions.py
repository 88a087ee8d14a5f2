"""Make the shipped Connect 4 evaluation set: positions where a move can be wrong, solved exactly.

Run (one process per kind and seed; they can run at once, each stopped and restarted at will):

    nice .venv/bin/python scripts/make_connect4_positions.py solve --kind play --seed 0
    nice .venv/bin/python scripts/make_connect4_positions.py solve --kind opening --seed 0
    .venv/bin/python scripts/make_connect4_positions.py write --seeds 0
    .venv/bin/python scripts/make_connect4_positions.py check --sample 200

`solve` draws candidate positions one by one, each from its own generator seeded by (seed, kind,
index), so candidate i is the same position whatever ran before it:

- play: 8 to 30 stones from a game where each move is classic MCTS (300 simulations) or, with
  probability 1/2, uniformly random;
- opening: 4 to 10 stones, drawn the same way;
- late: 25 to 30 stones, drawn the same way (few games of "play" last that long).

Each candidate's legal moves are solved exactly by `engine/solvers/connect4.py` under a time
budget; the candidate is kept when its moves do not all have the same value. Every candidate's
outcome (kept, trivial, unsolved within budget, game over, duplicate) is appended to
`<partial-dir>/<kind>-seed<seed>.txt` as it is decided, so a restart resumes after the last
one. `write` merges the partial files into the shipped file (`actor/positions/connect4.txt`),
openings first, then play, then late, each position once, with a header that counts what was
drawn and skipped.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actor.evaluation_positions import (  # noqa: E402
    CONNECT4_POSITIONS_FILE,
    format_connect4_line,
)
from actor.mcts import classic_mcts_search  # noqa: E402
from engine import get_game  # noqa: E402
from engine.game import ONGOING  # noqa: E402
from engine.solvers.connect4 import (  # noqa: E402
    board_from_moves,
    position_value,
    reset_table,
    solve_connect4_moves,
)
from runfiles import write_atomic  # noqa: E402

KINDS = {"play": (8, 30), "opening": (4, 10), "late": (25, 30)}  # stones on the board, inclusive
KIND_CODES = {"play": 1, "opening": 2, "late": 3}
STRONG_SHARE = 0.5
STRONG_SIMULATIONS = 300
DEFAULT_BUDGET_S = {"play": 10.0, "opening": 30.0, "late": 10.0}
DEFAULT_PARTIAL_DIR = Path("data/connect4-positions")


def draw_candidate(seed: int, kind: str, index: int) -> list[int] | None:
    """The moves (0-indexed columns) of candidate `index`, or None when the game ended first."""
    game = get_game("connect4")
    rng = np.random.default_rng([seed, KIND_CODES[kind], index])
    low, high = KINDS[kind]
    stones = int(rng.integers(low, high + 1))
    state = game.initial_state()
    moves: list[int] = []
    for _ in range(stones):
        if rng.random() < STRONG_SHARE:
            search_seed = int(rng.integers(2**31))
            action = classic_mcts_search(game, state, STRONG_SIMULATIONS, seed=search_seed).action
        else:
            action = int(rng.choice(np.flatnonzero(game.legal_mask(state))))
        game.apply_action(state, action)
        moves.append(action)
        if game.status(state) != ONGOING:
            return None
    return moves


def position_key(moves: list[int]) -> tuple[int, int]:
    current, mask, _ = board_from_moves(moves)
    return current, mask


def read_partial(path: Path) -> list[list[str]]:
    """The partial file's records: [index, outcome, moves, values?]; a line cut short by a kill
    is not one (`solve` drops it before appending)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="ascii").splitlines(keepends=True):
        fields = line.split()
        if not line.endswith("\n") or len(fields) < 3 or not fields[0].isdigit():
            continue
        solved = fields[1] in ("kept", "trivial") and len(fields) == 4 and len(fields[3]) == 7
        if solved or (fields[1] in ("over", "duplicate", "unsolved") and len(fields) == 3):
            records.append(fields)
    return records


def drop_torn_line(path: Path) -> None:
    """Cuts a last line without its newline (the process was killed while writing it)."""
    if path.exists():
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            path.write_bytes(data[: data.rfind(b"\n") + 1])


def solve(args: argparse.Namespace) -> None:
    path = args.partial_dir / f"{args.kind}-seed{args.seed}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    drop_torn_line(path)
    records = read_partial(path)
    seen = {position_key(_moves(r[2])) for r in records if r[1] in ("kept", "trivial")}
    kept = sum(r[1] == "kept" for r in records)
    index = int(records[-1][0]) + 1 if records else 0
    budget = args.budget_s if args.budget_s is not None else DEFAULT_BUDGET_S[args.kind]
    started = time.perf_counter()
    with open(path, "a", encoding="ascii") as out:
        if not records:
            out.write(f"# kind {args.kind} seed {args.seed} budget_s {budget}\n")
        deadline = started + 60 * args.minutes if args.minutes is not None else float("inf")
        while kept < args.count and time.perf_counter() < deadline:
            moves = draw_candidate(args.seed, args.kind, index)
            if moves is None:
                record = f"{index} over -"
            elif position_key(moves) in seen:
                record = f"{index} duplicate {_digits(moves)}"
            else:
                values = solve_connect4_moves(moves, time_limit_s=budget)
                if values is None:
                    record = f"{index} unsolved {_digits(moves)}"
                else:
                    seen.add(position_key(moves))
                    legal = values[~np.isnan(values)]
                    decisive = legal.min() != legal.max()
                    kept += decisive
                    outcome = "kept" if decisive else "trivial"
                    record = f"{index} {outcome} {format_connect4_line(moves, values)}"
            out.write(record + "\n")
            out.flush()
            index += 1
    print(f"{args.kind}: {kept} kept after {index} candidates ({path})")


def _digits(moves: list[int]) -> str:
    return "".join(str(move + 1) for move in moves)


def _moves(digits: str) -> list[int]:
    return [int(d) - 1 for d in digits]


def write(args: argparse.Namespace) -> None:
    lines: list[str] = []
    header = [
        "# Connect 4 positions where a move can be wrong (legal moves do not all have one value).",
        "# Each line: <moves: columns 1-7 from the empty board> <value of columns 1-7 for the side",
        "# to move: + win, = draw, - loss, . full>. Made by scripts/make_connect4_positions.py.",
    ]
    seen: set[tuple[int, int]] = set()
    for kind, seed in itertools.product(("opening", "play", "late"), args.seeds):
        path = args.partial_dir / f"{kind}-seed{seed}.txt"
        if not path.exists():
            continue
        records = read_partial(path)
        counts = Counter(r[1] for r in records)
        unsolved_stones = Counter(len(r[2]) for r in records if r[1] == "unsolved")
        header.append(
            f"# {kind} seed {seed}: {len(records)} candidates, {counts['kept']} kept, "
            f"{counts['trivial']} trivial, {counts['unsolved']} unsolved in budget "
            f"(by stones: {dict(sorted(unsolved_stones.items()))}), {counts['over']} game over, "
            f"{counts['duplicate']} duplicate"
        )
        for record in records:  # kinds and seeds can meet the same position: kept once
            if record[1] == "kept" and position_key(_moves(record[2])) not in seen:
                seen.add(position_key(_moves(record[2])))
                lines.append(f"{record[2]} {record[3]}")
    text = "\n".join(header + lines) + "\n"
    write_atomic(args.out, text.encode("ascii"))
    print(f"wrote {len(lines)} positions to {args.out} ({len(text)} bytes)")


def check(args: argparse.Namespace) -> None:
    """Re-solves a random sample of the file's positions another way: each move's value as
    minus its child's `position_value` (the position search, not the all-moves one), on a
    fresh transposition table. Exits 1 naming any position that disagrees."""
    positions = [line.split() for line in args.out.read_text(encoding="ascii").splitlines()]
    positions = [fields for fields in positions if fields and not fields[0].startswith("#")]
    rng = np.random.default_rng(args.seed)
    eligible = [p for p in positions if len(p[0]) >= args.min_stones]
    sample = rng.choice(len(eligible), size=min(args.sample, len(eligible)), replace=False)
    reset_table()
    wrong = []
    started = time.perf_counter()
    for row in sorted(sample.tolist()):
        digits, chars = eligible[row]
        moves = _moves(digits)
        expected = []
        for column in range(7):
            if moves.count(column) == 6:
                expected.append(".")
                continue
            child = [*moves, column]
            won = board_from_moves(child)[2]
            value = 1 if won else 0 if len(child) == 42 else -int(position_value(child))
            expected.append({1: "+", 0: "=", -1: "-"}[value])
        if "".join(expected) != chars:
            wrong.append(f"{digits}: file {chars}, children {''.join(expected)}")
    print(
        f"checked {len(sample)} of {len(eligible)} positions with >= {args.min_stones} stones "
        f"in {time.perf_counter() - started:.0f} s: {len(wrong)} disagree"
    )
    for line in wrong:
        print(line)
    if wrong:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    solve_parser = commands.add_parser("solve", help="draw and solve candidates (resumable)")
    solve_parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    solve_parser.add_argument("--count", type=int, default=5000, help="stop at this many kept")
    solve_parser.add_argument("--minutes", type=float, default=None, help="stop after this long")
    solve_parser.add_argument(
        "--budget-s", type=float, default=None, help="solver seconds per position"
    )
    write_parser = commands.add_parser("write", help="merge the partial files into the set")
    write_parser.add_argument("--out", type=Path, default=CONNECT4_POSITIONS_FILE)
    write_parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    write_parser.add_argument("--partial-dir", type=Path, default=DEFAULT_PARTIAL_DIR)
    check_parser = commands.add_parser("check", help="re-solve a sample of the file another way")
    check_parser.add_argument("--out", type=Path, default=CONNECT4_POSITIONS_FILE)
    check_parser.add_argument("--sample", type=int, default=200)
    check_parser.add_argument("--min-stones", type=int, default=8)
    check_parser.add_argument("--seed", type=int, default=0)
    solve_parser.add_argument("--seed", type=int, default=0)
    solve_parser.add_argument("--partial-dir", type=Path, default=DEFAULT_PARTIAL_DIR)
    args = parser.parse_args()
    {"solve": solve, "write": write, "check": check}[args.command](args)


if __name__ == "__main__":
    main()
