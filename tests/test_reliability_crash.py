"""Crash safety against the real processes and a real replay.db.

- The actor SIGKILLed (with its workers) at random moments of self-play: replay.db passes
  `PRAGMA integrity_check` every time and no game a reader had seen committed disappears.
- The actor's main process SIGKILLed alone: its self-play workers must not live on as orphans.
- The learner SIGKILLed while it publishes every other step: latest.onnx always loads and
  validates, and a restarted learner resumes at the checkpoint's step with its optimiser state.
- Four self-play worker processes and the learner's window deletion at once: no "database is
  locked" reaches a log, no row inside the window is lost, ids stay unique and contiguous.

Counts and times are bounded; benchmarks/load.py runs the longer soak.
"""

from __future__ import annotations

import os
import random
import re
import signal
import time
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort
import torch
from reliability_helpers import (
    START_LIMIT_S,
    STOP_LIMIT_S,
    Proc,
    integrity,
    positions,
    read_ids,
    start_actor,
    start_learner,
    summed,
    wait_for,
    wait_group_gone,
)

from actor.model import load_model
from engine import get_game
from learner.export import is_early, kept_steps
from learner.synthetic import insert_records, random_records
from runfiles.layout import RunFolder

GAME = get_game("tictactoe")
SELFPLAY_ARGS = ("--game", "tictactoe", "--simulations", "16", "--games-in-parallel", "8")
# CI sizes; benchmarks/load.py runs the longer loops.
ACTOR_KILLS = 3
LEARNER_KILLS = 2
LOOP_BUDGET_S = 35.0  # the actor kill loop stops past this once it has its 3 kills


def actor_kill_loop(tmp_path: Path, kills_wanted: int, budget_s: float) -> tuple[int, int]:
    """SIGKILLs the actor (and its workers) at random moments of self-play, checking replay.db
    after each kill; (kills survived, games kept). benchmarks/load.py runs it longer."""
    rng = random.Random(7)
    db = RunFolder(tmp_path / "tictactoe").replay_db
    seen: set[int] = set()
    kills = 0
    started = time.monotonic()
    while kills < kills_wanted and (kills < 3 or time.monotonic() - started < budget_s):
        actor = start_actor(tmp_path, *SELFPLAY_ARGS, "--log-interval", "1", log_name=f"-{kills}")
        try:
            count = len(seen)
            more = wait_for(lambda n=count: len(read_ids(db)) > n, START_LIMIT_S, 0.2)
            assert more, actor.log()[-3000:]
            time.sleep(rng.uniform(0.05, 1.5))  # a random moment of self-play
            committed = set(read_ids(db))
            actor.kill_group()
        finally:
            actor.close()
        kills += 1
        assert integrity(db) == "ok", f"kill {kills}"
        after = set(read_ids(db))
        lost = (committed | seen) - after
        assert not lost, f"kill {kills}: {len(lost)} committed games lost"
        assert len(after) > len(seen)
        seen = after
    return kills, len(seen)


def test_actor_sigkill_in_selfplay_keeps_every_committed_game(tmp_path: Path) -> None:
    kills, kept = actor_kill_loop(tmp_path, ACTOR_KILLS, LOOP_BUDGET_S)
    assert kills >= 3
    print(f"actor: {kills} SIGKILLs survived, {kept} games kept, integrity ok each time")


def test_actor_killed_alone_leaves_no_orphan_worker(tmp_path: Path) -> None:
    """SIGKILL to the actor's main process only (e.g. the OOM killer): its workers must notice
    and exit instead of writing games and burning a core with no server around them."""
    db = RunFolder(tmp_path / "tictactoe").replay_db
    actor = start_actor(tmp_path, *SELFPLAY_ARGS)
    try:
        assert wait_for(lambda: len(read_ids(db)) > 0, START_LIMIT_S, 0.2), actor.log()[-3000:]
        os.kill(actor.pid, signal.SIGKILL)
        actor.process.wait(STOP_LIMIT_S)
        orphans = wait_group_gone(actor.pid, STOP_LIMIT_S)
        assert not orphans, f"orphaned self-play processes {orphans} still run"
    finally:
        actor.close()
    assert integrity(db) == "ok"


# ---- learner ---------------------------------------------------------------------------------


def checkpoint_step(path: Path) -> int:
    try:
        return int(torch.load(path, map_location="cpu", weights_only=False)["step"])
    except Exception:  # noqa: BLE001 - not written yet
        return -1


def assert_model_loads(path: Path) -> int:
    """latest.onnx opens in ONNX Runtime, runs a batch, and passes the actor's validation."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    planes = np.zeros((2, *GAME.plane_shape), np.float32)
    policy, value = session.run(["policy", "value"], {"planes": planes})
    assert policy.shape == (2, GAME.num_actions) and np.isfinite(value).all()
    return load_model(path, GAME).step


def test_learner_sigkill_while_publishing_resumes_exactly(tmp_path: Path) -> None:
    rng = random.Random(11)
    run = tmp_path / "tictactoe"
    insert_records(RunFolder(run).replay_db, random_records(GAME, 300, seed=3))
    args = [
        "--game", "tictactoe", "--min-positions", "50", "--batch-size", "16",
        "--publish-every", "2", "--checkpoint-every", "3", "--replay-ratio", "1000000",
        "--stats-every-s", "1", "--keep-last-models", "3",
    ]  # fmt: skip
    latest = RunFolder(run).latest_model
    checkpoint = RunFolder(run).checkpoint
    saved_step = 0
    for kill in range(LEARNER_KILLS):
        learner = start_learner(tmp_path, *args, log_name=f"learner-{kill}")
        try:
            if saved_step:
                resumed = f"resumed tictactoe at step {saved_step} "
                started = wait_for(lambda r=resumed, p=learner: r in p.log(), START_LIMIT_S)
                assert started, learner.log()
            progressed = wait_for(
                lambda s=saved_step: checkpoint_step(checkpoint) > s, START_LIMIT_S
            )
            assert progressed, learner.log()[-3000:]
            time.sleep(rng.uniform(0.0, 0.6))  # publishing takes most of each step
            learner.kill_group()
        finally:
            learner.close()
        model_step = assert_model_loads(latest)
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        step = int(state["step"])
        assert step > saved_step and model_step >= 2
        # The optimiser state travelled with the model: Adam's own step count is the run's step
        # (it would restart from 0 if a restart had dropped the optimiser state).
        adam = state["optimizer"]["state"]
        assert adam and {int(s["step"]) for s in adam.values()} == {step}
        assert state["scheduler"]["last_epoch"] == step
        saved_step = step
    # A last restart resumes, cleans up after the crashes, and stops cleanly on SIGTERM.
    learner = start_learner(tmp_path, *args, log_name="learner-final")
    try:
        resumed = f"resumed tictactoe at step {saved_step} "
        assert wait_for(lambda: resumed in learner.log(), START_LIMIT_S), learner.log()[-3000:]
        assert wait_for(lambda: checkpoint_step(checkpoint) > saved_step, START_LIMIT_S)
        code = learner.terminate()
    finally:
        learner.close()
    # Listed after a clean stop: a live learner publishing every other step always has a write
    # in flight, but what is left now can only be from the killed ones.
    leftovers = [
        p.name
        for folder in (RunFolder(run).models, RunFolder(run).checkpoints)
        for p in folder.iterdir()
        if p.name.endswith(".tmp")
    ]
    assert code == 0, learner.log()[-3000:]
    assert_model_loads(latest)
    # Bounded: one checkpoint file, the newest 3 step models (no milestone reached) besides the
    # early ones (steps 2, 4, 8...: export.prune), and latest.onnx.
    kept = [p.name for p in RunFolder(run).checkpoints.iterdir() if not p.name.endswith(".tmp")]
    assert kept == ["latest.pt"]
    steps = kept_steps(RunFolder(run).models)
    assert len([s for s in steps if not is_early(s, 2, 10_000)]) <= 3, steps
    assert RunFolder(run).latest_model.exists()
    print(
        f"learner: {LEARNER_KILLS} SIGKILLs while publishing survived, resumed at step {saved_step}"
    )
    assert not leftovers, f"temp files of interrupted writes pile up after restarts: {leftovers}"


def test_learner_start_removes_only_its_own_stale_temp_files(tmp_path: Path) -> None:
    """What a SIGKILL in write_atomic leaves is removed at start; the actor's temp files in the
    run folder (it may be writing one right now) and every real file stay."""
    from learner.export import remove_stale_temp_files

    run = tmp_path / "tictactoe"
    stale = [
        RunFolder(run).models / ".latest.onnx.k2j3_x.tmp",
        RunFolder(run).models / ".model_step_000042.onnx.abc.tmp",
        RunFolder(run).checkpoints / ".latest.pt.zz9.tmp",
        run / ".stats.json.q1.tmp",
    ]
    kept = [
        RunFolder(run).latest_model,
        RunFolder(run).model_step(40),
        RunFolder(run).checkpoint,
        RunFolder(run).stats,
        run / ".evaluations.json.w8.tmp",  # the actor's, maybe being written
        RunFolder(run).replay_db,
    ]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert sorted(remove_stale_temp_files(run)) == sorted(p.name for p in stale)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)
    assert remove_stale_temp_files(tmp_path / "no-such-run") == []


# ---- four writers and the window deletion --------------------------------------------------------


SOAK_S = 5.0  # benchmarks/load.py: 60 s
WINDOW = 3000


def workers_that_played(actor: Proc) -> int:
    """How many self-play workers have written a game, as the actor's /api/health tells (0
    while it does not answer)."""
    try:
        workers = httpx.get(actor.url + "/api/health", timeout=10).json()["workers"]
    except httpx.HTTPError:
        return 0
    return sum(worker["games"] > 0 for worker in workers)


def four_writers_soak(tmp_path: Path, soak_s: float) -> dict:
    """Four self-play workers and the learner trimming replay.db to its window for `soak_s`
    seconds, then both stopped; checks and returns the counts. benchmarks/load.py runs it for
    a minute."""
    db = RunFolder(tmp_path / "tictactoe").replay_db
    actor = start_actor(
        tmp_path, "--game", "tictactoe", "--workers", "4", "--simulations", "8",
        "--games-in-parallel", "4", "--log-interval", "2",
    )  # fmt: skip
    learner = None
    try:
        learner = start_learner(
            tmp_path, "--game", "tictactoe", "--window-positions", str(WINDOW),
            "--min-positions", "500", "--delete-every-s", "1", "--stats-every-s", "2",
            "--poll-interval-s", "0.2",
        )  # fmt: skip
        # Every worker plays (past compiling the search) before the soak, so that each has
        # games to write and stops between two batches at the end.
        assert wait_for(lambda: workers_that_played(actor) == 4, START_LIMIT_S, 0.5), actor.log()
        assert wait_for(lambda: "deleted" in learner.log(), START_LIMIT_S, 0.5), learner.log()
        time.sleep(soak_s)  # the soak itself
        assert actor.alive() and learner.alive()
        assert actor.terminate() == 0, actor.log()[-3000:]
        # The learner reads the last games and trims once more, then stops.
        assert wait_for(lambda: positions(db) <= WINDOW + GAME.max_game_length, STOP_LIMIT_S, 0.5)
        assert learner.terminate() == 0, learner.log()[-3000:]
    finally:
        actor.close()
        if learner is not None:
            learner.close()
    logs = actor.log() + learner.log()
    assert not re.search("database is locked|locked", logs, re.IGNORECASE), "a lock error leaked"
    per_worker = re.findall(r"stopped after (\d+) games", actor.log())
    assert len(per_worker) == 4, actor.log()[-3000:]
    written = sum(map(int, per_worker))
    deleted = summed(r"deleted (\d+) games older than the window", learner.log())
    ids = read_ids(db)
    assert deleted > 0 and written > deleted
    assert len(ids) == written - deleted, (len(ids), written, deleted)
    assert ids == list(range(ids[0], ids[-1] + 1)), "a game inside the window went missing"
    assert ids[-1] == written, "ids are not one per game written"
    assert integrity(db) == "ok"
    return {"written": written, "deleted": deleted, "kept": len(ids), "positions": positions(db)}


def test_four_workers_and_window_deletion_lose_nothing(tmp_path: Path) -> None:
    counts = four_writers_soak(tmp_path, SOAK_S)
    print(f"4 workers + trimming for {SOAK_S:.0f} s: {counts}")
