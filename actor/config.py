"""The actor's settings: one dataclass, filled from the command line (`python -m actor --help`).

Kept free of engine/numba imports so `__main__` can set thread-count environment variables
before Numba is first imported.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runfiles import read_settings
from runfiles.cli import default_note, help_formatter, shown

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = "actor_config.json"  # in the run folder: the settings of the last self-play start
# Games whose self-play plays int8 copies (actor.quantize) unless told otherwise. Not
# Tic-tac-toe: its copy often disagrees with the float model on the best move
# (data/pretrained/README.md), and its training waits on the learner, not on self-play, so a
# faster copy buys it nothing.
INT8_BY_DEFAULT = frozenset({"connect4", "othello"})
# Self-play worker processes per game unless told otherwise (1 for games not named). Othello's
# learner trains in bfloat16 where that is faster (learner.config) and then idles about half of
# its core at replay ratio 8; a second worker, niced below the learner, plays in that time and
# raises self-play's positions/s (data/pretrained/README.md). With a float32 learner the
# second worker finds no idle time and gains nothing. Connect 4's learner uses its core.
WORKERS_BY_GAME = {"othello": 2}
# Seconds between two background evaluations at least, per game. One costs ~0.2 CPU-s for
# Tic-tac-toe and ~2-4 CPU-s for Connect 4 with the learner's default networks
# (benchmarks/evaluation.py), so this keeps evaluation around 1% of one core. A launcher that
# keeps a CPU free for the API and evaluation asks for more often (scripts/launch.py).
EVALUATION_INTERVAL_BY_GAME = {"tictactoe": 30.0, "connect4": 300.0, "othello": 300.0}


# The fields of ActorConfig that override the game's self-play defaults (actor.selfplay).
SELFPLAY_SETTINGS = (
    "simulations", "games_in_parallel", "temperature_moves", "final_temperature", "opening_moves",
    "c_puct", "dirichlet_alpha", "dirichlet_fraction", "eval_cache",
)  # fmt: skip


@dataclass
class ActorConfig:
    """Everything one actor process needs; the effective config is logged at start."""

    game: str = "tictactoe"
    data_dir: Path = Path("data")
    pretrained_dir: Path = REPO_ROOT / "data" / "pretrained"
    web_dist: Path = REPO_ROOT / "web" / "dist"
    host: str = "127.0.0.1"
    port: int = 8080
    selfplay: bool = True
    workers: int | None = None  # self-play processes (None: WORKERS_BY_GAME, else 1; the
    #                             launcher sets more on machines with more CPUs)
    # Self-play overrides (None: the per-game default of actor.selfplay; SELFPLAY_SETTINGS).
    simulations: int | None = None
    games_in_parallel: int | None = None
    temperature_moves: int | None = None
    final_temperature: float | None = None
    opening_moves: int | None = None
    c_puct: float | None = None
    dirichlet_alpha: float | None = None
    dirichlet_fraction: float | None = None
    eval_cache: int | None = None
    int8: bool | None = None  # self-play plays int8 copies of the models (None: per game)
    seed: int = 0
    # Threads: the machine this targets has 2 cores shared by self-play and the API.
    ort_threads: int = 1
    numba_threads: int = 1
    worker_nice: int = 10  # self-play yields the CPU to move requests (Linux nice increment)
    # API limits: safe defaults, so that no request holds the CPU or a search thread for long.
    max_simulations: int = 1600
    move_timeout_s: float = 20.0
    # `perfect` waits this long for the solver (at most 3/4 of the move timeout), then plays
    # AlphaZero's move and says so: Connect 4's solver takes seconds to minutes with fewer
    # than about 7 stones on the board.
    solver_time_s: float = 5.0
    search_threads: int = 2
    search_queue: int = 32  # 32 waiting requests; the time limit bounds how long they wait
    max_body_bytes: int = 64 * 1024
    log_interval_s: float = 5.0
    warm_up: bool = True  # compile every game's search at start so first moves are quick
    evaluation: bool = True  # evaluate new models against baselines while self-play runs
    evaluation_interval_s: float | None = None  # None: EVALUATION_INTERVAL_BY_GAME
    # A run with a learner checkpoint but no model yet: wait this long for the learner to
    # publish the checkpoint's model before bootstrapping with a uniform prior.
    resume_wait_s: float = 60.0

    def run_dir(self, game: str | None = None) -> Path:
        return self.data_dir / (game or self.game)

    def int8_selfplay(self) -> bool:
        """Whether self-play plays int8 copies: the command line's choice, else the game's."""
        return self.game in INT8_BY_DEFAULT if self.int8 is None else self.int8

    def selfplay_workers(self) -> int:
        """Self-play worker processes: the command line's number, else the game's."""
        return self.workers or WORKERS_BY_GAME.get(self.game, 1)

    def evaluation_interval(self) -> float:
        """Seconds between two background evaluations at least: the command line's, else the
        game's."""
        if self.evaluation_interval_s is not None:
            return self.evaluation_interval_s
        return EVALUATION_INTERVAL_BY_GAME.get(self.game, 300.0)

    def as_log_dict(self, selfplay: dict[str, Any] | None = None) -> dict[str, str]:
        """The settings as text, for the log and actor_config.json. None means "the game's
        default", which told a reader nothing: the effective values are shown instead, those
        of self-play from `selfplay` (actor.worker.effective_selfplay)."""
        values = asdict(self)
        values.update(
            workers=self.selfplay_workers(),
            int8=self.int8_selfplay(),
            evaluation_interval_s=self.evaluation_interval(),
        )
        for name, value in (selfplay or {}).items():
            if values.get(name) is None:
                values[name] = value
        return {key: str(value) for key, value in values.items()}


# Argument types. Their messages follow argparse's "argument --flag: ": without them argparse
# printed the function's name ("invalid _positive value: 'abc'").


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0:  # also NaN
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


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


def _describe(actions: list[argparse.Action], game: str | None) -> None:
    """Ends each flag's help with what it takes when not given: `default X` where all games
    agree, else `GAME: X` for `game`, or `per game: ...` without one."""
    from engine import list_games

    per_game = {name: game_defaults(name) for name in list_games()}
    for action in actions:
        if action.dest in per_game["tictactoe"]:
            values = {name: defaults[action.dest] for name, defaults in per_game.items()}
        elif action.default is not None and action.nargs != 0:  # not --no-selfplay and alike
            values = dict.fromkeys(per_game, action.default)
        else:
            continue
        action.help = f"{action.help} ({default_note(values, game, _shown)})"


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
    default = ActorConfig()
    actions: list[argparse.Action] = []

    def add(group: Any, *flags: str, **options: Any) -> None:
        actions.append(group.add_argument(*flags, **options))

    # fmt: off
    add(parser, "--game", default=default.game, metavar="GAME", help="game to self-play")
    add(parser, "--data-dir", type=Path, default=default.data_dir, metavar="DIR",
        help="folder of the run folders: the run is DIR/GAME/")
    add(parser, "--seed", type=_whole_number, default=default.seed, metavar="N",
        help="random seed of self-play")
    play = parser.add_argument_group("actor: self-play")
    add(play, "--no-selfplay", dest="selfplay", action="store_false",
        help="only serve the API and the web page")
    add(play, "--workers", type=_positive, default=None, metavar="N",
        help="self-play worker processes; ./start_training.sh sets more on machines with more"
        " CPUs")
    add(play, "--simulations", type=_positive, default=None, metavar="N",
        help="MCTS simulations per self-play move")
    add(play, "--games-in-parallel", type=_positive, default=None, metavar="N",
        help="games searched at once per worker (the inference batch)")
    add(play, "--temperature-moves", type=_whole_number, default=None, metavar="N",
        help="self-play samples moves by visit count for this many plies, then plays the best")
    add(play, "--final-temperature", type=_number, default=None, metavar="X",
        help="after those plies, sample moves at this temperature; 0: play the most visited")
    add(play, "--opening-moves", type=_whole_number, default=None, metavar="N",
        help="each self-play game starts after 0..N uniformly random moves (not trained on),"
        " so the network also learns positions strong play never reaches")
    add(play, "--c-puct", type=_number, default=None, metavar="X",
        help="PUCT exploration constant")
    add(play, "--dirichlet-alpha", type=_number, default=None, metavar="X",
        help="alpha of the Dirichlet noise at the search's root")
    add(play, "--dirichlet-fraction", type=_number, default=None, metavar="X",
        help="share of the root noise in the prior")
    add(play, "--eval-cache", type=_whole_number, default=None, metavar="N",
        help="network answers kept by position, a power of two; 0: none")
    add(play, "--int8", action=argparse.BooleanOptionalAction, default=None,
        help="self-play with int8 copies of the models, where they pass the closeness and speed"
        " checks of actor.quantize")
    add(play, "--ort-threads", type=_positive, default=default.ort_threads, metavar="N",
        help="ONNX Runtime intra-op threads per session")
    add(play, "--numba-threads", type=_positive, default=default.numba_threads, metavar="N",
        help="Numba threads per process")
    add(play, "--worker-nice", type=_whole_number, default=default.worker_nice, metavar="N",
        help="nice increment of self-play workers; 0: same priority as the API")
    add(play, "--no-evaluation", dest="evaluation", action="store_false",
        help="do not evaluate new models in the background (actor.evaluation)")
    add(play, "--evaluation-interval", dest="evaluation_interval_s", type=_positive_seconds,
        default=None, metavar="S", help="seconds between two background evaluations at least")
    add(play, "--resume-wait", dest="resume_wait_s", type=_number,
        default=default.resume_wait_s, metavar="S",
        help="seconds self-play waits for the model of a resumed learner checkpoint before"
        " playing with a uniform prior")
    add(play, "--log-interval", dest="log_interval_s", type=_positive_seconds,
        default=default.log_interval_s, metavar="S", help="seconds between progress lines")
    api = parser.add_argument_group("actor: API and page")
    add(api, "--host", default=default.host, help="bind address")
    add(api, "--port", type=_whole_number, default=default.port, help="port of the page and API")
    add(api, "--pretrained-dir", type=Path, default=default.pretrained_dir, metavar="DIR",
        help="shipped models, one per game")
    add(api, "--web-dist", type=Path, default=default.web_dist, metavar="DIR",
        help="the built page to serve")
    add(api, "--max-simulations", type=_positive, default=default.max_simulations,
        metavar="N", help="cap on simulations per move request")
    add(api, "--move-timeout", dest="move_timeout_s", type=_positive_seconds,
        default=default.move_timeout_s, metavar="S", help="seconds per move request")
    add(api, "--solver-time", dest="solver_time_s", type=_positive_seconds,
        default=default.solver_time_s, metavar="S",
        help="seconds the perfect player waits for the solver before AlphaZero moves instead")
    add(api, "--search-threads", type=_positive, default=default.search_threads, metavar="N",
        help="threads running move requests")
    add(api, "--search-queue", type=_whole_number, default=default.search_queue, metavar="N",
        help="move requests that may wait; beyond that: 503")
    add(api, "--max-body-bytes", type=_positive, default=default.max_body_bytes, metavar="N",
        help="largest request body accepted")
    add(api, "--no-warmup", dest="warm_up", action="store_false",
        help="skip compiling the searches at start (tests)")
    # fmt: on
    if describe:
        _describe(actions, game)
    return parser


def parse_args(argv: list[str] | None = None) -> ActorConfig:
    """The config of a command line; its --help shows the values of its --game (Numba is
    imported for that help only)."""
    asked = argparse.ArgumentParser(add_help=False)
    asked.add_argument("--game", nargs="?")  # "?": a missing value is the real parser's error
    asked.add_argument("-h", "--help", action="store_true")
    known = asked.parse_known_args(argv)[0]
    parser = build_parser(known.game, describe=known.help)
    args = parser.parse_args(argv)
    saved = saved_selfplay(Path(args.data_dir) / args.game / CONFIG_FILE)
    for name, text in saved.items():
        if getattr(args, name) is None:  # not given: the run's own, as in the learner
            try:
                setattr(args, name, parser._option_string_actions[_flag(name)].type(text))
            except (argparse.ArgumentTypeError, ValueError, TypeError):
                pass  # a hand-edited value: the game's default plays
    return ActorConfig(**vars(args))


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


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")
