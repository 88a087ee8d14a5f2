"""ONNX models for the actor: load, validate, hot-reload, and pick the one to play with.

A model file is trusted only after it passed `load_model`: its metadata names this game and
encoding version, its input and outputs have the contract's names and shapes, and a test batch
gives finite numbers. A refused file never replaces a good model; the reason is kept so that
`/api/health` can show it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from engine.game import Game
from engine.records import META_CREATED_AT, META_ENCODING_VERSION, META_GAME, META_STEP
from runfiles.layout import INT8, LATEST_MODEL, model_step_name, model_step_of

log = logging.getLogger(__name__)
logging.getLogger("watchfiles").setLevel(logging.WARNING)  # it logs every file event at INFO

# A fast learner (Tic-tac-toe's) publishes several models a second, Connect 4's and Othello's
# one every few seconds: a swap (and its int8 copy's checks) is logged when the source changes
# (pretrained -> run) and otherwise at most this often, with the count skipped.
SWAP_LOG_INTERVAL_S = 30.0


class ModelError(ValueError):
    """A model file that cannot be used; the message says why."""


@dataclass(eq=False)
class OnnxEvaluator:
    """A validated ONNX Runtime session as an MCTS evaluator: planes -> (logits, values)."""

    session: ort.InferenceSession
    game: str
    step: int
    created_at: float
    path: Path
    int8: bool = False  # an int8 copy of the file's float model (actor.quantize)

    def __call__(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        planes = np.ascontiguousarray(planes, dtype=np.float32)
        policy, value = self.session.run(["policy", "value"], {"planes": planes})
        return (
            np.asarray(policy, dtype=np.float32),
            np.asarray(value, dtype=np.float32).reshape(-1),
        )


class GuardedEvaluator:
    """The evaluator a ModelSlot hands out: its model, checked batch by batch.

    The load-time test batch cannot cover every position: a model that gives NaN or inf on a
    real batch is refused then (`last_refusal`), the slot swaps back to the model it played
    with before (or the uniform prior), and that one answers the batch, so a search never
    sees non-finite numbers and self-play never stops on a bad file.
    """

    def __init__(self, model: OnnxEvaluator, slot: ModelSlot) -> None:
        self.model = model
        self.slot = slot
        self.game, self.step, self.created_at, self.path, self.int8 = (
            model.game,
            model.step,
            model.created_at,
            model.path,
            model.int8,
        )

    def __call__(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        try:
            logits, values = self.model(planes)
        except Exception as error:  # noqa: BLE001 - e.g. ORT refusing a batch size the test took
            problem = f"failed on a real batch ({type(error).__name__}: {error})"
        else:
            if np.isfinite(logits).all() and np.isfinite(values).all():
                return logits, values
            problem = "gave non-finite numbers (NaN or inf) on a real position"
        replacement = self.slot.refuse_at_run_time(self, problem)
        if replacement is None:  # the uniform prior and value 0, as with no model at all
            count = np.shape(planes)[0]
            return (
                np.zeros((count, self.slot.game.num_actions), np.float32),
                np.zeros(count, np.float32),
            )
        return replacement(planes)


def session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: a refused file is reported by us
    return options


def _dims_fit(actual: list, expected: tuple) -> bool:
    """Shapes fit when the ranks match and every fixed dimension equals the expected one."""
    if len(actual) != len(expected):
        return False
    return all(
        not isinstance(a, int) or e is None or a == e for a, e in zip(actual, expected, strict=True)
    )


def load_model(path: Path, game: Game, *, threads: int = 1) -> OnnxEvaluator:
    """The model in `path` as an evaluator, or a ModelError saying why it is refused."""
    path = Path(path)
    try:
        session = ort.InferenceSession(
            str(path), session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises several types for unreadable files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ModelError(f"{path.name}: cannot load ONNX file ({first_line[:200]})") from None
    meta = session.get_modelmeta().custom_metadata_map
    model_game = meta.get(META_GAME)
    if model_game != game.name:
        raise ModelError(f"{path.name}: model is for game {model_game!r}, not {game.name!r}")
    if meta.get(META_ENCODING_VERSION) != str(game.encoding_version):
        raise ModelError(
            f"{path.name}: encoding_version {meta.get(META_ENCODING_VERSION)!r} does not match "
            f"the engine's {game.encoding_version}"
        )
    try:
        step = int(meta.get(META_STEP, ""))
        created = meta.get(META_CREATED_AT)  # the file's time only when the metadata has none
        created_at = float(created) if created is not None else path.stat().st_mtime
    except ValueError:
        raise ModelError(f"{path.name}: metadata step/created_at are not numbers") from None
    except OSError as error:  # replaced or removed since it was opened
        raise ModelError(f"{path.name}: {error.strerror}") from None
    inputs = {node.name: node.shape for node in session.get_inputs()}
    outputs = {node.name: node.shape for node in session.get_outputs()}
    if list(inputs) != ["planes"] or not _dims_fit(inputs["planes"], (None, *game.plane_shape)):
        raise ModelError(
            f"{path.name}: input must be planes [batch, {', '.join(map(str, game.plane_shape))}]"
            f", got {inputs}"
        )
    policy_ok = _dims_fit(outputs.get("policy", []), (None, game.num_actions))
    value_ok = _dims_fit(outputs.get("value", []), (None, 1))
    if not (policy_ok and value_ok):
        raise ModelError(
            f"{path.name}: outputs must be policy [batch, {game.num_actions}] and value "
            f"[batch, 1], got {outputs}"
        )
    evaluator = OnnxEvaluator(session, game.name, step, created_at, path)
    _check_test_batch(evaluator, game)
    return evaluator


def _check_test_batch(evaluator: OnnxEvaluator, game: Game) -> None:
    """Runs a batch of 3 (initial position and random planes) and checks shapes and finiteness."""
    planes = np.zeros((3, *game.plane_shape), dtype=np.float32)
    game.encode(game.initial_state(), planes[0])
    planes[1:] = np.random.default_rng(0).integers(0, 2, planes[1:].shape)
    name = evaluator.path.name
    try:
        logits, values = evaluator(planes)
    except Exception as error:
        raise ModelError(f"{name}: test batch failed ({str(error)[:200]})") from None
    if logits.shape != (3, game.num_actions) or values.shape != (3,):
        raise ModelError(
            f"{name}: test batch gave policy {logits.shape} and value {values.shape}, expected "
            f"(3, {game.num_actions}) and (3, 1)"
        )
    if not (np.isfinite(logits).all() and np.isfinite(values).all()):
        raise ModelError(f"{name}: test batch gave non-finite numbers (NaN or inf)")
    if np.abs(values).max() > 1.0 + 1e-3:
        raise ModelError(f"{name}: value outside -1..1 ({float(np.abs(values).max()):.3g})")


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is replaced or rewritten; None when it does not exist."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class ModelSlot:
    """The model one game plays with, swapped by reference when a newer file passes validation.

    Order of preference: the run's `models/latest.onnx`, else `fallback` (the shipped pretrained
    model; None for self-play, which bootstraps from a uniform prior), else no model (None).
    `current` is read once per batch, so a swap happens between two batches. With `int8`,
    a model plays as its int8 copy when that passes `actor.quantize`'s checks, else as it is.
    """

    def __init__(
        self,
        game: Game,
        models_dir: Path,
        fallback: Path | None = None,
        *,
        threads: int = 1,
        int8: bool = False,
    ) -> None:
        self.game = game
        self.models_dir = Path(models_dir)
        self.fallback = Path(fallback) if fallback is not None else None
        self.threads = threads
        self.int8 = int8
        self.current: GuardedEvaluator | None = None
        self.source = "none"
        # What `current` replaced, to go back to when it fails at run time.
        self._previous: tuple[GuardedEvaluator | None, str] = (None, "none")
        self.last_refusal: str | None = None
        self.reloads = 0  # models swapped in
        self._logged = ("none", -math.inf, 0)  # (source, time, reloads) of the last swap logged
        self._seen: dict[Path, tuple | None] = {}
        self._lock = threading.Lock()
        self._last_check = 0.0

    @property
    def step(self) -> int | None:
        model = self.current
        return None if model is None else model.step

    def refresh(self, min_interval_s: float = 0.0) -> bool:
        """Loads latest.onnx (or the fallback) when the file changed; True when swapped. A call
        during another's load waits for it, so that no caller answers with the old model."""
        with self._lock:
            now = time.monotonic()
            if now - self._last_check < min_interval_s:
                return False
            self._last_check = now
            if self._try(self.models_dir / LATEST_MODEL, "run"):
                return True
            if self.source == "run" or self.fallback is None:
                return False
            return self._try(self.fallback, "pretrained")

    def _try(self, path: Path, source: str) -> bool:
        signature = _signature(path)
        if signature is None or self._seen.get(path) == signature:
            return False
        self._seen[path] = signature
        try:
            model = load_model(path, self.game, threads=self.threads)
        except ModelError as error:
            self.last_refusal = str(error)
            log.warning("%s: refused model %s: %s", self.game.name, path, error)
            return False
        if source == "pretrained" and self.source == "run":
            return False
        now = time.monotonic()
        loud = source != self._logged[0] or now - self._logged[1] >= SWAP_LOG_INTERVAL_S
        if self.int8:
            model = self._int8_copy(model, logging.INFO if loud else logging.DEBUG)
        self._previous = (self.current, self.source)
        self.current, self.source = GuardedEvaluator(model, self), source
        self.reloads += 1
        if loud:
            unlogged = self.reloads - self._logged[2] - 1
            log.info(
                "%s: now playing with %s (step %d%s)%s",
                self.game.name,
                path,
                model.step,
                ", int8" if model.int8 else "",
                f"; {unlogged} newer models since the last such line" if unlogged else "",
            )
            self._logged = (source, now, self.reloads)
        return True

    def _int8_copy(self, model: OnnxEvaluator, log_level: int) -> OnnxEvaluator:
        """`model`'s int8 copy, shared with the run's other workers through `<run>/int8/` (its
        checks logged at `log_level`: with the swap line), or `model` itself when there is none
        to use (the reason a warning at the same pace: every worker meets it at every model)."""
        from actor.quantize import shared_int8_copy  # the quantizer loads slowly; self-play only

        folder = self.models_dir.parent / INT8
        try:
            return shared_int8_copy(
                model, self.game, folder, threads=self.threads, log_level=log_level
            )
        except ModelError as error:
            level = logging.WARNING if log_level >= logging.INFO else logging.DEBUG
            log.log(level, "%s: playing the float model: %s", self.game.name, error)
            return model

    def refuse_at_run_time(self, bad: GuardedEvaluator, problem: str) -> GuardedEvaluator | None:
        """`bad` failed on a real batch (`problem` says how): refuses it and returns what plays
        instead (the previous model, else the fallback file, else None: the uniform prior)."""
        with self._lock:
            if self.current is not bad:  # another thread already refused it
                return self.current
            reason = f"{bad.path.name}: {problem}"
            self.last_refusal = reason
            previous, source = self._previous
            self._previous = (None, "none")
            if previous is None and self.fallback is not None and bad.path != self.fallback:
                try:
                    self._seen[self.fallback] = _signature(self.fallback)
                    model = load_model(self.fallback, self.game, threads=self.threads)
                    previous, source = GuardedEvaluator(model, self), "pretrained"
                except ModelError as error:
                    log.warning("%s: fallback model refused: %s", self.game.name, error)
            self.current, self.source = previous, (source if previous is not None else "none")
            log.warning(
                "%s: refused model at run time: %s; now playing with %s",
                self.game.name,
                reason,
                "the uniform prior" if previous is None else f"step {previous.step}",
            )
            return previous


class ModelWatcher:
    """Watches a slot's models/ folder with watchfiles in a daemon thread and refreshes it."""

    def __init__(self, slot: ModelSlot, poll_fallback_s: float = 2.0) -> None:
        self.slot = slot
        self.poll_fallback_s = poll_fallback_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-watcher", daemon=True)

    def start(self) -> ModelWatcher:
        self.slot.models_dir.mkdir(parents=True, exist_ok=True)
        self._refresh()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from watchfiles import watch

        try:
            for _changes in watch(
                self.slot.models_dir,
                stop_event=self._stop,
                watch_filter=None,
                debounce=200,
                rust_timeout=int(self.poll_fallback_s * 1000),
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                self._refresh()  # also on timeouts: a missed event costs one stat call
        except Exception as error:  # noqa: BLE001 - e.g. the folder was removed: poll instead
            log.warning("model watcher stopped (%s); polling every %.1fs", error, 1.0)
            while not self._stop.wait(1.0):
                self._refresh()

    def _refresh(self) -> None:
        """One refresh; an unexpected error is logged and the next one tries again, so that the
        watcher thread lives on and the worker keeps taking new models."""
        try:
            self.slot.refresh()
        except Exception:  # noqa: BLE001 - e.g. latest.onnx removed mid-load, a full disk
            log.exception("%s: model refresh failed; trying again", self.slot.game.name)


def list_checkpoints(models_dir: Path) -> list[tuple[int, Path]]:
    """The kept `model_step_NNNNNN.onnx` files as (step, path), oldest step first."""
    found = []
    try:
        names = os.listdir(models_dir)
    except OSError:
        return []
    for name in names:
        step = model_step_of(name)
        if step is not None:
            found.append((step, Path(models_dir) / name))
    return sorted(found)


class CheckpointCache:
    """Older kept models (and the shipped ones) loaded on demand, the few most recently used
    kept in memory."""

    def __init__(self, size: int = 4, threads: int = 1) -> None:
        self.size = size
        self.threads = threads
        self._cache: OrderedDict[tuple, OnnxEvaluator] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, game: Game, models_dir: Path, step: int) -> OnnxEvaluator:
        """The checkpoint of `step`; FileNotFoundError when not kept, ModelError when refused."""
        path = Path(models_dir) / model_step_name(step)
        if not path.exists():
            matches = [p for s, p in list_checkpoints(models_dir) if s == step]
            if not matches:
                raise FileNotFoundError(f"checkpoint {step} of {game.name} is not kept")
            path = matches[0]
        return self.load(game, path)

    def load(self, game: Game, path: Path) -> OnnxEvaluator:
        """The model in `path`, loaded again only when the file changed; ModelError when
        refused."""
        key = (game.name, str(path), _signature(path))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        model = load_model(path, game, threads=self.threads)
        with self._lock:
            self._cache[key] = model
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return model
