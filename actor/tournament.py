"""Tournament of AlphaZero: a round robin among the kept checkpoints and the baselines, with Elo.

The baselines are random, classic MCTS, perfect play where asked for, and the shipped model
(`data/pretrained/<game>.onnx`, named `shipped-<its step>`): a run can see when its own
checkpoints pass it. Baselines have no step in the table (the dashboard draws them as lines).

Every pair of players meets `games_per_pair` times, colours alternating; each pair of games
starts from the same short random opening (colours swapped), so two deterministic searchers do
not replay one game. Ratings are a maximum-likelihood Bradley-Terry fit (`actor.elo.fit_elo`),
anchored at random = 0, written atomically (after every pair) to `<run>/tournament.json`::

    {"updated_at": float, "game": str, "simulations": int, "games_per_pair": int,
     "players": [{"player": str, "step": int|null, "elo": float, "elo_ci95": float|null,
                  "games": int}],  # best first; elo_ci95: the 95% interval's half-width,
                                     # of the rating's place in the pool (relative to the mean)
     "results": [{"a": str, "b": str, "a_wins": int, "draws": int, "b_wins": int, "games": int}]}

    python -m actor.tournament --game tictactoe --data-dir data [--games-per-pair 10]
        [--simulations 64] [--mcts 64 400] [--max-checkpoints 8] [--perfect] [--no-shipped]
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from actor.arena import (
    Agent,
    AlphaZeroAgent,
    ClassicMctsAgent,
    PerfectAgent,
    RandomAgent,
    play_match,
)
from actor.config import ActorConfig
from actor.elo import elo_errors, fit_elo
from actor.evaluation import write_json_atomic
from engine import get_game
from engine.game import Game
from runfiles.layout import RunFolder

# A tournament's budgets where the game's settings name none (see `budgets`).
GENERIC_BUDGETS = {"simulations": 100, "mcts_budgets": (200,), "opening_moves": 2}


def budgets(game: Game) -> dict[str, Any]:
    """The game's tournament: simulations, classic MCTS budgets, random moves opening each game
    pair, and the fewest stones the perfect player plays from (its `tournament` settings in
    engine/games/<name>.py, over GENERIC_BUDGETS)."""
    return {**GENERIC_BUDGETS, **game.settings.get("tournament", {})}


@dataclass
class Entrant:
    """A player of the tournament: its agent and, for a checkpoint, the training step."""

    agent: Agent
    step: int | None = None

    @property
    def name(self) -> str:
        return self.agent.name


def pick_checkpoints(checkpoints: list[tuple[int, Any]], limit: int) -> list[tuple[int, Any]]:
    """At most `limit` checkpoints, evenly spread over the steps (first and last included)."""
    if limit <= 0:
        return []
    if len(checkpoints) <= limit:
        return list(checkpoints)
    if limit == 1:
        return [checkpoints[-1]]
    picks = np.linspace(0, len(checkpoints) - 1, limit).round().astype(int)
    return [checkpoints[i] for i in sorted(set(picks.tolist()))]


def checkpoint_entrants(game: Game, run_dir: Path, simulations: int, limit: int) -> list[Entrant]:
    """The kept `models/model_step_*.onnx` as AlphaZero players (refused files are skipped)."""
    from actor.model import ModelError, list_checkpoints, load_model

    usable = []
    for step, path in list_checkpoints(RunFolder(run_dir).models):
        try:
            usable.append((step, load_model(path, game, threads=1)))
        except ModelError as error:
            print(f"skipping {path.name}: {error}", file=sys.stderr)
    return [
        Entrant(AlphaZeroAgent(model, simulations, name=f"step-{step}"), step)
        for step, model in pick_checkpoints(usable, limit)
    ]


def shipped_entrant(game: Game, pretrained_dir: Path, simulations: int) -> Entrant | None:
    """The shipped model as an AlphaZero player, or None when there is none (or it is
    refused)."""
    from actor.model import ModelError, load_model

    path = Path(pretrained_dir) / f"{game.name}.onnx"
    if not path.is_file():
        return None
    try:
        model = load_model(path, game, threads=1)
    except ModelError as error:
        print(f"skipping the shipped model: {error}", file=sys.stderr)
        return None
    return Entrant(AlphaZeroAgent(model, simulations, name=f"shipped-{model.step}"))


class ProgressBar:
    """A one-line text progress bar on a terminal (plain lines when not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.tty = self.stream.isatty()
        self._next_line = 0  # not a terminal: a plain line every tenth of the way

    def update(self, label: str = "", advance: int = 1) -> None:
        self.done += advance
        filled = int(self.width * self.done / self.total)
        elapsed = time.perf_counter() - self.started
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} games "
            f"{elapsed:.0f}s {label}"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(100)[:100])
            if self.done >= self.total:
                self.stream.write("\n")
        elif self.done >= self._next_line or self.done >= self.total:
            self.stream.write(line + "\n")
            self._next_line = self.done + max(1, self.total // 10)
        self.stream.flush()


def run_tournament(
    game: Game,
    entrants: list[Entrant],
    games_per_pair: int,
    *,
    seed: int = 0,
    opening_moves: int | None = None,
    on_pair: Callable[[list[dict[str, Any]]], None] | None = None,
    progress: ProgressBar | None = None,
) -> list[dict[str, Any]]:
    """Plays the round robin; returns one result per pair (`on_pair` sees the list so far)."""
    names = [entrant.name for entrant in entrants]
    if len(set(names)) != len(names):
        raise ValueError(f"player names must be distinct, got {names}")
    opening = budgets(game)["opening_moves"] if opening_moves is None else opening_moves
    results: list[dict[str, Any]] = []
    for number, (a, b) in enumerate(itertools.combinations(entrants, 2)):
        label = f"{a.name} vs {b.name}"

        def advance(label: str = label) -> None:
            if progress is not None:
                progress.update(label)

        match = play_match(
            game, a.agent, b.agent, games_per_pair, seed=seed * 1000003 + number,
            opening_moves=opening, on_game=advance,
        )  # fmt: skip
        results.append(
            {
                "a": a.name,
                "b": b.name,
                "a_wins": match.wins,
                "draws": match.draws,
                "b_wins": match.losses,
                "games": match.games,
            }
        )
        if on_pair is not None:
            on_pair(results)
    return results


def ratings(
    entrants: list[Entrant], results: list[dict[str, Any]], anchor: str | None = "random"
) -> list[dict[str, Any]]:
    """Elo per player (anchor = 0; the mean when the anchor is absent), best first."""
    names = [entrant.name for entrant in entrants]
    index = {name: i for i, name in enumerate(names)}
    comparisons: list[tuple[int, int, float]] = []
    games = dict.fromkeys(names, 0)
    for result in results:
        i, j = index[result["a"]], index[result["b"]]
        comparisons += [(i, j, 1.0)] * result["a_wins"]
        comparisons += [(i, j, 0.5)] * result["draws"]
        comparisons += [(i, j, 0.0)] * result["b_wins"]
        games[result["a"]] += result["games"]
        games[result["b"]] += result["games"]
    anchor = anchor if anchor in index else None
    elo = fit_elo(names, comparisons, anchor=anchor)
    # Each player's place in the pool (errors relative to the mean rating, as BayesElo gives
    # them): what comparing two players needs. Relative to the anchor they would be hundreds of
    # points wide (Connect 4), random's every loss saying next to nothing about the gaps.
    errors = elo_errors(names, comparisons, elo)
    table = [
        {
            "player": e.name,
            "step": e.step,
            "elo": round(elo[e.name], 1),
            "elo_ci95": ci95(errors[e.name]),
            "games": games[e.name],
        }
        for e in entrants
    ]
    return sorted(table, key=lambda row: -row["elo"])


def ci95(error: float) -> float | None:
    """The half-width of a rating's 95% confidence interval; None where it has none (no
    games)."""
    return round(1.96 * error, 1) if math.isfinite(error) else None


def write_tournament(
    run_dir: Path,
    game: Game,
    entrants: list[Entrant],
    results: list[dict[str, Any]],
    **settings: Any,
) -> dict[str, Any]:
    """Fits the ratings and writes `<run>/tournament.json` atomically; returns what it wrote."""
    document = {
        "updated_at": time.time(),
        "game": game.name,
        **settings,
        "players": ratings(entrants, results),
        "results": results,
    }
    write_json_atomic(RunFolder(run_dir).tournament, document)
    return document


def format_table(players: list[dict[str, Any]]) -> str:
    lines = [f"{'rank':>4}  {'player':<16} {'step':>8} {'elo':>8} {'95% ci':>8} {'games':>6}"]
    for rank, row in enumerate(players, 1):
        step = "-" if row["step"] is None else str(row["step"])
        ci = "-" if row.get("elo_ci95") is None else f"±{row['elo_ci95']:.0f}"
        lines.append(
            f"{rank:>4}  {row['player']:<16} {step:>8} {row['elo']:>8.1f} {ci:>8}"
            f" {row['games']:>6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actor.tournament",
        description="Round robin among the kept checkpoints and the baselines; Elo anchored at "
        "random = 0, written to <run>/tournament.json.",
    )
    parser.add_argument("--game", required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--games-per-pair", type=int, default=10)
    parser.add_argument("--simulations", type=int, help="MCTS budget of the checkpoints")
    parser.add_argument("--mcts", type=int, nargs="*", help="classic MCTS baseline budgets")
    parser.add_argument("--max-checkpoints", type=int, default=8)
    parser.add_argument("--perfect", action="store_true", help="add the solver as a player")
    parser.add_argument(
        "--pretrained-dir",
        type=Path,
        default=ActorConfig.model_fields["pretrained_dir"].default,
        help="shipped models",
    )
    parser.add_argument(
        "--no-shipped", dest="shipped", action="store_false", help="leave out the shipped model"
    )
    parser.add_argument("--opening-moves", type=int, help="random moves opening each game pair")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        game = get_game(args.game)
        defaults = budgets(game)
        if args.games_per_pair < 1:
            raise ValueError("--games-per-pair must be at least 1")
        simulations = args.simulations
        if simulations is None:
            simulations = defaults["simulations"]
        if simulations < 0:
            raise ValueError("--simulations must be >= 0")
        mcts_budgets = defaults["mcts_budgets"] if args.mcts is None else args.mcts
        run_dir = args.data_dir / game.name
        entrants = [Entrant(RandomAgent())]
        entrants += [Entrant(ClassicMctsAgent(budget)) for budget in dict.fromkeys(mcts_budgets)]
        if args.perfect:
            if game.name not in ("tictactoe", "connect4"):
                raise ValueError(f"--perfect: no solver for {game.name}")
            opening = (
                defaults["opening_moves"] if args.opening_moves is None else args.opening_moves
            )
            least = defaults.get("perfect_min_opening", 0)
            if opening < least:
                raise ValueError(
                    f"--perfect: the {game.name} solver takes minutes per move on a board with"
                    f" fewer than {least} stones; give --opening-moves {least} or more"
                )
            entrants.append(Entrant(PerfectAgent()))
        shipped = shipped_entrant(game, args.pretrained_dir, simulations) if args.shipped else None
        if shipped is not None:
            entrants.append(shipped)
        checkpoints = checkpoint_entrants(game, run_dir, simulations, args.max_checkpoints)
        if not checkpoints:
            print(f"no checkpoints in {run_dir / 'models'}: baselines only", file=sys.stderr)
        entrants += checkpoints
        if len(entrants) < 2:
            raise ValueError("need at least two players")
        pairs = len(entrants) * (len(entrants) - 1) // 2
        progress = ProgressBar(pairs * args.games_per_pair)
        settings = {"simulations": simulations, "games_per_pair": args.games_per_pair}

        def save(results: list[dict[str, Any]]) -> None:
            write_tournament(run_dir, game, entrants, results, **settings)

        results = run_tournament(
            game, entrants, args.games_per_pair, seed=args.seed,
            opening_moves=args.opening_moves, on_pair=save, progress=progress,
        )  # fmt: skip
        document = write_tournament(run_dir, game, entrants, results, **settings)
    except (ValueError, FileNotFoundError) as error:
        print(f"python -m actor.tournament: {error}", file=sys.stderr)
        return 2
    print(f"{game.name}: {len(entrants)} players, {pairs} pairs, {args.games_per_pair} games each")
    print(format_table(document["players"]))
    print(f"written to {RunFolder(run_dir).tournament}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
