"""Connect 4 solver speed and correctness on Pascal Pons' benchmark sets.

Run: ``.venv/bin/python benchmarks/connect4_solver.py [--samples 200] [--sets Test_L2_R2 ...]
[--random-stones 8 --random-count 20] [--cold] [--seed 0]``.

For each set, a random sample of positions (from the copy in engine/solvers/pons/) is solved
twice in one process:

- value: `position_value` (the position's win/draw/loss), the cheaper question,
- moves: `solve_connect4_moves` (every move's value: what evaluation and the "perfect" player ask),

and it prints positions/s, mean and max ms per position (CPU time of this thread), nodes, node
rate, the moves/value cost ratio, and the share of positions whose sign matches Pons' score (must
be 100%: for "moves", the best move's value). The transposition table is cleared before each
set and each mode (kept between positions, as in evaluation); `--cold` clears it before every
position. `--random-stones N` adds positions after N random moves (what evaluation meets from
8 stones on). The last line is JSON.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["NUMBA_NUM_THREADS"] = "1"
# benchmarks/engine.py exists: keep this folder off the path so `import engine` is the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from actor.evaluation_positions import PONS_DIR, PONS_SETS, read_pons_set  # noqa: E402
from engine.solvers import connect4  # noqa: E402

DEFAULT_SETS = ["Test_L3_R1", "Test_L2_R1", "Test_L2_R2", "Test_L1_R1", "Test_L1_R2"]


def load_set(name: str, samples: int, rng: np.random.Generator) -> list[tuple[list[int], int]]:
    """`samples` positions of Pons' set `name` picked at random: (0-indexed moves, score's sign)."""
    entries = read_pons_set(PONS_DIR / name)
    picked = rng.choice(len(entries), size=min(samples, len(entries)), replace=False)
    return [(entries[i][0], int(np.sign(entries[i][1]))) for i in sorted(picked.tolist())]


def random_positions(stones: int, count: int, rng: np.random.Generator) -> list[list[int]]:
    """Positions after `stones` uniformly random moves where nobody has won yet."""
    positions: list[list[int]] = []
    while len(positions) < count:
        moves: list[int] = []
        while len(moves) < stones:
            moves.append(int(rng.choice([c for c in range(7) if moves.count(c) < 6])))
            if connect4.board_from_moves(moves)[2]:
                break
        else:
            positions.append(moves)
    return positions


def run(
    positions: list[list[int]], signs: list[int] | None, mode: str, cold: bool
) -> dict[str, float]:
    connect4.reset_table()
    times, nodes, matches = [], 0, 0
    for index, moves in enumerate(positions):
        if cold:
            connect4.reset_table()
        start = time.thread_time()
        if mode == "value":
            value = connect4.position_value(moves)
        else:
            values = connect4.solve_connect4_moves(moves)
            assert values is not None
            value = int(np.nanmax(values))
        times.append(time.thread_time() - start)
        nodes += connect4.last_node_count()
        if signs is not None:
            matches += value == signs[index]
    total = sum(times)
    return {
        "positions": len(positions),
        "positions_per_s": len(positions) / total,
        "mean_ms": 1e3 * total / len(positions),
        "max_ms": 1e3 * max(times),
        "mean_nodes": nodes / len(positions),
        "mnodes_per_s": nodes / total / 1e6,
        "sign_match": matches / len(positions) if signs is not None else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200, help="positions per Pons set")
    parser.add_argument(
        "--sets", nargs="*", default=DEFAULT_SETS, choices=PONS_SETS, help="Pons set names"
    )
    parser.add_argument("--random-stones", type=int, default=8)
    parser.add_argument("--random-count", type=int, default=20, help="0: no random positions")
    parser.add_argument("--cold", action="store_true", help="clear the table for every position")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    start = time.perf_counter()
    connect4.solve_connect4_moves([3, 3, 3, 3, 3, 3, 2, 4, 2, 4, 2, 4, 4, 2, 4, 2])
    print(f"compile or cache load: {time.perf_counter() - start:.2f} s")

    suites: list[tuple[str, list[list[int]], list[int] | None]] = []
    for name in args.sets:
        positions = load_set(name, args.samples, rng)
        suites.append((name, [m for m, _ in positions], [s for _, s in positions]))
    if args.random_count > 0:
        positions = random_positions(args.random_stones, args.random_count, rng)
        suites.append((f"random_{args.random_stones}_stones", positions, None))

    header = f"{'set':>18} {'mode':>5} {'n':>5} {'pos/s':>9} {'mean ms':>9} {'max ms':>9}"
    print(header + f" {'nodes':>10} {'Mnodes/s':>8} {'sign ok':>8} {'moves/value':>11}")
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, positions, signs in suites:
        results[name] = {}
        for mode in ("value", "moves"):
            r = run(positions, signs, mode, args.cold)
            results[name][mode] = r
            ratio = r["mean_ms"] / results[name]["value"]["mean_ms"]
            print(
                f"{name:>18} {mode:>5} {r['positions']:>5} {r['positions_per_s']:>9.1f} "
                f"{r['mean_ms']:>9.2f} {r['max_ms']:>9.1f} {r['mean_nodes']:>10.0f} "
                f"{r['mnodes_per_s']:>8.2f} {r['sign_match']:>8.2%} {ratio:>10.2f}x",
                flush=True,
            )
    errors = [
        name
        for name, modes in results.items()
        for r in modes.values()
        if not np.isnan(r["sign_match"]) and r["sign_match"] < 1.0
    ]
    print("sign check:", "FAILED on " + ", ".join(errors) if errors else "100% everywhere")
    print(json.dumps({"results": results, "errors": errors}))
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
