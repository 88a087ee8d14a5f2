"""Replay: decoding through the engine, the ring window, db trimming, sampling, symmetries."""

import numpy as np
import pytest

from engine import EngineContext, get_game
from engine.records import GameRecord
from engine.symmetry import transform_planes, transform_policy
from learner.replay import Replay, ReplayUnavailable, ReplayWindow, decode_moves, draw_uniform
from learner.synthetic import insert_raw, insert_records, random_records

TICTACTOE = get_game("tictactoe")
X_WINS = np.array([0, 3, 1, 4, 2])  # x: 0, 1, 2 wins; o: 3, 4


def legal_visits(moves: np.ndarray) -> np.ndarray:
    """Visit rows spread evenly over each position's legal moves (Tic-tac-toe)."""
    ctx = EngineContext("tictactoe")
    step = ctx.reset()
    rows = np.zeros((len(moves), 9), np.float32)
    for i, action in enumerate(moves):
        rows[i, step.legal_mask] = 1 / step.legal_mask.sum()
        step = ctx.step(step.state, int(action))
    return rows


def db_rows(path) -> list[tuple[int, int]]:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT id, num_moves FROM games ORDER BY id").fetchall()


@pytest.mark.parametrize("game_name", ["tictactoe", "connect4"])
def test_decoder_matches_engine_encoding(game_name) -> None:
    game = get_game(game_name)
    ctx = EngineContext(game_name)
    for record in random_records(game, 5, seed=3):
        planes = decode_moves(game, record.moves, record.outcome)
        state = ctx.reset().state
        for i, action in enumerate(record.moves):
            np.testing.assert_array_equal(planes[i], ctx.encode(state))
            state = ctx.step(state, int(action)).state


def test_values_are_outcome_from_side_to_move(tmp_path) -> None:
    # Positions alternate x, o, x, o, x to move.
    record = GameRecord(
        X_WINS,
        legal_visits(X_WINS),
        np.zeros(5, np.float32),
        outcome=1,
    )
    insert_records(tmp_path / "replay.db", [record])
    replay = Replay(TICTACTOE, tmp_path / "replay.db", 100, root_value_mix=0.0)
    assert replay.poll() == 1
    np.testing.assert_array_equal(replay.window.values[:5], [1, -1, 1, -1, 1])


def test_root_value_mix(tmp_path) -> None:
    record = GameRecord(
        X_WINS,
        legal_visits(X_WINS),
        np.full(5, 0.5, np.float32),
        outcome=1,
    )
    insert_records(tmp_path / "replay.db", [record])
    replay = Replay(TICTACTOE, tmp_path / "replay.db", 100, root_value_mix=0.5)
    replay.poll()
    np.testing.assert_allclose(replay.window.values[:5], [0.75, -0.25, 0.75, -0.25, 0.75])


def test_moves_played_without_a_search_are_no_training_positions(tmp_path) -> None:
    # Two random opening moves (all-zero visit rows), then three searched moves; x wins.
    visits = legal_visits(X_WINS)
    visits[:2] = 0.0
    record = GameRecord(X_WINS, visits, np.zeros(5, np.float32), outcome=1)
    insert_records(tmp_path / "replay.db", [record])
    replay = Replay(TICTACTOE, tmp_path / "replay.db", 100, root_value_mix=0.0)
    assert replay.poll() == 1
    assert replay.counters.skipped_rows == 0 and replay.counters.games == 1
    assert replay.size == replay.counters.positions == replay.counters.new_positions == 3
    np.testing.assert_array_equal(replay.window.values[:3], [1, -1, 1])  # x, o, x to move
    np.testing.assert_allclose(replay.window.policy[:3].sum(axis=1), 1.0, rtol=1e-6)
    planes = decode_moves(TICTACTOE, record.moves, outcome=1)
    np.testing.assert_array_equal(replay.window.planes[0], planes[2].reshape(2, -1))


def test_games_after_the_checkpoint_count_as_new(tmp_path) -> None:
    path = tmp_path / "replay.db"
    records = random_records(TICTACTOE, 5, seed=3)
    insert_records(path, records)  # ids 1..5
    same_db = Replay(TICTACTOE, path, 1000)
    same_db.resume_last_id = 3  # the checkpoint had read up to id 3 of this database
    same_db.poll()
    assert same_db.counters.new_positions == sum(r.num_moves for r in records[3:])
    new_db = Replay(TICTACTOE, path, 1000)
    new_db.resume_last_id = 150_000  # a checkpoint from another run (a shipped .pt, say)
    new_db.poll()  # without the check no game here would ever count and training would stall
    assert new_db.resume_last_id == 0
    assert new_db.counters.new_positions == sum(r.num_moves for r in records)


def test_reads_incrementally_and_keeps_newest_window(tmp_path) -> None:
    path = tmp_path / "replay.db"
    records = random_records(TICTACTOE, 40, seed=1)
    insert_records(path, records[:5])  # at most 45 positions: all fit the window
    replay = Replay(TICTACTOE, path, 60, read_chunk_rows=7)
    assert replay.poll() == 5
    assert replay.poll() == 0
    insert_records(path, records[5:])
    assert replay.poll() == 35
    newest = np.concatenate([r.visits for r in records])[-60:]
    order = (np.arange(60) + replay.window.write_pos) % 60  # oldest first
    np.testing.assert_allclose(replay.window.policy[order], newest, atol=2e-3)
    assert replay.counters.games == 40
    assert replay.window_games() == len(np.unique(replay.window.game_ids))


def test_first_read_skips_games_outside_the_window(tmp_path) -> None:
    """A (re)start reads the newest games worth twice the window's moves, not the whole file."""
    path = tmp_path / "replay.db"
    insert_records(path, random_records(TICTACTOE, 50, seed=2))
    replay = Replay(TICTACTOE, path, 30)
    replay.poll()
    rows = db_rows(path)
    lengths = [n for _, n in rows]
    needed = next(k for k in range(1, 51) if sum(lengths[-k:]) >= 60)
    assert replay.counters.games == needed < 50
    assert replay.size == 30


def test_positions_dropped_within_one_read_do_not_count_as_new(tmp_path) -> None:
    """A read of more than the window (a restart, a backlog) counts a window's worth as new:
    the replay-ratio throttle must not let the learner train on positions it never had."""
    path = tmp_path / "replay.db"
    records = random_records(TICTACTOE, 60, seed=6)
    insert_records(path, records[:50])
    replay = Replay(TICTACTOE, path, 40, read_chunk_rows=7)
    replay.poll()
    assert replay.size == 40 and replay.counters.new_positions == 40
    assert replay.counters.positions > 40  # more came in, and the ring dropped the oldest
    insert_records(path, records[50:52])  # a small read: every position counts
    replay.poll()
    assert replay.counters.new_positions == 40 + records[50].num_moves + records[51].num_moves


def test_a_restart_fills_the_window_although_openings_are_no_positions(tmp_path) -> None:
    """Connect 4 games start with random moves that are stored but not trained on: a restart
    must still fill the whole window from the games the database holds."""
    path = tmp_path / "replay.db"
    records = random_records(TICTACTOE, 60, seed=4)
    for record in records:
        record.visits[:2] = 0.0  # two random opening moves each: no training positions
    insert_records(path, records)
    trainable = sum(record.num_moves - 2 for record in records)
    capacity = trainable // 3
    running = Replay(TICTACTOE, path, capacity)
    running.poll()
    assert running.size == capacity  # full while it ran...
    running.trim_database()
    restarted = Replay(TICTACTOE, path, capacity)
    restarted.poll()
    assert restarted.size == capacity  # ...and full again after a restart
    np.testing.assert_array_equal(restarted.window.game_ids, running.window.game_ids)


def test_window_deletion_keeps_exactly_the_window(tmp_path) -> None:
    path = tmp_path / "replay.db"
    insert_records(path, random_records(TICTACTOE, 30, seed=4))
    replay = Replay(TICTACTOE, path, 50)
    replay.poll()
    insert_records(path, random_records(TICTACTOE, 30, seed=5))
    replay.poll()
    assert replay.trim_database() > 0
    rows = db_rows(path)
    window_ids = set(replay.window.game_ids.tolist())
    assert {row_id for row_id, _ in rows} == window_ids
    assert replay.window_games() == len(window_ids)
    total = sum(n for _, n in rows)
    # Every remaining game holds window positions; only the oldest may be partly outside.
    assert 50 <= total < 50 + rows[0][1]
    # A fresh learner reading the trimmed db rebuilds the same window.
    again = Replay(TICTACTOE, path, 50)
    again.poll()
    np.testing.assert_array_equal(np.sort(again.window.game_ids), np.sort(replay.window.game_ids))
    assert replay.trim_database() == 0


def test_undecodable_rows_are_skipped_and_counted(tmp_path) -> None:
    path = tmp_path / "replay.db"
    good = random_records(TICTACTOE, 3, seed=6)
    insert_records(path, good[:1])
    insert_raw(path, b"not a record")
    illegal = GameRecord(np.array([4, 4]), np.full((2, 9), 1 / 9, np.float32), np.zeros(2), 0)
    insert_records(path, [illegal])
    wrong_outcome = GameRecord(X_WINS, legal_visits(X_WINS), np.zeros(5), -1)
    insert_records(path, [wrong_outcome])
    wrong_actions = GameRecord(np.array([0]), np.full((1, 7), 1 / 7, np.float32), np.zeros(1), 0)
    insert_records(path, [wrong_actions])
    unfinished = GameRecord(X_WINS[:3], legal_visits(X_WINS[:3]), np.zeros(3), 1)
    insert_records(path, [unfinished])
    on_occupied = legal_visits(X_WINS)
    on_occupied[4, 0] = 0.5  # cell 0 was taken at the first move
    insert_records(path, [GameRecord(X_WINS, on_occupied, np.zeros(5), 1)])
    insert_records(path, good[1:])
    replay = Replay(TICTACTOE, path, 1000)
    assert replay.poll() == 9
    assert replay.counters.skipped_rows == 6
    assert replay.counters.games == 3
    assert replay.size == sum(r.num_moves for r in good)


def test_missing_database_is_waited_for(tmp_path) -> None:
    path = tmp_path / "replay.db"
    replay = Replay(TICTACTOE, path, 100)
    with pytest.raises(ReplayUnavailable):
        replay.poll()
    assert not path.exists()  # the learner never creates it
    insert_records(path, random_records(TICTACTOE, 2))
    assert replay.poll() == 2


def test_a_window_draws_only_the_symmetries_it_is_given() -> None:
    """Othello's symmetries 0, 3, 4 and 7 keep the start position; the other four swap its
    colours (benchmarks/othello_symmetries.py compares training on either set)."""
    othello = get_game("othello")
    start = np.zeros((1, *othello.plane_shape), np.float32)
    othello.encode(othello.initial_state(), start[0])
    policy = np.full((1, othello.num_actions), 1 / othello.num_actions, np.float32)
    rng = np.random.default_rng(0)
    for symmetries, all_start in (([0, 3, 4, 7], True), (None, False)):
        window = ReplayWindow(othello, 1, symmetries)
        window.add(start, policy, np.zeros(1, np.float32), np.ones(1, np.int64))
        planes = window.sample(64, rng)[0]
        assert all(np.array_equal(p, start[0]) for p in planes) == all_start


def test_sampling_is_uniform(tmp_path) -> None:
    window = ReplayWindow(TICTACTOE, 50)
    planes = np.zeros((50, *TICTACTOE.plane_shape), np.float32)
    values = np.arange(50, dtype=np.float32)  # the value identifies the position
    window.add(planes, np.zeros((50, 9), np.float32), values, np.arange(50))
    rng = np.random.default_rng(0)
    draws = np.concatenate([window.sample(500, rng)[2] for _ in range(40)]).astype(int)
    counts = np.bincount(draws, minlength=50)
    expected = len(draws) / 50
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    try:
        from scipy.stats import chi2 as chi2_dist

        assert chi2_dist.sf(chi2, df=49) > 1e-3
    except ImportError:  # critical value of chi-square with 49 dof at p = 0.001
        assert chi2 < 85.35


@pytest.mark.parametrize("game_name", ["tictactoe", "connect4"])
def test_symmetry_keeps_policy_and_planes_aligned(tmp_path, game_name) -> None:
    game = get_game(game_name)
    path = tmp_path / "replay.db"
    insert_records(path, random_records(game, 20, seed=7))
    replay = Replay(game, path, 10_000)
    replay.poll()
    window = replay.window
    planes, policy, values = window.sample(400, np.random.default_rng(1))
    # Reproduce the draw to know which position and symmetry each sample used.
    draw = draw_uniform(np.random.default_rng(1), window.size * game.num_symmetries, 400)
    index, symmetry = np.divmod(draw, game.num_symmetries)
    assert len(set(symmetry.tolist())) == game.num_symmetries
    stored = window.planes.reshape(-1, *game.plane_shape).astype(np.float32)
    for b in range(400):
        j, g = index[b], symmetry[b]
        np.testing.assert_array_equal(planes[b], transform_planes(game, stored[j], g))
        np.testing.assert_array_equal(policy[b], transform_policy(game, window.policy[j], g))
        assert values[b] == window.values[j]
    if game_name == "tictactoe":
        # Visits sit only on empty cells, before and after the transform.
        empty = (planes.sum(axis=1) == 0).reshape(400, 9)
        assert np.all((policy > 0) <= empty)


def test_a_zip_bomb_row_is_skipped_without_inflating_it(tmp_path) -> None:
    """A 1 MB row that inflates to 1 GiB must not grow the learner by gigabytes: rows larger
    than any game's record are not even loaded."""
    import struct
    import tracemalloc
    import zlib

    path = tmp_path / "replay.db"
    insert_records(path, random_records(TICTACTOE, 3, seed=1))
    replay = Replay(TICTACTOE, path, 1000)
    assert replay.poll() == 3  # compiles the decoder before memory is measured
    squeezer = zlib.compressobj(9)
    header = squeezer.compress(struct.pack("<4sHHHf", b"C2R1", 9, 5, 0, 0))
    insert_raw(path, header + b"".join(squeezer.compress(bytes(1 << 20)) for _ in range(64)))
    squeezer.flush()
    insert_raw(path, np.random.default_rng(0).bytes(1 << 20))  # 1 MB: too large for the game
    insert_records(path, random_records(TICTACTOE, 3, seed=2))
    tracemalloc.start()
    try:
        assert replay.poll() == 5
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert replay.counters.skipped_rows == 2 and replay.counters.games == 6
    assert peak < 8 << 20, peak


def test_a_damaged_replay_db_is_an_error_not_waiting(tmp_path, caplog) -> None:
    """A replay.db damaged in place (random bytes over pages) is an error, not "waiting for
    replay data: ... database disk image is malformed" every 30 s, forever."""
    from learner.replay import ReplayDamaged

    path = tmp_path / "replay.db"
    insert_records(path, random_records(TICTACTOE, 3000, seed=3))
    with open(path, "r+b") as file:
        for page in (3, 10, 20):
            file.seek(page * 4096)
            file.write(np.random.default_rng(page).bytes(4096))
    replay = Replay(TICTACTOE, path, 100_000)
    with caplog.at_level("ERROR", logger="learner.replay"), pytest.raises(ReplayDamaged):
        replay.poll()
    assert isinstance(ReplayDamaged("x"), ReplayUnavailable)  # the learner keeps running
    assert "is damaged" in caplog.text and "aside" in caplog.text, caplog.text
