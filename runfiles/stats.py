"""stats.json: what the learner is doing, in the shape the dashboard reads, written atomically.

The learner is the file's only writer; the actor's API reads it, with the evaluator's newer
results merged in while the learner (which merges them at every write) is stopped. Both use
this one copy of the format (the actor and the learner never import each other), so that
what a merge writes is what loading accepts.

The history keeps at most `history_cap` points: when it overflows, it is thinned to an even
resolution over the whole run (`thin`), and the points since then are all kept. Evaluations and
Elo ratings are appended by an evaluator through `append_evaluation` / `append_elo` (bounded the
same way), or copied from the evaluator's `<run>/evaluations.json` and `<run>/tournament.json`
(written by the actor) at every stats write.

Training time (`elapsed_s`, top level and per history point) is the wall time learners have
run for this run, summed over its starts: the time the learner was stopped does not count, the
time it waited for self-play does. A file written before it was kept has none: its history's
wall-clock span is taken instead (`elapsed_before`), which counts any stops in it.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from runfiles import set_aside, write_atomic
from runfiles.layout import RunFolder

# Only the learner loads and writes stats.json: its lines go to the learner's log.
log = logging.getLogger("learner.stats")

LIST_CAP = 1_000


def thin(entries: list[dict[str, Any]], cap: int) -> list[dict[str, Any]]:
    """`entries` (in step order) if they are at most `cap`, else fewer: of the steps, the first
    in each span of steps is kept, and the newest. Spans are a power of two wide, from the
    first step, as few as fit about `cap / 2` entries. A span's width only doubles, so each
    span of a thinning is whole spans of the thinning before, which had a point each: a long
    run keeps its whole curve at an even resolution, and the points since the last thinning in
    full. (Dropping every other point of the older half at each overflow would wear the older
    part away: after 5,000 writes of a 1,000-point history the first 45% of the run would have
    two points.)
    The entries of one step stay or go together: an evaluation writes one per opponent and
    budget. Entries without a whole-number step (the tournament's baselines) are kept."""
    groups: list[list[dict[str, Any]]] = []
    for entry in entries:
        if groups and groups[-1][0].get("step") == entry.get("step"):
            groups[-1].append(entry)
        else:
            groups.append([entry])
    spans = max(cap // (2 * max(map(len, groups), default=1)), 1)
    while sum(map(len, groups)) > cap:
        steps = [group[0]["step"] for group in groups if _whole(group[0].get("step"))]
        if len(steps) < 3:
            break
        first, width = min(steps), 1
        while width * spans < max(steps) - first:
            width *= 2
        kept, taken = [], set()
        for group in groups[:-1]:
            step = group[0].get("step")
            span = (step - first) // width if _whole(step) else None
            if span is None or span not in taken:
                taken.add(span)
                kept.append(group)
        groups = kept + groups[-1:]
        spans = max(spans // 2, 1)
    return [entry for group in groups for entry in group]


def _whole(step: Any) -> bool:
    return type(step) is int


def new_stats(
    game: str, config: dict[str, Any], defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Stats of a run that has not trained yet. `config` is the learner's effective config,
    `defaults` the game's default of each hyperparameter in it (null: not known), so that a
    reader can tell which values the run changed. Files written before "config_defaults" was
    kept lack it: readers take it as not known."""
    return {
        "game": game,
        "step": 0,
        "updated_at": time.time(),
        "config": config,
        "config_defaults": defaults,
        "loss": {"total": None, "policy": None, "value": None},
        "learning_rate": None,
        "samples_per_s": None,  # rates: null until measured
        "precision": None,  # the training step's: float32 or bfloat16 (learner.precision)
        "elapsed_s": 0.0,  # training time, see the module's docstring
        "replay_games": 0,
        "replay_positions": 0,
        "replay_oldest_step": None,  # the model step that played the window's oldest position
        "waiting_share": None,  # share of the last minute the learner waited for self-play
        "games_per_s": None,
        "positions_per_s": None,
        "skipped_rows": 0,
        "history": [],
        "evaluations": [],
        "elo": [],
    }


def load_stats(
    path: Path, game: str, config: dict[str, Any], step: int, defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The run's existing stats (to keep its history across restarts), else fresh ones. Only
    the lists (`_FIELDS`) are taken from the file: the config and its defaults are this start's
    (`new_stats`), so a file written before a field was added loads as well.

    History points after `step`, the step the learner resumes at, were made by steps it lost
    (a crash after the last checkpoint, or a run started over): they go, so that the curve
    does not run back and forth. A file that cannot be used, or holds malformed entries, is
    kept as `stats.json.damaged-<UTC time>` (the next write replaces stats.json) and said so:
    a damaged file must neither stop the learner nor be silently thrown away."""
    stats = new_stats(game, config, defaults)
    path = Path(path)
    try:
        old = _finite(json.loads(path.read_text(encoding="utf-8")))  # a NaN: later writes fail
    except FileNotFoundError:
        return stats
    except (OSError, ValueError, RecursionError) as error:  # ValueError: not UTF-8, not JSON
        _set_aside_damaged(path, f"unreadable ({error})")
        return stats
    if not isinstance(old, dict) or old.get("game") != game:
        found = old.get("game") if isinstance(old, dict) else type(old).__name__
        _set_aside_damaged(path, f"not the stats of a {game} run (found {found!r})")
        return stats
    dropped = []
    for key in _FIELDS:
        entries = old.get(key, [])
        if not isinstance(entries, list):
            dropped.append(f"{key} is not a list")
            continue
        stats[key] = [entry for entry in entries if _usable(key, entry)]
        if len(stats[key]) < len(entries):
            dropped.append(f"{len(entries) - len(stats[key])} malformed {key} entries")
    if dropped:
        _set_aside_damaged(path, "dropped " + ", ".join(dropped))
    stats["history"] = [p for p in stats["history"] if p["step"] <= step]
    stats["elapsed_s"] = elapsed_before(old, stats["history"])
    return stats


def elapsed_before(old: dict[str, Any], history: list[dict[str, Any]]) -> float:
    """The training time of a run whose stats.json held `old`, `history` its kept points, to
    go on from. History points without "elapsed_s" (a file from before it was kept) get their
    wall-clock time since the first point, so that a time axis has them too; the time of the
    steps a crash lost still counts (the learner ran then). Never below a kept point's."""
    first = history[0].get("time") if history else None
    for point in history:
        if point.get("elapsed_s") is None and _real(first) and _real(point.get("time")):
            point["elapsed_s"] = max(0.0, point["time"] - first)
    kept = [p["elapsed_s"] for p in history if _real(p.get("elapsed_s"))]
    recorded = old.get("elapsed_s")
    return float(max([recorded if _real(recorded) else 0.0, *kept]))


def _set_aside_damaged(path: Path, reason: str) -> None:
    """Renames a damaged stats.json to `stats.json.damaged-<UTC time>` for the user, logged."""
    target = set_aside(path, "damaged", log=log)
    if target is None:
        log.warning("%s is damaged: %s; cannot keep a copy", path, reason)
        return
    log.warning("%s is damaged: %s; it is kept as %s", path, reason, target.name)


def _real(value: Any) -> bool:
    """A number, not null."""
    return value is not None and _is_number(value)


def _is_number(value: Any) -> bool:
    """A JSON number or null (a NaN was made null by `_finite`)."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


_HISTORY_NUMBERS = tuple(
    "time elapsed_s loss_total loss_policy loss_value learning_rate samples_per_s"
    " replay_positions replay_games replay_oldest_step games_per_s positions_per_s".split()
)

# Per list: its fields of a name (str), then its numeric fields (numbers or null). Every entry
# has an integer "step", except a tournament's baselines in "elo" (random, mcts-64, the shipped
# model: no training step, null); other keys (an evaluator's extra ones) are left as they are.
_NULL_STEP_ALLOWED = {"elo"}
_FIELDS = {
    "history": ((), _HISTORY_NUMBERS),
    "evaluations": (
        ("opponent",),
        (
            *("time", "simulations", "win_rate", "draw_rate", "loss_rate", "optimal_move_rate"),
            *("score_low", "score_high"),
        ),
    ),
    "elo": (("player",), ("elo", "elo_ci95")),
}


def _usable(key: str, entry: Any) -> bool:
    """Whether `entry` is one of `key`'s list as the dashboard reads it: the one rule for what
    loading keeps and what the merges copy in, so that a merged file loads without loss."""
    names, numbers = _FIELDS[key]
    if not isinstance(entry, dict):
        return False
    step = entry.get("step")
    has_step = isinstance(step, int) and not isinstance(step, bool)
    return (
        (has_step or (step is None and key in _NULL_STEP_ALLOWED))
        and all(isinstance(entry.get(name), str) for name in names)
        and all(_is_number(entry.get(name)) for name in numbers)
    )


def _number(value: float | None) -> float | None:
    """JSON-safe float: NaN and infinities become null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def record_progress(
    stats: dict[str, Any],
    *,
    step: int,
    loss_total: float | None,
    loss_policy: float | None,
    loss_value: float | None,
    learning_rate: float,
    samples_per_s: float,
    replay_games: int,
    replay_positions: int,
    games_per_s: float,
    positions_per_s: float,
    skipped_rows: int,
    elapsed_s: float,
    replay_oldest_step: int | None,
    waiting_share: float,
    history_cap: int,
    add_history: bool = True,
) -> None:
    """Updates the current values and (optionally) appends a history point. `elapsed_s` is the
    run's training time (the module's docstring), `waiting_share` the share of the last minute
    the learner waited for self-play data (NaN: not measured yet)."""
    now = time.time()
    oldest = None if replay_oldest_step is None else int(replay_oldest_step)
    stats.update(
        step=int(step),
        updated_at=now,
        elapsed_s=float(elapsed_s),
        loss={
            "total": _number(loss_total),
            "policy": _number(loss_policy),
            "value": _number(loss_value),
        },
        learning_rate=_number(learning_rate),
        samples_per_s=_number(samples_per_s),  # null: not measured yet (a start, a resume)
        replay_games=int(replay_games),
        replay_positions=int(replay_positions),
        replay_oldest_step=oldest,
        waiting_share=_number(waiting_share),
        games_per_s=_number(games_per_s),
        positions_per_s=_number(positions_per_s),
        skipped_rows=int(skipped_rows),
    )
    if add_history and loss_total is not None:
        stats["history"].append(
            {
                "step": int(step),
                "time": now,
                "elapsed_s": float(elapsed_s),
                "loss_total": _number(loss_total),
                "loss_policy": _number(loss_policy),
                "loss_value": _number(loss_value),
                "learning_rate": _number(learning_rate),
                "samples_per_s": _number(samples_per_s),
                "replay_positions": int(replay_positions),
                "replay_games": int(replay_games),
                "replay_oldest_step": oldest,
                "games_per_s": _number(games_per_s),
                "positions_per_s": _number(positions_per_s),
            }
        )
        stats["history"] = thin(stats["history"], history_cap)


def append_evaluation(
    stats: dict[str, Any],
    *,
    step: int,
    opponent: str,
    simulations: int,
    win_rate: float,
    draw_rate: float,
    loss_rate: float,
    optimal_move_rate: float | None = None,
    when: float | None = None,
) -> None:
    """Adds one evaluation result (rates in 0..1, from the trained network's side)."""
    stats["evaluations"].append(
        {
            "step": int(step),
            "time": time.time() if when is None else float(when),
            "opponent": str(opponent),
            "simulations": int(simulations),
            "win_rate": _number(win_rate),
            "draw_rate": _number(draw_rate),
            "loss_rate": _number(loss_rate),
            "optimal_move_rate": _number(optimal_move_rate),
        }
    )
    stats["evaluations"] = thin(stats["evaluations"], LIST_CAP)


def append_elo(stats: dict[str, Any], *, player: str, step: int, elo: float) -> None:
    """Adds one Elo rating point for `player` (e.g. "alphazero", "mcts") at `step`."""
    stats["elo"].append({"player": str(player), "step": int(step), "elo": _number(elo)})
    stats["elo"] = thin(stats["elo"], LIST_CAP)


def merge_evaluations_file(
    stats: dict[str, Any], path: Path, resumed: tuple[int, float] | None = None
) -> None:
    """Copies the evaluator's entries (a JSON list of evaluation dicts, the actor's
    `<run>/evaluations.json`) into stats["evaluations"]; a missing or bad file changes nothing,
    and malformed entries (a hand-edited file) are left out, as loading would drop them.

    `resumed` is (step, wall time) of this learner's start: entries of later steps made before
    it evaluated models of steps the learner lost, and are left out (they stay in the file).
    None keeps every entry.
    Non-finite numbers (a hand-edited file) become null: stats.json must stay plain JSON."""
    entries = _read_json(path)
    if isinstance(entries, list):
        step, started = resumed or (math.inf, -math.inf)
        kept = [
            e
            for e in entries
            if _usable("evaluations", e) and (e["step"] <= step or _time_of(e) >= started)
        ]
        stats["evaluations"] = thin(kept, LIST_CAP)


def _read_json(path: Path) -> Any:
    """The JSON in `path`, NaN and infinities made null; None when it is missing or unreadable
    (the caller keeps what it has). Nested too deeply, it is unreadable, not a crash."""
    try:
        return _finite(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError):  # ValueError: not UTF-8, not JSON
        return None


def _time_of(entry: dict[str, Any]) -> float:
    value = entry.get("time")
    return float(value) if isinstance(value, int | float) else -math.inf


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def merge_tournament_file(stats: dict[str, Any], path: Path) -> None:
    """Copies the Elo ratings of the newest tournament (`python -m actor.tournament`, the
    `players` of `<run>/tournament.json`) into stats["elo"]; a missing or bad file changes
    nothing. The file is rewritten after every pair, so players who have not played yet (a
    made-up rating) are left out. A baseline's step is null (it has none)."""
    document = _read_json(path)
    players = document.get("players") if isinstance(document, dict) else None
    if isinstance(players, list):
        rows = [
            {key: p.get(key) for key in ("player", "step", "elo", "elo_ci95")}
            for p in players[:LIST_CAP]
            if isinstance(p, dict) and p.get("games") != 0
        ]
        stats["elo"] = [row for row in rows if _usable("elo", row)]


def merge_newer_results(stats: dict[str, Any], run_dir: Path, written_at: float) -> None:
    """Merges `<run_dir>/evaluations.json` and `tournament.json` into `stats`, the run's
    stats.json as last modified at `written_at`, where they are newer than it: for a reader
    (the actor's API) while the learner, which merges them at every write, is stopped. A
    running learner's stats.json is the newer, so a reader that polls pays one stat per file.

    Evaluations are taken as a learner starting now would: entries of steps after the stats'
    step made before `written_at` are of models the learner lost."""
    run = RunFolder(run_dir)
    if _modified_at(run.evaluations) > written_at:
        step = stats.get("step")
        resumed = (step, written_at) if type(step) is int else None
        merge_evaluations_file(stats, run.evaluations, resumed)
    if _modified_at(run.tournament) > written_at:
        merge_tournament_file(stats, run.tournament)


def _modified_at(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -math.inf


def write_stats(path: Path, stats: dict[str, Any]) -> bool:
    """Writes stats.json atomically; False (logged) when the disk refuses."""
    try:
        write_atomic(Path(path), (json.dumps(stats, allow_nan=False) + "\n").encode())
    except (OSError, ValueError, RecursionError) as error:
        log.error("cannot write %s: %s", path, error)
        return False
    return True
