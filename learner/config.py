"""Every hyperparameter of the learner in one dataclass: defaults per game, TOML, command line.

Precedence, lowest first: the dataclass defaults, the game's defaults (`GAME_DEFAULTS`), the
run's own hyperparameters when it is resumed (`RUN_SETTINGS` of its config.json), a TOML file
(`--config FILE`, top-level keys or a `[learner]` table), then command-line flags. The effective
config is written to the run folder at start (`CONFIG_FILE`) so a run can be reproduced, and
resumed as it was: a restart that leaves out a flag of the first start (`--hidden 64`, say)
keeps the run's value, not the game's default, which for a network's shape would throw the
trained run away.

Why these defaults: the whole system runs on a 2-core CPU, with the actor's self-play on one
core and the learner on the other, so the learner uses one torch thread and small networks
(the actor evaluates the same network thousands of times per second during self-play, so a
bigger network slows data generation far more than it speeds learning).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import list_games
from runfiles import read_settings, write_atomic
from runfiles.cli import default_note, help_formatter, shown

CONFIG_FILE = "config.json"  # in the run folder: the effective config of the last start


@dataclass
class LearnerConfig:
    """All learner settings. Field comments say what each one controls."""

    game: str = "tictactoe"
    data_dir: str = "data"  # run folder is <data_dir>/<game>/
    seed: int = 0
    device: str = "auto"  # auto (cuda when torch sees a GPU) | cpu | cuda
    threads: int = 1  # torch intra-op threads (scripts/launch.py gives more on bigger machines)
    # float32 | bfloat16 | auto (bfloat16 where timed faster): twice the samples/s on CPUs with
    # AMX; auto for Othello only (GAME_DEFAULTS, learner/precision.py)
    precision: str = "float32"

    # Network (see learner/network.py).
    network: str = "resnet"  # resnet | mlp
    blocks: int = 4  # residual blocks (resnet)
    channels: int = 32  # convolution channels (resnet)
    hidden: int = 64  # mlp width / value-head hidden units
    mlp_layers: int = 2  # hidden layers (mlp)

    # Optimisation.
    optimizer: str = "sgd"  # sgd (with momentum) | adam
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_schedule: str = "constant"  # constant | step | milestones | cosine
    warmup_steps: int = 0  # linear warm-up from 0 to lr
    lr_step_every: int = 100_000  # step schedule: multiply lr by lr_gamma every this many steps
    lr_milestones: tuple[int, ...] = ()  # milestones schedule: multiply by lr_gamma at each
    lr_gamma: float = 0.1
    lr_total_steps: int = 200_000  # cosine schedule: steps to reach lr * lr_min_ratio
    lr_min_ratio: float = 0.01
    batch_size: int = 256
    value_loss_weight: float = 1.0
    root_value_mix: float = 0.0  # value target = (1-m) * outcome + m * root value

    # Replay window.
    window_positions: int = 200_000  # newest positions kept (memory and db)
    min_positions: int = 5_000  # positions needed before training starts
    replay_ratio: float = 8.0  # wait for new games when samples / new positions exceeds this
    poll_every_steps: int = 20  # read new rows from replay.db every this many steps
    poll_interval_s: float = 0.5  # sleep while waiting for data
    read_chunk_rows: int = 2_000  # rows per SELECT
    delete_every_s: float = 60.0  # trim replay.db to the window this often, or after a
    # window's worth of new positions if sooner (0 = never)

    # Publishing, checkpoints, stats.
    publish_every: int = 500  # export latest.onnx every this many steps
    keep_last_models: int = 10
    milestone_every: int = 10_000  # also keep model_step files at multiples of this
    max_milestones: int = 32  # at most this many milestones: older ones thinned, spread evenly
    checkpoint_every: int = 500  # torch checkpoint every this many steps
    stats_every_s: float = 5.0  # stats.json and progress log at most this often
    history_cap: int = 1_000  # history points kept in stats.json (older ones thinned)
    max_steps: int = 0  # stop after this many steps (0 = run forever)

    @property
    def run_dir(self) -> Path:
        return Path(self.data_dir) / self.game


_RESNET_DEFAULTS: dict[str, Any] = dict(
    network="resnet",
    blocks=4,
    channels=32,
    hidden=64,
    optimizer="sgd",
    lr=0.02,
    # The lr steps down tenfold at 26k and 80k steps. Connect 4 (the shipped model's run): at
    # 0.02 its solver-judged accuracy stopped rising after about 20k steps; a 28-minute run
    # stepping down at 13k instead scored 0.333 against one at 26k. Othello: 13 minutes
    # from step 26,579 at 0.002 scored 0.715 against the same 13 minutes at 0.02 (200 paired
    # games; data/pretrained/README.md); from step 80,000 (the shipped model continued), 13
    # minutes at 0.0002 scored 0.650 against 13 minutes at 0.002.
    lr_schedule="milestones",
    lr_milestones=(26_000, 80_000),
    lr_gamma=0.1,
    batch_size=256,
    window_positions=200_000,
    min_positions=5_000,
    publish_every=250,
    checkpoint_every=250,
)

# Per-game defaults, reasoned for a 2-core CPU shared with the actor.
GAME_DEFAULTS: dict[str, dict[str, Any]] = {
    # Tic-tac-toe has 4520 non-terminal positions: a 2x128 MLP (20k parameters) fits them, is
    # far cheaper per actor evaluation than a CNN, and trains at ~1000 steps/s of batch 128 on
    # one core. Adam plus publishing every 300 steps (about a second) lets the actor's data
    # improve quickly; the window (30k positions, 10-20 s of self-play at the actor's 1.5-4k
    # positions/s) drops stale targets fast; replay ratio 16 keeps the learner busy without
    # memorising a few hundred games. Beside self-play that samples every move by visit count
    # (temperature for all 9 plies), these bring the raw policy to no non-optimal move against
    # any opponent, on either side, within minutes (data/pretrained/README.md).
    "tictactoe": dict(
        network="mlp",
        hidden=128,
        mlp_layers=2,
        optimizer="adam",
        lr=2e-3,
        weight_decay=1e-4,
        batch_size=128,
        window_positions=30_000,
        min_positions=500,
        replay_ratio=16.0,
        publish_every=300,
        checkpoint_every=500,
        milestone_every=10_000,
        poll_every_steps=10,
    ),
    # Connect 4 (6x7): 4 blocks x 32 channels is ~6 MFLOP per position, so one core still
    # evaluates a few thousand positions per second for self-play. Othello (8x8): the same
    # budget per position (64 instead of 42 cells).
    "connect4": _RESNET_DEFAULTS,
    # Othello trains in bfloat16 where that is faster (learner/precision.py): its learner then
    # idles about half the time at replay ratio 8, and the actor's second self-play worker
    # (actor.config.WORKERS_BY_GAME) plays in it: more self-play positions/s, so the same minutes
    # buy a stronger model than a float32 learner with one worker (data/pretrained/README.md).
    "othello": {**_RESNET_DEFAULTS, "precision": "auto"},
}

_CHOICES = {
    "device": ("auto", "cpu", "cuda"),
    "precision": ("auto", "float32", "bfloat16"),
    "network": ("resnet", "mlp"),
    "optimizer": ("sgd", "adam"),
    "lr_schedule": ("constant", "step", "milestones", "cosine"),
}


# stats.thin keeps the first step, the newest, and one in between at the least: with a cap
# under 3 it would never get under the cap.
MIN_HISTORY_CAP = 3


class ConfigError(ValueError):
    """A setting that is unknown or out of range."""


def _fields() -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(LearnerConfig)}


# What each field type takes, for messages ("must be a whole number", not "must be int").
_KINDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
_KINDS[tuple] = "a list of steps (26000,80000 on the command line, [26000, 80000] in TOML)"


def _coerce(name: str, value: Any) -> Any:
    """`value` converted to the type of field `name`, or a ConfigError. A TOML `true` is no
    number (Python's bool is an int: `batch_size = true` trained batches of 1)."""
    default = getattr(LearnerConfig(), name)
    kind = type(default)
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{name} must be {_KINDS[kind]}, got {value!r}")
    try:
        if kind is tuple:  # steps: "26000,80000" on the command line, a list in TOML
            parts = value.replace(",", " ").split() if isinstance(value, str) else value
            return tuple(int(part) for part in parts)
        if kind is bool:
            if isinstance(value, str):
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError("not an integer")
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {_KINDS[kind]}, got {value!r}") from None


def validate(config: LearnerConfig) -> LearnerConfig:
    """`config` if every value is usable, else a ConfigError saying which one is not."""
    if config.game not in list_games():
        raise ConfigError(f"unknown game {config.game!r}; known games: {', '.join(list_games())}")
    for name, choices in _CHOICES.items():
        if getattr(config, name) not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}")
    positive = ("blocks", "channels", "hidden", "mlp_layers", "batch_size", "window_positions")
    positive += ("publish_every", "checkpoint_every", "keep_last_models", "milestone_every")
    positive += ("max_milestones",)
    positive += ("read_chunk_rows", "poll_every_steps", "threads", "lr_step_every")
    for name in positive:
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be at least 1")
    for name in _fields():  # an inf or nan reaches stats.json, which must stay plain JSON
        value = getattr(config, name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value}")
    if config.history_cap < MIN_HISTORY_CAP:
        raise ConfigError(f"history_cap must be at least {MIN_HISTORY_CAP}")
    if config.lr <= 0 or config.replay_ratio <= 0 or config.poll_interval_s <= 0:
        raise ConfigError("lr, replay_ratio and poll_interval_s must be positive")
    not_negative = ("momentum", "weight_decay", "warmup_steps", "value_loss_weight", "seed")
    not_negative += ("max_steps", "min_positions", "stats_every_s", "delete_every_s")
    for name in not_negative:
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} cannot be negative, got {getattr(config, name)}")
    if config.lr_total_steps < 1:
        raise ConfigError("lr_total_steps must be at least 1")
    # A schedule steps the rate down: a factor above 1 grew it tenfold at each "step down",
    # and a negative end ratio made cosine's rate negative.
    if not 0.0 < config.lr_gamma <= 1.0:
        raise ConfigError(f"lr_gamma must be above 0 and at most 1, got {config.lr_gamma}")
    for name in ("root_value_mix", "lr_min_ratio"):
        if not 0.0 <= getattr(config, name) <= 1.0:
            raise ConfigError(f"{name} must be between 0 and 1, got {getattr(config, name)}")
    milestones = config.lr_milestones
    if any(m < 1 for m in milestones) or list(milestones) != sorted(set(milestones)):
        raise ConfigError("lr_milestones must be increasing positive steps")
    if config.lr_schedule == "milestones" and not milestones:
        raise ConfigError("the milestones schedule needs lr_milestones")
    if config.min_positions > config.window_positions:
        raise ConfigError("min_positions cannot exceed window_positions")
    return config


def make_config(game: str = "tictactoe", **overrides: Any) -> LearnerConfig:
    """The game's default config with `overrides` applied (used by tests and benchmarks)."""
    values: dict[str, Any] = dict(GAME_DEFAULTS.get(game, {}))
    values.update(overrides)
    config = LearnerConfig(game=game)
    fields = _fields()
    for name, value in values.items():
        if name not in fields:
            raise ConfigError(f"unknown setting {name!r}{_unknown_hint(name)}")
        setattr(config, name, _coerce(name, value))
    return validate(config)


def _unknown_hint(name: str) -> str:
    """What a misspelt or misplaced setting probably meant: the closest learner setting, or
    that the actor's settings (self-play) are flags of the command line, not of this file."""
    close = difflib.get_close_matches(name, _fields(), n=1)
    if close:
        return f": did you mean {close[0]!r}?"
    return " of the learner (the actor's, such as simulations, are command-line flags)"


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


# The command line's help: what each flag controls (`build_parser` adds the value it takes), and
# its group (fields in none: the general options). A field without help fails the build.
_GROUPS: dict[str, tuple[str, ...]] = {
    "learner: run": ("device", "threads", "precision", "max_steps"),
    "learner: network": ("network", "blocks", "channels", "hidden", "mlp_layers"),
    "learner: optimiser": (
        "optimizer", "lr", "momentum", "weight_decay", "lr_schedule", "warmup_steps",
        "lr_step_every", "lr_milestones", "lr_gamma", "lr_total_steps", "lr_min_ratio",
        "batch_size", "value_loss_weight", "root_value_mix",
    ),
    "learner: replay": (
        "window_positions", "min_positions", "replay_ratio", "poll_every_steps",
        "poll_interval_s", "read_chunk_rows", "delete_every_s",
    ),
    "learner: publishing": (
        "publish_every", "keep_last_models", "milestone_every", "max_milestones",
        "checkpoint_every", "stats_every_s", "history_cap",
    ),
}  # fmt: skip
# What a resumed run keeps of its own when no flag or --config sets it: how it learns. Not what
# belongs to the machine or this start (device, threads, max_steps, data_dir, seed: the
# checkpoint holds the random state).
RUN_SETTINGS: tuple[str, ...] = (
    "precision",
    *_GROUPS["learner: network"],
    *_GROUPS["learner: optimiser"],
    *_GROUPS["learner: replay"],
    *_GROUPS["learner: publishing"],
)
_HELP: dict[str, str] = {
    "game": "game to train",
    "data_dir": "folder of the run folders: the run is DIR/GAME/",
    "seed": "random seed",
    "device": "where to train: auto (cuda when torch sees a GPU), cpu or cuda",
    "threads": "torch threads; ./start_training.sh sets more on machines with more CPUs",
    "precision": "training precision; auto: bfloat16 where a timing at start finds it faster",
    "max_steps": "stop after this many training steps; 0: run until stopped",
    "network": "residual CNN, or multi-layer perceptron",
    "blocks": "residual blocks of the resnet",
    "channels": "convolution channels of the resnet",
    "hidden": "MLP width and value-head hidden units",
    "mlp_layers": "hidden layers of the mlp",
    "optimizer": "sgd (Nesterov momentum) or adam (AdamW)",
    "lr": "starting learning rate",
    "momentum": "SGD's Nesterov momentum (0: plain SGD)",
    "weight_decay": "weight decay (L2 with sgd, decoupled with adam)",
    "lr_schedule": "constant, step (every --lr-step-every), milestones (at --lr-milestones)"
    " or cosine; each step multiplies the rate by --lr-gamma",
    "warmup_steps": "steps of linear warm-up from 0 to --lr",
    "lr_step_every": "step schedule: steps between two steps down",
    "lr_milestones": "milestones schedule: the steps of the steps down, e.g. 26000,80000",
    "lr_gamma": "factor of each step down of the learning rate",
    "lr_total_steps": "cosine schedule: steps until the rate is at its lowest",
    "lr_min_ratio": "cosine schedule: the last rate as a share of --lr",
    "batch_size": "positions per training step",
    "value_loss_weight": "weight of the value loss beside the policy loss",
    "root_value_mix": "value target: (1 - m) x game outcome + m x the search's root value",
    "window_positions": "newest positions trained on; replay.db is trimmed to them",
    "min_positions": "positions needed before training starts",
    "replay_ratio": "wait for new games when positions trained / new positions exceeds this",
    "poll_every_steps": "read new games from replay.db every N steps",
    "poll_interval_s": "seconds between looks at replay.db while waiting for games",
    "read_chunk_rows": "rows per read from replay.db",
    "delete_every_s": "seconds between trims of replay.db to the window; 0: never",
    "publish_every": "export the model for self-play every N steps",
    "keep_last_models": "newest published models kept",
    "milestone_every": "also keep the first model published at or after every N steps",
    "max_milestones": "milestone models kept at most; older ones are thinned",
    "checkpoint_every": "save a checkpoint to resume from every N steps",
    "stats_every_s": "least seconds between writes of stats.json and progress lines",
    "history_cap": "history points kept in stats.json; older ones are thinned",
}


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
    configs = {name: make_config(name) for name in games}
    groups = {}
    for title, names in _GROUPS.items():
        group = parser.add_argument_group(title)
        groups.update(dict.fromkeys(names, group))
    for name in _fields():
        flag = "--" + name.replace("_", "-")
        default = getattr(LearnerConfig(), name)
        values = {g: default if name == "game" else getattr(configs[g], name) for g in games}
        if name in _CHOICES or name == "game":
            metavar = "{" + ",".join(_CHOICES.get(name, games)) + "}"
        else:
            metavar = {int: "N", float: "X", tuple: "STEPS"}.get(type(default), "DIR")
        help_text = f"{_HELP[name]} ({default_note(values, game)})"
        group = groups.get(name, parser)
        group.add_argument(flag, dest=name, default=None, metavar=metavar, help=help_text)
        if "_" in name:
            parser.add_argument("--" + name, dest=name, default=None, help=argparse.SUPPRESS)
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
    run_file = Path(merged.get("data_dir", LearnerConfig.data_dir)) / game / CONFIG_FILE
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
    return {name: getattr(config, name) for name in _fields()}


def write_effective(config: LearnerConfig, path: Path) -> None:
    """The effective config as JSON (so a run can be reproduced, and resumed as it was)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(to_dict(config), indent=2, sort_keys=True) + "\n").encode())
