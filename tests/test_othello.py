"""Othello rules: perft, move by move against OpenSpiel, a naive reference, and hand positions."""

import random

import numba
import numpy as np
import pyspiel

from engine.context import winner_from_status
from engine.game import DRAW, FIRST_PLAYER_WON, ONGOING
from engine.games import othello
from engine.games.othello import (
    BLACK,
    LEGAL,
    MOVES,
    NUM_ACTIONS,
    PASS,
    STATE_SIZE,
    WHITE,
    apply_action,
    legal_mask,
    status,
)

DIRECTIONS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


@numba.njit(cache=True)
def perft(state: np.ndarray, depth: int) -> int:
    """Leaf count of the game tree `depth` actions deep (passes count as actions)."""
    if depth == 0:
        return 1
    states = np.empty((depth + 1, STATE_SIZE), dtype=np.int64)
    masks = np.zeros((depth + 1, NUM_ACTIONS), dtype=np.bool_)
    next_action = np.zeros(depth + 1, dtype=np.int64)
    states[0] = state
    masks[0] = legal_mask(state)
    leaves = 0
    level = 0
    while level >= 0:
        action = next_action[level]
        while action < NUM_ACTIONS and not masks[level, action]:
            action += 1
        if action == NUM_ACTIONS:
            level -= 1
            continue
        next_action[level] = action + 1
        if level + 1 == depth:
            leaves += 1
            continue
        states[level + 1] = states[level]
        apply_action(states[level + 1], action)
        level += 1
        masks[level] = legal_mask(states[level])
        next_action[level] = 0
    return leaves


def make_state(black_cells, white_cells, player: int = 0) -> np.ndarray:
    """A hand-made position with `player` (0 black, 1 white) to move."""
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[BLACK] = othello._to_int(np.uint64(sum(1 << c for c in set(black_cells))))
    state[WHITE] = othello._to_int(np.uint64(sum(1 << c for c in set(white_cells))))
    state[MOVES] = player
    othello._settle(state)
    return state


def cells(bits: int) -> set[int]:
    return {c for c in range(64) if (int(bits) >> c) & 1}


def naive_flips(board: list[int], cell: int, player: int) -> set[int]:
    """Reference: walk each direction from `cell` (board: -1 empty, 0 black, 1 white)."""
    if board[cell] != -1:
        return set()
    r0, c0 = divmod(cell, 8)
    flipped: set[int] = set()
    for dr, dc in DIRECTIONS:
        run = []
        r, c = r0 + dr, c0 + dc
        while 0 <= r < 8 and 0 <= c < 8 and board[r * 8 + c] == 1 - player:
            run.append(r * 8 + c)
            r, c = r + dr, c + dc
        if run and 0 <= r < 8 and 0 <= c < 8 and board[r * 8 + c] == player:
            flipped.update(run)
    return flipped


def test_perft_from_start():
    # Depth 9 is the first with finished games (228 end after 9 actions); lists that treat a
    # finished game as a leaf at every deeper level give 24571284 at depth 10, this tree 24571056.
    expected = [4, 12, 56, 244, 1396, 8200, 55092, 390216, 3005288]
    start = othello.initial_state()
    assert [perft(start, depth) for depth in range(1, 10)] == expected


def test_initial_position_matches_openspiel():
    state = othello.initial_state()
    assert cells(state[BLACK]) == {28, 35} and cells(state[WHITE]) == {27, 36}
    assert othello.to_play(state) == 0
    assert np.flatnonzero(legal_mask(state)).tolist() == [19, 26, 37, 44]


def test_random_games_match_openspiel():
    game = pyspiel.load_game("othello")
    rng = random.Random(2024)
    passes = 0
    for _ in range(200):
        spiel = game.new_initial_state()
        state = othello.initial_state()
        while True:
            terminal = spiel.is_terminal()
            assert (status(state) != ONGOING) == terminal
            board = np.array(spiel.observation_tensor(0)).reshape(3, 64)
            assert cells(state[BLACK]) == set(np.flatnonzero(board[1]).tolist())
            assert cells(state[WHITE]) == set(np.flatnonzero(board[2]).tolist())
            winner = winner_from_status(status(state))
            assert spiel.returns() == [float(winner), float(-winner)]
            if terminal:
                assert not legal_mask(state).any()
                break
            assert othello.to_play(state) == spiel.current_player()
            legal = spiel.legal_actions()
            assert np.flatnonzero(legal_mask(state)).tolist() == legal
            action = rng.choice(legal)
            passes += action == PASS
            spiel.apply_action(action)
            apply_action(state, action)
        assert state[MOVES] <= othello.MAX_GAME_LENGTH
    assert passes > 0  # the games exercised forced passes


def test_moves_and_flips_match_naive_reference_on_random_boards():
    rng = random.Random(7)
    for _ in range(300):
        fill = rng.random()
        board = [rng.choice([0, 1]) if rng.random() < fill else -1 for _ in range(64)]
        player = rng.choice([0, 1])
        own = [c for c in range(64) if board[c] == player]
        opponent = [c for c in range(64) if board[c] == 1 - player]
        black, white = (own, opponent) if player == 0 else (opponent, own)
        state = make_state(black, white, player)
        expected = {c for c in range(64) if naive_flips(board, c, player)}
        assert cells(state[LEGAL]) == expected
        for cell in sorted(expected):
            after = state.copy()
            apply_action(after, cell)
            flipped = naive_flips(board, cell, player)
            assert cells(after[player]) == set(own) | {cell} | flipped
            assert cells(after[1 - player]) == set(opponent) - flipped


def test_flips_in_all_eight_directions_and_wipeout_ends_game():
    # White ring around d4 (27), black two steps out in every direction.
    ring = [18, 19, 20, 26, 28, 34, 35, 36]
    outer = [9, 11, 13, 25, 29, 41, 43, 45]
    state = make_state(outer, ring, player=0)
    apply_action(state, 27)
    assert cells(state[BLACK]) == set(outer) | set(ring) | {27}
    assert cells(state[WHITE]) == set()
    assert status(state) == FIRST_PLAYER_WON  # no moves for either side, board not full


def test_no_wrap_around_edges_and_forced_pass():
    # Black b2 (9), white a2 (8): h1 (7) would capture a2 only by wrapping a row; black must pass.
    state = make_state([9], [8], player=0)
    assert status(state) == ONGOING
    assert np.flatnonzero(legal_mask(state)).tolist() == [PASS]
    apply_action(state, PASS)
    assert othello.to_play(state) == 1
    assert np.flatnonzero(legal_mask(state)).tolist() == [10]


def test_game_ends_when_neither_side_can_move():
    state = make_state([2], [1, 63], player=0)
    assert np.flatnonzero(legal_mask(state)).tolist() == [0]
    apply_action(state, 0)
    assert cells(state[BLACK]) == {0, 1, 2} and cells(state[WHITE]) == {63}
    assert status(state) == FIRST_PLAYER_WON


def test_full_board_ends_game_by_disc_count():
    # a1 (0) empty; b1 white; the rest of rows 1-4 black, rows 5-8 white: a1 flips b1 -> 32-32.
    black = [c for c in range(2, 32)]
    white = [1] + list(range(32, 64))
    state = make_state(black, white, player=0)
    assert np.flatnonzero(legal_mask(state)).tolist() == [0]
    apply_action(state, 0)
    assert status(state) == DRAW
    state = make_state(black + list(range(32, 40)), [1] + list(range(40, 64)), player=0)
    apply_action(state, 0)
    assert status(state) == FIRST_PLAYER_WON


def test_high_bit_survives_int64_state():
    # h8 (63) is the sign bit of the int64 state.
    state = make_state([61], [62], player=0)
    assert np.flatnonzero(legal_mask(state)).tolist() == [63]
    apply_action(state, 63)
    assert cells(state[BLACK]) == {61, 62, 63} and state[BLACK] < 0


def test_encode_is_side_to_move_first():
    state = othello.initial_state()
    apply_action(state, 19)
    planes = np.zeros(othello.GAME.plane_shape, dtype=np.float32)
    othello.encode(state, planes)
    assert set(np.flatnonzero(planes[0]).tolist()) == cells(state[WHITE])
    assert set(np.flatnonzero(planes[1]).tolist()) == cells(state[BLACK])


def test_symmetries_keep_legal_moves_consistent():
    rng = random.Random(3)
    perms = othello.SYMMETRY_ACTION_PERMS
    assert perms.shape == (8, 65) and (perms[:, PASS] == PASS).all()
    state = othello.initial_state()
    for _ in range(30):
        for g in range(8):
            moved = othello.transform_state(state, g)
            rebuilt = moved.copy()
            othello._settle(rebuilt)
            assert np.array_equal(moved, rebuilt)
            expected = np.zeros(NUM_ACTIONS, dtype=bool)
            expected[perms[g]] = legal_mask(state)
            assert np.array_equal(legal_mask(moved), expected)
        apply_action(state, rng.choice(np.flatnonzero(legal_mask(state)).tolist()))
