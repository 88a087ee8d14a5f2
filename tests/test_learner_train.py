"""Training loop: the loss falls, resume is exact, replay ratio, stats.json, config, CLI."""

import collections
import json
import math
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from reliability_helpers import START_LIMIT_S, wait_for

from engine import get_game
from learner.config import RUN_SETTINGS, ConfigError, make_config, parse_args, run_defaults
from learner.synthetic import insert_records, random_records
from learner.train import RateMeter, Trainer, lr_factor, stats_interval
from runfiles import stats as stats_module

TICTACTOE = get_game("tictactoe")
ROOT = Path(__file__).resolve().parents[1]


def small_config(tmp_path: Path, **overrides):
    values = dict(
        data_dir=str(tmp_path),
        hidden=32,
        batch_size=32,
        min_positions=10,
        window_positions=5_000,
        publish_every=20,
        checkpoint_every=20,
        stats_every_s=0.0,
        delete_every_s=0.0,
        replay_ratio=1e9,
        poll_interval_s=0.01,
        precision="float32",  # "auto" times the machine: tests/test_learner_precision.py
    )
    values.update(overrides)
    return make_config("tictactoe", **values)


def fill_db(tmp_path: Path, num_games: int = 60, seed: int = 0) -> None:
    insert_records(tmp_path / "tictactoe" / "replay.db", random_records(TICTACTOE, num_games, seed))


def test_loss_falls_when_overfitting_a_small_dataset(tmp_path) -> None:
    fill_db(tmp_path, 8)
    config = small_config(tmp_path, hidden=64, lr=3e-3, max_steps=300, weight_decay=0.0)
    trainer = Trainer(config)
    trainer.replay.poll()
    rng = np.random.default_rng(0)
    fixed = trainer.replay.sample(64, rng, augment=False)
    first = trainer.train_step(*fixed)
    for _ in range(300):
        last = trainer.train_step(*fixed)
    assert last[2] < 0.2 * first[2]  # value loss: targets are memorisable
    assert last[1] < first[1] - 0.3  # policy loss falls towards the targets' entropy


@pytest.mark.parametrize(
    "network", [{}, {"network": "resnet", "blocks": 1, "channels": 8}]  # resnet: channels-last
)
def test_resume_continues_step_and_optimizer_state(tmp_path, network) -> None:
    fill_db(tmp_path / "a")
    fill_db(tmp_path / "b")
    settings = dict(optimizer="sgd", lr=0.05, **network)
    straight = Trainer(small_config(tmp_path / "a", max_steps=60, **settings))
    straight.run()
    first_half = Trainer(small_config(tmp_path / "b", max_steps=30, **settings))
    first_half.run()
    resumed = Trainer(small_config(tmp_path / "b", max_steps=60, **settings))
    assert resumed.step == 30
    momentum = resumed.optimizer.state_dict()["state"]
    assert momentum and all(s["momentum_buffer"].abs().sum() > 0 for s in momentum.values())
    resumed.run()
    assert resumed.step == 60
    expected, actual = straight.model.state_dict(), resumed.model.state_dict()
    for name, tensor in expected.items():
        torch.testing.assert_close(actual[name], tensor, rtol=0, atol=0)
    assert resumed.samples_trained == straight.samples_trained


def test_resume_takes_the_new_runs_lr_momentum_and_weight_decay(tmp_path) -> None:
    fill_db(tmp_path)
    Trainer(small_config(tmp_path, max_steps=25, optimizer="sgd", lr=0.05)).run()
    changed = dict(optimizer="sgd", lr=0.004, momentum=0.5, weight_decay=3e-4)
    milestones = dict(lr_schedule="milestones", lr_milestones=(10,), lr_gamma=0.5)
    resumed = Trainer(small_config(tmp_path, max_steps=30, **changed, **milestones))
    assert resumed.step == 25
    group = resumed.optimizer.param_groups[0]
    assert group["lr"] == pytest.approx(0.002)  # 0.004 x 0.5: past the milestone at step 10
    assert (group["momentum"], group["weight_decay"]) == (0.5, 3e-4)
    resumed.run()
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(0.002)


def test_a_resumed_run_without_a_model_publishes_the_checkpoints_model_first(tmp_path) -> None:
    """A checkpoint copied into a fresh run folder (or models/ removed): the checkpoint's model
    is published before any training, so self-play has it at once."""
    fill_db(tmp_path)
    Trainer(small_config(tmp_path, max_steps=25)).run()
    models = tmp_path / "tictactoe" / "models"
    for path in models.iterdir():
        path.unlink()
    (tmp_path / "tictactoe" / "replay.db").unlink()  # no data: nothing to train on
    stop = threading.Event()
    resumed = Trainer(small_config(tmp_path, max_steps=1_000))
    thread = threading.Thread(target=resumed.run, args=(stop,))
    thread.start()
    try:
        assert wait_for(lambda: (models / "latest.onnx").exists(), 120)
        meta = {p.key: p.value for p in onnx.load(models / "latest.onnx").metadata_props}
        assert meta["step"] == "25" and resumed.step == 25
    finally:
        stop.set()
        thread.join(timeout=60)


def test_replay_ratio_waits_for_new_games(tmp_path) -> None:
    fill_db(tmp_path, 20)
    trainer = Trainer(small_config(tmp_path, replay_ratio=2.0, max_steps=1_000))
    stop = threading.Event()
    thread = threading.Thread(target=trainer.run, args=(stop,))
    thread.start()
    try:
        positions = trainer.replay.counters
        assert wait_for(lambda: positions.new_positions > 0 and not trainer.ready(), 120)
        stop.wait(0.3)
        stuck_at = trainer.step
        assert 0 < stuck_at < 1_000
        assert trainer.samples_trained <= 2.0 * positions.new_positions + 32
        stop.wait(0.3)
        assert trainer.step == stuck_at  # waiting, not training
        fill_db(tmp_path, 20, seed=1)
        assert wait_for(lambda: trainer.step > stuck_at, 120)
    finally:
        stop.set()
        thread.join()


def test_stats_json_shape_and_run_files(tmp_path) -> None:
    fill_db(tmp_path)
    trainer = Trainer(small_config(tmp_path, max_steps=45, history_cap=4))
    trainer.run()
    run = tmp_path / "tictactoe"
    stats = json.loads((run / "stats.json").read_text())
    assert set(stats) == {
        "game", "step", "updated_at", "config", "config_defaults", "loss", "learning_rate",
        "samples_per_s", "precision", "elapsed_s", "replay_games", "replay_positions",
        "replay_oldest_step", "waiting_share", "games_per_s", "positions_per_s", "skipped_rows",
        "history", "evaluations", "elo",
    }  # fmt: skip
    assert stats["game"] == "tictactoe" and stats["step"] == 45
    assert stats["precision"] == "float32"
    assert set(stats["loss"]) == {"total", "policy", "value"}
    assert stats["replay_positions"] == trainer.replay.size
    assert stats["config"]["hidden"] == 32
    assert 1 <= len(stats["history"]) <= 4
    assert set(stats["history"][0]) == {
        "step", "time", "elapsed_s", "loss_total", "loss_policy", "loss_value", "learning_rate",
        "samples_per_s", "replay_positions", "replay_games", "replay_oldest_step", "games_per_s",
        "positions_per_s",
    }  # fmt: skip
    assert stats["evaluations"] == [] and stats["elo"] == []
    assert json.loads((run / "config.json").read_text())["hidden"] == 32
    assert (run / "models" / "latest.onnx").exists()
    assert (run / "models" / "model_step_000045.onnx").exists()
    assert (run / "checkpoints" / "latest.pt").exists()


def test_history_thinning_and_evaluations(tmp_path) -> None:
    points = [{"step": i} for i in range(100)]
    thinned = stats_module.thin(points, 60)
    assert len(thinned) <= 60
    assert thinned[-1]["step"] == 99 and thinned[0]["step"] == 0
    gaps = np.diff([p["step"] for p in thinned])
    assert gaps.min() >= 1 and gaps.max() <= 8  # even: spans of 4 steps, one point each
    stats = stats_module.new_stats("tictactoe", {})
    stats_module.append_evaluation(
        stats, step=10, opponent="mcts", simulations=100, win_rate=0.5, draw_rate=0.25,
        loss_rate=0.25, optimal_move_rate=None,
    )  # fmt: skip
    stats_module.append_elo(stats, player="alphazero", step=10, elo=1210.0)
    assert stats["evaluations"][0]["optimal_move_rate"] is None
    assert stats["elo"] == [{"player": "alphazero", "step": 10, "elo": 1210.0}]
    path = tmp_path / "evaluations.json"
    stats_module.merge_evaluations_file(stats, path)  # missing: unchanged
    assert len(stats["evaluations"]) == 1
    path.write_text("not json")
    stats_module.merge_evaluations_file(stats, path)
    assert len(stats["evaluations"]) == 1
    path.write_text(json.dumps([{"step": 5, "opponent": "random"}, 3]))
    stats_module.merge_evaluations_file(stats, path)
    assert stats["evaluations"] == [{"step": 5, "opponent": "random"}]
    tournament = tmp_path / "tournament.json"
    stats_module.merge_tournament_file(stats, tournament)  # missing: unchanged
    assert stats["elo"] == [{"player": "alphazero", "step": 10, "elo": 1210.0}]
    players = [{"player": "step_20", "step": 20, "elo": 300.5, "elo_ci95": 61.2, "games": 40}]
    players.append({"player": "step_30", "step": 30, "elo": 158.0, "games": 0})  # not played yet
    players.append({"player": "old", "step": 10, "elo": 9.0, "games": 4})  # a file without CIs
    players.append({"player": "bad", "step": 11, "elo": "high", "games": 4})  # hand-edited
    players.append({"player": 7, "step": None, "elo": 1.0, "games": 4})
    tournament.write_text(json.dumps({"updated_at": 1.0, "players": players, "results": []}))
    stats_module.merge_tournament_file(stats, tournament)
    assert stats["elo"] == [
        {"player": "step_20", "step": 20, "elo": 300.5, "elo_ci95": 61.2},
        {"player": "old", "step": 10, "elo": 9.0, "elo_ci95": None},
    ]


def test_a_long_runs_history_keeps_its_whole_curve() -> None:
    """The learner appends a point at every stats write (5 s) and thins at the cap: after
    20,000 writes (28 hours) every tenth of the run still has its share of points, and the
    newest stay in full. Thinning the older half at each overflow left step 0 and the last 14%
    of the run. Evaluations thin the same way, an evaluation's entries together."""
    history: list[dict] = []
    for write in range(20_000):
        history = stats_module.thin(history + [{"step": write * 7}], 1_000)
    steps = np.array([point["step"] for point in history])
    assert len(steps) <= 1_000 and steps[0] == 0 and steps[-1] == 19_999 * 7
    assert (np.diff(steps) > 0).all()
    per_tenth = np.histogram(steps, bins=10, range=(0, 20_000 * 7))[0]
    assert per_tenth[:9].min() >= 20, per_tenth  # ~27 each: spans of 256 steps
    assert list(steps[-100:]) == [step * 7 for step in range(19_900, 20_000)]
    evaluations: list[dict] = []
    for step in range(0, 300_000, 100):
        kinds = [{"step": step, "opponent": name} for name in ("random", "mcts", "solver")]
        evaluations = stats_module.thin(evaluations + kinds, 300)
    by_step = collections.Counter(entry["step"] for entry in evaluations)
    assert len(evaluations) <= 300 and set(by_step.values()) == {3}
    assert np.histogram(list(by_step), bins=10, range=(0, 300_000))[0][:9].min() >= 2
    baselines = [{"step": None, "player": "random"}] + history
    assert stats_module.thin(baselines, 500)[0] == {"step": None, "player": "random"}


def test_config_precedence_and_errors(tmp_path) -> None:
    toml = tmp_path / "learner.toml"
    toml.write_text('game = "connect4"\nlr = 0.5\nbatch_size = 64\n')
    config = parse_args(["--config", str(toml), "--lr", "0.02", "--data-dir", "x"])
    assert (config.game, config.lr, config.batch_size, config.data_dir) == (
        "connect4",
        0.02,
        64,
        "x",
    )
    assert config.network == "resnet"  # connect4's default
    with pytest.raises(ConfigError, match="is for connect4, but this run trains othello"):
        parse_args(["--config", str(toml), "--game", "othello"])  # not silently othello
    assert parse_args([]).network == "mlp"  # tictactoe's default
    with pytest.raises(ConfigError):
        parse_args(["--game", "chess"])
    with pytest.raises(ConfigError):
        parse_args(["--lr", "fast"])
    toml.write_text("[learner]\nwindow_positions = 1234\nmin_positions = 10\n")
    assert parse_args(["--config", str(toml)]).window_positions == 1234
    # Top-level keys beside [learner] are read, and an [actor] table is refused, not ignored.
    toml.write_text("lr = 0.005\n[learner]\nbatch_size = 64\n")
    assert parse_args(["--config", str(toml)]).batch_size == 64
    assert parse_args(["--config", str(toml)]).lr == 0.005
    refused = [
        ("learning_rate = 1\n", "unknown setting"),
        ("batch_szie = 64\n", "'batch_szie': did you mean 'batch_size'"),
        ("simulations = 64\n", "the actor's, such as simulations, are command-line"),
        ("lr = 0.005\n[actor]\nsimulations = 32\n", r"\[actor\] table is not read.*command line"),
        ("lr = 0.005\n[learner]\nlr = 0.01\n", "lr is set twice"),
        ("lr_milestones = 26000\n", "lr_milestones must be a list of steps"),
    ]
    for text, message in refused:
        toml.write_text(text)
        with pytest.raises(ConfigError, match=message):
            parse_args(["--config", str(toml)])


@pytest.mark.parametrize(
    "content",
    [
        b"lr = 0.1 # \xff\xfe not UTF-8\n",
        b"learner = 5\n",
        b'learner = "abc"\n',
        b"learner = [1, 2]\n",
    ],
    ids=["not-utf8", "int", "string", "list"],
)
def test_a_bad_config_file_is_a_clear_error(tmp_path, capsys, content) -> None:
    """A config file that is not UTF-8, or whose `learner` is not a table, ended in a
    traceback and exit status 1, not the usual one-line message and status 2."""
    from learner.__main__ import main

    toml = tmp_path / "learner.toml"
    toml.write_bytes(content)
    with pytest.raises(ConfigError, match="learner.toml"):
        parse_args(["--config", str(toml)])
    assert main(["--config", str(toml), "--data-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("learner: ") and "Traceback" not in error


def test_learning_rate_schedules() -> None:
    milestones = make_config("tictactoe", lr_schedule="milestones", lr_milestones="100, 300")
    assert milestones.lr_milestones == (100, 300)
    factors = [lr_factor(milestones, step) for step in (0, 99, 100, 299, 300, 10_000)]
    assert factors == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    step = make_config("tictactoe", lr_schedule="step", lr_step_every=50, lr_gamma=0.5)
    assert [lr_factor(step, s) for s in (0, 49, 50, 149)] == pytest.approx([1, 1, 0.5, 0.25])
    warm = make_config("tictactoe", warmup_steps=10)
    assert lr_factor(warm, 4) == pytest.approx(0.5) and lr_factor(warm, 10) == 1
    for game in ("connect4", "othello"):  # the shipped models' schedule: 0.02, 0.002, 0.0002
        config = make_config(game)
        lrs = [config.lr * lr_factor(config, s) for s in (25_999, 26_000, 80_000)]
        assert lrs == pytest.approx([0.02, 0.002, 0.0002]), game
    for bad in ({"lr_milestones": "300,100"}, {"lr_milestones": "0"}, {"lr_milestones": "x"}):
        with pytest.raises(ConfigError):
            make_config("tictactoe", lr_schedule="milestones", **bad)
    with pytest.raises(ConfigError, match="needs lr_milestones"):
        make_config("tictactoe", lr_schedule="milestones")
    toml_like = make_config("tictactoe", lr_milestones=[5, 7])  # a TOML list
    assert toml_like.lr_milestones == (5, 7)


def test_command_line_runs_and_survives_a_garbage_row(tmp_path) -> None:
    fill_db(tmp_path, 20)
    from learner.synthetic import insert_raw

    insert_raw(tmp_path / "tictactoe" / "replay.db", b"\x00garbage")
    command = [sys.executable, "-m", "learner", "--data-dir", str(tmp_path), "--max-steps", "25"]
    command += ["--min-positions", "10", "--batch-size", "16", "--publish-every", "10"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "skipping undecodable replay row" in result.stderr
    stats = json.loads((tmp_path / "tictactoe" / "stats.json").read_text())
    assert stats["step"] == 25 and stats["skipped_rows"] == 1
    bad = subprocess.run(
        [sys.executable, "-m", "learner", "--game", "chess"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "unknown game" in bad.stderr


def test_non_finite_loss_skips_the_update(tmp_path) -> None:
    fill_db(tmp_path, 10)
    trainer = Trainer(small_config(tmp_path))
    trainer.replay.poll()
    planes, policy, values = trainer.replay.sample(16, np.random.default_rng(0))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    values[0] = np.nan
    losses = trainer.train_step(planes, policy, values)
    assert not np.isfinite(losses[0])
    assert trainer.step == 0 and trainer.skipped_steps == 1
    for name, tensor in trainer.model.state_dict().items():
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)


def test_rates_are_unknown_until_there_is_an_interval(monkeypatch) -> None:
    """No rate at the first updates (a gap in the charts, not a drop to 0 at every resume, nor
    one burst of games over half a second), then the counters' growth per second over the
    last `span_s` seconds."""
    clock = iter([100.0, 100.5, 105.0, 110.0, 210.0])
    monkeypatch.setattr("learner.train.time.monotonic", lambda: next(clock))
    meter = RateMeter(span_s=60.0, min_span_s=5.0)
    assert all(math.isnan(rate) for rate in meter.update(10, 500))
    assert all(math.isnan(rate) for rate in meter.update(90, 600))  # 0.5 s: a burst, no rate
    assert meter.update(35, 1000) == (5.0, 100.0)
    assert meter.update(60, 1500) == (5.0, 100.0)
    assert meter.update(160, 2500) == (1.0, 10.0)  # only the last span: from 110 s on


def test_stats_json_carries_the_games_defaults_beside_the_config(tmp_path) -> None:
    """stats.json holds what the game trains with by default beside the run's config, so a
    reader can tell which values a run changed. A file without the defaults (none there) still
    loads with its history."""
    fill_db(tmp_path)
    Trainer(small_config(tmp_path, max_steps=10, lr=0.01, lr_milestones=(500,))).run()
    path = tmp_path / "tictactoe" / "stats.json"
    stats = json.loads(path.read_text())
    defaults = stats["config_defaults"]
    assert list(defaults) == list(RUN_SETTINGS)
    assert defaults == json.loads(json.dumps(run_defaults("tictactoe")))
    changed = {name for name in RUN_SETTINGS if stats["config"][name] != defaults[name]}
    assert {"hidden", "lr", "lr_milestones", "batch_size", "window_positions"} <= changed
    assert (defaults["hidden"], defaults["lr"], defaults["lr_milestones"]) == (128, 0.002, [])
    assert stats["config"]["lr"] == 0.01 and "optimizer" not in changed
    del stats["config_defaults"]  # a file without them
    path.write_text(json.dumps(stats))
    loaded = stats_module.load_stats(path, "tictactoe", {}, 10, run_defaults("tictactoe"))
    assert loaded["history"] == stats["history"] and loaded["config_defaults"]["hidden"] == 128
    assert not list(path.parent.glob("stats.json.damaged-*"))


def test_unmeasured_rates_are_null_in_stats_json() -> None:
    """The dashboard shows "–" for a rate not measured yet, not a 0 that reads as stalled."""
    stats = stats_module.new_stats("tictactoe", {})
    assert stats["samples_per_s"] is None and stats["games_per_s"] is None
    progress = dict(
        step=1, loss_total=1.0, loss_policy=0.7, loss_value=0.3, learning_rate=0.02,
        replay_games=3, replay_positions=20, skipped_rows=0, elapsed_s=2.0,
        replay_oldest_step=0, history_cap=10,
    )  # fmt: skip
    stats_module.record_progress(
        stats, samples_per_s=math.nan, games_per_s=math.nan, positions_per_s=math.nan,
        waiting_share=math.nan, **progress,
    )  # fmt: skip
    point = stats["history"][-1]
    assert stats["samples_per_s"] is None and stats["positions_per_s"] is None
    assert stats["waiting_share"] is None
    assert point["games_per_s"] is None and point["samples_per_s"] is None
    json.dumps(stats, allow_nan=False)  # plain JSON for the page
    stats_module.record_progress(
        stats, samples_per_s=900.0, games_per_s=4.0, positions_per_s=40.0, waiting_share=0.5,
        **progress,
    )  # fmt: skip
    assert (stats["samples_per_s"], stats["games_per_s"]) == (900.0, 4.0)


def test_the_reported_loss_is_the_mean_since_the_last_stats_write(tmp_path, monkeypatch) -> None:
    """One batch's loss jumped by a tenth between two writes (noise on the loss card and chart);
    stats.json reports the mean of the steps since the previous write."""
    fill_db(tmp_path)
    trainer = Trainer(small_config(tmp_path, max_steps=4, stats_every_s=1e9))
    losses = iter([(1.0, 0.6, 0.4), (3.0, 2.0, 1.0), (2.0, 1.0, 1.0), (6.0, 3.0, 3.0)])

    def fake_step(*batch):
        trainer.step += 1
        return next(losses)

    monkeypatch.setattr(trainer, "train_step", fake_step)
    trainer.run()  # one stats write, at the end
    stats = json.loads((tmp_path / "tictactoe" / "stats.json").read_text())
    assert stats["loss"] == pytest.approx({"total": 3.0, "policy": 1.65, "value": 1.35})
    assert stats["history"][-1]["loss_total"] == pytest.approx(3.0)


def test_thinning_evaluations_keeps_every_series(tmp_path) -> None:
    """Each evaluation writes a fixed group of entries (one per opponent and budget); thinning
    entry by entry kept only one kind in the older half, so whole chart series vanished."""
    kinds = [("random", 64), ("mcts", 64), ("solver", 0), ("solver", 64)]
    entries = [
        {"step": 100 * (i + 1), "opponent": opponent, "simulations": sims, "time": float(i)}
        for i in range(500)
        for opponent, sims in kinds
    ]
    path = tmp_path / "evaluations.json"
    path.write_text(json.dumps(entries))
    stats = stats_module.new_stats("tictactoe", {})
    stats_module.merge_evaluations_file(stats, path)
    kept = stats["evaluations"]
    assert len(kept) <= stats_module.LIST_CAP
    older = kept[: len(kept) // 2]
    assert {(e["opponent"], e["simulations"]) for e in older} == set(kinds)
    steps = {}
    for entry in kept:
        steps.setdefault(entry["step"], []).append(entry["opponent"])
    assert all(len(opponents) == len(kinds) for opponents in steps.values())
    assert kept[-1]["step"] == 50_000 and kept[0]["step"] == 100


def test_stats_are_written_often_in_a_runs_first_minute() -> None:
    """Tic-tac-toe learns most of what it learns in its first seconds: a 5 s interval drew
    that as one point."""
    intervals = [stats_interval(elapsed, 5.0) for elapsed in (0.0, 6.0, 12.0, 30.0, 60.0, 600.0)]
    assert intervals == pytest.approx([0.5, 0.5, 1.0, 2.5, 5.0, 5.0])
    assert stats_interval(600.0, 0.0) == 0.0  # tests write at every loop


def test_a_damaged_replay_db_is_reported_as_damage_not_as_waiting(tmp_path, caplog) -> None:
    fill_db(tmp_path, num_games=3000)
    with open(tmp_path / "tictactoe" / "replay.db", "r+b") as file:
        for page in (3, 10, 20):  # random bytes over pages, as a failing disk writes them
            file.seek(page * 4096)
            file.write(np.random.default_rng(page).bytes(4096))
    trainer = Trainer(small_config(tmp_path))
    with caplog.at_level("WARNING"):
        trainer.poll()  # the learner goes on: no exception
    assert "is damaged" in caplog.text and "move it aside" in caplog.text, caplog.text
    assert "waiting for replay data" not in caplog.text


def test_a_fast_game_keeps_replay_db_near_its_window(tmp_path) -> None:
    """Tic-tac-toe self-play writes about 1,000 games/s: trimmed only once a minute, replay.db
    held 20 windows' worth of games. It is trimmed whenever a window's worth has come in, so
    it holds at most about two windows (here: each write is read before the next one)."""
    path = tmp_path / "tictactoe" / "replay.db"
    records = random_records(TICTACTOE, 20, seed=3)
    insert_records(path, records)
    window = 300
    config = small_config(
        tmp_path,
        window_positions=window,
        delete_every_s=60.0,
        publish_every=100_000,
        checkpoint_every=100_000,
        stats_every_s=5.0,
    )
    trainer = Trainer(config)
    stop = threading.Event()
    thread = threading.Thread(target=trainer.run, args=(stop,))
    thread.start()
    largest = written = 0
    try:
        while written < 50 * window:  # 50 windows in a few seconds
            newest = insert_records(path, records)[-1]
            written += sum(record.num_moves for record in records)

            def read(newest: int = newest) -> bool:
                return trainer.replay.last_id >= newest or not thread.is_alive()

            assert wait_for(read, START_LIMIT_S, 0.01)  # each write is read before the next
            with sqlite3.connect(path) as connection:
                (positions,) = connection.execute("SELECT SUM(num_moves) FROM games").fetchone()
            largest = max(largest, positions)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert trainer.step > 0
    assert largest < 3 * window, f"replay.db held {largest} positions, the window {window}"


def test_frequent_trims_are_logged_as_one_summary_line(tmp_path, caplog, monkeypatch) -> None:
    """Tic-tac-toe trims replay.db every ~2 s: a line per trim would be a quarter of the log."""
    trainer = Trainer(small_config(tmp_path))
    monkeypatch.setattr(trainer.replay, "trim_database", lambda: 100)

    def summaries() -> list[str]:
        lines = [r for r in caplog.records if "older than the window" in r.getMessage()]
        return [r.getMessage() for r in lines if r.levelname == "INFO"]

    with caplog.at_level("DEBUG", logger="learner"):
        for _ in range(31):
            trainer.trim()
        assert len(summaries()) == 1 and "deleted 100 games" in summaries()[0], summaries()
        assert caplog.text.count("DEBUG") == 31  # the detail of each trim is still there
        trainer._last_trim_log -= 61  # a minute later: the games deleted since, in one line
        trainer.trim()
        assert len(summaries()) == 2 and "deleted 3100 games" in summaries()[1], summaries()
        trainer.trim()
        trainer.finish()  # the last line: the lines add up to every game deleted
    assert len(summaries()) == 3 and "deleted 100 games" in summaries()[2], summaries()


def test_waiting_for_replay_data_is_not_a_warning(tmp_path, caplog) -> None:
    """Before self-play's first game there is no replay.db: normal, not a problem."""
    trainer = Trainer(small_config(tmp_path))
    with caplog.at_level("INFO", logger="learner"):
        trainer.poll()
    waiting = [r for r in caplog.records if "waiting for replay data" in r.getMessage()]
    assert [r.levelname for r in waiting] == ["INFO"]


def test_help_shows_the_games_values_each_flag_once(capsys) -> None:
    """Each flag's help shows the game's own value, not `default 0.02 (game defaults may
    differ)`, and a flag with an underscore is listed once (--lr-schedule, not --lr_schedule)."""
    with pytest.raises(SystemExit):
        parse_args(["--help", "--game", "tictactoe"])
    text = capsys.readouterr().out
    flags = [line.split()[0] for line in text.splitlines() if line.startswith("  --")]
    assert len(flags) == len(set(flags)) and "--lr_schedule" not in text  # each flag once
    text = " ".join(text.split())  # unwrapped
    assert "--lr X starting learning rate (tictactoe: 0.002)" in text
    assert "or adam (AdamW) (tictactoe: adam)" in text and "game defaults may differ" not in text
    assert parse_args(["--lr_schedule", "step"]).lr_schedule == "step"  # still accepted
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(per game: tictactoe 0.002, connect4 0.02, othello 0.02)" in text
