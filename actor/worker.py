"""A self-play worker process: batched self-play -> one INSERT per finished game.

Each worker owns its SelfPlay, its ONNX session (hot-reloaded by its own watcher thread) and its
SQLite connection. It publishes its counters and its model slot's last refusal on a shared
`WorkerBoard`, which the main process reads for the progress log and /api/health, and stops
between two batches when the stop event is set.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from actor.config import SELFPLAY_SETTINGS, ActorConfig
from runfiles.layout import RunFolder

# Per-worker counters in the shared array (doubles), in this order.
COUNTERS = (
    "games", "positions", "nn_evals", "batches", "model_step", "int8", "batch_size", "alive_at",
)  # fmt: skip
_OFFSET = {name: offset for offset, name in enumerate(COUNTERS)}
REFUSAL_BYTES = 400  # room per worker for the last refusal's text (UTF-8, cut to fit)
STORE_RETRY_S = 5.0  # while replay.db refuses games, try again this often
STORE_LOG_EVERY = 12  # and say so once a minute
# A worker whose last batch is older than this is stuck (a step takes well under a second; a
# write to replay.db waits at most about 90 s for a lock before it retries, with a heartbeat).
STUCK_AFTER_S = 300.0

log = logging.getLogger(__name__)


@dataclass
class WorkerBoard:
    """What the workers tell the main process, in shared memory (no lock: each worker writes
    only its own row, and a torn read of a counter or a message is harmless)."""

    workers: int
    counters: Any  # doubles [workers * len(COUNTERS)]
    refusals: Any  # bytes [workers * REFUSAL_BYTES], NUL-padded
    # The main process's own: all workers' rates over the last progress-log interval
    # (games_per_s, positions_per_s, nn_evals_per_s), empty before the first.
    rates: dict[str, float] = field(default_factory=dict)

    @classmethod
    def create(cls, context: Any, workers: int) -> WorkerBoard:
        return cls(
            workers,
            context.Array("d", workers * len(COUNTERS), lock=False),
            context.Array("c", workers * REFUSAL_BYTES, lock=False),
        )

    def publish(self, index: int, **values: float) -> None:
        base = index * len(COUNTERS)
        for name, value in values.items():
            self.counters[base + _OFFSET[name]] = float(value)

    def value(self, index: int, name: str) -> float:
        return float(self.counters[index * len(COUNTERS) + _OFFSET[name]])

    def totals(self) -> dict[str, float]:
        return {name: sum(self.value(w, name) for w in range(self.workers)) for name in COUNTERS}

    def set_refusal(self, index: int, text: str) -> None:
        data = text.encode("utf-8")[:REFUSAL_BYTES].decode("utf-8", "ignore").encode("utf-8")
        start = index * REFUSAL_BYTES
        self.refusals[start : start + REFUSAL_BYTES] = data.ljust(REFUSAL_BYTES, b"\0")

    def refusal(self, index: int) -> str | None:
        start = index * REFUSAL_BYTES
        text = bytes(self.refusals[start : start + REFUSAL_BYTES]).rstrip(b"\0")
        return text.decode("utf-8", "replace") or None

    def started(self) -> bool:
        """Whether every worker has played its first batch: its search is compiled (a first
        start compiles it then) and it plays."""
        return all(self.value(w, "batches") > 0 for w in range(self.workers))

    def snapshot(self) -> list[dict[str, Any]]:
        """One entry per worker for /api/health."""
        return [
            {
                "index": w,
                "model_step": int(self.value(w, "model_step")),
                "int8": bool(self.value(w, "int8")),
                "games": int(self.value(w, "games")),
                "last_refusal": self.refusal(w),
            }
            for w in range(self.workers)
        ]


def selfplay_config(game: Any, config: ActorConfig) -> Any:
    """The game's default SelfPlayConfig with the command line's overrides applied."""
    from actor.selfplay import default_config

    settings = default_config(game, **{name: getattr(config, name) for name in SELFPLAY_SETTINGS})
    return settings.check_memory(game)


def effective_selfplay(game: Any, config: ActorConfig) -> dict[str, Any]:
    """The self-play settings as played (the game's defaults in place of None), for the log."""
    settings = selfplay_config(game, config)
    values = {name: getattr(settings, name) for name in SELFPLAY_SETTINGS}
    if values["dirichlet_alpha"] is None:
        values["dirichlet_alpha"] = game.dirichlet_alpha
    return values


def run_worker(index: int, config: ActorConfig, stop_event: Any, board: WorkerBoard) -> None:
    """Entry point of worker `index` (a spawned process)."""
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s worker{index} %(levelname)s %(message)s"
    )
    stopping = False
    parent = os.getppid()

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    def orphaned() -> bool:
        """The actor died without stopping us (SIGKILL, OOM killer): we were re-parented."""
        return os.getppid() != parent

    signal.signal(signal.SIGINT, request_stop)  # Ctrl-C reaches the whole process group
    signal.signal(signal.SIGTERM, request_stop)

    from actor.model import ModelSlot, ModelWatcher
    from actor.replay_db import ReplayWriter, describe_db_error
    from actor.selfplay import SelfPlay
    from engine import get_game

    game = get_game(config.game)
    run_dir = config.run_dir()
    run = RunFolder(run_dir)
    slot = ModelSlot(
        game, run.models, None, threads=config.ort_threads, int8=config.int8_selfplay()
    )
    watcher = ModelWatcher(slot).start()
    wait_for_resumed_model(
        slot, run_dir, config.resume_wait_s, lambda: stopping or stop_event.is_set() or orphaned()
    )
    db_path = run.replay_db
    try:
        writer = ReplayWriter(db_path)
        newest_id = writer.newest_id()
    except sqlite3.DatabaseError as error:  # the actor checks at start; this is the backstop
        watcher.stop()
        _die(describe_db_error(db_path, error))
    sp_config = selfplay_config(game, config)
    starting_since: float | None = announce_start(index, game)
    selfplay = SelfPlay(game, sp_config, seed=worker_seed(config.seed, index, newest_id))
    board.publish(index, batch_size=selfplay.batch_capacity)
    refusal = None
    log.info("self-play %s: %s", game.name, sp_config)
    threading.Thread(target=_exit_when_orphaned, args=(orphaned,), daemon=True).start()
    try:
        while not (stopping or stop_event.is_set()):
            if orphaned():
                log.warning("the actor process is gone; stopping")
                break
            model = slot.current  # read once: a swap happens between two batches
            records = selfplay.step(model)
            if starting_since is not None:  # the first step compiled the rest of the search
                log.info(
                    "self-play worker %d: ready after %.0f s",
                    index,
                    time.monotonic() - starting_since,
                )
                starting_since = None
                # Only now: at a lower priority the compile waits behind every other process
                # of a busy machine. From here on, move requests in the API process come first.
                lower_process_priority(config.worker_nice)
            step = 0 if model is None else model.step
            for record in records:
                record.model_step = step
            store_all(
                writer,
                records,
                lambda: stopping or stop_event.is_set() or orphaned(),
                lambda: board.publish(index, alive_at=time.monotonic()),
            )
            board.publish(
                index,
                games=selfplay.games,
                positions=selfplay.positions,
                nn_evals=selfplay.nn_evals,
                batches=selfplay.batches,
                model_step=step,
                int8=model is not None and model.int8,
                alive_at=time.monotonic(),
            )
            if slot.last_refusal != refusal:
                refusal = slot.last_refusal
                board.set_refusal(index, refusal or "")
    except sqlite3.DatabaseError as error:  # not OperationalError: store_all waits on those
        _die(describe_db_error(db_path, error))
    finally:
        watcher.stop()
        writer.close()
        log.info("stopped after %d games", selfplay.games)


def announce_start(index: int, game: Any) -> float:
    """Says that the search is starting: on a first run Numba compiles it (about half a minute
    on an idle machine), in which self-play would otherwise seem to play 0.00 games/s. When it
    started."""
    log.info(
        "self-play worker %d: starting the %s search (a first run compiles it first: about half a"
        " minute on an idle machine, longer on a busy one)",
        index,
        game.name,
    )
    return time.monotonic()


def lower_process_priority(nice: int) -> None:
    """Lowers every thread of this process to niceness `nice` (Linux keeps one per thread, and a
    thread inherits its creator's: the model watcher, started before, must be lowered too)."""
    for task in os.listdir("/proc/self/task"):
        try:
            thread = int(task)
            if os.getpriority(os.PRIO_PROCESS, thread) < nice:
                os.setpriority(os.PRIO_PROCESS, thread, nice)
        except OSError:  # the thread has ended meanwhile
            pass


def _die(reason: str) -> NoReturn:
    """Exits the worker saying why (the actor then reports only the exit code)."""
    log.error("self-play cannot go on: %s", reason)
    raise SystemExit(1)


def worker_seed(seed: int, index: int, newest_game_id: int) -> int:
    """Worker `index`'s self-play seed. It takes in the newest stored game's id, so that a
    restart with an unchanged model (before the first one, say) does not play the games of the
    last start again, which the learner would then count twice."""
    return (seed * 1_000_003 + index + 7_919 * newest_game_id) % 2**32


def store_all(
    writer: Any,
    records: list,
    stopped: Callable[[], bool],
    heartbeat: Callable[[], None],
    retry_s: float = STORE_RETRY_S,
) -> None:
    """Writes every finished game. While replay.db refuses (a full disk, a lock held for
    minutes) self-play waits and tries again, rather than the worker dying with up to a
    batch of finished games and taking the actor down; `heartbeat` tells the main process
    that the worker is waiting, not stuck."""
    for number, record in enumerate(records):
        failures = 0
        while True:
            try:
                writer.insert(record)
                break
            except sqlite3.OperationalError as error:
                if stopped():
                    log.warning("stopping with %d games not written", len(records) - number)
                    return
                if failures % STORE_LOG_EVERY == 0:
                    log.error(
                        "cannot write replay.db (%s): self-play waits, trying again every %g s",
                        error,
                        retry_s,
                    )
                failures += 1
                heartbeat()
                time.sleep(retry_s)
        if failures:
            log.info("replay.db takes games again after %d tries", failures)


def wait_for_resumed_model(
    slot: Any, run_dir: Path, timeout_s: float, stopped: Callable[[], bool]
) -> None:
    """A run folder with a learner checkpoint but no model (a run resumed from a copied
    checkpoint, or with models/ removed) waits until the learner publishes the checkpoint's
    model: self-play with a uniform prior meanwhile would fill the replay window with games far
    below the model's level, and the learner would train the model down on them."""
    if slot.current is not None or not any(RunFolder(run_dir).checkpoints.glob("*.pt")):
        return
    log.info("a learner checkpoint but no model yet: waiting up to %.0f s for one", timeout_s)
    deadline = time.monotonic() + timeout_s
    while slot.current is None and not stopped():
        if time.monotonic() >= deadline:
            log.warning("no model after %.0f s: self-play starts with a uniform prior", timeout_s)
            return
        time.sleep(0.2)


def _exit_when_orphaned(orphaned: Any, check_s: float = 1.0, grace_s: float = 20.0) -> None:
    """Backstop for a worker stuck inside a batch or a write when the actor dies: the loop
    stops between two batches; if it has not after `grace_s`, the process exits anyway
    (SQLite's journal makes an interrupted insert harmless)."""
    while not orphaned():
        time.sleep(check_s)
    time.sleep(grace_s)
    log.warning("the actor process is gone and the worker did not stop; exiting")
    os._exit(1)
