"""The settings' one declaration (runfiles.settings): each game's experiment names only declared
settings, and flags, TOML files and saved files are checked by the same model, with the same
one-line message."""

from __future__ import annotations

from pathlib import Path

import pytest

from actor.config import ActorConfig
from actor.config import build_parser as build_actor_parser
from actor.evaluation import EvaluationSettings
from engine import get_game, list_games
from learner.config import ConfigError, LearnerConfig, make_config, parse_args
from learner.config import build_parser as build_learner_parser


@pytest.mark.parametrize("game", list_games())
def test_each_games_experiment_is_made_of_declared_valid_settings(game: str) -> None:
    """A misspelt name in engine/games/<game>.py would be dropped without a word: each is a
    setting of the learner or the actor, with a value their declaration accepts (the learner's
    take effect), the launcher's CPU split, or the evaluation's and tournaments' budgets."""
    settings = dict(get_game(game).settings)
    evaluation = EvaluationSettings(**settings.pop("evaluation"))
    tournament = settings.pop("tournament")
    assert isinstance(settings.pop("spread_cpus"), bool)
    learner = {k: v for k, v in settings.items() if k in LearnerConfig.names()}
    actor = {k: v for k, v in settings.items() if k in ActorConfig.names()}
    assert set(settings) == set(learner) | set(actor), set(settings) - set(learner) - set(actor)
    config = make_config(game)
    assert {name: getattr(config, name) for name in learner} == learner
    assert ActorConfig.build({"game": game, **actor}).game == game
    assert evaluation.simulations >= 1 and evaluation.games_per_opponent >= 1
    known = {"simulations", "mcts_budgets", "opening_moves", "perfect_min_opening"}
    assert set(tournament) <= known and {"simulations", "opening_moves"} <= set(tournament)


def test_every_declared_setting_is_a_flag_with_help() -> None:
    """The command lines are generated from the declarations: each setting once, listed with
    dashes, its help text from the declaration."""
    for model, parser in (
        (LearnerConfig, build_learner_parser()),
        (ActorConfig, build_actor_parser()),
    ):
        by_dest = {a.dest: a for a in parser._actions if a.help != "==SUPPRESS=="}
        for name, field in model.model_fields.items():
            assert name in by_dest, name
            assert by_dest[name].help.startswith(field.description), name


def test_a_bad_value_says_the_same_from_a_flag_a_file_and_a_saved_run(tmp_path: Path) -> None:
    message = "batch_size must be at least 1, got 0"
    with pytest.raises(ConfigError, match=f"^{message}$"):
        parse_args(["--batch-size", "0", "--data-dir", str(tmp_path)])
    toml = tmp_path / "learner.toml"
    toml.write_text("batch_size = 0\n")
    with pytest.raises(ConfigError, match=f"^{message}$"):
        parse_args(["--config", str(toml), "--data-dir", str(tmp_path)])
    (tmp_path / "tictactoe").mkdir()
    (tmp_path / "tictactoe" / "config.json").write_text('{"batch_size": 0}')
    with pytest.raises(ConfigError, match=f"^{message} \\(the run's own setting, from "):
        parse_args(["--data-dir", str(tmp_path)])


@pytest.mark.parametrize(
    "values,message",
    [
        ({"lr": "fast"}, "lr must be a number, got 'fast'"),
        ({"lr": "nan"}, "lr must be a finite number, got nan"),
        ({"lr_gamma": 2}, "lr_gamma must be at most 1, got 2"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, adam"),
        ({"blocks": True}, "blocks must be a whole number, got True"),
        ({"lr_schedule": "milestones", "lr_milestones": ()}, "needs lr_milestones"),
        ({"chanels": 8}, "unknown setting 'chanels': did you mean 'channels'?"),
        ({"game": "chess"}, "game must be one of tictactoe, connect4, othello, got 'chess'"),
    ],
)
def test_each_kind_of_bad_value_is_one_line_naming_the_setting(values, message) -> None:
    with pytest.raises(ConfigError) as refused:
        LearnerConfig.build(values)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_the_actors_messages_name_its_flags() -> None:
    """The actor's settings are flags only: its messages name them as argparse does."""
    refused = {
        "move_timeout_s": ("abc", "argument --move-timeout: must be a number, got 'abc'"),
        "workers": (True, "argument --workers: must be a whole number, got True"),
        "eval_cache": (3, "argument --eval-cache: must be 0 or a power of two, got 3"),
    }
    for name, (value, message) in refused.items():
        with pytest.raises(ConfigError, match=f"^{message}$"):
            ActorConfig.build({name: value})
