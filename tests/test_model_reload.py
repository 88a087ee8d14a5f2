"""Model loading, validation and hot reload: bad files are refused with a reason, good ones swap in.

Every model here is a real ONNX file exported from a tiny torch net, run by ONNX Runtime.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from actor_models import make_model, model_steps
from reliability_helpers import START_LIMIT_S, wait_for

from actor.model import CheckpointCache, ModelError, ModelSlot, ModelWatcher, list_checkpoints
from engine import get_game
from runfiles.layout import RunFolder

GAME = get_game("tictactoe")

BAD_FILES = {
    "corrupt": ("cannot load ONNX file", None),
    "wrong_game": ("model is for game 'connect4'", {"meta_game": "connect4"}),
    "wrong_encoding": ("encoding_version", {"encoding_version": 99}),
    "wrong_shape": ("outputs must be policy [batch, 9]", {"num_actions": 8}),
    "nan_output": ("non-finite", {"nan": True}),
}


def write_bad(path: Path, kind: str) -> None:
    reason, options = BAD_FILES[kind]
    if options is None:
        temp = path.with_name(".bad.tmp")
        temp.write_bytes(b"\x08\x01 this is not a protobuf" * 10)
        temp.replace(path)
    else:
        make_model(path, "tictactoe", 50, **options)


def test_slot_prefers_run_model_then_pretrained_then_uniform(tmp_path: Path) -> None:
    models = RunFolder(tmp_path / "run").models
    pretrained = tmp_path / "pretrained" / "tictactoe.onnx"
    slot = ModelSlot(GAME, models, pretrained)
    slot.refresh()
    assert (slot.current, slot.source, slot.step) == (None, "none", None)
    make_model(pretrained, step=1000)
    slot.refresh()
    assert (slot.source, slot.step) == ("pretrained", 1000)
    make_model(models / "latest.onnx", step=3)
    assert slot.refresh()
    assert (slot.source, slot.step) == ("run", 3)
    logits, values = slot.current(np.zeros((5, *GAME.plane_shape), np.float32))
    assert logits.shape == (5, 9) and values.shape == (5,)
    assert not slot.refresh()  # unchanged file: no reload


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_is_refused_and_the_old_model_stays(tmp_path: Path, kind: str) -> None:
    latest = RunFolder(tmp_path).latest_model
    make_model(latest, step=7)
    slot = ModelSlot(GAME, latest.parent)
    slot.refresh()
    assert slot.step == 7 and slot.last_refusal is None
    write_bad(latest, kind)
    assert not slot.refresh()
    assert slot.step == 7 and slot.source == "run"
    assert BAD_FILES[kind][0] in slot.last_refusal
    # Play goes on with the old model.
    _, values = slot.current(np.zeros((1, *GAME.plane_shape), np.float32))
    assert np.isfinite(values).all()


def test_swaps_are_logged_at_most_once_per_interval_with_the_count_skipped(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    """A learner that publishes several models a second must not flood the terminal: the first
    run model is logged, the next ones within the interval only counted; refusals always."""
    pretrained = tmp_path / "pretrained.onnx"
    make_model(pretrained, step=1000)
    latest = RunFolder(tmp_path).latest_model
    slot = ModelSlot(GAME, latest.parent, pretrained)
    caplog.set_level("INFO", logger="actor.model")

    def swap_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if "now playing with" in r.getMessage()]

    assert slot.refresh() and swap_lines()[-1].endswith("(step 1000)")
    for step in (1, 2, 3):  # the source changes at step 1: logged at once
        make_model(latest, step=step)
        assert slot.refresh()
    assert len(swap_lines()) == 2 and swap_lines()[-1].endswith("(step 1)")
    monkeypatch.setattr("actor.model.SWAP_LOG_INTERVAL_S", 0.0)
    make_model(latest, step=4)
    assert slot.refresh() and slot.step == 4 and slot.reloads == 5
    assert swap_lines()[-1].endswith("(step 4); 2 newer models since the last such line")
    write_bad(latest, "wrong_game")
    monkeypatch.setattr("actor.model.SWAP_LOG_INTERVAL_S", 3600.0)
    assert not slot.refresh()
    assert "refused model" in caplog.records[-1].getMessage()


def test_refused_file_with_no_previous_model_leaves_uniform_prior(tmp_path: Path) -> None:
    latest = RunFolder(tmp_path).latest_model
    write_bad(latest, "wrong_game")
    slot = ModelSlot(GAME, latest.parent)
    slot.refresh()
    assert slot.current is None and slot.source == "none" and "connect4" in slot.last_refusal


def test_refresh_during_another_load_waits_for_the_new_model(tmp_path: Path, monkeypatch) -> None:
    """Two requests at once (the page asks /api/health and /api/games together): the one that
    finds a load in progress must not answer with the old model."""
    import actor.model as model_module

    load = model_module.load_model
    loading = threading.Event()

    def slow_load(*args, **kwargs):
        loading.set()
        time.sleep(0.4)  # a load that takes a while
        return load(*args, **kwargs)

    monkeypatch.setattr(model_module, "load_model", slow_load)
    slot = ModelSlot(GAME, RunFolder(tmp_path).models)
    make_model(RunFolder(tmp_path).latest_model, step=5)
    first = threading.Thread(target=slot.refresh, kwargs={"min_interval_s": 1.0})
    first.start()
    assert loading.wait(START_LIMIT_S)
    slot.refresh(min_interval_s=1.0)
    assert slot.step == 5
    first.join()


def test_watcher_swaps_to_a_published_model(tmp_path: Path) -> None:
    models = RunFolder(tmp_path).models
    slot = ModelSlot(GAME, models)
    watcher = ModelWatcher(slot).start()
    try:
        assert slot.current is None
        make_model(models / "latest.onnx", step=1)
        assert wait_for(lambda: slot.step == 1, 60), "watcher did not load the first model"
        make_model(models / "latest.onnx", step=2)
        assert wait_for(lambda: slot.step == 2, 60), "watcher did not swap to step 2"
        write_bad(models / "latest.onnx", "nan_output")
        assert wait_for(lambda: slot.last_refusal is not None, 60)
        assert slot.step == 2
    finally:
        watcher.stop()


def test_a_failing_first_refresh_does_not_stop_the_watcher(tmp_path: Path, monkeypatch) -> None:
    models = RunFolder(tmp_path).models
    make_model(models / "latest.onnx", step=1)
    slot = ModelSlot(GAME, models)
    refresh = slot.refresh
    calls = []

    def fails_once() -> bool:
        calls.append(1)
        if len(calls) == 1:  # e.g. an unreadable int8 note, which must not kill the worker
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        return refresh()

    monkeypatch.setattr(slot, "refresh", fails_once)
    watcher = ModelWatcher(slot, poll_fallback_s=0.2).start()
    try:
        assert wait_for(lambda: slot.step == 1, 60), "the watcher did not try again"
    finally:
        watcher.stop()


def test_checkpoints_are_listed_and_loaded_on_demand(tmp_path: Path) -> None:
    models = RunFolder(tmp_path).models
    for step in (10, 200, 30):
        make_model(models / f"model_step_{step:06d}.onnx", step=step)
    (models / "model_step_x.onnx").write_bytes(b"ignored")
    assert [step for step, _ in list_checkpoints(models)] == [10, 30, 200]
    cache = CheckpointCache(size=2)
    first = cache.get(GAME, models, 30)
    assert first.step == 30 and cache.get(GAME, models, 30) is first
    cache.get(GAME, models, 10)
    cache.get(GAME, models, 200)  # evicts 30
    assert cache.get(GAME, models, 30) is not first
    with pytest.raises(FileNotFoundError):
        cache.get(GAME, models, 11)
    write_bad(models / "model_step_000040.onnx", "wrong_shape")
    with pytest.raises(ModelError):
        cache.get(GAME, models, 40)


def small_selfplay_actor(processes, data_dir: Path):
    """A real actor self-playing Tic-tac-toe in `data_dir`, small searches, a log line a second."""
    return processes.actor(
        data_dir, "--game", "tictactoe", "--simulations", "16", "--games-in-parallel", "8",
        "--log-interval", "1",
    )  # fmt: skip


def test_publishing_while_selfplay_runs_switches_the_actor(tmp_path: Path, processes) -> None:
    """A real actor with self-play: rows start at step 0, switch to the published model's step;
    a bad file after that is refused (shown in /api/health) and self-play goes on."""
    run = tmp_path / "tictactoe"
    db = RunFolder(run).replay_db
    actor = small_selfplay_actor(processes, tmp_path)
    try:
        assert wait_for(lambda: len(model_steps(db)) > 0, START_LIMIT_S), actor.log()
        assert set(model_steps(db)) == {0}
        assert wait_for(lambda: "leaf evals/s" in actor.log(), 60), actor.log()
        assert "no model yet (uniform prior, no network)" in actor.log()
        make_model(RunFolder(run).latest_model, step=5)
        assert wait_for(lambda: 5 in model_steps(db), 120), actor.log()

        def api_step() -> int | None:
            return httpx.get(actor.url + "/api/health", timeout=10).json()["models"]["tictactoe"][
                "step"
            ]

        assert wait_for(lambda: api_step() == 5, 60)  # the API process loads it too
        count = len(model_steps(db))
        write_bad(RunFolder(run).latest_model, "corrupt")

        def refused() -> bool:
            health = httpx.get(actor.url + "/api/health", timeout=10).json()
            return health["models"]["tictactoe"]["last_refusal"] is not None

        assert wait_for(refused, 60)
        health = httpx.get(actor.url + "/api/health", timeout=10).json()
        assert health["selfplay"] and health["training_game"] == "tictactoe"
        assert health["models"]["tictactoe"]["step"] == 5
        assert wait_for(lambda: len(model_steps(db)) > count + 5, 120), actor.log()
        assert model_steps(db)[-1] == 5
        assert "refused model" in actor.log()
        assert "nn evals/s" in actor.log() and "model step 5" in actor.log()
        rates = httpx.get(actor.url + "/api/health", timeout=10).json()["selfplay_rates"]
        assert rates["games_per_s"] > 0 and rates["positions_per_s"] > 0
        assert rates["nn_evals_per_s"] >= 0  # the evaluation cache answers most in Tic-tac-toe
    finally:
        code = actor.terminate()
    assert code == 0, actor.log()
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()


def test_a_resumed_run_plays_its_checkpoints_model_not_a_uniform_prior(
    tmp_path: Path, processes
) -> None:
    """With a learner checkpoint and no model yet, self-play waits for the learner's first
    publication instead of filling the replay window with uniform-prior games."""
    run = tmp_path / "tictactoe"
    RunFolder(run).checkpoints.mkdir(parents=True)
    RunFolder(run).checkpoint.write_bytes(b"a learner checkpoint")
    db = RunFolder(run).replay_db
    actor = small_selfplay_actor(processes, tmp_path)
    try:
        assert wait_for(lambda: "waiting up to 60 s" in actor.log(), START_LIMIT_S), actor.log()
        assert model_steps(db) == []
        make_model(RunFolder(run).latest_model, step=7)
        assert wait_for(lambda: len(model_steps(db)) > 0, START_LIMIT_S), actor.log()
        assert set(model_steps(db)) == {7}
    finally:
        code = actor.terminate()
    assert code == 0, actor.log()
