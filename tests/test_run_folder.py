"""runfiles.layout: the run folder's names are the ones saved runs have, and written only there."""

import ast
import sqlite3
from pathlib import Path

import pytest

from actor.model import list_checkpoints
from actor.replay_db import ReplayWriter
from learner.export import kept_steps
from runfiles import layout
from runfiles.layout import (
    BUSY_TIMEOUT_MS,
    RunFolder,
    model_step_name,
    model_step_of,
    open_replay_db,
)

ROOT = Path(__file__).resolve().parent.parent
FILE_NAMES = {
    "latest.onnx", "latest.pt", "replay.db", "stats.json", "evaluations.json",
    "tournament.json", "config.json", "actor_config.json", "learner.log", ".learner.lock",
}  # fmt: skip
# The settings modules still name their own file; each may keep that one name until it imports it.


def test_the_paths_are_those_of_a_saved_run_folder(tmp_path: Path) -> None:
    run = RunFolder.of(tmp_path, "connect4")
    expected = {
        "path": "connect4",
        "models": "connect4/models",
        "latest_model": "connect4/models/latest.onnx",
        "checkpoints": "connect4/checkpoints",
        "checkpoint": "connect4/checkpoints/latest.pt",
        "replay_db": "connect4/replay.db",
        "stats": "connect4/stats.json",
        "evaluations": "connect4/evaluations.json",
        "tournament": "connect4/tournament.json",
        "learner_config": "connect4/config.json",
        "actor_config": "connect4/actor_config.json",
        "int8": "connect4/int8",
        "evaluation_cache": "connect4/evaluation",
        "logs": "connect4/logs",
        "learner_log": "connect4/logs/learner.log",
        "learner_lock": "connect4/.learner.lock",
        "evaluations_lock": "connect4/.evaluations.json.lock",
    }
    assert {name: str(getattr(run, name).relative_to(tmp_path)) for name in expected} == expected
    assert run.model_step(300) == tmp_path / "connect4" / "models" / "model_step_000300.onnx"
    assert RunFolder(str(tmp_path)) == RunFolder(tmp_path)


def test_model_step_names_parse_back_and_other_names_do_not() -> None:
    for step in (0, 7, 300, 123_456, 12_345_678):
        assert model_step_of(model_step_name(step)) == step
    assert model_step_name(42) == "model_step_000042.onnx"
    for name in (
        "latest.onnx",
        "model_step_x.onnx",
        "model_step_000042.onnx.tmp",
        "model_step_.onnx",
    ):
        assert model_step_of(name) is None


def test_the_actor_and_the_learner_see_the_same_kept_models(tmp_path: Path) -> None:
    models = RunFolder(tmp_path).models
    models.mkdir()
    for step in (0, 30, 1_200, 1_234_567):
        (models / model_step_name(step)).write_bytes(b"onnx")
    for name in ("latest.onnx", "model_step_x.onnx", ".model_step_000031.onnx.k2.tmp"):
        (models / name).write_bytes(b"onnx")
    assert kept_steps(models) == [0, 30, 1_200, 1_234_567]
    assert [step for step, _ in list_checkpoints(models)] == kept_steps(models)


def test_replay_db_is_opened_alike_and_only_the_actor_creates_it(tmp_path: Path) -> None:
    path = RunFolder(tmp_path).replay_db
    with pytest.raises(sqlite3.OperationalError):
        open_replay_db(path, never_create=True)
    assert not path.exists()  # the learner waits for the actor's file, never makes one
    with ReplayWriter(path):
        pass
    for connection in (open_replay_db(path), open_replay_db(path, never_create=True)):
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        connection.close()


def literal_names(path: Path) -> set[str]:
    """The run folder's file names written as string literals in `path` (docstrings aside)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in FILE_NAMES or node.value.startswith("model_step_"):
                found.add(node.value)
    return found


def test_the_names_are_written_only_in_the_layout_module() -> None:
    assert FILE_NAMES <= {value for value in vars(layout).values() if isinstance(value, str)}
    copies = set()
    for folder in ("actor", "learner", "runfiles", "scripts", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative != "runfiles/layout.py":
                copies |= {(relative, name) for name in literal_names(path)}
    assert not copies, sorted(copies)
