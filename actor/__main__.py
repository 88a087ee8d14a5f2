"""`python -m actor --game GAME ...`: the HTTP API in this process, self-play in N workers.

Ctrl-C or SIGTERM stops the server, then the workers between two batches (each game already
written stays written), or by SIGKILL a few seconds later where a batch takes longer. If a
worker dies, the actor says so and exits non-zero so that start_training.sh can stop the
learner too.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

from actor.config import ActorConfig, parse_args, saved_selfplay
from actor.worker import STUCK_AFTER_S
from runfiles import write_atomic
from runfiles.layout import RunFolder

log = logging.getLogger("actor")
# How long the workers together get to finish their batch once the actor stops, before SIGKILL:
# under the launcher's own 15 s for the whole actor, so that its stop is orderly.
WORKER_STOP_GRACE_S = 8.0


def set_thread_env(config: ActorConfig) -> None:
    """Thread counts for Numba/OpenMP; must run before numba is imported (workers inherit)."""
    os.environ["NUMBA_NUM_THREADS"] = str(config.numba_threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(config.numba_threads))


class Progress:
    """Sums the workers' counters and logs rates every few seconds; notices dead workers."""

    def __init__(self, config: ActorConfig, board, processes, on_failure, evaluation) -> None:
        self.config = config
        self.board = board  # an actor.worker.WorkerBoard
        self.processes = processes
        self.on_failure = on_failure
        self.evaluation = evaluation  # an EvaluationService or None
        self.stop = threading.Event()
        self.failed: str | None = None

    def failed_worker(self) -> str | None:
        """Why a worker cannot go on: it died, or its last batch is STUCK_AFTER_S old (stuck in
        a jitted call or ORT: alive, but self-play has stopped and the learner would train on
        an old window unnoticed). None while all play."""
        now = time.monotonic()  # system-wide on Linux: the workers' clock too
        for index, process in enumerate(self.processes):
            if not process.is_alive():
                return f"self-play worker {index} died (exit code {process.exitcode})"
            alive_at = self.board.value(index, "alive_at")  # 0 until its first batch
            if alive_at and now - alive_at > STUCK_AFTER_S:
                return f"self-play worker {index} has made no progress for {now - alive_at:.0f} s"
        return None

    def line(self, previous: dict[str, float], current: dict[str, float], elapsed: float) -> str:
        """The progress line for the board's totals `elapsed` seconds apart. Before the first
        batch it says that self-play is starting (a first run compiles the search for about a
        minute), rather than 0.00 games/s as if that were how fast it plays."""
        game = self.config.game
        if not current["batches"]:
            return (
                f"self-play {game}: starting (a first run compiles the search:"
                " about half a minute on an idle machine)"
            )
        rate = {k: (current[k] - previous[k]) / elapsed for k in ("games", "positions")}
        evals = (current["nn_evals"] - previous["nn_evals"]) / elapsed
        batches = current["batches"] - previous["batches"]
        fill = (current["nn_evals"] - previous["nn_evals"]) / batches if batches else 0.0
        capacity = current["batch_size"] / max(len(self.processes), 1)
        steps = [int(self.board.value(w, "model_step")) for w in range(len(self.processes))]
        step = max(steps, default=0)  # 0: no worker has a model (learners publish from 1)
        model = f"model step {step}" if step else "no model yet (uniform prior, no network)"
        int8, workers = round(current["int8"]), len(self.processes)  # int8 copies played
        if int8:
            model += " (int8)" if int8 == workers else f" (int8 in {int8}/{workers} workers)"
        return (
            f"self-play {game}: {rate['games']:.2f} games/s, {rate['positions']:.0f} positions/s,"
            f" {evals:.0f} {'nn' if step else 'leaf'} evals/s, batch fill"
            f" {fill:.1f}/{capacity:.0f}, games {current['games']:.0f}, {model}"
        )

    def run(self) -> None:
        previous, previous_time = self.board.totals(), time.monotonic()
        while not self.stop.wait(self.config.log_interval_s):
            failure = self.failed_worker()
            if failure and not self.stop.is_set():
                self.failed = failure
                log.error("%s; stopping the actor", failure)
                self.on_failure()
                return
            if self.evaluation is not None:
                self.evaluation.poll()  # starts a background evaluation of a new model if due
            now, current = time.monotonic(), self.board.totals()
            elapsed = max(now - previous_time, 1e-9)
            self.board.rates = {
                f"{name}_per_s": (current[name] - previous[name]) / elapsed
                for name in ("games", "positions", "nn_evals")
            }
            log.info("%s", self.line(previous, current, elapsed))
            previous, previous_time = current, now


def evaluation_service(config: ActorConfig):
    """The background evaluation of the run's new models (an EvaluationService), or None when
    it is turned off."""
    if not config.evaluation:
        return None
    from actor.evaluation import EvaluationService  # imports Numba: after set_thread_env

    return EvaluationService(
        config.game, config.run_dir(), min_interval_s=config.evaluation_interval()
    )


def stop_workers(
    processes: list[BaseProcess], stop_event: Event, grace_s: float = WORKER_STOP_GRACE_S
) -> None:
    """Asks every worker to stop between two batches (each finished game is written), and
    SIGKILLs those still running `grace_s` seconds later, all workers sharing that time: a
    worker inside a batch that compiles the search or plays a long one does not get back to
    its stop check for minutes on a busy machine, and a worker's SIGTERM handler only asks it
    to stop. SQLite's journal makes a killed insert harmless."""
    stop_event.set()
    deadline = time.monotonic() + grace_s
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            log.warning("worker %s did not stop in %.0f s; killing it", process.name, grace_s)
            process.kill()
    for process in processes:
        process.join()


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    set_thread_env(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    import multiprocessing

    import uvicorn

    from actor.api import create_app
    from engine import get_game

    effective = None  # the self-play settings as played, for the log and actor_config.json
    try:
        game = get_game(config.game)
        if config.selfplay:
            from actor.worker import effective_selfplay, selfplay_config

            settings = selfplay_config(game, config)  # validates the overrides
            log.info("self-play: %d worker(s), %s", config.selfplay_workers(), settings)
            effective = effective_selfplay(game, config)
    except ValueError as error:
        print(f"python -m actor: {error}", file=sys.stderr)
        return 2
    if config.host in ("0.0.0.0", "::"):
        log.warning("listening on %s: every machine on the network can reach the API", config.host)
    log.info("config: %s", config.as_log_dict(effective))
    if config.selfplay:
        run_dir = config.run_dir()
        run = RunFolder(run_dir)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            logged = config.as_log_dict(effective)
            before = saved_selfplay(run.actor_config)
            if changes := [f"{k} {v} -> {logged[k]}" for k, v in before.items() if logged[k] != v]:
                log.info(
                    "self-play settings changed since this run's last start: %s", ", ".join(changes)
                )
            write_atomic(run.actor_config, json.dumps(logged, indent=2).encode())
        except OSError as error:  # read-only, full, or a file where the folder should be
            print(
                f"python -m actor: cannot write the run folder {run_dir}: {error}", file=sys.stderr
            )
            return 2
        from actor.replay_db import ReplayDBError, check_replay_db

        try:  # before the API and the workers, so a bad file stops the start, not a worker later
            check_replay_db(run.replay_db)
        except ReplayDBError as error:
            print(f"python -m actor: {error}", file=sys.stderr)
            return 2

    context = multiprocessing.get_context("spawn")
    stop_event = context.Event()
    processes = []
    board = None
    if config.selfplay:
        from actor.worker import WorkerBoard, run_worker

        workers = config.selfplay_workers()
        board = WorkerBoard.create(context, workers)
        for index in range(workers):
            process = context.Process(
                target=run_worker,
                args=(index, config, stop_event, board),
                name=f"selfplay-{index}",
                daemon=True,
            )
            process.start()
            processes.append(process)

    app = create_app(
        config,
        training_game=config.game if config.selfplay else None,
        warm_up=config.warm_up,
        workers=board,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="info",
            access_log=False,
            timeout_graceful_shutdown=3,
        )
    )

    def request_exit(*_: object) -> None:
        server.should_exit = True

    # uvicorn restores these handlers after shutdown and re-raises the signal into them.
    signal.signal(signal.SIGINT, request_exit)
    signal.signal(signal.SIGTERM, request_exit)
    progress = None
    evaluation = None
    if processes:
        evaluation = evaluation_service(config)
        progress = Progress(config, board, processes, request_exit, evaluation)
        threading.Thread(target=progress.run, name="progress", daemon=True).start()
    try:
        server.run()
    finally:
        if progress is not None:
            progress.stop.set()
        if evaluation is not None:
            evaluation.close()
        stop_workers(processes, stop_event)
    if progress is not None and progress.failed:
        print(f"python -m actor: {progress.failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
