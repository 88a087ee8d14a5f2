"""The actor's settings, each declared once (`ActorConfig`), filled from the command line.

`python -m actor --help` lists them. A setting declared None takes the game's value
(`Game.settings` in engine/games/<name>.py), else its fallback (`FALLBACKS` here, or
actor.selfplay's for self-play). Kept free of engine/Numba imports at parse time so `__main__`
can set thread-count environment variables before Numba is first imported: the game's values
are read when they are asked for.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import field_validator

from runfiles import read_settings
from runfiles.cli import default_note, help_formatter, shown
from runfiles.layout import ACTOR_CONFIG_FILE
from runfiles.settings import Settings, SettingsError, add_flags, setting

REPO_ROOT = Path(__file__).resolve().parent.parent
PLAY = "actor: self-play"
API = "actor: API and page"
# What a setting declared None takes where the game's experiment names no value.
FALLBACKS: dict[str, Any] = {"workers": 1, "int8": False, "evaluation_interval_s": 300.0}


class ActorConfig(Settings):
    """Everything one actor process needs; the effective config is logged at start.
    `resumed`: a restarted run keeps the self-play value its actor_config.json holds where no
    flag sets it (not the machine's: workers, threads, port)."""

    flags_only = True

    game: str = setting("tictactoe", "game to self-play", metavar="GAME")
    data_dir: Path = setting(
        Path("data"), "folder of the run folders: the run is DIR/GAME/", metavar="DIR"
    )
    seed: int = setting(0, "random seed of self-play")
    selfplay: bool = setting(
        True, "only serve the API and the web page", group=PLAY, flag="--no-selfplay"
    )
    workers: int | None = setting(
        None,
        "self-play worker processes; ./start_training.sh sets more on machines with more" " CPUs",
        group=PLAY,
        ge=1,
    )
    simulations: int | None = setting(
        None, "MCTS simulations per self-play move", group=PLAY, resumed=True, ge=1
    )
    games_in_parallel: int | None = setting(
        None,
        "games searched at once per worker (the inference batch)",
        group=PLAY,
        resumed=True,
        ge=1,
    )
    temperature_moves: int | None = setting(
        None,
        "self-play samples moves by visit count for this many plies, then plays the best",
        group=PLAY,
        resumed=True,
        ge=0,
    )
    final_temperature: float | None = setting(
        None,
        "after those plies, sample moves at this temperature; 0: play the most visited",
        group=PLAY,
        resumed=True,
        ge=0,
        le=10,
    )
    opening_moves: int | None = setting(
        None,
        "each self-play game starts after 0..N uniformly random moves (not trained on),"
        " so the network also learns positions strong play never reaches",
        group=PLAY,
        resumed=True,
        ge=0,
        le=100,
    )
    c_puct: float | None = setting(
        None, "PUCT exploration constant", group=PLAY, resumed=True, gt=0
    )
    dirichlet_alpha: float | None = setting(
        None, "alpha of the Dirichlet noise at the search's root", group=PLAY, resumed=True, gt=0
    )
    dirichlet_fraction: float | None = setting(
        None, "share of the root noise in the prior", group=PLAY, resumed=True, ge=0, le=1
    )
    eval_cache: int | None = setting(
        None,
        "network answers kept by position, a power of two; 0: none",
        group=PLAY,
        resumed=True,
        ge=0,
    )
    int8: bool | None = setting(
        None,
        "self-play with int8 copies of the models, where they pass the closeness and speed"
        " checks of actor.quantize",
        group=PLAY,
    )
    # Threads: the machine this targets has 2 cores shared by self-play and the API.
    ort_threads: int = setting(1, "ONNX Runtime intra-op threads per session", group=PLAY, ge=1)
    numba_threads: int = setting(1, "Numba threads per process", group=PLAY, ge=1)
    # Self-play yields the CPU to move requests (a Linux nice increment).
    worker_nice: int = setting(
        10, "nice increment of self-play workers; 0: same priority as the API", group=PLAY
    )
    evaluation: bool = setting(
        True,
        "do not evaluate new models in the background (actor.evaluation)",
        group=PLAY,
        flag="--no-evaluation",
    )
    evaluation_interval_s: float | None = setting(
        None,
        "seconds between two background evaluations at least",
        group=PLAY,
        flag="--evaluation-interval",
        metavar="S",
        gt=0,
    )
    # A run with a learner checkpoint but no model yet: self-play waits this long for the
    # learner to publish the checkpoint's model before bootstrapping with a uniform prior.
    resume_wait_s: float = setting(
        60.0,
        "seconds self-play waits for the model of a resumed learner checkpoint before"
        " playing with a uniform prior",
        group=PLAY,
        flag="--resume-wait",
        metavar="S",
    )
    log_interval_s: float = setting(
        5.0, "seconds between progress lines", group=PLAY, flag="--log-interval", metavar="S", gt=0
    )
    host: str = setting("127.0.0.1", "bind address", group=API, metavar="HOST")
    port: int = setting(8080, "port of the page and API", group=API, metavar="PORT")
    pretrained_dir: Path = setting(
        REPO_ROOT / "data" / "pretrained", "shipped models, one per game", group=API, metavar="DIR"
    )
    web_dist: Path = setting(
        REPO_ROOT / "web" / "dist", "the built page to serve", group=API, metavar="DIR"
    )
    # API limits: safe defaults, so that no request holds the CPU or a search thread for long.
    max_simulations: int = setting(1600, "cap on simulations per move request", group=API, ge=1)
    move_timeout_s: float = setting(
        20.0, "seconds per move request", group=API, flag="--move-timeout", metavar="S", gt=0
    )
    # `perfect` waits this long for the solver (at most 3/4 of the move timeout), then plays
    # AlphaZero's move and says so: Connect 4's solver takes seconds to minutes with fewer than
    # about 7 stones on the board.
    solver_time_s: float = setting(
        5.0,
        "seconds the perfect player waits for the solver before AlphaZero moves instead",
        group=API,
        flag="--solver-time",
        metavar="S",
        gt=0,
    )
    search_threads: int = setting(2, "threads running move requests", group=API, ge=1)
    # 32 waiting requests; the time limit bounds how long they wait.
    search_queue: int = setting(32, "move requests that may wait; beyond that: 503", group=API)
    max_body_bytes: int = setting(64 * 1024, "largest request body accepted", group=API, ge=1)
    # Compiling every game's search at start makes the first moves quick.
    warm_up: bool = setting(
        True, "skip compiling the searches at start (tests)", group=API, flag="--no-warmup"
    )

    @field_validator("eval_cache")
    @classmethod
    def _power_of_two(cls, size: int | None) -> int | None:
        if size is not None and size & (size - 1):
            raise ValueError(f"must be 0 or a power of two, got {size}")
        return size

    def run_dir(self, game: str | None = None) -> Path:
        return self.data_dir / (game or self.game)

    def game_value(self, name: str) -> Any:
        """Setting `name` as this actor plays it: the command line's, else the game's
        (engine/games/<game>.py, which imports Numba: never before set_thread_env), else its
        fallback."""
        value = getattr(self, name)
        if value is not None:
            return value
        from engine import get_game

        return get_game(self.game).settings.get(name, FALLBACKS[name])

    def int8_selfplay(self) -> bool:
        """Whether self-play plays int8 copies."""
        return bool(self.game_value("int8"))

    def selfplay_workers(self) -> int:
        """Self-play worker processes."""
        return int(self.game_value("workers"))

    def evaluation_interval(self) -> float:
        """Seconds between two background evaluations at least."""
        return float(self.game_value("evaluation_interval_s"))

    def as_log_dict(self, selfplay: dict[str, Any] | None = None) -> dict[str, str]:
        """The settings as text, for the log and actor_config.json. None means "the game's
        default", which told a reader nothing: the effective values are shown instead, those
        of self-play from `selfplay` (actor.worker.effective_selfplay)."""
        values = self.to_dict()
        values.update(
            workers=self.selfplay_workers(),
            int8=self.int8_selfplay(),
            evaluation_interval_s=self.evaluation_interval(),
        )
        for name, value in (selfplay or {}).items():
            if values.get(name) is None:
                values[name] = value
        return {key: str(value) for key, value in values.items()}


# The settings a restarted run keeps, which override the game's self-play defaults
# (actor.selfplay).
SELFPLAY_SETTINGS: tuple[str, ...] = ActorConfig.names(resumed=True)


def game_defaults(game: str) -> dict[str, Any]:
    """The self-play settings, workers, int8 and evaluation interval that `game` plays with when
    no flag is given.
    Imports Numba (actor.selfplay), so only for the help: never before set_thread_env."""
    from actor.worker import effective_selfplay
    from engine import get_game

    config = ActorConfig(game=game)
    values = effective_selfplay(get_game(game), config)
    return {
        **values,
        "workers": config.selfplay_workers(),
        "int8": config.int8_selfplay(),
        "evaluation_interval_s": config.evaluation_interval(),
    }


def _shown(value: Any) -> str:
    """A default as typed on the command line; a path in the repository relative to it."""
    if isinstance(value, Path) and value.is_relative_to(REPO_ROOT):
        return f"{value.relative_to(REPO_ROOT)} in the repository"
    return shown(value)


def build_parser(game: str | None = None, describe: bool = False) -> argparse.ArgumentParser:
    """The actor's command line. With `describe`, each flag's help ends with the value `game`
    plays with (for no game, or an unknown one, each game's): that imports Numba, so
    `parse_args` asks for it only when the help is printed."""
    parser = argparse.ArgumentParser(
        prog="python -m actor",
        usage="%(prog)s [--game GAME] [--port PORT] [--no-selfplay] [--FLAG VALUE ...]",
        description="Cartridge 2 actor: self-play into replay.db, model hot reload, HTTP API"
        " and the page. Values in parentheses: what a flag takes when not given.",
        formatter_class=help_formatter,
    )
    add_flags(parser, ActorConfig, _notes(game) if describe else lambda name: None)
    return parser


def _notes(game: str | None) -> Callable[[str], str | None]:
    """What each flag takes when not given, for the help: `default X` where all games agree,
    else `GAME: X` for `game`, or `per game: ...` without one; nothing for a switch."""
    from engine import list_games

    per_game = {name: game_defaults(name) for name in list_games()}

    def note(name: str) -> str | None:
        field = ActorConfig.model_fields[name]
        if name in per_game["tictactoe"]:
            values = {game_name: values[name] for game_name, values in per_game.items()}
        elif field.default is not None and field.default is not True:
            values = dict.fromkeys(per_game, field.default)
        else:
            return None
        return default_note(values, game, _shown)

    return note


def parse_args(
    argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None
) -> ActorConfig:
    """The config of a command line; its --help shows the values of its --game (Numba is
    imported for that help only). A self-play setting no flag gives is the run's own, from its
    actor_config.json, as in the learner. A bad value is `parser.error` (argparse's: the usage
    and exit status 2), naming the setting."""
    asked = argparse.ArgumentParser(add_help=False)
    asked.add_argument("--game", nargs="?")  # "?": a missing value is the real parser's error
    asked.add_argument("-h", "--help", action="store_true")
    known = asked.parse_known_args(argv)[0]
    parser = parser or build_parser(known.game, describe=known.help)
    given = {
        name: value for name, value in vars(parser.parse_args(argv)).items() if value is not None
    }
    run = Path(given.get("data_dir", "data")) / given.get("game", "tictactoe")
    kept = {}
    for name, text in saved_selfplay(run / ACTOR_CONFIG_FILE).items():
        try:
            kept[name] = getattr(ActorConfig.build({name: text}), name)
        except SettingsError:
            pass  # a hand-edited value: the game's default plays
    try:
        return ActorConfig.build({**kept, **given})
    except SettingsError as error:
        parser.error(str(error))


def saved_selfplay(path: Path) -> dict[str, str]:
    """The self-play settings (`SELFPLAY_SETTINGS`) a run's actor_config.json holds, as text:
    what a restart keeps unless a flag sets it (a restart without `--simulations 200` keeps 200,
    not the game's 100). Empty where the file is missing or unreadable."""
    return {name: str(value) for name, value in read_settings(path, SELFPLAY_SETTINGS).items()}


def selfplay_settings(path: Path, game: str) -> dict[str, dict[str, Any]] | None:
    """`{name: {"value": ..., "default": ...}}` for each of `SELFPLAY_SETTINGS`: what the run's
    self-play last started with (its actor_config.json; null where the file lacks one) beside
    the game's default, for the dashboard. None where the file is missing or unreadable.
    Imports Numba (`game_defaults`)."""
    saved = saved_selfplay(path)
    if not saved:
        return None
    defaults = game_defaults(game)
    return {
        name: {"value": _json_value(saved.get(name)), "default": defaults[name]}
        for name in SELFPLAY_SETTINGS
    }


def _json_value(text: str | None) -> Any:
    """A saved setting's text as the number it was, else the text (a hand-edited file): JSON
    has no NaN or infinity."""
    if text is None:
        return None
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        return value if math.isfinite(value) else text
    return text
