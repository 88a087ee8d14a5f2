"""Solvers: Tic-tac-toe against plain brute-force minimax, Connect 4 against Pons' scores."""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from actor.evaluation_positions import PONS_DIR, PONS_SETS, read_pons_set
from engine.game import ONGOING
from engine.games import connect4 as connect4_rules
from engine.games import tictactoe as tictactoe_rules
from engine.solvers import best_actions, connect4, solve_action_values, tictactoe

# (set, positions checked for their value, positions checked move by move): the file runs < 60 s.
PONS_SAMPLES = [("Test_L3_R1", 1000, 50), ("Test_L2_R1", 1000, 50), ("Test_L2_R2", 400, 20),
                ("Test_L1_R1", 400, 15)]  # fmt: skip


# ---------------------------------------------------------------- tic-tac-toe


@functools.cache
def brute_force_value(board: tuple[str, ...], player: str) -> int:
    """Plain minimax on a 9-character board: +1 if `player` (to move) wins, 0 draw, -1 loss."""
    lines = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
    opponent = "o" if player == "x" else "x"
    if any(all(board[i] == opponent for i in line) for line in lines):
        return -1
    empty = [i for i, cell in enumerate(board) if cell == "."]
    if not empty:
        return 0
    return max(-brute_force_value(board[:i] + (player,) + board[i + 1 :], opponent) for i in empty)


def board_of(state: np.ndarray) -> tuple[tuple[str, ...], str]:
    first, second, moves = int(state[0]), int(state[1]), int(state[2])
    board = tuple("x" if first >> i & 1 else "o" if second >> i & 1 else "." for i in range(9))
    return board, "x" if moves % 2 == 0 else "o"


def tictactoe_state(moves: list[int]) -> np.ndarray:
    state = tictactoe_rules.initial_state()
    for move in moves:
        tictactoe_rules.apply_action(state, move)
    return state


def test_tictactoe_empty_board_is_a_draw_whatever_the_first_move() -> None:
    state = tictactoe_rules.initial_state()
    assert tictactoe.position_value(state) == 0
    np.testing.assert_array_equal(solve_action_values("tictactoe", state), np.zeros(9))


def test_tictactoe_known_positions() -> None:
    # x in the centre, o on an edge: x wins (e.g. by taking a corner next to the edge).
    state = tictactoe_state([4, 1])
    assert tictactoe.position_value(state) == 1
    # x in a corner, o in the centre: a draw; o on the adjacent edge instead loses.
    assert tictactoe.position_value(tictactoe_state([0, 4])) == 0
    assert tictactoe.position_value(tictactoe_state([0, 1])) == 1
    # x to complete the top row now; every other move lets o complete the middle row.
    values = solve_action_values("tictactoe", tictactoe_state([0, 3, 1, 4]))
    assert values[2] == 1
    assert best_actions("tictactoe", tictactoe_state([0, 3, 1, 4])) == [2]
    assert np.isnan(values[[0, 1, 3, 4]]).all()
    # o to move facing a double threat (0-4-8 and 2-4-6) loses whatever it does.
    values = solve_action_values("tictactoe", tictactoe_state([0, 1, 2, 7, 4]))
    legal = ~np.isnan(values)
    assert (values[legal] == -1).all() and legal.sum() == 4


def test_tictactoe_matches_brute_force_on_every_reachable_position() -> None:
    states = tictactoe.reachable_positions()
    assert states.shape == (tictactoe.REACHABLE_ONGOING_POSITIONS, 4) == (4520, 4)
    for state in states:
        board, player = board_of(state)
        values = tictactoe.action_values(state)
        assert tictactoe.position_value(state) == brute_force_value(board, player)
        opponent = "o" if player == "x" else "x"
        for cell in range(9):
            if board[cell] != ".":
                assert np.isnan(values[cell])
            else:
                child = board[:cell] + (player,) + board[cell + 1 :]
                assert values[cell] == -brute_force_value(child, opponent)


def test_tictactoe_reachable_positions_are_exactly_those_the_rules_reach() -> None:
    seen: set[tuple[int, ...]] = set()
    frontier = [tictactoe_rules.initial_state()]
    while frontier:
        state = frontier.pop()
        key = tuple(int(v) for v in state)
        if key in seen:
            continue
        seen.add(key)
        for action in np.flatnonzero(tictactoe_rules.legal_mask(state)):
            child = state.copy()
            tictactoe_rules.apply_action(child, int(action))
            frontier.append(child)
    everything = tictactoe.reachable_positions(include_finished=True)
    assert len(everything) == tictactoe.REACHABLE_POSITIONS == len(seen)
    assert {tuple(int(v) for v in s) for s in everything} == seen
    ongoing = {tuple(int(v) for v in s) for s in tictactoe.reachable_positions()}
    assert ongoing == {key for key in seen if key[3] == ONGOING}


def test_tictactoe_finished_game_has_no_legal_values() -> None:
    state = tictactoe_state([0, 3, 1, 4, 2])  # x completed the top row
    assert np.isnan(solve_action_values("tictactoe", state)).all()
    assert best_actions("tictactoe", state) == []
    with pytest.raises(ValueError, match="over"):
        tictactoe.position_value(state)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (np.array([1, 1, 2, 0]), "taken twice"),
        (np.array([0b111, 0b111000, 6, 1]), "not reachable"),  # both completed a row
        (np.array([1, 0, 3, 0]), "move count"),
        (np.array([1, 0, 1, 3]), "status"),
        (np.zeros(5, dtype=np.int64), "shape"),
        (np.zeros(4), "integer"),
        ([0, 0, 0, 0], "numpy array"),
    ],
)
def test_tictactoe_rejects_bad_states(state: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        solve_action_values("tictactoe", state)  # type: ignore[arg-type]


def test_unknown_game_lists_the_solvable_ones() -> None:
    with pytest.raises(ValueError, match="tictactoe, connect4"):
        solve_action_values("othello", np.zeros(4, dtype=np.int64))


# ---------------------------------------------------------------- connect 4


def pons_positions(name: str, count: int) -> list[tuple[list[int], int]]:
    """`count` positions spread evenly over one of Pons' sets (the copy shipped with the
    engine): (0-indexed moves, exact score)."""
    entries = read_pons_set(PONS_DIR / name)
    return entries[:: max(1, len(entries) // count)][:count]


def test_the_shipped_pons_sets_are_the_published_files() -> None:
    """Each set evaluation reads is there whole, byte for byte the checksum its README gives."""
    readme = (PONS_DIR / "README.md").read_text()
    listed = {name: digest for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)}
    assert sorted(listed) == sorted(PONS_SETS)
    for name in PONS_SETS:
        assert hashlib.sha256((PONS_DIR / name).read_bytes()).hexdigest() == listed[name], name
        assert len(read_pons_set(PONS_DIR / name)) == 1000


@pytest.mark.parametrize(("name", "count", "_"), PONS_SAMPLES)
def test_connect4_values_match_pons_scores(name: str, count: int, _: int) -> None:
    for moves, score in pons_positions(name, count):
        assert connect4.position_value(moves) == np.sign(score), (name, moves, score)


@pytest.mark.parametrize(("name", "_", "count"), PONS_SAMPLES)
def test_connect4_move_values_are_consistent(name: str, _: int, count: int) -> None:
    """The best move's value is the position's value; each move's is minus its child's."""
    # Every move's exact value in a position of under 8 stones can take seconds: skip those.
    positions = [(m, s) for m, s in pons_positions(name, 4 * count) if len(m) >= 8][:count]
    assert len(positions) == count
    for moves, score in positions:
        values = connect4.solve_connect4_moves(moves)
        assert values is not None
        heights = np.bincount(moves, minlength=7)
        np.testing.assert_array_equal(np.isnan(values), heights == 6)
        assert np.nanmax(values) == np.sign(score), (name, moves, values)
        for column in np.flatnonzero(heights < 6):
            child = moves + [int(column)]
            if connect4.board_from_moves(child)[2] or len(child) == 42:
                assert values[column] == (1 if connect4.board_from_moves(child)[2] else 0)
            else:
                assert values[column] == -connect4.position_value(child), (moves, column)


def play_connect4(moves: list[int]) -> np.ndarray:
    state = connect4_rules.initial_state()
    for move in moves:
        connect4_rules.apply_action(state, move)
    return state


def test_connect4_engine_state_gives_the_same_values_as_the_move_list() -> None:
    for moves in random_connect4_games(seed=7, count=5, min_moves=16, max_moves=24):
        state = play_connect4(moves)
        from_state = solve_action_values("connect4", state)
        from_moves = connect4.solve_connect4_moves(moves)
        np.testing.assert_array_equal(from_state, from_moves)
        np.testing.assert_array_equal(np.isnan(from_state), ~connect4_rules.legal_mask(state))


def random_connect4_games(seed: int, count: int, min_moves: int, max_moves: int) -> list[list[int]]:
    """Move lists of random games cut before they end, between min_moves and max_moves long."""
    rng = np.random.default_rng(seed)
    games: list[list[int]] = []
    while len(games) < count:
        length = int(rng.integers(min_moves, max_moves + 1))
        state, moves = connect4_rules.initial_state(), []
        while len(moves) < length and connect4_rules.status(state) == ONGOING:
            move = int(rng.choice(np.flatnonzero(connect4_rules.legal_mask(state))))
            connect4_rules.apply_action(state, move)
            moves.append(move)
        if connect4_rules.status(state) == ONGOING:
            games.append(moves)
    return games


def drops_into_four(moves: list[int], column: int, player: int) -> bool:
    """Plain check: would `player` (0 first) make four by dropping a stone in `column` now?"""
    grid = [[-1] * 6 for _ in range(7)]  # grid[column][row], row 0 at the bottom
    for index, move in enumerate(moves):
        grid[move][grid[move].index(-1)] = index % 2
    row = grid[column].index(-1)
    grid[column][row] = player
    for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
        run = 1
        for sign in (1, -1):
            c, r = column + sign * dc, row + sign * dr
            while 0 <= c < 7 and 0 <= r < 6 and grid[c][r] == player:
                run, c, r = run + 1, c + sign * dc, r + sign * dr
        if run >= 4:
            return True
    return False


def test_connect4_immediate_wins_and_forced_blocks() -> None:
    """A move that wins at once is worth +1; facing one threat, every other move loses."""
    seen_wins = seen_blocks = 0
    for moves in random_connect4_games(seed=3, count=60, min_moves=20, max_moves=30):
        values = connect4.solve_connect4_moves(moves)
        assert values is not None
        open_columns = [c for c in range(7) if moves.count(c) < 6]
        me, opponent = len(moves) % 2, 1 - len(moves) % 2
        wins_now = [c for c in open_columns if drops_into_four(moves, c, me)]
        for column in wins_now:
            assert values[column] == 1
        seen_wins += bool(wins_now)
        threats = [c for c in open_columns if drops_into_four(moves, c, opponent)]
        if not wins_now and len(threats) == 1:
            assert all(values[c] == -1 for c in open_columns if c != threats[0]), moves
            seen_blocks += 1
    assert seen_wins > 10 and seen_blocks > 3


def test_connect4_budget_returns_none_and_leaves_the_table_sound() -> None:
    assert connect4.solve_connect4_moves([], max_nodes=10_000) is None
    assert connect4.last_node_count() == 10_001
    # Solving this takes more than 40 million nodes (over 10 s); the time limit stops it sooner.
    assert connect4.solve_connect4_moves([3, 3, 3, 3], time_limit_s=0.2) is None
    assert 0 < connect4.last_node_count() < 10_000_000
    # An interrupted search stores nothing half-done: known positions still solve right.
    for moves, score in pons_positions("Test_L2_R2", 5):
        assert connect4.position_value(moves) == np.sign(score)
    moves, score = pons_positions("Test_L2_R1", 1)[0]
    values = connect4.solve_connect4_moves(moves, max_nodes=10_000_000, time_limit_s=60.0)
    assert values is not None and np.nanmax(values) == np.sign(score)


# Positions that take 0.1-0.5 s each from an empty table (the table would answer a repeat at once).
CONCURRENT_POSITIONS = [[2, 6, 1, 1, 5, 2, 5, 2], [6, 1, 6, 2, 5, 0], [3, 2, 4, 3, 1, 5, 0, 6],
                        [3, 5, 2, 6, 5, 6, 0, 0, 0]]  # fmt: skip


def test_connect4_concurrent_solves_give_the_sequential_answers() -> None:
    """The API solves in several threads; the time check leaves Numba for Python, so the GIL
    can switch threads mid-search. Searches sharing the stack and table must not mix."""
    expected = [connect4.solve_connect4_moves(m, time_limit_s=60.0) for m in CONCURRENT_POSITIONS]
    start = threading.Barrier(len(CONCURRENT_POSITIONS))

    def solve(moves: list[int]) -> np.ndarray | None:
        start.wait()
        return connect4.solve_connect4_moves(moves, time_limit_s=60.0)

    for _ in range(2):
        connect4.reset_table()  # cold: each search runs long enough to be interrupted
        with ThreadPoolExecutor(len(CONCURRENT_POSITIONS)) as pool:
            answers = list(pool.map(solve, CONCURRENT_POSITIONS))
        for moves, want, got in zip(CONCURRENT_POSITIONS, expected, answers, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=str(moves))


def test_connect4_waiting_for_another_search_counts_against_the_time_limit() -> None:
    """Behind a long search, a request with a 0.3 s limit waited as long as that search (24.7
    s behind a 25 s one); the API's fallback for `perfect` never ran in time."""
    moves, _ = pons_positions("Test_L3_R1", 1)[0]
    answers = []
    with connect4._Workspace.lock:  # another search holds the workspace
        waiting = threading.Thread(
            target=lambda: answers.append(connect4.solve_connect4_moves(moves, time_limit_s=0.3))
        )
        waiting.start()
        waiting.join(60.0)  # it could only end by giving up: the lock stays held meanwhile
        assert not waiting.is_alive() and answers == [None]
    assert connect4.solve_connect4_moves(moves, time_limit_s=25.0) is not None  # free again


def test_connect4_time_limit_too_short_for_the_opening_returns_at_once() -> None:
    """Under 4 stones the search takes longer than 30 s: a shorter limit is not spent."""
    for moves in ([], [3], [3, 3, 3]):
        assert connect4.solve_connect4_moves(moves, time_limit_s=25.0) is None
        assert connect4.last_node_count() == 0  # no node searched
    moves, score = pons_positions("Test_L3_R1", 1)[0]  # late positions: still solved
    values = connect4.solve_connect4_moves(moves, time_limit_s=25.0)
    assert values is not None and np.nanmax(values) == np.sign(score)


def test_connect4_finished_game_has_no_legal_values() -> None:
    won = [0, 1, 0, 1, 0, 1, 0]
    assert np.isnan(connect4.solve_connect4_moves(won)).all()
    assert np.isnan(solve_action_values("connect4", play_connect4(won))).all()
    assert best_actions("connect4", play_connect4(won)) == []


@pytest.mark.parametrize(
    ("moves", "message"),
    [([7], "not in 0..6"), ([0] * 7, "full"), ([0, 1, 0, 1, 0, 1, 0, 1], "already won"),
     ([True], "integer"), (["3"], "integer")],
)  # fmt: skip
def test_connect4_rejects_bad_move_lists(moves: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        connect4.solve_connect4_moves(moves)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (np.array([2, 0, 1, 0]), "above an empty cell"),
        (np.array([1, 1, 2, 0]), "same cell"),
        (np.array([1 << 6, 0, 1, 0]), "outside the board"),
        (np.array([1, 0, 2, 0]), "do not fit"),
        (np.array([1 | 1 << 7, 0, 2, 0]), "do not fit"),
        (np.array([0b1111, 0b1110000000, 7, 0]), "over"),
        (np.zeros(3, dtype=np.int64), "shape"),
        (np.zeros(4), "integer"),
    ],
)
def test_connect4_rejects_bad_states(state: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        solve_action_values("connect4", state)


def test_connect4_rejects_bad_budgets() -> None:
    with pytest.raises(ValueError, match="max_nodes"):
        connect4.solve_connect4_moves([3, 3], max_nodes=0)
    with pytest.raises(ValueError, match="time_limit_s"):
        connect4.solve_connect4_moves([3, 3], time_limit_s=-1.0)
