"""The run folder's contract: every file and folder name in `<data-dir>/<game>/`, the model
file names, the locks, and how replay.db is opened.

The actor, the learner, the launcher, the benchmarks and the tests all take these names from
here, so that a name changed in one place is changed for every reader. The names are on-disk
format: run folders written by earlier versions are resumed by them, so none may change.

    <run>/
      models/latest.onnx              the newest network (learner writes, actor reads)
      models/model_step_NNNNNN.onnx   kept networks by training step
      models/previous-<UTC time>/     an earlier run's step files, set aside
      checkpoints/latest.pt           the learner's resume point
      replay.db                       self-play games (SQLite, WAL; engine.records' format)
      stats.json                      the dashboard's document (runfiles.stats)
      evaluations.json                the evaluator's results (actor)
      tournament.json                 the tournament's Elo ratings (actor)
      config.json                     the learner's effective settings of its last start
      actor_config.json               self-play's settings of its last start
      int8/                           int8 copies of models the self-play workers share
      evaluation/                     Pons' sets as solved by actor.evaluation --pons
      logs/                           learner.log and the launcher's <name>.console.log
      .learner.lock                   held by the one learner of the run
      .evaluations.json.lock          held while evaluations.json is merged and written

The record format stored in replay.db (its schema, encoding versions and WAL size) is
`engine.records`': the engine defines what a game record is, this module where it lives.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

MODELS = "models"
CHECKPOINTS = "checkpoints"
LOGS = "logs"
INT8 = "int8"
EVALUATION_CACHE = "evaluation"

LATEST_MODEL = "latest.onnx"
CHECKPOINT = "latest.pt"
REPLAY_DB = "replay.db"
STATS_FILE = "stats.json"
EVALUATIONS_FILE = "evaluations.json"
TOURNAMENT_FILE = "tournament.json"
LEARNER_CONFIG_FILE = "config.json"
ACTOR_CONFIG_FILE = "actor_config.json"
LEARNER_LOG = "learner.log"

LEARNER_LOCK = ".learner.lock"
EVALUATIONS_LOCK = f".{EVALUATIONS_FILE}.lock"
INT8_LOCK = ".lock"  # inside int8/

MODEL_STEP_PATTERN = re.compile(r"^model_step_(\d+)\.onnx$")
MODEL_STEP_GLOB = "model_step_*.onnx"

# Self-play workers, the API and the learner share replay.db: a writer waits this long for
# another's transaction before "database is locked".
BUSY_TIMEOUT_MS = 30_000


def model_step_name(step: int) -> str:
    """The file name of the kept model of `step`: model_step_000300.onnx."""
    return f"model_step_{step:06d}.onnx"


def model_step_of(name: str) -> int | None:
    """The step in a kept model's file name; None for any other name."""
    match = MODEL_STEP_PATTERN.match(name)
    return int(match.group(1)) if match else None


def open_replay_db(path: Path, *, never_create: bool = False) -> sqlite3.Connection:
    """A connection to replay.db as every process opens it: autocommit (callers issue BEGIN),
    the shared busy timeout, the WAL cut back to `records.WAL_SIZE_LIMIT_BYTES` after each
    checkpoint, usable from any thread (callers serialise their own use). A missing file is
    made, or with `never_create` is sqlite3.OperationalError."""
    # Imported here: the settings modules read this module's names before a process may load
    # Numba (which `engine` imports), since its thread settings must come first.
    from engine import records

    target, uri = str(path), False
    if never_create:
        target, uri = f"{Path(path).resolve().as_uri()}?mode=rw", True
    connection = sqlite3.connect(
        target,
        uri=uri,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.execute(f"PRAGMA journal_size_limit={records.WAL_SIZE_LIMIT_BYTES}")
    return connection


@dataclass(frozen=True)
class RunFolder:
    """The paths of one run folder: `RunFolder(run_dir).replay_db`."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @classmethod
    def of(cls, data_dir: Path, game: str) -> RunFolder:
        """The run folder of `game` under `data_dir`."""
        return cls(Path(data_dir) / game)

    @property
    def models(self) -> Path:
        return self.path / MODELS

    @property
    def latest_model(self) -> Path:
        return self.models / LATEST_MODEL

    def model_step(self, step: int) -> Path:
        return self.models / model_step_name(step)

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS

    @property
    def checkpoint(self) -> Path:
        return self.checkpoints / CHECKPOINT

    @property
    def replay_db(self) -> Path:
        return self.path / REPLAY_DB

    @property
    def stats(self) -> Path:
        return self.path / STATS_FILE

    @property
    def evaluations(self) -> Path:
        return self.path / EVALUATIONS_FILE

    @property
    def tournament(self) -> Path:
        return self.path / TOURNAMENT_FILE

    @property
    def learner_config(self) -> Path:
        return self.path / LEARNER_CONFIG_FILE

    @property
    def actor_config(self) -> Path:
        return self.path / ACTOR_CONFIG_FILE

    @property
    def int8(self) -> Path:
        return self.path / INT8

    @property
    def evaluation_cache(self) -> Path:
        return self.path / EVALUATION_CACHE

    @property
    def logs(self) -> Path:
        return self.path / LOGS

    @property
    def learner_log(self) -> Path:
        return self.logs / LEARNER_LOG

    @property
    def learner_lock(self) -> Path:
        return self.path / LEARNER_LOCK

    @property
    def evaluations_lock(self) -> Path:
        return self.path / EVALUATIONS_LOCK
