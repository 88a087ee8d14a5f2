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

from engine.records import REPLAY_SCHEMA, GameRecord, RecordError, decode_record, encode_record

BUSY_TIMEOUT_MS = 30_000
INSERT_ATTEMPTS = 3
SETUP_ATTEMPTS = 30  # about 9 s of retries in all


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves), WAL, busy timeout set."""
    path = Path(path)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(path)
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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


def read_newest(path: Path, limit: int) -> tuple[list[StoredGame], int]:
    """The newest `limit` games (newest first) and how many rows were skipped as undecodable.

    A missing database is an empty list: the run may not have started yet.
    """
    path = Path(path)
    if not path.exists():
        return [], 0
    connection = connect(path, create=False)
    try:
        rows = connection.execute(
            "SELECT id, created_at, model_step, outcome, data FROM games ORDER BY id DESC LIMIT ?",
            (int(limit),),
        ).fetchall()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return [], 0
        raise
    finally:
        connection.close()
    games, skipped = [], 0
    for row_id, created_at, model_step, outcome, blob in rows:
        try:  # garbage in a typed column (SQLite stores what it is given) skips the row too
            record = decode_record(blob, outcome, model_step)
            created = float(created_at)
            if not math.isfinite(created):  # JSON has no NaN
                raise ValueError(f"created_at {created_at!r}")
        except (RecordError, TypeError, ValueError):
            skipped += 1
            continue
        games.append(StoredGame(int(row_id), created, record))
    return games, skipped


def count_games(path: Path) -> int:
    if not Path(path).exists():
        return 0
    connection = connect(Path(path), create=False)
    try:
        return int(connection.execute("SELECT count(*) FROM games").fetchone()[0])
    finally:
        connection.close()
