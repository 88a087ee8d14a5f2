"""Evaluation while training: small matches against fixed baselines, and moves judged by a solver.

For one model (an MCTS `Evaluator`, e.g. an ONNX file loaded by `actor.model.load_model`):

- matches with MCTS at a fixed budget against `random` and classic MCTS (`mcts-N`), colours
  alternating, giving win/draw/loss rates;
- where perfect play is known, the optimal-move rate on solved positions where a move can be
  wrong (decisive ones, see `actor.evaluation_positions`), overall and per phase (opening,
  middle, end): the network alone (one batched call over all positions) and with `simulations`
  (all positions searched together, one batched call per round). Tic-tac-toe's set also has
  positions where every move is right: its rate over all of them is kept as "all_positions".

Entries go to `<run>/evaluations.json` (a bounded list in the `evaluations` shape of stats.json,
written atomically). `EvaluationService` runs this in the background of the actor, in a
low-priority process (default) or thread, every K-th new model and at most every T seconds.

    python -m actor.evaluation --game tictactoe --data-dir data [--model PATH] [--simulations N]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import logging
import math
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actor import mcts
from actor.arena import (
    Agent,
    AlphaZeroAgent,
    ClassicMctsAgent,
    RandomAgent,
    optimal_move_rate,
    play_match,
    score_interval,
    search_actions,
)
from actor.config import ActorConfig
from actor.evaluation_positions import PHASES, PONS_SETS
from actor.locking import locked
from engine import get_game
from runfiles import set_aside, write_atomic
from runfiles.layout import RunFolder
from runfiles.stats import thin

log = logging.getLogger(__name__)

MAX_ENTRIES = 2000


def solved_positions(game_name: str, settings: EvaluationSettings):
    """The game's solved test set (read or computed in memory, never solved in a run folder),
    or None for a game without a solver."""
    from actor import evaluation_positions as ep

    if game_name == "tictactoe":
        return ep.tictactoe_positions()
    if game_name == "connect4" and settings.test_positions != 0:
        return ep.connect4_positions(settings.test_positions)
    return None


def pons_error_rates(
    evaluator: mcts.Evaluator | None,
    simulations: int,
    *,
    run_dir: Path | None = None,
    sets: tuple[str, ...] = PONS_SETS,
    limit: int = 100,
    solver_time_s: float = 5.0,
) -> dict[str, dict[str, float]]:
    """Per Pons set: {"error_rate", "positions", "skipped"}, as AlphaZero.jl's pons_benchmark:
    an error is a move whose win/draw/loss value is worse than the best one."""
    from actor.evaluation_positions import pons_positions

    game = get_game("connect4")
    rates = {}
    for name in sets:
        positions = pons_positions(name, run_dir, limit=limit, solver_time_s=solver_time_s)
        rate = optimal_move_rate(game, positions, evaluator, simulations)
        rates[name] = {
            "error_rate": 1.0 - rate,
            "positions": len(positions),
            "skipped": positions.skipped,
        }
    return rates


# ---------------------------------------------------------------- one evaluation


@dataclass(frozen=True)
class EvaluationSettings:
    """What one evaluation plays; `default_settings(game)` gives each game's values (these
    defaults for a game whose settings name none)."""

    simulations: int = 100  # the model's search budget in matches and in the searched move rate
    games_per_opponent: int = 6  # per baseline, colours alternating (even = fair)
    mcts_budgets: tuple[int, ...] = (200,)  # classic MCTS baselines
    play_random: bool = True
    judge_network_alone: bool = True
    test_positions: int | None = None  # Connect 4: this many shipped positions (None: all, 0: none)
    seed: int = 0
    c_puct: float = mcts.DEFAULT_C_PUCT


def default_settings(game_name: str) -> EvaluationSettings:
    """The game's evaluation (its `evaluation` settings in engine/games/<name>.py)."""
    return EvaluationSettings(**get_game(game_name).settings.get("evaluation", {}))


def _entry(step: int, opponent: str, simulations: int, **fields: Any) -> dict[str, Any]:
    entry = {
        "step": int(step),
        "time": time.time(),
        "opponent": opponent,
        "simulations": int(simulations),
        "win_rate": None,
        "draw_rate": None,
        "loss_rate": None,
        "optimal_move_rate": None,
    }
    entry.update(fields)
    return entry


def evaluate_model(
    game_name: str,
    evaluator: mcts.Evaluator | None,
    step: int,
    settings: EvaluationSettings | None = None,
) -> list[dict[str, Any]]:
    """Matches against the baselines and the optimal-move rates of one model, as entries of the
    `evaluations` list. A match's entry also holds "games" and "score_low", "score_high": the
    Wilson 95% interval of its score (a draw counts half; `score_interval`), which 20 games
    leave wide. A solver's entry is about positions where a move can be wrong: its
    "optimal_move_rate", "positions" and "optimal_moves" (how many of them got a best move),
    "phases" (those counts per phase), "random_optimal_rate" (what uniformly random moves score
    there); "trivial_share" is the share of the set where every move is optimal and, when there
    are such positions, "all_positions" counts over the whole set. Both: "seconds" spent."""
    game = get_game(game_name)
    settings = settings or default_settings(game_name)
    entries = []
    agent = AlphaZeroAgent(evaluator, settings.simulations, c_puct=settings.c_puct)
    opponents: list[Agent] = [RandomAgent()] if settings.play_random else []
    opponents += [ClassicMctsAgent(budget) for budget in settings.mcts_budgets]
    if settings.games_per_opponent == 0:  # positions only
        opponents = []
    for number, opponent in enumerate(opponents):
        start = time.perf_counter()
        match = play_match(
            game, agent, opponent, settings.games_per_opponent, seed=settings.seed * 31 + number
        )
        win, draw, loss = match.rates()
        low, high = score_interval(match.score, match.games)
        entries.append(
            _entry(
                step, opponent.name, settings.simulations, win_rate=win, draw_rate=draw,
                loss_rate=loss, games=match.games, score_low=round(low, 4),
                score_high=round(high, 4), seconds=time.perf_counter() - start,
            )  # fmt: skip
        )
    positions = solved_positions(game_name, settings)
    if positions is not None:
        budgets = ([0] if settings.judge_network_alone else []) + [settings.simulations]
        random_rate = round(positions.decisive().random_rate, 4)
        for simulations in dict.fromkeys(budgets):
            start = time.perf_counter()
            actions = search_actions(
                game, positions.states, simulations, evaluator, c_puct=settings.c_puct
            )
            judged = positions.judge(actions)
            if judged["all_positions"]["positions"] == judged["positions"]:
                del judged["all_positions"]  # every position is decisive: the same figure
            entries.append(
                _entry(
                    step, "solver", simulations, **judged,
                    trivial_share=round(positions.trivial_share, 4),
                    random_optimal_rate=random_rate, seconds=time.perf_counter() - start,
                )  # fmt: skip
            )
    return entries


# ---------------------------------------------------------------- evaluations.json


def read_evaluations(run_dir: Path) -> list[dict[str, Any]]:
    """The run's evaluation entries (empty when there is no file or it is unreadable)."""
    path = RunFolder(run_dir).evaluations
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable %s: %s", path, error)
        return []
    return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []


def write_json_atomic(path: Path, data: Any) -> None:
    """Writes `data` as JSON with `write_atomic`: readers see the old file or the new one."""
    write_atomic(path, json.dumps(data, indent=1, allow_nan=False).encode())


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (the dashboard reads plain JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def append_evaluations(
    run_dir: Path, entries: list[dict[str, Any]], max_entries: int = MAX_ENTRIES
) -> list[dict[str, Any]]:
    """Appends `entries` to `<run>/evaluations.json`, at most `max_entries` of them: beyond
    that, it is thinned as stats.json is (`thin`: whole evaluations, evenly over the run), so a
    long run keeps its first evaluations. A file that is not a list of entries is set aside
    first (`set_aside_if_damaged`), not overwritten."""
    run = RunFolder(run_dir)
    run.path.mkdir(parents=True, exist_ok=True)
    with locked(run.evaluations_lock):
        set_aside_if_damaged(run.evaluations)
        merged = thin(read_evaluations(run.path) + json_safe(list(entries)), max_entries)
        write_json_atomic(run.evaluations, merged)
    return merged


def set_aside_if_damaged(path: Path) -> None:
    """Renames `path` to `<name>.damaged-<UTC time>` when it is not a JSON list of entries
    (edited by hand, or by another program): the next write would drop what it still holds."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        data = None
    if isinstance(data, list) and all(isinstance(entry, dict) for entry in data):
        return
    aside = set_aside(path, "damaged", log=log)
    if aside is None:
        log.warning("%s is damaged and cannot be set aside; it is replaced", path)
        return
    log.warning("%s is not a list of evaluations: kept as %s, a new one is started", path, aside)


# ---------------------------------------------------------------- in the background


def lower_priority(nice: int) -> None:
    """Lowers the calling thread's CPU priority (Linux: niceness is per thread)."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, nice))
    except (OSError, AttributeError) as error:
        log.warning("could not lower %s's priority: %s", threading.current_thread().name, error)


def evaluate_file(
    game_name: str,
    run_dir: Path,
    model_path: Path,
    settings: EvaluationSettings | None = None,
    save: bool = True,
    skip_done: bool = False,
) -> list[dict[str, Any]]:
    """Loads the model in `model_path`, evaluates it, appends the entries to the run's file.
    With `skip_done`, a model the file holds an evaluation of already (a restarted actor meets
    the same latest.onnx again) is not evaluated twice: no entries. An entry of the same step
    made before the model was written does not count: it is of a step the learner lost in a
    crash and made again."""
    from actor.model import load_model

    game = get_game(game_name)
    model = load_model(Path(model_path), game, threads=1)
    if skip_done and any(
        e.get("step") == model.step
        and isinstance(e.get("time"), int | float)
        and e["time"] >= model.created_at
        for e in read_evaluations(Path(run_dir))
    ):
        log.info("%s: step %d is evaluated already", game_name, model.step)
        return []
    start = time.perf_counter()
    entries = evaluate_model(game_name, model, model.step, settings)
    if save:
        append_evaluations(Path(run_dir), entries)
    log.info(
        "%s: evaluated step %d in %.1f s: %s",
        game_name, model.step, time.perf_counter() - start, summary(entries),
    )  # fmt: skip
    return entries


def summary(entries: list[dict[str, Any]]) -> str:
    """One line: win/draw/loss per opponent with the score's 95% interval, optimal-move rates
    per budget (`optimal_text`) on positions where a move can be wrong, with their count, per
    phase, and over all positions where the set has others."""
    parts = []
    for entry in entries:
        if entry.get("optimal_move_rate") is not None:
            parts.append(f"optimal@{entry['simulations']} {judged_text(entry)}")
            continue
        part = (
            f"vs {entry['opponent']} {entry['win_rate']:.2f}/{entry['draw_rate']:.2f}/"
            f"{entry['loss_rate']:.2f}"
        )
        if entry.get("score_low") is not None and entry.get("score_high") is not None:
            part += f" (score 95% {entry['score_low']:.2f}-{entry['score_high']:.2f})"
        parts.append(part)
    return ", ".join(parts)


def judged_text(entry: dict[str, Any]) -> str:
    """'97.3% of 3,412 positions where a move can be wrong (opening 95.0% of 600, ...); all
    positions 98.1%'; an entry written before phases were judged says "all positions"."""
    count = entry.get("positions")
    if not entry.get("phases"):
        return f"{optimal_text(entry)} of {count or 0:,} positions (all positions)"
    phases = ", ".join(
        f"{phase} {optimal_text(counts_entry(entry['phases'][phase]))} of "
        f"{entry['phases'][phase]['positions']:,}"
        for phase in PHASES
        if entry["phases"].get(phase, {}).get("positions")
    )
    text = f"{optimal_text(entry)} of {count:,} positions where a move can be wrong ({phases})"
    if entry.get("all_positions"):
        text += f"; all positions {optimal_text(counts_entry(entry['all_positions']))}"
    return text


def counts_entry(counts: dict[str, int]) -> dict[str, Any]:
    """{"positions", "optimal_moves"} as an entry `optimal_text` reads."""
    positions = counts["positions"]
    rate = counts["optimal_moves"] / positions if positions else 0.0
    return {**counts, "optimal_move_rate": rate}


def optimal_text(entry: dict[str, Any]) -> str:
    """A solver entry's optimal-move rate as "97.3%", but as the counts "4,518/4,520" where a
    percentage would round to 100.0% without every move being a best one (so that perfect play
    does not seem to come and go as later models score 4,518 or 4,520 of 4,520)."""
    rate, positions = entry["optimal_move_rate"], entry.get("positions")
    if f"{100 * rate:.1f}" == "100.0" and rate < 1 and positions:
        moves = entry.get("optimal_moves", round(rate * positions))
        return f"{moves:,}/{positions:,}"
    return f"{100 * rate:.1f}%"


class EvaluationService:
    """Evaluates new models in the background while self-play goes on.

    Call `notify()` when a new model was loaded (or `poll()` now and then: it notices a new
    `models/latest.onnx` itself). An evaluation starts for every `every`-th model, at most once
    per `min_interval_s` (None: the game's default), never two at once (of the models arriving
    meanwhile, the newest is evaluated next). It runs in a spawned process at niceness `nice`
    (mode "process": no GIL shared with the caller; the default) or in a thread of this process
    at that niceness (mode "thread")."""

    def __init__(
        self,
        game_name: str,
        run_dir: Path,
        *,
        settings: EvaluationSettings | None = None,
        every: int = 1,
        min_interval_s: float | None = None,
        mode: str = "process",
        nice: int = 19,
        skip_done: bool = True,
    ) -> None:
        if mode not in ("process", "thread"):
            raise ValueError(f"mode must be 'process' or 'thread', got {mode!r}")
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        get_game(game_name)
        self.game_name = game_name
        self.run_dir = Path(run_dir)
        self.settings = settings or default_settings(game_name)
        self.every = every
        if min_interval_s is None:
            min_interval_s = ActorConfig(game=game_name).evaluation_interval()
        self.min_interval_s = min_interval_s
        self.mode = mode
        self.nice = nice
        self.skip_done = skip_done  # a model evaluated already is not again (evaluate_file)
        self.models_seen = 0
        self.evaluations_finished = 0
        self.seconds_total = 0.0  # wall time of the finished evaluations
        self.last_entries: list[dict[str, Any]] = []
        self.last_error: str | None = None
        self.last_seconds: float | None = None
        self._last_start = -math.inf
        self._future: concurrent.futures.Future | None = None
        self._executor: concurrent.futures.Executor | None = None
        self._latest_signature: tuple | None = None
        self._pending: Path | None = None  # a due model waiting for its turn
        self._closed = False
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        return self._future is not None and not self._future.done()

    def _pool(self) -> concurrent.futures.Executor:
        if self._executor is None:
            if self.mode == "process":
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=lower_priority,
                    initargs=(self.nice,),
                )
            else:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1,
                    thread_name_prefix="evaluation",
                    initializer=lower_priority,
                    initargs=(self.nice,),
                )
        return self._executor

    def notify(self, model_path: Path | None = None, *, force: bool = False) -> bool:
        """A new model is out; True when an evaluation was started now. A due model that
        cannot start yet (one is running, or the interval has not passed) waits as the
        pending one, replaced by any newer: `poll` starts it when it can, so the learner's last
        model is evaluated even when nothing follows it."""
        with self._lock:
            self.models_seen += 1
            if force or (self.models_seen - 1) % self.every == 0:
                self._pending = (
                    Path(model_path) if model_path else RunFolder(self.run_dir).latest_model
                )
            return self._start_pending(force)

    def _start_pending(self, force: bool = False) -> bool:
        """Starts the pending model's evaluation if one may start now (under the lock)."""
        if self._pending is None or self.busy or self._closed:
            return False
        if not force and time.monotonic() - self._last_start < self.min_interval_s:
            return False
        started = time.perf_counter()
        try:
            future = self._pool().submit(
                evaluate_file, self.game_name, self.run_dir, self._pending, self.settings,
                skip_done=self.skip_done,
            )  # fmt: skip
        except RuntimeError as error:  # e.g. the process died (BrokenProcessPool): renew
            self.last_error = f"{type(error).__name__}: {error}"
            log.warning("%s evaluation not started: %s", self.game_name, self.last_error)
            self._executor = None
            return False
        self._pending = None
        self._last_start = time.monotonic()
        future.add_done_callback(lambda done: self._finished(done, started))
        self._future = future
        return True

    def poll(self) -> bool:
        """Notifies when `models/latest.onnx` changed since the last poll (cheap: one stat), and
        starts a pending evaluation that may start now."""
        path = RunFolder(self.run_dir).latest_model
        try:
            stat = path.stat()
        except OSError:
            return False
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if signature != self._latest_signature:
            self._latest_signature = signature
            return self.notify(path)
        with self._lock:
            return self._start_pending()

    def _finished(self, future: concurrent.futures.Future, started: float) -> None:
        self.last_seconds = time.perf_counter() - started
        self.seconds_total += self.last_seconds
        self.evaluations_finished += 1
        try:
            self.last_entries = future.result()
            self.last_error = None
            if self.last_entries:
                log.info(
                    "%s evaluation of step %s (%.0f s): %s", self.game_name,
                    self.last_entries[0]["step"], self.last_seconds, summary(self.last_entries),
                )  # fmt: skip
        except Exception as error:  # a refused model or a crash: logged, the actor goes on
            self.last_error = f"{type(error).__name__}: {error}"
            if self._closed:  # stopped by `close`, not failed
                return
            log.warning("%s evaluation failed: %s", self.game_name, self.last_error)
            if isinstance(error, concurrent.futures.BrokenExecutor):  # its process died
                self._executor = None  # the next evaluation starts a new one

    def wait(self, timeout: float | None = None) -> None:
        """Blocks until the running evaluation (if any) is over."""
        future = self._future
        if future is not None:
            concurrent.futures.wait([future], timeout=timeout)

    def close(self, wait: bool = False) -> None:
        """Stops the service; without `wait`, a running evaluation's process is terminated: the
        pool's exit hook waited for it, so a stopped actor lingered up to a minute (Connect 4)."""
        with self._lock:  # no evaluation starts after this one (the progress thread polls)
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is None:
            return
        if not wait and isinstance(executor, concurrent.futures.ProcessPoolExecutor):
            for process in list((executor._processes or {}).values()):
                process.terminate()
        executor.shutdown(wait=wait, cancel_futures=True)


# ---------------------------------------------------------------- command line


def _default_model(game_name: str, data_dir: Path) -> Path:
    latest = RunFolder.of(data_dir, game_name).latest_model
    if latest.exists():
        return latest
    pretrained = (
        Path(__file__).resolve().parent.parent / "data" / "pretrained" / f"{game_name}.onnx"
    )
    if pretrained.exists():
        return pretrained
    raise FileNotFoundError(f"no model: neither {latest} nor {pretrained} exists (use --model)")


def format_table(entries: list[dict[str, Any]]) -> str:
    lines = [
        f"{'opponent':<12} {'sims':>5} {'win':>6} {'draw':>6} {'loss':>6} {'optimal':>11} {'s':>6}"
    ]
    for entry in entries:

        def pct(key: str, entry: dict = entry) -> str:
            value = entry.get(key)
            return "-" if value is None else f"{100 * value:.1f}%"

        optimal = "-" if entry.get("optimal_move_rate") is None else optimal_text(entry)
        lines.append(
            f"{entry['opponent']:<12} {entry['simulations']:>5} {pct('win_rate'):>6} "
            f"{pct('draw_rate'):>6} {pct('loss_rate'):>6} {optimal:>11} "
            f"{entry.get('seconds', 0.0):>6.1f}"
        )
    lines += [
        f"optimal@{entry['simulations']}: {judged_text(entry)}"
        for entry in entries
        if entry.get("optimal_move_rate") is not None
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actor.evaluation",
        description="Evaluate a model: matches against random and classic MCTS, moves judged "
        "against perfect play (tictactoe, connect4). Appends to <run>/evaluations.json.",
    )
    parser.add_argument("--game", required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--model", type=Path, help="ONNX file (default: the run's latest.onnx)")
    parser.add_argument("--simulations", type=int, help="the model's MCTS budget")
    parser.add_argument("--games", type=int, help="games per baseline")
    parser.add_argument("--mcts", type=int, nargs="*", help="classic MCTS baseline budgets")
    parser.add_argument(
        "--positions", type=int, help="connect4: judge this many shipped positions (default all)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pons", nargs="*", metavar="SET", help="also Pons sets (none: all)")
    parser.add_argument("--pons-limit", type=int, default=100, help="positions per Pons set")
    parser.add_argument("--no-save", action="store_true", help="do not append to the run's file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        game = get_game(args.game)
        settings = default_settings(game.name)
        overrides: dict[str, Any] = {"seed": args.seed}
        if args.simulations is not None:
            overrides["simulations"] = args.simulations
        if args.games is not None:
            overrides["games_per_opponent"] = args.games
        if args.mcts is not None:
            overrides["mcts_budgets"] = tuple(args.mcts)
        if args.positions is not None:
            overrides["test_positions"] = args.positions
        settings = dataclasses.replace(settings, **overrides)
        if settings.simulations < 0 or settings.games_per_opponent < 0:
            raise ValueError("--simulations and --games must be >= 0")
        run_dir = args.data_dir / game.name
        model_path = args.model or _default_model(game.name, args.data_dir)
        entries = evaluate_file(game.name, run_dir, model_path, settings, save=not args.no_save)
        print(f"{game.name} model {model_path} (step {entries[0]['step'] if entries else '?'})")
        print(format_table(entries))
        if args.pons is not None:
            if game.name != "connect4":
                raise ValueError("--pons is for connect4 only")
            from actor.model import load_model

            model = load_model(model_path, game, threads=1)
            for simulations in dict.fromkeys([0, settings.simulations]):
                rates = pons_error_rates(
                    model, simulations, run_dir=run_dir, sets=tuple(args.pons) or PONS_SETS,
                    limit=args.pons_limit,
                )  # fmt: skip
                for name, rate in rates.items():
                    print(
                        f"pons {name} sims {simulations}: error {100 * rate['error_rate']:.1f}% "
                        f"on {rate['positions']} positions ({rate['skipped']} unsolved, skipped)"
                    )
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"python -m actor.evaluation: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
