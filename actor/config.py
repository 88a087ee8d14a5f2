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

REPO_ROOT = Path(__file__).resolve().parent.parent
# Games whose self-play plays int8 copies (actor.quantize) unless told otherwise. Tic-tac-toe's
# MLP gains 1.45x but its copy agrees on the best move in only 85% of positions, and
# Tic-tac-toe training waits on the learner, not on self-play.
INT8_BY_DEFAULT = frozenset({"connect4", "othello"})
# Self-play worker processes per game unless told otherwise (1 for games not named). Othello's
# learner trains in bfloat16 where that is faster (learner.config) and then idles about half of
# its core at replay ratio 8; a second worker, niced below the learner, plays in that time: 1.6x
# the positions/s on 2 cores (data/pretrained/README.md). With a float32 learner the second
# worker gains nothing and costs nothing measurable. Connect 4's learner uses its core.
WORKERS_BY_GAME = {"othello": 2}


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
    # API limits (issue 7: safe defaults).
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

    def as_log_dict(self, selfplay: dict[str, Any] | None = None) -> dict[str, str]:
        """The settings as text, for the log and actor_config.json. None means "the game's
        default", which told a reader nothing: the effective values are shown instead, those
        of self-play from `selfplay` (actor.worker.effective_selfplay)."""
        values = asdict(self)
        values.update(workers=self.selfplay_workers(), int8=self.int8_selfplay())
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m actor",
        description="Cartridge 2 actor: self-play into replay.db, model hot reload, HTTP API.",
    )
    default = ActorConfig()
    parser.add_argument(
        "--game", default=default.game, help="game to self-play (default %(default)s)"
    )
    parser.add_argument("--data-dir", type=Path, default=default.data_dir, help="run folders root")
    parser.add_argument("--pretrained-dir", type=Path, default=default.pretrained_dir)
    parser.add_argument("--web-dist", type=Path, default=default.web_dist)
    parser.add_argument("--host", default=default.host, help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=_whole_number, default=default.port)
    parser.add_argument(
        "--no-selfplay",
        dest="selfplay",
        action="store_false",
        help="only serve the API and the web page",
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="self-play worker processes (default: othello 2, other games 1)",
    )
    parser.add_argument(
        "--simulations", type=_positive, default=None, help="MCTS simulations per self-play move"
    )
    parser.add_argument(
        "--games-in-parallel",
        type=_positive,
        default=None,
        help="games searched at once per worker (the inference batch)",
    )
    parser.add_argument(
        "--temperature-moves",
        type=_whole_number,
        default=None,
        help="self-play samples moves by visit count for this many plies, then plays the best",
    )
    parser.add_argument(
        "--final-temperature",
        type=_number,
        default=None,
        help="after those plies, sample moves at this temperature (0: play the most visited)",
    )
    parser.add_argument(
        "--opening-moves",
        type=_whole_number,
        default=None,
        help="each self-play game starts after 0..N uniformly random moves (not trained on),"
        " so the network also learns positions strong play never reaches (default: connect4 14,"
        " other games 0)",
    )
    parser.add_argument("--c-puct", type=_number, default=None, help="PUCT exploration constant")
    parser.add_argument(
        "--dirichlet-alpha", type=_number, default=None, help="root noise alpha (game default)"
    )
    parser.add_argument(
        "--dirichlet-fraction", type=_number, default=None, help="share of root noise in the prior"
    )
    parser.add_argument(
        "--eval-cache",
        type=_whole_number,
        default=None,
        help="network answers kept by position, a power of two (0: none; default 65536)",
    )
    parser.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="self-play with int8 copies of the models, where they pass the closeness and speed"
        " checks of actor.quantize (default: on for connect4 and othello)",
    )
    parser.add_argument("--seed", type=_whole_number, default=default.seed)
    parser.add_argument(
        "--ort-threads",
        type=_positive,
        default=default.ort_threads,
        help="ONNX Runtime intra-op threads per session",
    )
    parser.add_argument("--numba-threads", type=_positive, default=default.numba_threads)
    parser.add_argument(
        "--worker-nice",
        type=_whole_number,
        default=default.worker_nice,
        help="nice increment of self-play workers (0: same priority as the API)",
    )
    parser.add_argument(
        "--max-simulations",
        type=_positive,
        default=default.max_simulations,
        help="cap on simulations per move request",
    )
    parser.add_argument(
        "--move-timeout",
        dest="move_timeout_s",
        type=_positive_seconds,
        default=default.move_timeout_s,
        help="seconds per move request",
    )
    parser.add_argument(
        "--solver-time",
        dest="solver_time_s",
        type=_positive_seconds,
        default=default.solver_time_s,
        help="seconds the perfect player waits for the solver before AlphaZero moves instead",
    )
    parser.add_argument(
        "--search-threads",
        type=_positive,
        default=default.search_threads,
        help="threads running move requests",
    )
    parser.add_argument(
        "--search-queue",
        type=_whole_number,
        default=default.search_queue,
        help="move requests that may wait; beyond that: 503",
    )
    parser.add_argument("--max-body-bytes", type=_positive, default=default.max_body_bytes)
    parser.add_argument(
        "--log-interval",
        dest="log_interval_s",
        type=_positive_seconds,
        default=default.log_interval_s,
    )
    parser.add_argument(
        "--no-evaluation",
        dest="evaluation",
        action="store_false",
        help="do not evaluate new models in the background (actor.evaluation)",
    )
    parser.add_argument(
        "--resume-wait",
        dest="resume_wait_s",
        type=_number,
        default=default.resume_wait_s,
        help="seconds self-play waits for the model of a resumed learner checkpoint before"
        " playing with a uniform prior (default %(default)s)",
    )
    parser.add_argument(
        "--no-warmup",
        dest="warm_up",
        action="store_false",
        help="skip compiling the searches at start (tests)",
    )
    return parser  # fmt: skip


def parse_args(argv: list[str] | None = None) -> ActorConfig:
    args = build_parser().parse_args(argv)
    return ActorConfig(**vars(args))
