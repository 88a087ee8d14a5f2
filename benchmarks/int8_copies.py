"""CPU the self-play workers of a run spend on int8 copies of each new model: every worker
making its own copy, against one copy per model shared through the run folder.

    .venv/bin/python benchmarks/int8_copies.py [--games connect4,othello] [--workers 2,8]
                                               [--models 5]

For each game and worker count it starts that many worker processes, publishes `--models`
copies of the shipped model (a new step each, as the learner would), and has every worker ask
for the int8 copy of each at the same moment, once with `actor.quantize.int8_copy` (each its
own) and once with `shared_int8_copy` (what self-play does). It prints the median CPU seconds
per model summed over the workers, and the ratio. The last line of output is one JSON object:
{game: {workers: {"own_cpu_s", "shared_cpu_s"}}}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import onnx  # noqa: E402

from actor import quantize  # noqa: E402
from actor.model import load_model  # noqa: E402
from engine import get_game  # noqa: E402
from engine.records import META_CREATED_AT, META_STEP  # noqa: E402
from runfiles import write_atomic  # noqa: E402
from runfiles.layout import RunFolder  # noqa: E402


def shipped_model_as(game_name: str, step: int) -> bytes:
    """The shipped model with the metadata of a newly published one."""
    proto = onnx.load(str(ROOT / "data" / "pretrained" / f"{game_name}.onnx"))
    for entry in proto.metadata_props:
        if entry.key in (META_STEP, META_CREATED_AT):
            entry.value = str(step if entry.key == META_STEP else time.time())
    return proto.SerializeToString()


def _worker(game_name: str, run: Path, shared: bool, models: int, start, seconds) -> None:
    game = get_game(game_name)
    quantize.calibration_positions(game)  # made once per process in a run too: not timed
    for _ in range(models):
        start.wait()  # the model is published
        began = time.process_time()
        model = load_model(RunFolder(run).latest_model, game)
        if shared:
            quantize.shared_int8_copy(model, game, RunFolder(run).int8)
        else:
            quantize.int8_copy(model, game)
        seconds.put(time.process_time() - began)
        start.wait()  # every worker is done


def cpu_per_model(game_name: str, workers: int, shared: bool, models: int) -> float:
    """Median over `models` of the CPU seconds all workers spent on one model's copy."""
    context = multiprocessing.get_context("spawn")
    start, seconds = context.Barrier(workers + 1), context.Queue()
    with tempfile.TemporaryDirectory(prefix="cartridge-int8-bench-") as folder:
        run = Path(folder)
        processes = [
            context.Process(target=_worker, args=(game_name, run, shared, models, start, seconds))
            for _ in range(workers)
        ]
        for process in processes:
            process.start()
        totals = []
        for step in range(1, models + 1):
            write_atomic(RunFolder(run).latest_model, shipped_model_as(game_name, step))
            start.wait()
            totals.append(sum(seconds.get(timeout=300) for _ in processes))
            start.wait()
        for process in processes:
            process.join()
    return statistics.median(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", default="connect4,othello")
    parser.add_argument("--workers", default="2,8")
    parser.add_argument("--models", type=int, default=5)
    args = parser.parse_args()
    results: dict = {}
    for game in args.games.split(","):
        for workers in map(int, args.workers.split(",")):
            own = cpu_per_model(game, workers, False, args.models)
            shared = cpu_per_model(game, workers, True, args.models)
            print(
                f"{game:9s} {workers:2d} workers: CPU s per model, each its own copy {own:.2f},"
                f" one shared copy {shared:.2f} ({own / shared:.1f}x less)"
            )
            results.setdefault(game, {})[workers] = {"own_cpu_s": own, "shared_cpu_s": shared}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
