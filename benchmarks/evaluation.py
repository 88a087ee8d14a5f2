"""What evaluation costs the training: self-play positions/s with and without a background
evaluation running, and the time of one evaluation and of each of its parts.

Self-play runs in this process (one worker, the game's default config) with the learner's
default network for the game, exported to ONNX (untrained: its speed is what counts). Per mode,
windows of `--seconds` alternate (the machine's load drifts), `--rounds` pairs:

  alone     self-play only
  busy      an EvaluationService started again as soon as it finishes (the worst case: the
            real schedule is every K-th model, at most once per T seconds)

  modes: process (a spawned process at nice 19) and thread (a thread of this process, nice 19)

    .venv/bin/python benchmarks/evaluation.py --game tictactoe [--seconds 8] [--rounds 3]

Prints one evaluation's wall and CPU time and its parts, then per mode the positions/s of both
kinds of window and their median ratio; the last line is JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actor import evaluation as ev  # noqa: E402
from actor.model import load_model  # noqa: E402
from actor.selfplay import SelfPlay, default_config  # noqa: E402
from engine import get_game  # noqa: E402
from runfiles.layout import RunFolder  # noqa: E402


def export_default_network(game_name: str, path: Path) -> Path:
    from learner.export import onnx_bytes
    from learner.network import build_network

    game = get_game(game_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onnx_bytes(build_network(game), game, step=1))
    return path


def selfplay_rate(selfplay: SelfPlay, model, seconds: float, during=None) -> float:
    """Positions per second of self-play over `seconds`; `during()` is called every step."""
    start_positions = selfplay.positions
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        selfplay.step(model)
        if during is not None:
            during()
    return (selfplay.positions - start_positions) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--game", default="tictactoe")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one window")
    parser.add_argument("--rounds", type=int, default=3, help="alone/with window pairs per mode")
    parser.add_argument("--modes", nargs="*", default=["process", "thread"])
    parser.add_argument("--positions", type=int, help="connect4 shipped positions judged (all)")
    args = parser.parse_args()
    game = get_game(args.game)
    folder = Path(tempfile.mkdtemp(prefix="c2-evalbench-"))
    run_dir = folder / game.name
    model_path = export_default_network(game.name, RunFolder(run_dir).latest_model)
    model = load_model(model_path, game, threads=1)
    settings = ev.default_settings(game.name)
    if args.positions is not None:
        settings = dataclasses.replace(settings, test_positions=args.positions)

    # One evaluation in this process, alone: wall and CPU time, and its parts (after a warm-up
    # that compiles the searches and reads or builds the test positions).
    ev.evaluate_model(game.name, model, 1, settings)
    wall, cpu = time.perf_counter(), time.process_time()
    entries = ev.evaluate_model(game.name, model, 1, settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    parts = {f"{e['opponent']}@{e['simulations']}": round(e["seconds"], 3) for e in entries}
    print(f"one evaluation alone: {wall:.2f} s wall, {cpu:.2f} s CPU; parts (s): {parts}")
    report = {"game": game.name, "evaluation_wall_s": round(wall, 3)}
    report.update({"evaluation_cpu_s": round(cpu, 3), "parts_s": parts})

    selfplay = SelfPlay(game, default_config(game), seed=0)
    selfplay_rate(selfplay, model, 3.0)  # compile and warm up
    for mode in args.modes:
        service = ev.EvaluationService(  # the same model again and again: no skipping
            game.name, run_dir, settings=settings, min_interval_s=0.0, mode=mode, skip_done=False
        )
        service.notify(model_path, force=True)  # warm-up: a process imports and loads caches
        service.wait()
        time.sleep(0.1)  # let the done-callback run
        finished, seconds = service.evaluations_finished, service.seconds_total

        def keep_busy(service: ev.EvaluationService = service) -> None:
            if not service.busy:
                service.notify(model_path, force=True)

        alone, busy = [], []
        for _ in range(args.rounds):  # alternate windows: the machine's load drifts
            alone.append(selfplay_rate(selfplay, model, args.seconds))
            busy.append(selfplay_rate(selfplay, model, args.seconds, keep_busy))
            service.wait()
        time.sleep(0.1)
        service.close(wait=True)
        count = service.evaluations_finished - finished
        mean = (service.seconds_total - seconds) / count if count else float("nan")
        alone_median, busy_median = statistics.median(alone), statistics.median(busy)
        ratio = statistics.median(b / a for a, b in zip(alone, busy, strict=True))
        print(
            f"{mode}: self-play alone {alone_median:.0f} positions/s, with evaluations running "
            f"back to back {busy_median:.0f} positions/s (ratio {ratio:.2f}, median of "
            f"{args.rounds} window pairs); {count} evaluations, {mean:.1f} s wall each"
        )
        report[mode] = {
            "alone_positions_per_s": [round(r) for r in alone],
            "busy_positions_per_s": [round(r) for r in busy],
            "ratio": round(ratio, 3),
            "evaluations": count,
            "evaluation_wall_s": round(mean, 2) if count else None,
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
