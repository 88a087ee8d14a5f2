"""replay.db: a game written and read back is the game played; concurrent writers lose nothing."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest

from actor.replay_db import ReplayWriter, connect, count_games, read_newest
from engine import EngineContext, get_game
from engine.records import GameRecord


def play_random_game(name: str, seed: int) -> GameRecord:
    """A real game of `name` with random moves and made-up visit distributions."""
    rng = np.random.default_rng(seed)
    ctx = EngineContext(name)
    result = ctx.reset()
    moves, visits, values = [], [], []
    while not result.terminal:
        legal = np.flatnonzero(result.legal_mask)
        distribution = np.zeros(ctx.game.num_actions, dtype=np.float32)
        distribution[legal] = rng.random(len(legal)) + 0.01
        distribution /= distribution.sum()
        action = int(rng.choice(legal))
        moves.append(action)
        visits.append(distribution)
        values.append(rng.uniform(-1, 1))
        result = ctx.step(result.state, action)
    return GameRecord(
        np.array(moves, dtype=np.int64),
        np.array(visits, dtype=np.float32),
        np.array(values, dtype=np.float32),
        result.winner,
        model_step=seed,
    )


def test_record_round_trip_equals_the_game_played(tmp_path: Path) -> None:
    db = tmp_path / "tictactoe" / "replay.db"
    names = ["tictactoe", "connect4", "tictactoe"]
    played = [play_random_game(name, seed) for seed, name in enumerate(names)]
    with ReplayWriter(db) as writer:
        ids = [writer.insert(record) for record in played]
    assert ids == sorted(ids)
    stored, skipped = read_newest(db, 10, get_game("tictactoe"))
    assert skipped == 1  # the Connect 4 game: not one of this game's
    assert [item.id for item in stored] == [ids[2], ids[0]]  # newest first
    stored += read_newest(db, 10, get_game("connect4"))[0]
    for item, record in zip(stored, [played[2], played[0], played[1]], strict=True):
        got = item.record
        np.testing.assert_array_equal(got.moves, record.moves)
        np.testing.assert_allclose(got.visits, record.visits, atol=1e-3)
        np.testing.assert_allclose(got.root_values, record.root_values, atol=1e-3)
        assert (got.outcome, got.model_step, got.num_moves) == (
            record.outcome,
            record.model_step,
            record.num_moves,
        )
        # Replaying the stored moves reaches the stored outcome.
        game = get_game("tictactoe" if got.visits.shape[1] == 9 else "connect4")
        ctx = EngineContext(game.name)
        result = ctx.reset()
        for move in got.moves:
            result = ctx.step(result.state, int(move))
        assert result.terminal and result.winner == got.outcome


def test_database_uses_wal_and_the_shared_schema(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    ReplayWriter(db).close()
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    columns = [row[1] for row in connection.execute("PRAGMA table_info(games)")]
    assert columns == ["id", "created_at", "model_step", "num_moves", "outcome", "data"]
    connection.close()


def test_garbage_rows_are_skipped_by_the_reader(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    with ReplayWriter(db) as writer:
        writer.insert(play_random_game("tictactoe", 1))
    connection = connect(db)
    connection.execute(
        "INSERT INTO games (created_at, model_step, num_moves, outcome, data) VALUES (0,0,3,0,?)",
        (b"garbage",),
    )
    connection.close()
    stored, skipped = read_newest(db, 10, get_game("tictactoe"))
    assert len(stored) == 1 and skipped == 1


def test_missing_database_reads_as_empty(tmp_path: Path) -> None:
    assert read_newest(tmp_path / "none.db", 5, get_game("tictactoe")) == ([], 0)
    assert count_games(tmp_path / "none.db") == 0
    assert not (tmp_path / "none.db").exists()


def _open_at_once(db: str, barrier, errors) -> None:
    barrier.wait()  # every process opens the new file at the same moment
    try:
        connect(Path(db)).close()
    except sqlite3.Error as error:
        errors.put(str(error))


def test_processes_opening_a_new_db_at_once_all_succeed(tmp_path: Path) -> None:
    # Without the setup retry about one round in four had a "database is locked" here.
    context = multiprocessing.get_context("fork")  # cheap processes: rounds are the point
    errors = context.Queue()
    for round_ in range(15):
        barrier = context.Barrier(6)
        db = str(tmp_path / f"replay{round_}.db")
        processes = [
            context.Process(target=_open_at_once, args=(db, barrier, errors)) for _ in range(6)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
    assert errors.empty(), errors.get()


def _writer_process(db: str, worker: int, games: int) -> None:
    """Writes `games` small records (numpy only: spawned processes start fast)."""
    rng = np.random.default_rng(worker)
    with ReplayWriter(Path(db)) as writer:
        for index in range(games):
            num_moves = int(rng.integers(5, 10))
            visits = np.full((num_moves, 9), 1 / 9, np.float32)
            moves = rng.integers(0, 9, num_moves)
            values = np.zeros(num_moves, np.float32)
            writer.insert(GameRecord(moves, visits, values, 0, worker * 1000 + index))


def test_several_processes_writing_the_same_db_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    workers, games = 4, 60
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_writer_process, args=(str(db), w, games)) for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    connection = sqlite3.connect(db)
    steps = sorted(row[0] for row in connection.execute("SELECT model_step FROM games"))
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
    assert steps == sorted(w * 1000 + i for w in range(workers) for i in range(games))
    stored, skipped = read_newest(db, workers * games, get_game("tictactoe"))
    assert len(stored) == workers * games and skipped == 0


def test_a_full_disk_reports_itself_and_the_writer_goes_on(tmp_path: Path) -> None:
    """On a full disk SQLite has rolled back already: the writer's own ROLLBACK then raised "no
    transaction is active" and hid the cause. The error must say the disk is full, and the
    connection must take games again once there is room."""
    writer = ReplayWriter(tmp_path / "replay.db")
    writer.insert(play_random_game("connect4", 0))
    pages = writer._connection.execute("PRAGMA page_count").fetchone()[0]
    writer._connection.execute(f"PRAGMA max_page_count = {pages}")  # no room for another page
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for seed in range(1, 40):
            writer.insert(play_random_game("connect4", seed))
    writer._connection.execute("PRAGMA max_page_count = 1000000")
    assert writer.insert(play_random_game("connect4", 99)) > 1
    writer.close()


class RefusingWriter:
    """Takes games after refusing `refusals` inserts with SQLite's full-disk error."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.stored: list[GameRecord] = []

    def insert(self, record: GameRecord) -> int:
        if self.refusals:
            self.refusals -= 1
            raise sqlite3.OperationalError("database or disk is full")
        self.stored.append(record)
        return len(self.stored)


def test_self_play_waits_for_a_refusing_database_and_loses_no_game() -> None:
    """A full disk kills neither the worker with its finished games nor the actor: the worker
    waits and tries again, telling the actor it is alive meanwhile."""
    from actor.worker import store_all

    records = [play_random_game("tictactoe", seed) for seed in range(3)]
    writer, beats = RefusingWriter(refusals=4), []
    store_all(writer, records, lambda: False, lambda: beats.append(1), retry_s=0.01)
    assert [r.model_step for r in writer.stored] == [0, 1, 2] and len(beats) == 4
    stopping = RefusingWriter(refusals=100)
    store_all(stopping, records, lambda: True, lambda: None, retry_s=0.01)  # stopping: gives up
    assert stopping.stored == [] and stopping.refusals == 99


# ---- bad rows and bad files --------------------------------------------------------------------


def test_rows_that_do_not_fit_the_game_are_skipped_unread(tmp_path: Path) -> None:
    """Rows the learner refuses are skipped unread: a valid record with 65,535 actions (127 KB,
    seconds and gigabytes for /replays to decode), and a Connect 4 game in Tic-tac-toe's db."""
    db = tmp_path / "replay.db"
    with ReplayWriter(db) as writer:
        good = writer.insert(play_random_game("tictactoe", 1))
        writer.insert(play_random_game("connect4", 2))
        wide = np.full((20, 65535), 1 / 65535, np.float32)
        writer.insert(GameRecord(np.zeros(20, np.int64), wide, np.zeros(20, np.float32), 0))
        long = np.full((10, 9), 1 / 9, np.float32)  # more moves than a game of 9 cells has
        writer.insert(GameRecord(np.zeros(10, np.int64), long, np.zeros(10, np.float32), 0))
    stored, skipped = read_newest(db, 10, get_game("tictactoe"))
    assert [item.id for item in stored] == [good] and skipped == 3


def overwrite_pages(path: Path, pages: list[int]) -> None:
    """Random bytes over some pages in place, as `dd conv=notrunc` does."""
    rng = np.random.default_rng(3)
    with open(path, "r+b") as file:
        for page in pages:
            file.seek(page * 4096)
            file.write(rng.bytes(4096))


def many_games_db(path: Path, games: int = 400) -> None:
    with ReplayWriter(path) as writer:
        for seed in range(games):
            writer.insert(play_random_game("connect4", seed))
        writer._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def bad_replay_db(path: Path, kind: str) -> None:
    if kind == "random bytes":
        path.write_bytes(np.random.default_rng(1).bytes(100_000))
    elif kind == "damaged in place":
        many_games_db(path)
        overwrite_pages(path, [5, 20, 40])
    elif kind == "a column missing":
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE games (id INTEGER PRIMARY KEY, created_at REAL, data)")
        connection.commit()
        connection.close()


@pytest.mark.parametrize(
    "kind, words",
    [
        ("random bytes", "is not an SQLite database"),
        ("damaged in place", "is damaged"),
        ("a column missing", "lacks model_step, num_moves, outcome"),
    ],
)
def test_start_check_refuses_a_replay_db_that_cannot_take_games(
    tmp_path: Path, kind: str, words: str
) -> None:
    """Such a file is refused at start, saying why; otherwise it would kill the worker
    ("self-play worker 0 died"), take games unnoticed (damaged), or make self-play retry forever
    while /api/health says ok (schema)."""
    from actor.replay_db import ReplayDBError, check_replay_db

    db = tmp_path / "replay.db"
    bad_replay_db(db, kind)
    with pytest.raises(ReplayDBError) as refused:
        check_replay_db(db)
    message = str(refused.value)
    assert str(db) in message and words in message and "move" in message and "aside" in message


def test_start_check_refuses_a_replay_db_it_cannot_write(tmp_path: Path) -> None:
    from actor.replay_db import ReplayDBError, check_replay_db

    db = tmp_path / "replay.db"
    ReplayWriter(db).close()
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        if os.geteuid() == 0:
            pytest.skip("no chattr here, and root writes a read-only file")
        db.chmod(0o444)
    try:
        with pytest.raises(ReplayDBError, match="cannot be written"):
            check_replay_db(db)
    finally:
        subprocess.run(["chattr", "-i", str(db)], capture_output=True)
        db.chmod(0o644)


def test_start_check_takes_a_good_or_missing_replay_db(tmp_path: Path) -> None:
    from actor.replay_db import check_replay_db

    check_replay_db(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()
    many_games_db(tmp_path / "replay.db", games=5)
    check_replay_db(tmp_path / "replay.db")
    assert count_games(tmp_path / "replay.db") == 5


def test_the_worker_says_why_it_cannot_use_replay_db(tmp_path: Path, caplog) -> None:
    """The worker says why, so that the actor says more than "self-play worker 0 died (exit
    code 1)"."""
    from actor.config import ActorConfig
    from actor.worker import WorkerBoard, run_worker

    run = tmp_path / "data" / "tictactoe"
    run.mkdir(parents=True)
    bad_replay_db(run / "replay.db", "random bytes")
    config = ActorConfig(data_dir=tmp_path / "data", game="tictactoe", workers=1, worker_nice=0)
    board = WorkerBoard.create(multiprocessing.get_context("spawn"), 1)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:  # in this process: the worker sets its signal handlers
        with caplog.at_level("ERROR"), pytest.raises(SystemExit):
            run_worker(0, config, multiprocessing.Event(), board)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert "replay.db is not an SQLite database" in caplog.text, caplog.text


def test_the_wal_is_cut_back_after_a_trim(tmp_path: Path, monkeypatch) -> None:
    """A trim deletes a whole window's worth of games at once; the WAL it grows is cut back to
    WAL_SIZE_LIMIT_BYTES at the next checkpoint (SQLite keeps it at its largest otherwise)."""
    from engine import records
    from learner.replay import ReplayDB
    from learner.synthetic import random_records

    limit = 64 << 10
    monkeypatch.setattr(records, "WAL_SIZE_LIMIT_BYTES", limit)
    path = tmp_path / "replay.db"
    games = random_records(get_game("tictactoe"), 300, seed=1)
    writer = ReplayWriter(path)  # both stay open, as in a run: closing removes the WAL
    reader = ReplayDB(path)
    try:
        for _ in range(20):
            for game in games:
                writer.insert(game)
        assert reader.delete_before(10**9) == 6000
        wal = path.with_name("replay.db-wal")
        assert wal.stat().st_size > 10 * limit
        reader._connect().execute("PRAGMA wal_checkpoint(PASSIVE)")
        writer.insert(games[0])  # the first write after a checkpoint restarts the WAL
        assert wal.stat().st_size <= limit
    finally:
        writer.close()
        reader.close()
