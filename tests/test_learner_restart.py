"""Restarts that cannot simply continue: a changed optimiser, a checkpoint that does not fit,
steps lost after the last checkpoint, updates skipped for a non-finite loss, and settings that
would break the learner later (rejected at start)."""

import json
import logging
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from actor import tournament
from actor.arena import AlphaZeroAgent, ClassicMctsAgent, PerfectAgent, RandomAgent
from engine import get_game
from learner.config import ConfigError
from learner.export import kept_steps
from learner.train import Trainer
from runfiles import layout
from runfiles import stats as stats_module
from runfiles.layout import RunFolder
from tests.test_learner_train import fill_db, small_config

CHECKPOINTS = Path("tictactoe") / "checkpoints"
MODELS = Path("tictactoe") / "models"


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {name: tensor.clone() for name, tensor in trainer.model.state_dict().items()}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name, tensor in a.items():
        torch.testing.assert_close(b[name], tensor, rtol=0, atol=0)


@pytest.mark.parametrize("before,after", [("sgd", "adam"), ("adam", "sgd")])
def test_a_changed_optimizer_resumes_the_model_with_a_fresh_optimizer(
    tmp_path, before, after
) -> None:
    """--optimizer changed on an existing run: the model and step carry on and training works
    (the old state made every restart crash: KeyError 'momentum' or 'betas')."""
    fill_db(tmp_path)
    first = Trainer(small_config(tmp_path, max_steps=20, optimizer=before))
    first.run()
    resumed = Trainer(small_config(tmp_path, max_steps=30, optimizer=after))
    assert resumed.step == 20
    assert_same(weights(first), weights(resumed))
    assert resumed.optimizer.state_dict()["state"] == {}  # the other optimiser's state is not
    resumed.run()
    assert resumed.step == 30
    assert Trainer(small_config(tmp_path, max_steps=40, optimizer=after)).step == 30


def test_a_checkpoint_of_another_network_starts_over_and_sets_the_old_run_aside(
    tmp_path,
) -> None:
    """A checkpoint that does not fit is not half-applied (torch copies the tensors that fit
    before it refuses), is kept under another name rather than overwritten, and the old run's
    step files move aside so that pruning by step does not delete the new run's files."""
    fill_db(tmp_path)
    old_run = Trainer(small_config(tmp_path, max_steps=60, mlp_layers=2))
    old_run.run()
    old_checkpoint = (tmp_path / CHECKPOINTS / "latest.pt").read_bytes()
    config = small_config(tmp_path, max_steps=40, mlp_layers=3, keep_last_models=1)
    fresh = weights(Trainer(small_config(tmp_path / "elsewhere", mlp_layers=3)))
    new_run = Trainer(config)
    assert new_run.step == 0
    assert_same(fresh, weights(new_run))
    kept = list((tmp_path / CHECKPOINTS).glob("latest.pt.refused-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == old_checkpoint
    assert not (tmp_path / CHECKPOINTS / "latest.pt").exists()
    previous = list((tmp_path / MODELS).glob("previous-*"))
    assert len(previous) == 1 and kept_steps(previous[0]) == [20, 40, 60]
    new_run.run()
    assert kept_steps(tmp_path / MODELS) == [20, 40]  # 20: an early one (see export.prune)
    history = json.loads(RunFolder(tmp_path / "tictactoe").stats.read_text())["history"]
    assert [point["step"] for point in history] == sorted(point["step"] for point in history)
    assert history[-1]["step"] == 40


def test_an_unreadable_checkpoint_is_kept_and_the_run_starts_over(tmp_path) -> None:
    fill_db(tmp_path)
    path = tmp_path / CHECKPOINTS / "latest.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    trainer = Trainer(small_config(tmp_path, max_steps=5))
    assert trainer.step == 0
    (kept,) = path.parent.glob("latest.pt.refused-*")
    assert kept.read_bytes() == b"not a checkpoint"
    assert trainer.run() == 5


def test_a_refused_checkpoint_that_cannot_be_renamed_does_not_stop_the_learner(
    tmp_path, monkeypatch, caplog
) -> None:
    """Renaming a refused checkpoint aside can fail (no permission, a file system that will
    not): the learner stopped with the error at every start. It says that it cannot keep the
    file, starts over, and its first checkpoint replaces the refused one."""
    fill_db(tmp_path)
    path = tmp_path / CHECKPOINTS / "latest.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    real = {name: getattr(os, name) for name in ("rename", "replace")}

    def refusing(name):
        def rename(source, target, *args, **kwargs):
            if Path(source) == path:
                raise PermissionError(13, "Permission denied", str(source))
            return real[name](source, target, *args, **kwargs)

        return rename

    for name in real:
        monkeypatch.setattr(os, name, refusing(name))
    with caplog.at_level(logging.WARNING, logger="learner"):
        trainer = Trainer(small_config(tmp_path, max_steps=20))
    assert trainer.step == 0
    assert "Permission denied" in caplog.text and "the checkpoint cannot be kept" in caplog.text
    assert trainer.run() == 20
    assert Trainer(small_config(tmp_path, max_steps=40)).step == 20  # the new run's checkpoint


def test_history_of_steps_lost_after_the_checkpoint_is_dropped(tmp_path) -> None:
    """A learner killed after its checkpoint at step 20 had recorded steps up to 35; resumed at
    20, its chart must not run 34, 35, 21, 22..."""
    path = RunFolder(tmp_path).stats
    stats = stats_module.new_stats("tictactoe", {})
    stats["history"] = [{"step": s} for s in (5, 10, 20, 30, 35)]
    path.write_text(json.dumps(stats))
    loaded = stats_module.load_stats(path, "tictactoe", {}, step=20)
    assert [point["step"] for point in loaded["history"]] == [5, 10, 20]


def test_evaluations_of_lost_steps_are_left_out_of_stats(tmp_path) -> None:
    """Evaluations of models the learner lost (later steps, made before this start) are left
    out; those of the steps it makes again after the start stay, and a NaN (a hand-edited
    file) must not stop stats.json from being written."""
    path = RunFolder(tmp_path).evaluations
    entries = [
        {"step": 10, "time": 100.0, "opponent": "random", "win_rate": 0.5},
        {"step": 30, "time": 150.0, "opponent": "random", "win_rate": 0.6},  # lost: before
        {"step": 30, "time": 250.0, "opponent": "random", "win_rate": float("nan")},  # new 30
    ]
    path.write_text(json.dumps(entries))
    stats = stats_module.new_stats("tictactoe", {})
    stats_module.merge_evaluations_file(stats, path, resumed=(20, 200.0))
    assert [(e["step"], e["time"]) for e in stats["evaluations"]] == [(10, 100.0), (30, 250.0)]
    assert stats["evaluations"][1]["win_rate"] is None
    assert stats_module.write_stats(RunFolder(tmp_path).stats, stats)


def test_a_skipped_update_does_not_publish_or_checkpoint_again(tmp_path, monkeypatch) -> None:
    """Non-finite losses right after a publishing step leave the step where it is: none of
    them exports or checkpoints that step again (which, with diverged weights, would go on
    forever)."""
    fill_db(tmp_path)
    trainer = Trainer(small_config(tmp_path, max_steps=40))
    sample = trainer.replay.sample
    poisoned = iter(range(5))

    def sample_poisoned_after_step_20(*args, **kwargs):
        planes, policy, values = sample(*args, **kwargs)
        if trainer.step == 20 and next(poisoned, None) is not None:
            values = np.full_like(values, np.nan)
        return planes, policy, values

    published, saved = [], []
    monkeypatch.setattr(trainer.replay, "sample", sample_poisoned_after_step_20)
    publish, save = trainer.publish, trainer.save_checkpoint
    monkeypatch.setattr(trainer, "publish", lambda: published.append(trainer.step) or publish())
    monkeypatch.setattr(trainer, "save_checkpoint", lambda: saved.append(trainer.step) or save())
    assert trainer.run() == 40
    assert trainer.skipped_steps == 5
    assert published == [20, 40] and saved == [20, 40]


@pytest.mark.parametrize(
    "setting,value",
    [
        ("replay_ratio", math.inf),  # would reach stats.json's config: no stats.json at all
        ("lr", math.nan),
        ("lr_step_every", 0),  # ZeroDivisionError in the schedule
        ("history_cap", 2),  # stats.thin would never get under the cap: the learner would hang
        ("momentum", -0.5),  # torch's ValueError would come out as AssertionError("unreachable")
        ("weight_decay", -1e-4),
        # Each of these would make training go wrong silently:
        ("lr_min_ratio", -5),  # cosine's rate would go negative
        ("lr_gamma", 10),  # each "step down" would multiply the rate by 10
        ("value_loss_weight", -1),
        ("max_steps", -1),  # would stop at once, "finished"
        ("min_positions", -5),
        ("poll_interval_s", -1),  # the wait for data would be a busy loop
        ("stats_every_s", -1),
        ("lr_total_steps", 0),
        ("seed", -1),
        ("batch_size", True),  # TOML's true: batches of 1
    ],
)
def test_settings_that_would_break_the_learner_later_are_rejected(tmp_path, setting, value) -> None:
    with pytest.raises(ConfigError, match=setting):
        small_config(tmp_path, **{setting: value})


@pytest.mark.parametrize("when", ["at a publish step", "between publish steps"])
def test_diverged_weights_are_never_published_or_saved(tmp_path, monkeypatch, when) -> None:
    """A step with infinite gradients and a finite loss leaves NaN weights: the run stops,
    saying so, with the last good model and checkpoint untouched. Exported, every actor would
    refuse the model; checkpointed, every restart would resume them; and every later loss
    would be NaN, so the learner would skip updates forever."""
    fill_db(tmp_path)
    trainer = Trainer(small_config(tmp_path, max_steps=200, publish_every=20, checkpoint_every=20))
    train_step = trainer.train_step
    poison_at = 40 if when == "at a publish step" else 33

    def poisoning_step(*batch):
        losses = train_step(*batch)
        if trainer.step == poison_at:
            with torch.no_grad():
                next(trainer.model.parameters()).fill_(float("nan"))
        return losses

    monkeypatch.setattr(trainer, "train_step", poisoning_step)
    checkpoint = tmp_path / CHECKPOINTS / "latest.pt"
    assert trainer.run() == poison_at
    assert trainer.diverged_at == poison_at
    assert kept_steps(tmp_path / MODELS)[-1] == 20
    resumed = Trainer(small_config(tmp_path, max_steps=200))
    assert resumed.step == 20 and checkpoint.exists()
    assert all(bool(torch.isfinite(p).all()) for p in resumed.model.parameters())


def stats_with_history(steps: range) -> dict:
    stats = stats_module.new_stats("tictactoe", {})
    stats["history"] = [{"step": s, "time": 1.0 + s, "loss_total": 2.0} for s in steps]
    return stats


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(stats_with_history(range(41))).encode()[:300],  # truncated
        b"",
        b"[1, 2, 3]",
        b"\xff\xfe\x00",  # not UTF-8
        json.dumps(stats_module.new_stats("connect4", {})).encode(),  # another game's
    ],
    ids=["truncated", "empty", "list", "not-utf8", "other-game"],
)
def test_a_damaged_stats_file_is_kept_beside_the_fresh_one(tmp_path, caplog, content) -> None:
    """A damaged stats.json is not silently replaced on restart: it is kept as
    stats.json.damaged-<time>, with a warning, and the run starts afresh."""
    path = RunFolder(tmp_path).stats
    path.write_bytes(content)
    stats = stats_module.load_stats(path, "tictactoe", {}, step=100)
    assert stats["history"] == [] and stats["evaluations"] == [] and stats["elo"] == []
    (kept,) = tmp_path.glob("stats.json.damaged-*")
    assert kept.read_bytes() == content
    assert "is damaged" in caplog.text


def test_damaged_stats_set_aside_within_one_second_are_all_kept(tmp_path, monkeypatch) -> None:
    """Two damaged stats.json set aside in the same second (a learner restarted at once): the
    second rename overwrote the first copy."""
    frozen = time.gmtime(0)
    monkeypatch.setattr(time, "gmtime", lambda *args: frozen)
    path = RunFolder(tmp_path).stats
    for content in (b"first", b"second"):
        path.write_bytes(content)
        stats_module.load_stats(path, "tictactoe", {}, step=0)
    kept = tmp_path.glob("stats.json.damaged-*")
    assert sorted(p.read_bytes() for p in kept) == [b"first", b"second"]


def test_malformed_stats_entries_are_dropped_and_the_file_kept(tmp_path, caplog) -> None:
    """Malformed entries (history points whose step is a string, Elo entries such as
    ["x", 5]) go, said so, and the file is kept: none is dropped silently or served."""
    stats = stats_with_history(range(0, 50, 10))
    stats["history"].insert(2, {"step": "15", "loss_total": 1.0})
    stats["history"].append({"step": 45, "loss_total": "low"})
    good_evaluation = {"step": 10, "time": 5.0, "opponent": "random", "win_rate": 0.5}
    stats["evaluations"] = [good_evaluation, {"step": 20, "win_rate": 0.9}, "x"]
    stats["elo"] = [["x", 5], {"player": "alphazero", "step": 10, "elo": 1200.0}, {"step": 3}]
    path = RunFolder(tmp_path).stats
    path.write_text(json.dumps(stats))
    loaded = stats_module.load_stats(path, "tictactoe", {}, step=100)
    assert [point["step"] for point in loaded["history"]] == [0, 10, 20, 30, 40]
    assert loaded["evaluations"] == [good_evaluation]
    assert loaded["elo"] == [{"player": "alphazero", "step": 10, "elo": 1200.0}]
    (kept,) = tmp_path.glob("stats.json.damaged-*")
    assert json.loads(kept.read_text()) == stats
    assert "malformed" in caplog.text
    clean = tmp_path / "clean" / "stats.json"
    clean.parent.mkdir()
    clean.write_text(json.dumps(stats_with_history(range(3))))
    assert len(stats_module.load_stats(clean, "tictactoe", {}, step=100)["history"]) == 3
    assert list(clean.parent.iterdir()) == [clean]  # a good file is left as it is


def test_a_nan_in_stats_does_not_freeze_stats_json(tmp_path) -> None:
    """One NaN in a history point must not make every later write of stats.json fail."""
    stats = stats_with_history(range(3))
    stats["history"][1]["loss_total"] = math.nan
    path = RunFolder(tmp_path).stats
    path.write_text(json.dumps(stats))  # NaN: Python's json writes and reads it
    loaded = stats_module.load_stats(path, "tictactoe", {}, step=100)
    assert loaded["history"][1]["loss_total"] is None
    loaded["step"] = 7
    assert stats_module.write_stats(path, loaded)
    assert json.loads(path.read_text())["step"] == 7


def test_a_merged_tournament_loads_again_without_damage(tmp_path, caplog) -> None:
    """After `python -m actor.tournament`, every restart set stats.json aside as damaged: the
    merge copied the baselines (random, mcts-64, perfect) with step null, and loading wanted
    an integer step. What a merge writes (a hand-edited evaluation too) must load as it is."""
    entrants = [
        tournament.Entrant(RandomAgent()),
        tournament.Entrant(ClassicMctsAgent(64)),
        tournament.Entrant(PerfectAgent()),
        tournament.Entrant(AlphaZeroAgent(None, 2, name="step-100"), step=100),
    ]
    names = [entrant.name for entrant in entrants]
    results = [
        {"a": a, "b": b, "a_wins": 1, "draws": 2, "b_wins": 3, "games": 6}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    tournament.write_tournament(tmp_path, get_game("tictactoe"), entrants, results)
    stats = stats_module.new_stats("tictactoe", {})
    stats_module.merge_tournament_file(stats, tmp_path / layout.TOURNAMENT_FILE)
    assert sorted(row["player"] for row in stats["elo"]) == sorted(names)
    evaluations = [{"step": 100, "opponent": "random"}, {"step": "100", "opponent": "random"}]
    (tmp_path / layout.EVALUATIONS_FILE).write_text(json.dumps(evaluations))  # by hand
    stats_module.merge_evaluations_file(stats, tmp_path / layout.EVALUATIONS_FILE)
    assert stats["evaluations"] == evaluations[:1]
    path = tmp_path / layout.STATS_FILE
    assert stats_module.write_stats(path, stats)
    with caplog.at_level(logging.WARNING, logger="learner"):
        loaded = stats_module.load_stats(path, "tictactoe", {}, step=100)
    assert loaded["elo"] == stats["elo"] and loaded["evaluations"] == evaluations[:1]
    assert caplog.text == ""
    assert not list(tmp_path.glob("stats.json.damaged-*"))


@pytest.mark.parametrize("checkpoint", ["random bytes", "empty", "a folder", "deleted"])
def test_starting_over_keeps_the_earlier_runs_stats(tmp_path, checkpoint) -> None:
    """A refused checkpoint (or none, beside an earlier run's models) makes the run start over;
    its stats.json is not overwritten but kept as stats.json.previous-<the time of the models
    set aside>, and the new history starts afresh."""
    fill_db(tmp_path)
    Trainer(small_config(tmp_path, max_steps=40)).run()
    run = tmp_path / "tictactoe"
    old_stats = RunFolder(run).stats.read_bytes()
    assert json.loads(old_stats)["history"][-1]["step"] == 40
    path = RunFolder(run).checkpoint
    path.unlink()
    if checkpoint == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(1000))
    elif checkpoint == "empty":
        path.write_bytes(b"")
    elif checkpoint == "a folder":
        path.mkdir()
    RunFolder(run).evaluations.write_text('[{"step": 40, "opponent": "random"}]')
    RunFolder(run).tournament.write_text("{}")
    trainer = Trainer(small_config(tmp_path, max_steps=5))
    assert trainer.step == 0 and trainer.stats["history"] == []
    (kept,) = run.glob("stats.json.previous-*")
    assert kept.read_bytes() == old_stats
    stamp = kept.name.removeprefix("stats.json.previous-")
    # The old networks' evaluations would be drawn as the new run's: they go aside too.
    assert not RunFolder(run).evaluations.exists() and not RunFolder(run).tournament.exists()
    assert (run / f"evaluations.json.previous-{stamp}").read_text().startswith('[{"step": 40')
    assert (run / f"tournament.json.previous-{stamp}").read_text() == "{}"
    assert [p.name for p in RunFolder(run).models.glob("previous-*")] == [f"previous-{stamp}"]
    if checkpoint != "deleted":
        assert (RunFolder(run).checkpoints / f"latest.pt.refused-{stamp}").exists()
    trainer.run()
    history = json.loads(RunFolder(run).stats.read_text())["history"]
    assert history and all(point["step"] <= 5 for point in history)


def test_a_restart_keeps_the_runs_own_settings(tmp_path, caplog) -> None:
    """A run started with --hidden 48 --lr 0.01 and restarted without them keeps them: the
    game's defaults would be a network of another shape, and the trained run would be set
    aside for a start from step 0. The run's config.json supplies what no flag sets; a flag
    still changes it, and the log says what changed and what differs from the defaults."""
    from learner.config import parse_args

    fill_db(tmp_path)
    data = ["--data-dir", str(tmp_path), "--batch-size", "32", "--min-positions", "10"]
    data += ["--replay-ratio", "1e9", "--precision", "float32", "--checkpoint-every", "20"]
    first = parse_args([*data, "--hidden", "48", "--lr", "0.01", "--max-steps", "40"])
    Trainer(first).run()
    resumed = parse_args([*data, "--max-steps", "60"])
    assert (resumed.hidden, resumed.lr, resumed.max_steps) == (48, 0.01, 60)
    trainer = Trainer(resumed)
    assert trainer.step == 40  # resumed, not started over
    changed = parse_args([*data, "--lr", "0.005", "--max-steps", "60"])
    assert (changed.hidden, changed.lr) == (48, 0.005)
    with caplog.at_level(logging.INFO, logger="learner"):
        Trainer(changed).run()
    assert "settings changed since this run's last start: lr 0.01 -> 0.005" in caplog.text
    assert "(a restart keeps them): " in caplog.text and "hidden 48" in caplog.text
    toml = tmp_path / "learner.toml"
    toml.write_text("lr = 0.003\n")
    assert parse_args([*data, "--config", str(toml)]).lr == 0.003  # --config beats the run's
    assert parse_args(["--data-dir", str(tmp_path / "new")]).hidden != 48  # another run
    config_file = RunFolder(tmp_path / "tictactoe").learner_config
    config_file.write_text('{"hidden": -3}')
    with pytest.raises(ConfigError, match="the run's own setting, from .*config.json"):
        parse_args(data)
    config_file.write_text("{not json")
    assert parse_args(data).hidden == parse_args(["--data-dir", str(tmp_path / "new")]).hidden


def test_a_replay_window_bigger_than_the_machine_is_a_clear_error(tmp_path) -> None:
    """--window-positions 100000000000 (1.64 TiB) is refused, saying what it would take,
    rather than ending in numpy's traceback or, with overcommit, in a learner killed later."""
    with pytest.raises(ConfigError, match=r"window_positions 100,000,000,000 needs .* GiB"):
        Trainer(small_config(tmp_path, window_positions=10**11))
