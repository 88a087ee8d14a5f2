"""What stats.json says about time and the replay window: the run's training time across
restarts, the age of the window's oldest position, and how long the learner waits for data."""

import dataclasses
import json
import threading
import time

import numpy as np
import pytest
from reliability_helpers import START_LIMIT_S, wait_for
from test_learner_train import fill_db, small_config

from engine import get_game
from learner.replay import Replay
from learner.synthetic import insert_records, random_records
from learner.train import RateMeter, Trainer
from runfiles import stats as stats_module

TICTACTOE = get_game("tictactoe")


def read_stats(tmp_path):
    return json.loads((tmp_path / "tictactoe" / "stats.json").read_text())


def test_training_time_goes_on_across_a_restart_without_the_time_stopped(tmp_path) -> None:
    """So that the page can say how long a run has trained, stats.json holds the training
    time, per point too, summed over the learner's starts: the hour the learner was stopped
    does not count."""
    fill_db(tmp_path)
    Trainer(small_config(tmp_path, max_steps=30)).run()
    first = read_stats(tmp_path)
    assert first["elapsed_s"] > 0
    times = [point["elapsed_s"] for point in first["history"]]
    assert times == sorted(times) and times[-1] <= first["elapsed_s"]
    # stopped for an hour: the wall clock moves on, the training time does not
    path = tmp_path / "tictactoe" / "stats.json"
    for point in first["history"]:
        point["time"] -= 3600
    path.write_text(json.dumps(first))
    resumed = Trainer(small_config(tmp_path, max_steps=60))
    started = time.monotonic()
    resumed.run()
    second = read_stats(tmp_path)
    assert first["elapsed_s"] < second["elapsed_s"]
    assert second["elapsed_s"] <= first["elapsed_s"] + time.monotonic() - started
    times = [point["elapsed_s"] for point in second["history"]]
    assert times == sorted(times) and times[0] == first["history"][0]["elapsed_s"]


def test_a_stats_file_from_before_training_time_was_kept_loads_with_its_wall_clock_span(
    tmp_path,
) -> None:
    """Old runs resume: their points get the wall time since the run's first point."""
    path = tmp_path / "stats.json"
    history = [{"step": 10 * i, "time": 1000.0 + 30 * i, "loss_total": 1.0} for i in range(5)]
    old = {"game": "tictactoe", "step": 40, "history": history, "evaluations": [], "elo": []}
    path.write_text(json.dumps(old))
    loaded = stats_module.load_stats(path, "tictactoe", {}, 40)
    assert [p["elapsed_s"] for p in loaded["history"]] == [0, 30, 60, 90, 120]
    assert loaded["elapsed_s"] == 120
    assert not list(tmp_path.glob("stats.json.damaged-*"))
    # a crash lost steps 30 and 40: their time was trained all the same
    old.update(elapsed_s=500.0, history=[{**p, "elapsed_s": 100.0 * i} for i, p in
                                         enumerate(history)])  # fmt: skip
    path.write_text(json.dumps(old))
    assert stats_module.load_stats(path, "tictactoe", {}, 20)["elapsed_s"] == 500.0


def test_the_window_says_which_model_played_its_oldest_position(tmp_path) -> None:
    """A window full to capacity drew a flat line: its age (the model step of its oldest
    position) shows how fast the data turns over."""
    path = tmp_path / "replay.db"
    records = random_records(TICTACTOE, 30, seed=3)
    steps = [100 * (i // 5) for i in range(30)]  # a new model every five games
    records = [dataclasses.replace(r, model_step=s) for r, s in zip(records, steps, strict=True)]
    replay = Replay(TICTACTOE, path, 40)
    insert_records(path, records[:3])
    assert replay.oldest_model_step() is None  # nothing read yet
    replay.poll()
    assert replay.oldest_model_step() == 0
    insert_records(path, records[3:])
    replay.poll()
    ids = replay.window.game_ids[: replay.window.size]
    oldest_game = replay.window.oldest_game_id()
    assert oldest_game == ids.min() > 1  # the first games left the window
    assert replay.oldest_model_step() == steps[oldest_game - 1] > 0
    assert len(replay._game_steps) == len(np.unique(ids))  # those that left are forgotten


def test_stats_say_how_much_of_the_last_minute_the_learner_waited_for_data(tmp_path) -> None:
    """Self-play as the bottleneck is measured where it shows: the learner waits (too few
    positions, or the replay ratio reached) instead of training."""
    fill_db(tmp_path, 20)
    trainer = Trainer(small_config(tmp_path, replay_ratio=2.0, max_steps=1_000))
    trainer._waiting_meter = RateMeter(span_s=2.0, min_span_s=0.0)  # its last 2 s or so
    stop = threading.Event()
    thread = threading.Thread(target=trainer.run, args=(stop,))
    thread.start()
    try:
        assert wait_for(lambda: trainer.waited_s > 4.0, START_LIMIT_S, 0.05)
    finally:
        stop.set()
        thread.join()
    stats = read_stats(tmp_path)
    assert 0 < trainer.step < 1_000
    assert 0.6 < stats["waiting_share"] <= 1.01
    assert stats["replay_oldest_step"] == 0 and stats["history"][-1]["replay_games"] > 0


def test_a_learner_that_never_waits_reports_none_of_its_time_waiting(tmp_path) -> None:
    fill_db(tmp_path)
    trainer = Trainer(small_config(tmp_path, max_steps=40))
    trainer._waiting_meter = RateMeter(min_span_s=0.0)
    trainer.run()
    assert read_stats(tmp_path)["waiting_share"] == pytest.approx(0.0, abs=0.05)
