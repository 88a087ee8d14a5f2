"""The replay database `<data-dir>/<game>/replay.db`: one INSERT per finished self-play game.

Several worker processes and the learner share the file, so it runs in WAL mode with a busy
timeout, and every write is one short `BEGIN IMMEDIATE` transaction (a deferred transaction
that upgrades to a writer can fail with "database is locked" despite the timeout).
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from engine.game import Game
from engine.records import (
    REPLAY_COLUMNS,
    REPLAY_SCHEMA,
    GameRecord,
    RecordError,
    decode_game_record,
    encode_record,
    max_blob_bytes,
)
from runfiles.layout import open_replay_db

INSERT_ATTEMPTS = 3
SETUP_ATTEMPTS = 30  # about 9 s of retries in all


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves), WAL, busy timeout set."""
    path = Path(path)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(path)
    connection = open_replay_db(path)
    if create:
        _set_up(connection)
    return connection


def _set_up(connection: sqlite3.Connection) -> None:
    """WAL mode, sync level and the table. Workers that open a new file at the same moment can
    get "database is locked" at once while one of them switches it to WAL (SQLite skips the
    busy handler there), so the setup is retried for a few seconds."""
    for attempt in range(SETUP_ATTEMPTS):
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives process kills
            connection.execute(REPLAY_SCHEMA)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == SETUP_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))


class ReplayDBError(Exception):
    """replay.db cannot take games as it is; the message names the file, the fault and the fix."""


def move_aside_hint(path: Path) -> str:
    """How to recover from a replay.db that cannot be used (its games are lost for training)."""
    return (
        f"stop the actor and the learner, move {path} aside (with its -wal and -shm files, if"
        f" any), e.g. `mv {path} {path}.bad`, and start both again: the actor starts a new one"
    )


def describe_db_error(path: Path, error: sqlite3.Error) -> str:
    """What `error` means for replay.db at `path`, and what to do about it."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith("SQLITE_NOTADB") or "not a database" in str(error):
        return f"{path} is not an SQLite database ({error}): {move_aside_hint(path)}"
    if name.startswith("SQLITE_CORRUPT") or "malformed" in str(error):
        return f"{path} is damaged ({error}): {move_aside_hint(path)}"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return (
            f"{path} cannot be written ({error}): make it and its folder writable (chmod,"
            f" chattr -i), or {move_aside_hint(path)}"
        )
    return f"{path} cannot be used ({error})"


def check_replay_db(path: Path) -> None:
    """Raises ReplayDBError, with what is wrong and how to recover, when replay.db exists but
    self-play could not store games in it: not SQLite, damaged (PRAGMA quick_check reads every
    page, once per start), table `games` without the shared columns, or not writable. Run
    before the workers start, so that such a file stops the start with this reason rather than
    killing a worker, or having it retry forever while /api/health says ok. A missing file is
    fine: the workers create it."""
    path = Path(path)
    if not path.exists():
        return
    try:
        connection = connect(path, create=False)
    except sqlite3.Error as error:
        raise ReplayDBError(describe_db_error(path, error)) from None
    try:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            found = " ".join(" ".join(str(problem).split()) for problem in problems)[:600]
            raise ReplayDBError(f"{path} is damaged ({found}): {move_aside_hint(path)}")
        columns = {row[1] for row in connection.execute("PRAGMA table_info(games)")}
        missing = [column for column in REPLAY_COLUMNS if column not in columns]
        if columns and missing:
            raise ReplayDBError(
                f"{path} is not a replay database of this version: its table games lacks"
                f" {', '.join(missing)}: {move_aside_hint(path)}"
            )
        connection.execute("BEGIN IMMEDIATE")  # a write probe: only a write reports read-only
        try:
            connection.execute(REPLAY_SCHEMA)
            connection.execute("DELETE FROM games WHERE 0")
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
    except sqlite3.Error as error:
        raise ReplayDBError(describe_db_error(path, error)) from None
    finally:
        connection.close()


@dataclass
class StoredGame:
    """A row of table `games` with its record decoded."""

    id: int
    created_at: float
    record: GameRecord


class ReplayWriter:
    """Appends finished games; one instance per process (sqlite connections are not shared)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connection = connect(self.path)

    def insert(self, record: GameRecord, created_at: float | None = None) -> int:
        """Stores one game in its own short transaction and returns its id."""
        blob = encode_record(record)
        created_at = time.time() if created_at is None else created_at
        for attempt in range(INSERT_ATTEMPTS):
            try:
                return self._insert_once(record, blob, created_at)
            except sqlite3.OperationalError as error:
                # Only after the 30 s busy timeout: another process held the lock that long.
                if attempt == INSERT_ATTEMPTS - 1 or "locked" not in str(error):
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def _insert_once(self, record: GameRecord, blob: bytes, created_at: float) -> int:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            cursor = connection.execute(
                "INSERT INTO games (created_at, model_step, num_moves, outcome, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (created_at, int(record.model_step), record.num_moves, int(record.outcome), blob),
            )
            connection.execute("COMMIT")
        except BaseException:
            # SQLite has rolled back already after a full disk or an I/O error: a ROLLBACK then
            # raised "no transaction is active" and hid the real error.
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return int(cursor.lastrowid)

    def newest_id(self) -> int:
        """The id of the newest stored game (0: none)."""
        return int(self._connection.execute("SELECT COALESCE(MAX(id), 0) FROM games").fetchone()[0])

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> ReplayWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_newest(path: Path, limit: int, game: Game) -> tuple[list[StoredGame], int]:
    """The newest `limit` games (newest first) and how many rows were skipped as undecodable
    or not of `game` (other actions, more moves than its longest game: such a row cost the
    API seconds and gigabytes, and the learner refuses it anyway).

    A missing database is an empty list: the run may not have started yet.
    """
    games, skipped = [], 0
    for row in _select_games(path, game, "ORDER BY id DESC LIMIT ?", int(limit)):
        try:
            games.append(_decode_row(game, row))
        except (RecordError, TypeError, ValueError):
            skipped += 1
    return games, skipped


def read_game(path: Path, game_id: int, game: Game) -> StoredGame | None:
    """The game with id `game_id`, or None when replay.db has no such row (the learner's window
    dropped it, or it never existed). Raises RecordError for a row that `read_newest` would
    skip: the API says why instead of pretending the game is gone."""
    rows = _select_games(path, game, "WHERE id = ?", int(game_id))
    if not rows:
        return None
    try:
        return _decode_row(game, rows[0])
    except (TypeError, ValueError) as error:  # RecordError is a ValueError
        raise RecordError(str(error)) from None


def _select_games(path: Path, game: Game, tail: str, *params: object) -> list[tuple]:
    """Rows (id, created_at, model_step, outcome, data) of table `games` chosen by the SQL
    `tail`; none when there is no database or table yet."""
    path = Path(path)
    if not path.exists():
        return []
    connection = connect(path, create=False)
    try:  # a blob too large for any game of this one is not even loaded (NULL: skipped)
        return connection.execute(
            "SELECT id, created_at, model_step, outcome,"
            f" CASE WHEN length(data) <= ? THEN data END FROM games {tail}",
            (max_blob_bytes(game.num_actions, game.max_game_length), *params),
        ).fetchall()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise
    finally:
        connection.close()


def _decode_row(game: Game, row: tuple) -> StoredGame:
    """A row of `_select_games` decoded within `game`'s bounds. Garbage in a typed column
    (SQLite stores what it is given) raises TypeError or ValueError, like a bad record."""
    row_id, created_at, model_step, outcome, blob = row
    record = decode_game_record(game, blob, outcome, model_step)
    created = float(created_at)
    if not math.isfinite(created):  # JSON has no NaN
        raise ValueError(f"created_at {created_at!r}")
    return StoredGame(int(row_id), created, record)


def count_games(path: Path) -> int:
    if not Path(path).exists():
        return 0
    connection = connect(Path(path), create=False)
    try:
        return int(connection.execute("SELECT count(*) FROM games").fetchone()[0])
    finally:
        connection.close()
