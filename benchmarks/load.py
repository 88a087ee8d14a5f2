"""Reliability under load, at full length: the longer versions of tests/test_reliability_*.py.

    .venv/bin/python benchmarks/load.py [--load-s 60] [--baseline-s 20] [--clients 32]
                                        [--soak-s 60] [--kills 10] [--only load,soak,kills]

1. load: a real `python -m actor` self-plays tic-tac-toe; self-play throughput is measured
   alone for --baseline-s, then while --clients concurrent clients ask for `alphazero` moves
   for --load-s (same actor, same run): p50/p99 move latency, 503s, and the throughput ratio.
2. soak: four self-play workers and the learner trimming replay.db to its window for
   --soak-s: games written, deleted, kept; no lock error, no lost or duplicate row.
3. kills: the actor SIGKILLed --kills times at random moments of self-play, replay.db checked
   after each kill (integrity, no committed game lost).

Everything runs on 127.0.0.1 in a temporary folder. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_reliability_crash import actor_kill_loop, four_writers_soak  # noqa: E402
from test_reliability_load import load_run  # noqa: E402

from actor.evaluation import json_safe  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-s", type=float, default=60.0)
    parser.add_argument("--baseline-s", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--soak-s", type=float, default=60.0)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--only", default="load,soak,kills", help="comma-separated parts to run")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="cartridge-load-") as folder:
        root = Path(folder)
        if "load" in parts:
            figures = load_run(root / "load", args.load_s, args.baseline_s, args.clients)
            figures["errors"] = figures["errors"][:5]
            results["load"] = figures
            print(
                f"load: {args.clients} clients, {args.load_s:.0f} s: {figures['ok']} moves "
                f"({figures['moves_per_s']:.1f}/s), {figures['busy_503']} x 503, "
                f"{len(figures['errors'])} errors; p50 {figures['p50_ms']:.0f} ms, p99 "
                f"{figures['p99_ms']:.0f} ms; self-play {figures['selfplay_alone']:.0f} -> "
                f"{figures['selfplay_loaded']:.0f} positions/s (ratio "
                f"{figures['selfplay_loaded'] / max(figures['selfplay_alone'], 1e-9):.2f}, "
                f"{figures['drop_percent']:.0f}% drop)",
                flush=True,
            )
        if "soak" in parts:
            started = time.monotonic()
            counts = four_writers_soak(root / "soak", args.soak_s)
            counts["seconds"] = round(time.monotonic() - started, 1)
            results["soak"] = counts
            print(f"soak: 4 workers + window deletion, {args.soak_s:.0f} s: {counts}", flush=True)
        if "kills" in parts:
            kills, kept = actor_kill_loop(root / "kills", args.kills, budget_s=60.0 * args.kills)
            results["kills"] = {"survived": kills, "games_kept": kept}
            print(f"kills: {kills} SIGKILLs survived, {kept} games kept, integrity ok", flush=True)
    print(json.dumps(json_safe(results), default=str))  # NaN (no busy request) -> null
    return 0


if __name__ == "__main__":
    sys.exit(main())
