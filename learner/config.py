"""The learner's settings, each declared once (`LearnerConfig`): defaults per game, TOML, flags.

Precedence, lowest first: the declared defaults, the game's experiment (`Game.settings` in
engine/games/<name>.py), the run's own hyperparameters when it is resumed (`RUN_SETTINGS` of
its config.json), a TOML file (`--config FILE`, top-level keys or a `[learner]` table), then
command-line flags. Every source is validated by the same model (runfiles.settings). The
effective config is written to the run folder at start (`LEARNER_CONFIG_FILE`) so a run can be
reproduced, and resumed as it was: a restart that leaves out a flag of the first start
(`--hidden 64`, say) keeps the run's value, not the game's default, which for a network's shape
would throw the trained run away.

Why these defaults: the whole system runs on a 2-core CPU, with the actor's self-play on one
core and the learner on the other, so the learner uses one torch thread and small networks
(the actor evaluates the same network thousands of times per second during self-play, so a
bigger network slows data generation far more than it speeds learning).
"""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, field_validator, model_validator

from engine import get_game, list_games
from runfiles import read_settings, write_atomic
from runfiles.cli import default_note, help_formatter, shown
from runfiles.layout import LEARNER_CONFIG_FILE
from runfiles.settings import Settings, SettingsError, add_flags, setting

# stats.thin keeps the first step, the newest, and one in between at the least: with a cap
# under 3 it would never get under the cap.
MIN_HISTORY_CAP = 3

ConfigError = SettingsError  # a setting that is unknown or out of range

RUN = "learner: run"
NETWORK = "learner: network"
OPTIMISER = "learner: optimiser"
REPLAY = "learner: replay"
PUBLISHING = "learner: publishing"


def _steps(value: Any) -> Any:
    """Steps as typed on the command line ("26000,80000") as a list; any other value as it is."""
    return value.replace(",", " ").split() if isinstance(value, str) else value


Steps = Annotated[tuple[int, ...], BeforeValidator(_steps)]


class LearnerConfig(Settings):
    """All learner settings: type, bounds, help and group of each. `resumed`: a resumed run
    keeps its own value where no flag or --config sets it (how it learns; not what belongs to
    the machine or this start: device, threads, max_steps, data_dir, seed, whose random state
    the checkpoint holds)."""

    unknown_hint = " of the learner (the actor's, such as simulations, are command-line flags)"

    game: str = setting("tictactoe", "game to train", metavar="{" + ",".join(list_games()) + "}")
    data_dir: str = setting(
        "data", "folder of the run folders: the run is DIR/GAME/", metavar="DIR"
    )
    seed: int = setting(0, "random seed", ge=0)
    device: Literal["auto", "cpu", "cuda"] = setting(
        "auto", "where to train: auto (cuda when torch sees a GPU), cpu or cuda", group=RUN
    )
    threads: int = setting(
        1,
        "torch threads; ./start_training.sh sets more on machines with more CPUs",
        group=RUN,
        ge=1,
    )
    # bfloat16 trains twice the samples/s on CPUs with AMX (learner/precision.py)
    precision: Literal["auto", "float32", "bfloat16"] = setting(
        "float32",
        "training precision; auto: bfloat16 where a timing at start finds it faster",
        group=RUN,
        resumed=True,
    )
    max_steps: int = setting(
        0, "stop after this many training steps; 0: run until stopped", group=RUN, ge=0
    )
    # Network (see learner/network.py).
    network: Literal["resnet", "mlp"] = setting(
        "resnet", "residual CNN, or multi-layer perceptron", group=NETWORK, resumed=True
    )
    blocks: int = setting(4, "residual blocks of the resnet", group=NETWORK, resumed=True, ge=1)
    channels: int = setting(
        32, "convolution channels of the resnet", group=NETWORK, resumed=True, ge=1
    )
    hidden: int = setting(
        64, "MLP width and value-head hidden units", group=NETWORK, resumed=True, ge=1
    )
    mlp_layers: int = setting(2, "hidden layers of the mlp", group=NETWORK, resumed=True, ge=1)
    # Optimisation.
    optimizer: Literal["sgd", "adam"] = setting(
        "sgd", "sgd (Nesterov momentum) or adam (AdamW)", group=OPTIMISER, resumed=True
    )
    lr: float = setting(0.02, "starting learning rate", group=OPTIMISER, resumed=True, gt=0)
    momentum: float = setting(
        0.9, "SGD's Nesterov momentum (0: plain SGD)", group=OPTIMISER, resumed=True, ge=0
    )
    weight_decay: float = setting(
        1e-4, "weight decay (L2 with sgd, decoupled with adam)", group=OPTIMISER, resumed=True, ge=0
    )
    lr_schedule: Literal["constant", "step", "milestones", "cosine"] = setting(
        "constant",
        "constant, step (every --lr-step-every), milestones (at --lr-milestones) or"
        " cosine; each step multiplies the rate by --lr-gamma",
        group=OPTIMISER,
        resumed=True,
    )
    warmup_steps: int = setting(
        0, "steps of linear warm-up from 0 to --lr", group=OPTIMISER, resumed=True, ge=0
    )
    lr_step_every: int = setting(
        100_000, "step schedule: steps between two steps down", group=OPTIMISER, resumed=True, ge=1
    )
    lr_milestones: Steps = setting(
        (),
        "milestones schedule: the steps of the steps down, e.g. 26000,80000",
        group=OPTIMISER,
        resumed=True,
        metavar="STEPS",
        kind="a list of steps (26000,80000 on the command line, [26000, 80000] in TOML)",
    )
    # A schedule steps the rate down: a factor above 1 would grow it at each "step down", and
    # a negative end ratio would make cosine's rate negative.
    lr_gamma: float = setting(
        0.1,
        "factor of each step down of the learning rate",
        group=OPTIMISER,
        resumed=True,
        gt=0,
        le=1,
    )
    lr_total_steps: int = setting(
        200_000,
        "cosine schedule: steps until the rate is at its lowest",
        group=OPTIMISER,
        resumed=True,
        ge=1,
    )
    lr_min_ratio: float = setting(
        0.01,
        "cosine schedule: the last rate as a share of --lr",
        group=OPTIMISER,
        resumed=True,
        ge=0,
        le=1,
    )
    batch_size: int = setting(
        256, "positions per training step", group=OPTIMISER, resumed=True, ge=1
    )
    value_loss_weight: float = setting(
        1.0, "weight of the value loss beside the policy loss", group=OPTIMISER, resumed=True, ge=0
    )
    root_value_mix: float = setting(
        0.0,
        "value target: (1 - m) x game outcome + m x the search's root value",
        group=OPTIMISER,
        resumed=True,
        ge=0,
        le=1,
    )
    # Replay window.
    window_positions: int = setting(
        200_000,
        "newest positions trained on; replay.db is trimmed to them",
        group=REPLAY,
        resumed=True,
        ge=1,
    )
    min_positions: int = setting(
        5_000, "positions needed before training starts", group=REPLAY, resumed=True, ge=0
    )
    replay_ratio: float = setting(
        8.0,
        "wait for new games when positions trained / new positions exceeds this",
        group=REPLAY,
        resumed=True,
        gt=0,
    )
    poll_every_steps: int = setting(
        20, "read new games from replay.db every N steps", group=REPLAY, resumed=True, ge=1
    )
    poll_interval_s: float = setting(
        0.5,
        "seconds between looks at replay.db while waiting for games",
        group=REPLAY,
        resumed=True,
        gt=0,
    )
    read_chunk_rows: int = setting(
        2_000, "rows per read from replay.db", group=REPLAY, resumed=True, ge=1
    )
    # A window's worth of new positions also trims, if sooner.
    delete_every_s: float = setting(
        60.0,
        "seconds between trims of replay.db to the window; 0: never",
        group=REPLAY,
        resumed=True,
        ge=0,
    )
    # Publishing, checkpoints, stats.
    publish_every: int = setting(
        500, "export the model for self-play every N steps", group=PUBLISHING, resumed=True, ge=1
    )
    keep_last_models: int = setting(
        10, "newest published models kept", group=PUBLISHING, resumed=True, ge=1
    )
    milestone_every: int = setting(
        10_000,
        "also keep the first model published at or after every N steps",
        group=PUBLISHING,
        resumed=True,
        ge=1,
    )
    max_milestones: int = setting(
        32,
        "milestone models kept at most; older ones are thinned",
        group=PUBLISHING,
        resumed=True,
        ge=1,
    )
    checkpoint_every: int = setting(
        500, "save a checkpoint to resume from every N steps", group=PUBLISHING, resumed=True, ge=1
    )
    stats_every_s: float = setting(
        5.0,
        "least seconds between writes of stats.json and progress lines",
        group=PUBLISHING,
        resumed=True,
        ge=0,
    )
    history_cap: int = setting(
        1_000,
        "history points kept in stats.json; older ones are thinned",
        group=PUBLISHING,
        resumed=True,
        ge=MIN_HISTORY_CAP,
    )

    @property
    def run_dir(self) -> Path:
        return Path(self.data_dir) / self.game

    @field_validator("game")
    @classmethod
    def _known_game(cls, game: str) -> str:
        if game not in list_games():
            raise ValueError(f"must be one of {', '.join(list_games())}, got {game!r}")
        return game

    @model_validator(mode="after")
    def _consistent(self) -> LearnerConfig:
        milestones = self.lr_milestones
        if any(m < 1 for m in milestones) or list(milestones) != sorted(set(milestones)):
            raise ValueError("lr_milestones must be increasing positive steps")
        if self.lr_schedule == "milestones" and not milestones:
            raise ValueError("the milestones schedule needs lr_milestones")
        if self.min_positions > self.window_positions:
            raise ValueError("min_positions cannot exceed window_positions")
        return self


RUN_SETTINGS: tuple[str, ...] = LearnerConfig.names(resumed=True)


def make_config(game: str = "tictactoe", **overrides: Any) -> LearnerConfig:
    """The game's default config with `overrides` applied (used by tests and benchmarks)."""
    try:
        settings = get_game(game).settings
    except ValueError as error:
        raise ConfigError(str(error)) from None
    experiment = {name: value for name, value in settings.items() if name in LearnerConfig.names()}
    return LearnerConfig.build({**experiment, **overrides, "game": game})


def load_toml(path: Path) -> dict[str, Any]:
    """Settings from a TOML file: top-level keys and those of a `[learner]` table. Any other
    table is refused, not ignored: an `[actor]` table's settings would never reach the actor,
    and top-level keys beside a `[learner]` table would be dropped without a word."""
    try:  # TOML is UTF-8; UnicodeDecodeError and TOMLDecodeError are both ValueErrors
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    table = data.pop("learner", {})
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: learner must be a table ([learner]), not {table!r}")
    for name, value in data.items():
        if isinstance(value, dict):
            raise ConfigError(
                f"config file {path}: a [{name}] table is not read: learner settings go at the"
                " top level or in [learner]; the actor's (simulations, say) on the command line"
            )
        if name in table:
            raise ConfigError(f"config file {path}: {name} is set twice (in [learner] too)")
    return {**data, **table}


def build_parser(game: str | None = None) -> argparse.ArgumentParser:
    """One `--flag` per config field, its help ending with the value `game` trains with (for
    no game, or an unknown one, each game's). `--lr_schedule` (the field's name) is accepted
    too but not listed: the help shows each flag once."""
    parser = argparse.ArgumentParser(
        prog="python -m learner",
        usage="%(prog)s [--game GAME] [--config FILE] [--FLAG VALUE ...]",
        description="Train the AlphaZero network from the run's replay.db. Values in"
        " parentheses: what a flag takes when not given. Precedence: the game's defaults,"
        " then --config FILE, then flags.",
        formatter_class=help_formatter,
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="TOML file of learner settings (keys as the"
        " flags with underscores, at the top or in a [learner] table)"
    )  # fmt: skip
    games = list_games()
    configs = {name: make_config(name).to_dict() for name in games}
    configs_of = {name: {g: configs[g][name] for g in games} for name in LearnerConfig.names()}
    configs_of["game"] = dict.fromkeys(games, LearnerConfig.model_fields["game"].default)

    def note(name: str) -> str:
        return default_note(configs_of[name], game)

    add_flags(parser, LearnerConfig, note)
    return parser


def parse_args(argv: list[str] | None = None) -> LearnerConfig:
    """The effective config for a command line (raises ConfigError on bad values): a resumed
    run's own hyperparameters where neither the command line nor --config sets them."""
    args = build_parser(_game_asked(argv)).parse_args(argv)
    cli = {k: v for k, v in vars(args).items() if k != "config" and v is not None}
    file_values = load_toml(args.config) if args.config else {}
    game = cli.get("game", file_values.get("game", "tictactoe"))
    if file_values.get("game", game) != game:  # the launcher always passes the game it runs
        raise ConfigError(
            f"config file {args.config} is for {file_values['game']}, but this run trains"
            f" {game}: drop its game line, or train {file_values['game']}"
        )
    if game not in list_games():
        raise ConfigError(f"unknown game {game!r}; known games: {', '.join(list_games())}")
    merged = {**file_values, **cli}
    merged.pop("game", None)
    run_file = (
        Path(merged.get("data_dir", LearnerConfig.model_fields["data_dir"].default))
        / game
        / LEARNER_CONFIG_FILE
    )
    kept = run_settings(run_file)
    try:
        return make_config(game, **{**kept, **merged})
    except ConfigError as error:
        if not kept:
            raise
        raise ConfigError(f"{error} (the run's own setting, from {run_file})") from None


def run_settings(path: Path) -> dict[str, Any]:
    """The hyperparameters (`RUN_SETTINGS`) in a run's config.json, which a resume keeps; none
    where there is no such file or it cannot be read (the run then starts from the defaults)."""
    return read_settings(path, RUN_SETTINGS)


def setting_changes(before: dict[str, Any], config: LearnerConfig) -> list[str]:
    """`name old -> new` for each hyperparameter that differs from `before` (the run's
    settings at its last start), for the log."""
    now = to_dict(config)
    return [
        f"{name} {_shown_value(before[name])} -> {_shown_value(now[name])}"
        for name in RUN_SETTINGS
        if name in before and _shown_value(before[name]) != _shown_value(now[name])
    ]


def run_defaults(game: str) -> dict[str, Any]:
    """The game's default of each hyperparameter (`RUN_SETTINGS`): stats.json carries them
    beside the run's config, so that the dashboard can tell which values a run changed."""
    default = to_dict(make_config(game))
    return {name: default[name] for name in RUN_SETTINGS}


def non_defaults(config: LearnerConfig) -> list[str]:
    """`name value` for each hyperparameter that differs from the game's default, for the log:
    what a resume keeps without its flag."""
    default, now = run_defaults(config.game), to_dict(config)
    return [
        f"{name} {_shown_value(now[name])}" for name in RUN_SETTINGS if now[name] != default[name]
    ]


def _shown_value(value: Any) -> str:
    return shown(tuple(value) if isinstance(value, list) else value)


def _game_asked(argv: list[str] | None) -> str | None:
    """The command line's --game, for the help (None when there is none)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--game", nargs="?")  # "?": a missing value is the real parser's error
    return pre.parse_known_args(argv)[0].game


def to_dict(config: LearnerConfig) -> dict[str, Any]:
    return config.to_dict()


def write_effective(config: LearnerConfig, path: Path) -> None:
    """The effective config as JSON (so a run can be reproduced, and resumed as it was)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(to_dict(config), indent=2, sort_keys=True) + "\n").encode())
