"""Batched self-play: G games searched at once, one evaluator call per step for all of them.

One `step` = select a leaf in every game's tree (jitted, planes written into one float32 batch)
-> one evaluator call -> expand and back up (jitted) -> every game whose search is done plays its
move (jitted: temperature sampling, record row, tree reuse). Python runs per batch only; a game
that finishes is returned as a `GameRecord` and its slot starts a new game.

Tree reuse: after a move the chosen child's subtree becomes the new tree, statistics included,
and the search for the next move stops when the root has `simulations` child visits in total,
but always runs at least `min_new_simulations` (so Dirichlet noise at the new root acts).

Evaluation cache: the network's answers for the last `eval_cache` positions (by position,
shared by the G games, emptied when the model changes). A leaf whose position is there is
expanded at once and takes no batch slot. Searches revisit positions (subtrees of the moves not
played, transpositions, the openings games share), so the cache saves network calls and
self-play plays more positions per CPU second; most in Tic-tac-toe, whose 5,478 positions all
fit (data/pretrained/README.md).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields

import numpy as np

from actor import _tree_kernels
from actor.mcts import DEFAULT_C_PUCT, Evaluator, Forest, build_kernels, pool_sizes, seed_numba
from engine import get_game
from engine.game import Game
from engine.records import GameRecord

# The inference batch: best or level with the best in `benchmarks/selfplay.py --sweep`.
DEFAULT_GAMES_IN_PARALLEL = 128


@dataclass
class SelfPlayConfig:
    """Self-play settings of one worker. `default_config(game)` fills the game's values
    (`Game.settings`: temperature moves ~ the opening where varied play matters, simulations
    small enough for a 2-core machine)."""

    games_in_parallel: int = DEFAULT_GAMES_IN_PARALLEL
    simulations: int = 100  # root child visits per move (reused visits count)
    c_puct: float = DEFAULT_C_PUCT
    dirichlet_alpha: float | None = None  # None: the game's default
    dirichlet_fraction: float = 0.25
    temperature_moves: int = 3  # sample by visit counts for this many plies, then...
    final_temperature: float = 0.0  # ...sample at this temperature (0: the most visited)
    opening_moves: int = 0  # each game starts after 0..this many uniformly random moves
    leaves_per_tree: int = 1  # leaves per tree per batch (virtual loss beyond 1)
    tree_reuse: bool = True
    eval_cache: int = 1 << 16  # network answers kept, by position (0: none); a power of two
    min_new_simulations: int | None = None  # None: simulations // 4 (at least 1)
    extra: dict = field(default_factory=dict)  # free-form notes kept with the run's config

    def validate(self) -> SelfPlayConfig:
        if self.games_in_parallel < 1 or self.simulations < 1 or self.leaves_per_tree < 1:
            raise ValueError("games_in_parallel, simulations and leaves_per_tree must be >= 1")
        if not 0.0 <= self.dirichlet_fraction <= 1.0:
            raise ValueError(f"dirichlet_fraction must be in 0..1, got {self.dirichlet_fraction}")
        # `not x > 0` also refuses NaN, and the bound inf: NaN noise made numba's gamma draw
        # spin forever, a NaN c_puct made every search pick the first move.
        alpha = self.dirichlet_alpha
        if alpha is not None and not 0 < alpha < math.inf:
            raise ValueError(f"dirichlet_alpha must be a finite number > 0, got {alpha}")
        if not 0 < self.c_puct < math.inf:
            raise ValueError(f"c_puct must be a finite number > 0, got {self.c_puct}")
        if self.temperature_moves < 0:
            raise ValueError("temperature_moves must be >= 0")
        if not 0.0 <= self.final_temperature <= 10.0:
            raise ValueError("final_temperature must be between 0 and 10")
        if self.eval_cache < 0 or self.eval_cache & (self.eval_cache - 1):
            raise ValueError(f"eval_cache must be 0 or a power of two, got {self.eval_cache}")
        if not 0 <= self.opening_moves <= 100:
            raise ValueError(f"opening_moves must be between 0 and 100, got {self.opening_moves}")
        return self

    def check_memory(self, game: Game) -> SelfPlayConfig:
        """Refuses search trees that would take more than half of the machine's memory, with
        what they would take, before a worker fails to allocate them (--games-in-parallel 1e8
        asks for 5 TiB)."""
        need = Forest.bytes_needed(
            game, self.games_in_parallel, *pool_sizes(game, self.simulations)
        )
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if need > machine // 2:
            raise ValueError(
                f"games_in_parallel {self.games_in_parallel:,} with {self.simulations:,}"
                f" simulations needs {need / 2**30:,.1f} GiB of search trees per worker, more"
                f" than half of this machine's {machine / 2**30:,.0f} GiB"
            )
        return self


def default_config(game: Game | str, **overrides) -> SelfPlayConfig:
    """The self-play config for `game`, with `overrides` (None values are ignored)."""
    game = get_game(game) if isinstance(game, str) else game
    names = {item.name for item in fields(SelfPlayConfig)}
    config = SelfPlayConfig(**{k: v for k, v in game.settings.items() if k in names})
    for key, value in overrides.items():
        if value is not None:
            if not hasattr(config, key):
                raise ValueError(f"unknown self-play setting {key!r}")
            setattr(config, key, value)
    return config.validate()


class SelfPlay:
    """G self-play games advanced together; call `step(evaluator)` in a loop.

    Between steps the next batch is already selected and encoded (`advance` ends with the
    selection), so one step costs one evaluator call and one jitted call: Python overhead per
    step is a few microseconds, whatever the batch size.
    """

    def __init__(self, game: Game, config: SelfPlayConfig | None = None, seed: int = 0) -> None:
        self.game = game
        self.config = (config or default_config(game)).validate()
        cfg = self.config
        self.kernels = build_kernels(game, False)
        games = cfg.games_in_parallel
        max_nodes, max_rows = pool_sizes(game, cfg.simulations)
        self.forest = Forest.allocate(game, games, max_nodes, max_rows)
        self._tree = self.forest.arrays()
        self._scratch = Forest.allocate(game, 1, max_nodes, max_rows).arrays()
        self._order = np.zeros(max_nodes, np.int32)
        self.alpha = game.dirichlet_alpha if cfg.dirichlet_alpha is None else cfg.dirichlet_alpha
        self.min_new = cfg.min_new_simulations
        if self.min_new is None:
            self.min_new = max(1, cfg.simulations // 4)
        batch = games * cfg.leaves_per_tree
        self.batch_capacity = batch
        self._planes = np.zeros((batch, *game.plane_shape), np.float32)
        self._leaf_tree = np.zeros(batch, np.int64)
        self._leaf_node = np.zeros(batch, np.int64)
        self._no_logits = np.zeros((0, game.num_actions), np.float32)
        self._no_values = np.zeros(0, np.float32)
        self._games = np.zeros((games, _tree_kernels.GAME_FIELDS), np.int64)  # per-game slots
        self._games[:, _tree_kernels.ACTIVE] = 1
        self._games[:, _tree_kernels.NOISE] = cfg.dirichlet_fraction > 0
        self._games[:, _tree_kernels.TARGET] = cfg.simulations
        self._games[:, _tree_kernels.TEMPERATURE_MOVES] = cfg.temperature_moves
        length = game.max_game_length
        self._rec_moves = np.zeros((games, length), np.int64)
        self._rec_visits = np.zeros((games, length, game.num_actions), np.float32)
        self._rec_values = np.zeros((games, length), np.float32)
        self._openings = np.zeros((games, length), np.int64)  # see `_tree_kernels.new_game`
        self._opening_moves = min(cfg.opening_moves, length)
        self._initial = game.initial_state()
        entries = max(cfg.eval_cache, 1)  # one unused slot when off: the kernels take arrays
        self._cache = (
            np.zeros(entries, np.int64),
            np.zeros((entries, game.state_size), np.int64),
            np.zeros((entries, game.num_actions), np.float32),
            np.zeros(entries, np.float32),
        )
        self._cache_model: Evaluator | None = None  # whose answers the cache holds
        seed_numba(seed)
        work, mask = self._initial.copy(), np.zeros(game.num_actions, np.bool_)
        for t in range(games):
            self.kernels.new_game(
                self._tree, t, self._games, self._openings, self._initial,
                self._opening_moves, work, mask, cfg.simulations,
            )  # fmt: skip
            self._start_record(t)
        self._pending = -1  # leaves selected and encoded, waiting for the evaluator (-1: none)
        self.positions = 0  # moves played
        self.nn_evals = 0  # positions sent to the evaluator
        self.batches = 0  # evaluator calls
        self.games = 0  # games finished

    @property
    def batch_fill(self) -> float:
        """Mean share of the batch capacity used per evaluator call."""
        return self.nn_evals / max(1, self.batches * self.batch_capacity)

    def step(self, evaluator: Evaluator | None) -> list[GameRecord]:
        """One evaluate -> backup -> play -> select round for all games; the games that
        finished."""
        if evaluator is not self._cache_model:  # a new model: its own answers only
            self._cache[0][:] = 0
            self._cache_model = evaluator
        if self._pending < 0:  # the first step: nothing selected yet
            self._pending = self._advance(0, self._no_logits, self._no_values)[0]
        count = self._pending
        logits, values = self._no_logits, self._no_values
        if count:
            logits, values = self._evaluate(evaluator, count)
            self.nn_evals += count
            self.batches += 1
        next_count, moves, finished = self._advance(count, logits, values)
        if next_count < 0:
            raise ValueError("evaluator returned non-finite numbers")
        self._pending = next_count
        self.positions += moves
        return self._collect_finished() if finished else []

    def _advance(self, count: int, logits: np.ndarray, values: np.ndarray) -> tuple:
        cfg = self.config
        return self.kernels.advance(
            self._tree,
            self._scratch,
            self._order,
            self._games,
            self._rec_moves,
            self._rec_visits,
            self._rec_values,
            self._openings,
            self._initial,
            count,
            logits,
            values,
            self._planes,
            self._leaf_tree,
            self._leaf_node,
            cfg.leaves_per_tree,
            cfg.c_puct,
            self.alpha,
            cfg.dirichlet_fraction,
            cfg.simulations,
            self.min_new,
            cfg.tree_reuse,
            cfg.final_temperature,
            self._opening_moves,
            self._cache,
            cfg.eval_cache > 0 and self._cache_model is not None,
        )

    def _evaluate(self, evaluator: Evaluator | None, count: int) -> tuple:
        """The evaluator's answer for the pending batch, shape- and type-checked (finiteness is
        checked in the jitted `advance` before anything is used): `mcts.evaluate`'s checks at
        a fraction of the Python cost."""
        num_actions = self.game.num_actions
        if evaluator is None:
            return np.zeros((count, num_actions), np.float32), np.zeros(count, np.float32)
        logits, values = evaluator(self._planes[:count])
        if not (
            type(logits) is np.ndarray and logits.dtype == np.float32 and logits.flags.c_contiguous
        ):
            logits = np.ascontiguousarray(logits, dtype=np.float32)
        if not (type(values) is np.ndarray and values.dtype == np.float32):
            values = np.asarray(values, dtype=np.float32)
        if values.ndim != 1:
            values = values.reshape(-1)
        if logits.shape != (count, num_actions) or values.shape != (count,):
            raise ValueError(
                f"evaluator returned policy {logits.shape} and value {values.shape} for a batch"
                f" of {count}; expected ({count}, {num_actions}) and ({count},)"
            )
        return logits, values

    def _collect_finished(self) -> list[GameRecord]:
        records = []
        slots = self._games
        for t in np.flatnonzero(slots[:, _tree_kernels.FINISHED]):
            ply = int(slots[t, _tree_kernels.PLY])
            records.append(
                GameRecord(
                    moves=self._rec_moves[t, :ply].copy(),
                    visits=self._rec_visits[t, :ply].copy(),
                    root_values=self._rec_values[t, :ply].copy(),
                    outcome=int(slots[t, _tree_kernels.OUTCOME]),
                )
            )
            slots[t, _tree_kernels.FINISHED] = 0
            self._start_record(t)
        self.games += len(records)
        return records

    def _start_record(self, t: int) -> None:
        """Slot t's record rows begin with its new game's random opening moves: played
        without a search, they get an all-zero visit row (no policy or value target)."""
        plies = int(self._games[t, _tree_kernels.OPENING])
        self._rec_moves[t, :plies] = self._openings[t, :plies]
        self._rec_visits[t, :plies] = 0.0
        self._rec_values[t, :plies] = 0.0
        self._games[t, _tree_kernels.PLY] = plies
