"""The engine's Python API: properties over random play (Hypothesis) and refusals of bad input.

Bad input must get a ValueError that says what was wrong; nothing may reach Numba with a type
or shape it would choke on.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import EngineContext, StepResult, get_game, list_games
from engine.playouts import build_random_playouts

GAME_NAMES = list_games()
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def play_random(ctx: EngineContext, seed: int, moves: int) -> StepResult:
    """The position after up to `moves` random legal moves (fewer if the game ends)."""
    rng = random.Random(seed)
    result = ctx.reset()
    for _ in range(moves):
        if result.terminal:
            break
        result = ctx.step(result.state, rng.choice(result.legal_mask.nonzero()[0].tolist()))
    return result


def first_illegal_position(ctx: EngineContext) -> tuple[StepResult, int]:
    """A non-terminal position with an illegal action in range, and that action."""
    for seed in range(100):
        rng = random.Random(seed)
        result = ctx.reset()
        while not result.terminal:
            if not result.legal_mask.all():
                return result, int(np.flatnonzero(~result.legal_mask)[0])
            result = ctx.step(result.state, rng.choice(result.legal_mask.nonzero()[0].tolist()))
    raise AssertionError("no position with an illegal action found")


# ---- properties over random play ----


@PROPERTY_SETTINGS
@given(name=st.sampled_from(GAME_NAMES), choices=st.lists(st.integers(0, 10**6), max_size=130))
def test_step_is_pure_and_positions_are_consistent(name: str, choices: list[int]) -> None:
    ctx = EngineContext(name)
    result = ctx.reset()
    for choice in choices:
        legal = result.legal_mask.nonzero()[0]
        if result.terminal:
            assert len(legal) == 0  # a finished game has no moves
            break
        assert len(legal) > 0  # an unfinished one always has one (a pass counts)
        assert result.to_play in (0, 1) and result.winner == 0
        before = result.state.copy()
        mask_before = result.legal_mask.copy()
        stepped = ctx.step(result.state, int(legal[choice % len(legal)]))
        np.testing.assert_array_equal(result.state, before)  # step never mutates its input
        np.testing.assert_array_equal(result.legal_mask, mask_before)
        assert stepped.state is not result.state
        assert stepped.legal_mask.dtype == np.bool_
        assert stepped.legal_mask.shape == (ctx.game.num_actions,)
        assert stepped.winner in (-1, 0, 1)
        result = stepped


@PROPERTY_SETTINGS
@given(name=st.sampled_from(GAME_NAMES), seed=st.integers(0, 2**32))
def test_every_game_ends_within_max_game_length(name: str, seed: int) -> None:
    ctx = EngineContext(name)
    rng = random.Random(seed)
    result = ctx.reset()
    moves = 0
    while not result.terminal:
        assert moves < ctx.game.max_game_length, f"{name} still going after {moves} moves"
        result = ctx.step(result.state, rng.choice(result.legal_mask.nonzero()[0].tolist()))
        moves += 1
    assert result.winner in (-1, 0, 1)


@PROPERTY_SETTINGS
@given(
    name=st.sampled_from(GAME_NAMES),
    num_games=st.integers(1, 300),
    seed=st.integers(0, 2**62),
)
def test_random_playouts_finish_and_count_moves(name: str, num_games: int, seed: int) -> None:
    game = get_game(name)
    playouts = build_random_playouts(game)
    totals = playouts(num_games, seed)
    assert totals.dtype == np.int64 and totals.shape == (4,)
    assert (totals >= 0).all()
    assert totals[:3].sum() == num_games  # every game finished with one outcome
    assert num_games <= totals[3] <= num_games * game.max_game_length
    np.testing.assert_array_equal(playouts(num_games, seed), totals)  # seeded: repeatable


@PROPERTY_SETTINGS
@given(name=st.sampled_from(GAME_NAMES), seed=st.integers(0, 2**32), moves=st.integers(0, 130))
def test_buffered_legal_mask_equals_the_plain_one(name: str, seed: int, moves: int) -> None:
    ctx = EngineContext(name)
    state = play_random(ctx, seed, moves).state
    buffer = np.ones(ctx.game.num_actions, dtype=np.bool_)
    mask = ctx.game.legal_mask(state, buffer)
    assert mask is buffer
    np.testing.assert_array_equal(mask, ctx.game.legal_mask(state))


@PROPERTY_SETTINGS
@given(
    name=st.sampled_from(GAME_NAMES),
    values=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=8, max_size=8),
    action=st.integers(-5, 70),
)
def test_garbage_states_of_the_right_shape_never_crash(
    name: str, values: list[int], action: int
) -> None:
    ctx = EngineContext(name)
    state = np.array(values[: ctx.game.state_size], dtype=np.int64)
    try:
        result = ctx.step(state, action)
    except ValueError as error:
        assert "action" in str(error)
    else:
        assert result.legal_mask.shape == (ctx.game.num_actions,)


# ---- refusals ----


def test_unknown_game_names_are_refused_with_the_known_ones() -> None:
    for bad in ["chess", "", "TicTacToe", None, 3, ["tictactoe"]]:
        with pytest.raises(ValueError) as refusal:
            EngineContext(bad)  # type: ignore[arg-type]
        for name in GAME_NAMES:
            assert name in str(refusal.value)


@pytest.mark.parametrize("name", GAME_NAMES)
def test_illegal_action_is_refused_naming_it_and_the_legal_ones(name: str) -> None:
    ctx = EngineContext(name)
    result, illegal = first_illegal_position(ctx)
    legal = result.legal_mask.nonzero()[0].tolist()
    with pytest.raises(ValueError, match=rf"illegal action {illegal}\b.*legal actions: \[") as err:
        ctx.step(result.state, illegal)
    assert str(legal) in str(err.value)


@pytest.mark.parametrize("name", GAME_NAMES)
@pytest.mark.parametrize("action", [-1, "num_actions", 99, 10**30, -(10**30), 2**63])
def test_out_of_range_action_is_refused(name: str, action: int | str) -> None:
    ctx = EngineContext(name)
    start = ctx.reset()
    if action == "num_actions":
        action = ctx.game.num_actions
    legal = str(start.legal_mask.nonzero()[0].tolist())
    with pytest.raises(ValueError, match=rf"illegal action {action}\b") as refusal:
        ctx.step(start.state, action)
    assert legal in str(refusal.value)


@pytest.mark.parametrize("name", GAME_NAMES)
@pytest.mark.parametrize("action", [1.5, 2.0, "3", None, True, False, [1], np.float64(2.0)])
def test_non_integer_action_is_refused(name: str, action: object) -> None:
    ctx = EngineContext(name)
    start = ctx.reset()
    legal = str(start.legal_mask.nonzero()[0].tolist())
    with pytest.raises(ValueError, match="action must be an integer") as refusal:
        ctx.step(start.state, action)  # type: ignore[arg-type]
    assert repr(action) in str(refusal.value) and legal in str(refusal.value)


@pytest.mark.parametrize("name", GAME_NAMES)
def test_numpy_integer_actions_are_accepted(name: str) -> None:
    ctx = EngineContext(name)
    start = ctx.reset()
    action = int(start.legal_mask.nonzero()[0][0])
    expected = ctx.step(start.state, action)
    for typed in (np.int64(action), np.int32(action), np.uint8(action)):
        np.testing.assert_array_equal(ctx.step(start.state, typed).state, expected.state)


@pytest.mark.parametrize("name", GAME_NAMES)
def test_step_after_the_end_is_refused(name: str) -> None:
    ctx = EngineContext(name)
    result = play_random(ctx, 0, 1000)
    assert result.terminal
    with pytest.raises(ValueError, match="game is over"):
        ctx.step(result.state, 0)


def bad_states(size: int) -> list[object]:
    return [
        None,
        "state",
        [0] * size,
        tuple([0] * size),
        np.zeros(size, dtype=np.float64),
        np.zeros(size, dtype=np.int32),
        np.zeros(size, dtype=np.uint64),
        np.zeros(size, dtype=np.bool_),
        np.zeros(size, dtype=">i8"),
        np.zeros(size + 1, dtype=np.int64),
        np.zeros(size - 1, dtype=np.int64),
        np.zeros((1, size), dtype=np.int64),
        np.zeros((), dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.array(["a"] * size),
        np.array([object()] * size),
    ]


@pytest.mark.parametrize("name", GAME_NAMES)
def test_malformed_states_are_refused_clearly(name: str) -> None:
    ctx = EngineContext(name)
    for bad in bad_states(ctx.game.state_size):
        for call in (
            lambda: ctx.step(bad, 0),  # noqa: B023
            lambda: ctx.encode(bad),  # noqa: B023
            lambda: ctx.legal_actions(bad),  # noqa: B023
        ):
            with pytest.raises(ValueError, match=r"state must be (a numpy array|int64 of shape)"):
                call()


@pytest.mark.parametrize("name", GAME_NAMES)
def test_strided_and_read_only_states_work_like_plain_ones(name: str) -> None:
    ctx = EngineContext(name)
    start = ctx.reset()
    action = int(start.legal_mask.nonzero()[0][-1])
    expected = ctx.step(start.state, action).state
    wide = np.zeros(2 * ctx.game.state_size, dtype=np.int64)
    wide[::2] = start.state
    read_only = start.state.copy()
    read_only.flags.writeable = False
    for state in (wide[::2], read_only):
        result = ctx.step(state, action)
        np.testing.assert_array_equal(result.state, expected)
        assert result.state.flags.writeable and result.state.flags.c_contiguous
        np.testing.assert_array_equal(ctx.encode(state), ctx.encode(start.state))


@pytest.mark.parametrize("name", GAME_NAMES)
def test_results_are_immutable_and_independent(name: str) -> None:
    ctx = EngineContext(name)
    first = ctx.reset()
    with pytest.raises(AttributeError):
        first.terminal = True  # type: ignore[misc]
    first.legal_mask[:] = False  # a caller scribbling on its copy
    first.state[:] = -1
    again = ctx.reset()
    assert again.legal_mask.any() and (again.state != -1).any()
