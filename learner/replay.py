"""Training data from replay.db: incremental reads, a jitted decoder, an in-memory ring window.

Sampling with `ORDER BY RANDOM() LIMIT n` would read the whole table for every batch. Instead
the learner reads each row once (`WHERE id > last_id`), rebuilds the network inputs by replaying
the moves through the engine in one jitted call per chunk of rows, and keeps the newest
`window_positions` positions in preallocated ring arrays. A batch is then a uniform random
index draw plus one jitted gather that applies a random board symmetry per sample.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from engine.game import FIRST_PLAYER_WON, ONGOING, SECOND_PLAYER_WON, Game
from engine.records import RecordError, decode_game_record, max_blob_bytes
from learner.config import ConfigError
from runfiles.layout import open_replay_db

log = logging.getLogger("learner.replay")

DAMAGED_LOG_EVERY_S = 30.0


# --------------------------------------------------------------------------- decoding


@functools.cache
def build_decoder(game: Game):
    """A jitted `decode(moves, offsets, outcomes, visits, planes, values) -> ok`.

    For `n` games with moves `moves[offsets[g]:offsets[g+1]]` and outcomes (1 first player
    won, -1 second, 0 draw) it fills `planes[i]` (float32 [C, H, W]) with the position before
    move i and `values[i]` with the outcome from the side to move's view. `ok[g]` is False when
    game g has an out-of-range or illegal move, a move after the end, visits on an illegal move,
    no end (the outcome of an unfinished game is made up), or an outcome that contradicts the
    final position; its rows are then garbage and must be dropped.
    """
    initial_state = game.initial_state
    legal_mask = game.legal_mask
    apply_action = game.apply_action
    status = game.status
    to_play = game.to_play
    encode = game.encode
    num_actions = game.num_actions

    @numba.njit
    def decode(moves, offsets, outcomes, visits, planes, values):
        num_games = offsets.shape[0] - 1
        ok = np.ones(num_games, dtype=np.bool_)
        for g in range(num_games):
            state = initial_state()
            outcome = outcomes[g]
            for i in range(offsets[g], offsets[g + 1]):
                action = moves[i]
                if status(state) != ONGOING or action < 0 or action >= num_actions:
                    ok[g] = False
                    break
                legal = legal_mask(state)
                if not legal[action]:
                    ok[g] = False
                    break
                for a in range(num_actions):
                    if visits[i, a] != 0.0 and not legal[a]:
                        ok[g] = False
                if not ok[g]:
                    break
                planes[i] = 0.0
                encode(state, planes[i])
                values[i] = outcome if to_play(state) == 0 else -outcome
                apply_action(state, action)
            if ok[g]:
                final = status(state)
                if final == ONGOING:
                    ok[g] = False
                elif final == FIRST_PLAYER_WON and outcome != 1:
                    ok[g] = False
                elif final == SECOND_PLAYER_WON and outcome != -1:
                    ok[g] = False
                elif final != ONGOING and final != FIRST_PLAYER_WON and final != SECOND_PLAYER_WON:
                    if outcome != 0:
                        ok[g] = False
        return ok

    return decode


def decode_moves(game: Game, moves: np.ndarray, outcome: int = 0) -> np.ndarray:
    """Planes float32 [n, C, H, W] of the positions before each of one finished game's
    `moves`."""
    moves = np.asarray(moves, dtype=np.int64)
    planes = np.empty((len(moves), *game.plane_shape), dtype=np.float32)
    values = np.empty(len(moves), dtype=np.float32)
    offsets = np.array([0, len(moves)], dtype=np.int64)
    no_visits = np.zeros((len(moves), game.num_actions), np.float32)
    outcomes = np.array([outcome], np.int64)
    if not build_decoder(game)(moves, offsets, outcomes, no_visits, planes, values)[0]:
        raise RecordError("illegal move sequence, or a game that does not end")
    return planes


# --------------------------------------------------------------------------- sampling


def draw_uniform(rng: np.random.Generator, high: int, size: int) -> np.ndarray:
    """`size` uniform integers in [0, high) (high < 2**31: float64 floor bias is negligible).

    Not `rng.integers`: right after a torch training step its first call costs ~80 us on this
    machine against ~10 us for `rng.random`, a sizeable share of a small network's step.
    """
    draw = (rng.random(size) * high).astype(np.int64)
    return np.minimum(draw, high - 1, out=draw)


@numba.njit(cache=True)
def gather_symmetric(
    planes, policy, values, draw, symmetries, cell_perms, action_perms, out_planes, out_policy
):
    """out[b] = position draw[b] // symmetries seen through symmetry draw[b] % symmetries;
    returns the value targets.

    planes [W, C, cells], policy [W, A]; out_planes float32 [B, C, cells], out_policy [B, A].
    Same mapping as engine.symmetry: the entry at cell i moves to cell cell_perms[g, i].
    """
    batch = draw.shape[0]
    num_planes = planes.shape[1]
    cells = planes.shape[2]
    num_actions = policy.shape[1]
    out_values = np.empty(batch, dtype=np.float32)
    for b in range(batch):
        j = draw[b] // symmetries
        g = draw[b] % symmetries
        for c in range(num_planes):
            for i in range(cells):
                out_planes[b, c, cell_perms[g, i]] = planes[j, c, i]
        for a in range(num_actions):
            out_policy[b, action_perms[g, a]] = policy[j, a]
        out_values[b] = values[j]
    return out_values


class ReplayWindow:
    """The newest `capacity` positions in preallocated ring arrays.

    Planes are stored as uint8 (the encodings are 0/1 planes, 4x less memory than float32);
    if a game's encoding ever yields a value uint8 cannot hold exactly, the ring switches to
    float32 once, so no game has to promise anything.
    """

    def __init__(self, game: Game, capacity: int, symmetries: list[int] | None = None) -> None:
        """`symmetries`: the indices of the game's symmetries a sample is drawn through (None:
        all; benchmarks/othello_symmetries.py compares all 8 with Othello's 4 that keep its
        start position, and all 8 did at least as well)."""
        self.game = game
        self.capacity = int(capacity)
        cells = game.rows * game.cols
        per_position = game.num_planes * cells + 4 * game.num_actions + 4 + 8  # the arrays below
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        need = self.capacity * per_position
        if need > machine // 2:  # numpy's traceback came later, or none (overcommit)
            raise ConfigError(
                f"window_positions {self.capacity:,} needs {need / 2**30:,.1f} GiB for the"
                f" replay window, more than half of this machine's"
                f" {machine / 2**30:,.0f} GiB: use a smaller --window-positions"
            )
        self.planes = np.zeros((capacity, game.num_planes, cells), dtype=np.uint8)
        self.policy = np.zeros((capacity, game.num_actions), dtype=np.float32)
        self.values = np.zeros(capacity, dtype=np.float32)
        self.game_ids = np.zeros(capacity, dtype=np.int64)
        self.size = 0
        self.write_pos = 0
        chosen = slice(None) if symmetries is None else list(symmetries)
        self._cell_perms = np.ascontiguousarray(game.symmetry_cell_perms[chosen], dtype=np.int64)
        self._action_perms = np.ascontiguousarray(game.symmetry_action_perms[chosen], np.int64)

    def add(
        self, planes: np.ndarray, policy: np.ndarray, values: np.ndarray, game_ids: np.ndarray
    ) -> None:
        """Appends n positions (planes float32 [n, C, H, W]), overwriting the oldest."""
        n = len(values)
        if n == 0:
            return
        flat = planes.reshape(n, self.planes.shape[1], -1)
        if self.planes.dtype == np.uint8 and not np.array_equal(flat.astype(np.uint8), flat):
            log.warning("%s planes are not 0..255 integers: storing float32", self.game.name)
            self.planes = self.planes.astype(np.float32)
        if n > self.capacity:
            flat, policy, values, game_ids = (
                a[-self.capacity :] for a in (flat, policy, values, game_ids)
            )
            n = self.capacity
        first = min(n, self.capacity - self.write_pos)
        for src, dst in ((0, self.write_pos), (first, 0)):
            count = first if src == 0 else n - first
            if count == 0:
                continue
            self.planes[dst : dst + count] = flat[src : src + count]
            self.policy[dst : dst + count] = policy[src : src + count]
            self.values[dst : dst + count] = values[src : src + count]
            self.game_ids[dst : dst + count] = game_ids[src : src + count]
        self.write_pos = (self.write_pos + n) % self.capacity
        self.size = min(self.capacity, self.size + n)

    def oldest_game_id(self) -> int:
        """Id of the game of the oldest position held (0 when empty)."""
        if self.size == 0:
            return 0
        return int(self.game_ids[self.write_pos if self.size == self.capacity else 0])

    def sample(
        self, batch_size: int, rng: np.random.Generator, augment: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`batch_size` positions drawn uniformly (with replacement), each through a random
        symmetry: planes float32 [B, C, H, W], policy float32 [B, A], values float32 [B]."""
        if self.size == 0:
            raise ValueError("the replay window is empty")
        symmetries = self._cell_perms.shape[0] if augment else 1
        draw = draw_uniform(rng, self.size * symmetries, batch_size)
        game = self.game
        out_planes = np.empty((batch_size, game.num_planes, game.rows * game.cols), np.float32)
        out_policy = np.empty((batch_size, game.num_actions), dtype=np.float32)
        values = gather_symmetric(
            self.planes,
            self.policy,
            self.values,
            draw,
            symmetries,
            self._cell_perms,
            self._action_perms,
            out_planes,
            out_policy,
        )
        return out_planes.reshape(batch_size, *game.plane_shape), out_policy, values


# --------------------------------------------------------------------------- database


class ReplayUnavailable(Exception):
    """replay.db is missing, busy or unreadable right now; try again later."""


class ReplayDamaged(ReplayUnavailable):
    """replay.db is not SQLite or is damaged ("database disk image is malformed"): it stays so
    until someone replaces it, so it is reported as an error, not as waiting for data."""


def _is_damage(error: sqlite3.Error) -> bool:
    name = getattr(error, "sqlite_errorname", "")
    text = str(error)
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or any(
        words in text for words in ("malformed", "not a database")
    )


class ReplayDB:
    """Read and trim access to table `games`; never creates the database (the actor does)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._damage_logged_at: float | None = None

    def _unavailable(self, doing: str, error: sqlite3.Error) -> ReplayUnavailable:
        """The exception for `error`; damage is also logged as an error that says how to
        recover (every DAMAGED_LOG_EVERY_S while it lasts)."""
        self.close()
        if not _is_damage(error):
            return ReplayUnavailable(f"{doing} {self.path} failed: {error}")
        now = time.monotonic()
        if self._damage_logged_at is None or now - self._damage_logged_at >= DAMAGED_LOG_EVERY_S:
            self._damage_logged_at = now
            log.error(
                "%s is damaged (%s): the learner cannot read games from it. Stop the actor and"
                " the learner, move it aside (with its -wal and -shm files, if any), e.g."
                " `mv %s %s.bad`, and start both again: the actor starts a new one",
                self.path, error, self.path, self.path,
            )  # fmt: skip
        return ReplayDamaged(f"{self.path} is damaged ({error}); move it aside")

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        if not self.path.exists():
            raise ReplayUnavailable(f"{self.path} does not exist yet")
        try:
            # never creates the file; the trims' big DELETEs grow the WAL: the size limit cuts
            # it back after each checkpoint
            connection = open_replay_db(self.path, never_create=True)
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='games'"
            ).fetchone()
        except sqlite3.Error as error:
            raise self._unavailable("opening", error) from None
        if found is None:
            connection.close()
            raise ReplayUnavailable(f"{self.path} has no table games yet")
        self._connection = connection
        return connection

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self._connect().execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise self._unavailable("reading", error) from None

    def first_id_for_window(self, window_positions: int) -> int:
        """The id of the oldest game needed to fill a window of the newest positions."""
        rows = self._query(
            "SELECT id FROM (SELECT id, SUM(num_moves) OVER (ORDER BY id DESC) AS total"
            " FROM games) WHERE total >= ? ORDER BY id DESC LIMIT 1",
            (window_positions,),
        )
        if rows:
            return int(rows[0][0])
        rows = self._query("SELECT MIN(id) FROM games")
        return int(rows[0][0] or 0)

    def newest_id(self) -> int:
        """The id of the newest game (0 when the table is empty)."""
        return int(self._query("SELECT COALESCE(MAX(id), 0) FROM games")[0][0])

    def read_after(
        self, last_id: int, limit: int, max_bytes: int = 2**31
    ) -> list[tuple[int, int, int, bytes | None]]:
        """Up to `limit` rows (id, outcome, model_step, data) with id > last_id, oldest first;
        data is None where it is larger than `max_bytes` (not loaded: no game is that big)."""
        return self._query(
            "SELECT id, outcome, model_step, CASE WHEN length(data) <= ? THEN data END"
            " FROM games WHERE id > ? ORDER BY id LIMIT ?",
            (max_bytes, last_id, limit),
        )

    def delete_before(self, cutoff_id: int) -> int:
        """Deletes games with id < cutoff_id in one short write transaction; rows deleted."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                cursor = connection.execute("DELETE FROM games WHERE id < ?", (cutoff_id,))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise self._unavailable("trimming", error) from None
        return int(cursor.rowcount)

    def count(self) -> tuple[int, int]:
        """(games, positions) in the table."""
        rows = self._query("SELECT COUNT(*), COALESCE(SUM(num_moves), 0) FROM games")
        return int(rows[0][0]), int(rows[0][1])

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


@dataclass
class IngestCounters:
    """What has come in; `new_positions` excludes rows re-read after a restart."""

    games: int = 0
    positions: int = 0
    new_positions: int = 0
    skipped_rows: int = 0


class Replay:
    """replay.db plus the in-memory window: `poll()` reads new games, `sample()` draws batches."""

    def __init__(
        self,
        game: Game,
        db_path: Path,
        window_positions: int,
        *,
        root_value_mix: float = 0.0,
        read_chunk_rows: int = 2_000,
    ) -> None:
        self.game = game
        self.db = ReplayDB(db_path)
        self.window = ReplayWindow(game, window_positions)
        self.root_value_mix = float(root_value_mix)
        self.read_chunk_rows = int(read_chunk_rows)
        self.last_id = 0
        self.resume_last_id = 0  # rows up to here were counted before a restart (the
        # checkpoint's): the replay-ratio throttle counts only newer games as new positions
        self.counters = IngestCounters()
        # (id, model step) of the games read, oldest first; those that left the window are
        # dropped as it moves on (`oldest_model_step`)
        self._game_steps: collections.deque[tuple[int, int]] = collections.deque()
        self._decode = build_decoder(game)
        self._max_bytes = max_blob_bytes(game.num_actions, game.max_game_length)
        self._started = False

    def poll(self, max_rows: int | None = None) -> int:
        """Reads every row newer than the last one read (at most `max_rows`); rows read.

        Raises ReplayUnavailable when the database is missing or busy (the caller waits).
        """
        if not self._started:
            if self.db.newest_id() < self.resume_last_id:
                log.info(
                    "%s holds no game after the checkpoint's last one (id %d): a new replay"
                    " database, so every game in it counts as new",
                    self.db.path,
                    self.resume_last_id,
                )
                self.resume_last_id = 0
            # num_moves counts random opening moves too, which are no training positions
            # (Connect 4: about a fifth of all moves): reading games worth just the window's
            # moves left it that much short after every restart, and the next trim deleted
            # the games skipped. Twice that many moves; the ring keeps the newest positions.
            first = self.db.first_id_for_window(2 * self.window.capacity)
            self.last_id = max(self.last_id, first - 1)
            self._started = True
        new_before = self.counters.new_positions
        total = 0
        while max_rows is None or total < max_rows:
            limit = (
                self.read_chunk_rows
                if max_rows is None
                else min(self.read_chunk_rows, max_rows - total)
            )
            rows = self.db.read_after(self.last_id, limit, self._max_bytes)
            if not rows:
                break
            self._ingest(rows)
            total += len(rows)
            if len(rows) < limit:
                break
        # Positions the ring dropped before this call returned were never there to train on:
        # only a window's worth of one read (a restart's, a long backlog's) counts as new, or
        # the replay-ratio throttle would let the learner run ahead of self-play on old data.
        added = self.counters.new_positions - new_before
        self.counters.new_positions = new_before + min(added, self.window.capacity)
        return total

    def _ingest(self, rows: list[tuple[int, int, int, bytes | None]]) -> None:
        game = self.game
        ids, outcomes, moves, visits, roots, steps = [], [], [], [], [], []
        for row_id, outcome, model_step, blob in rows:
            try:
                record = decode_game_record(game, blob, outcome, model_step)
                if record.num_moves == 0:
                    raise RecordError("record has no moves")
            except (RecordError, TypeError, ValueError) as error:  # a raise here would repeat
                self._skip(row_id, str(error))  # on every poll and stall training
                continue
            ids.append(row_id)
            outcomes.append(record.outcome)
            moves.append(record.moves)
            visits.append(record.visits)
            roots.append(record.root_values)
            steps.append(record.model_step)
        self.last_id = max(self.last_id, int(rows[-1][0]))
        if not ids:
            return
        lengths = np.array([len(m) for m in moves], dtype=np.int64)
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat_moves = np.concatenate(moves)
        planes = np.empty((len(flat_moves), *game.plane_shape), dtype=np.float32)
        values = np.empty(len(flat_moves), dtype=np.float32)
        policy = np.concatenate(visits)
        outcomes = np.array(outcomes, np.int64)
        ok = self._decode(flat_moves, offsets, outcomes, policy, planes, values)
        sums = policy.sum(axis=1)
        ok &= np.add.reduceat((policy < 0).any(axis=1).astype(np.int64), offsets[:-1]) == 0
        for g in np.flatnonzero(~ok):
            self._skip(
                ids[g], "illegal moves, bad visits, no end or an outcome the moves contradict"
            )
        searched = sums > 0  # an all-zero row: a move played without a search (random opening)
        keep = np.repeat(ok, lengths) & searched
        policy = policy[keep] / sums[keep, None]
        if self.root_value_mix > 0:
            root = np.concatenate(roots)[keep]
            mix = self.root_value_mix
            values_kept = ((1 - mix) * values[keep] + mix * root).astype(np.float32)
        else:
            values_kept = values[keep]
        row_ids = np.array(ids, np.int64)
        self.window.add(planes[keep], policy, values_kept, np.repeat(row_ids, lengths)[keep])
        good = zip(ids, steps, ok, strict=True)
        self._game_steps.extend((int(row_id), int(step)) for row_id, step, kept in good if kept)
        self._drop_games_left()
        self.counters.games += int(ok.sum())
        self.counters.positions += int(keep.sum())
        new_games = np.repeat(ok & (row_ids > self.resume_last_id), lengths)
        self.counters.new_positions += int((new_games & searched).sum())

    def _skip(self, row_id: int, reason: str) -> None:
        self.counters.skipped_rows += 1
        if self.counters.skipped_rows <= 20 or self.counters.skipped_rows % 1000 == 0:
            log.warning(
                "skipping undecodable replay row %d (%s); %d skipped so far",
                row_id,
                reason,
                self.counters.skipped_rows,
            )

    def _drop_games_left(self) -> None:
        """Forgets the model steps of games no position of which is in the window."""
        oldest = self.window.oldest_game_id()
        while self._game_steps and self._game_steps[0][0] < oldest:
            self._game_steps.popleft()

    def oldest_model_step(self) -> int | None:
        """The step of the model that played the window's oldest position (None: empty): the
        window's age, which its size alone (a flat line at capacity) does not tell."""
        if self.window.size == 0 or not self._game_steps:
            return None
        return self._game_steps[0][1]

    def trim_database(self) -> int:
        """Deletes the games that left the window from replay.db; rows deleted."""
        cutoff = self.window.oldest_game_id()
        if self.window.size < self.window.capacity or cutoff <= 0:
            return 0
        return self.db.delete_before(cutoff)

    def sample(self, batch_size: int, rng: np.random.Generator, augment: bool = True):
        return self.window.sample(batch_size, rng, augment)

    @property
    def size(self) -> int:
        return self.window.size

    def window_games(self) -> int:
        """Games with at least one position in the window."""
        window = self.window
        if window.size == 0:
            return 0
        ids = window.game_ids[: window.size]
        changes = int(np.count_nonzero(ids[1:] != ids[:-1]))  # ids ascend in ring order
        wrap = window.write_pos
        if window.size == window.capacity and wrap > 0:
            changes += int(ids[-1] != ids[0]) - int(ids[wrap - 1] != ids[wrap])
        return changes + 1

    def close(self) -> None:
        self.db.close()
