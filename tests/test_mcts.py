"""MCTS: tactics (immediate win, forced block) for every registered game, visit accounting,
root-only noise, the policy-only answer and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from actor.mcts import (
    EXPANDED,
    Forest,
    alphazero_search,
    build_kernels,
    classic_mcts_search,
    pool_sizes,
)
from engine import EngineContext, get_game, list_games

# Hand-made positions: (game, moves from the start, the only good move).
HAND_WINS = [
    ("tictactoe", [0, 3, 1, 4], 2),  # x x . / o o . : x completes the top row
    ("connect4", [0, 1, 0, 1, 0, 1], 0),  # first player's fourth stone in column 0
    ("connect4", [0, 0, 1, 1, 2, 2], 3),  # first player completes the bottom row
]
HAND_BLOCKS = [
    ("tictactoe", [0, 4, 8, 2], 6),  # o threatens 2-4-6; x must take 6
    ("connect4", [0, 0, 1, 1, 2], 3),  # second player must stop 0-1-2-3 on the bottom row
    ("connect4", [3, 0, 3, 0, 3], 3),  # second player must cap column 3
]


def immediate_wins(ctx: EngineContext, state: np.ndarray) -> list[int]:
    """Moves that end the game with the side to move winning."""
    mover = 1 if ctx.game.to_play(state) == 0 else -1
    wins = []
    for action in ctx.legal_actions(state):
        result = ctx.step(state, action)
        if result.terminal and result.winner == mover:
            wins.append(action)
    return wins


def find_position(name: str, kind: str, seed: int = 0, games: int = 300):
    """A position from random play with exactly one good move: the only immediate win
    (`kind == "win"`), or the only move that leaves the opponent no immediate win ("block")."""
    ctx = EngineContext(name)
    rng = np.random.default_rng(seed)
    for _ in range(games):
        result = ctx.reset()
        while not result.terminal:
            state = result.state
            legal = ctx.legal_actions(state)
            if len(legal) >= 2:
                wins = immediate_wins(ctx, state)
                if kind == "win" and len(wins) == 1:
                    return state, wins[0]
                if kind == "block" and not wins:
                    safe = [
                        a
                        for a in legal
                        if not ctx.step(state, a).terminal
                        and not immediate_wins(ctx, ctx.step(state, a).state)
                    ]
                    if len(safe) == 1:
                        return state, safe[0]
            result = ctx.step(state, int(rng.choice(legal)))
    return None


def positions(kind: str) -> list:
    hand = HAND_WINS if kind == "win" else HAND_BLOCKS
    cases = [
        pytest.param(name, moves, best, id=f"{name}-hand{i}")
        for i, (name, moves, best) in enumerate(hand)
        if name in list_games()
    ]
    cases += [
        pytest.param(name, None, None, id=f"{name}-random") for name in list_games()
    ]  # found by `find_position`, for every registered game
    return cases


def resolve(name: str, moves, best, kind: str):
    ctx = EngineContext(name)
    if moves is None:
        found = find_position(name, kind)
        if found is None:
            pytest.skip(f"no {kind} position found by random play in {name}")
        return ctx.game, found[0], found[1]
    state = ctx.reset().state
    for action in moves:
        state = ctx.step(state, action).state
    return ctx.game, state, best


def fixed_evaluator(num_actions: int):
    """A hand-made evaluator: the same priors for every position (action 0 most liked, which is
    usually not the answer) and value 0, so only the search can find the tactic."""
    logits = np.linspace(2.0, 0.0, num_actions, dtype=np.float32)

    def evaluate(planes: np.ndarray):
        batch = planes.shape[0]
        return np.tile(logits, (batch, 1)), np.zeros(batch, np.float32)

    return evaluate


SEARCHERS = ["classic", "alphazero-uniform", "alphazero-fixed"]


def run_search(searcher: str, game, state, simulations: int):
    if searcher == "classic":
        return classic_mcts_search(game, state, simulations, seed=3)
    evaluator = None if searcher == "alphazero-uniform" else fixed_evaluator(game.num_actions)
    return alphazero_search(game, state, simulations, evaluator, seed=3)


@pytest.mark.parametrize("searcher", SEARCHERS)
@pytest.mark.parametrize("name,moves,best", positions("win"))
def test_finds_the_immediate_win(name, moves, best, searcher):
    game, state, best = resolve(name, moves, best, "win")
    result = run_search(searcher, game, state, 400)
    assert result.action == best
    assert result.value > 0.3  # the side to move knows it is winning
    assert result.visits.sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("searcher", SEARCHERS)
@pytest.mark.parametrize("name,moves,best", positions("block"))
def test_finds_the_forced_block(name, moves, best, searcher):
    game, state, best = resolve(name, moves, best, "block")
    result = run_search(searcher, game, state, 1500)
    assert result.action == best


@pytest.mark.parametrize("name", list_games())
@pytest.mark.parametrize("simulations,leaves", [(1, 1), (37, 1), (200, 8), (200, 64)])
def test_alphazero_visits_add_up_to_the_simulations(name, simulations, leaves):
    game = get_game(name)
    forest = Forest.allocate(game, 1, *pool_sizes(game, simulations))
    evaluator = fixed_evaluator(game.num_actions)
    result = alphazero_search(
        game, game.initial_state(), simulations, evaluator, leaves_per_batch=leaves, forest=forest
    )
    children = forest.children(0, 0)
    assert forest.visits[0, children].sum() == simulations
    assert forest.visits[0, 0] == simulations + 1  # the root's own evaluation
    assert result.visits.sum() == pytest.approx(1.0, abs=1e-5)
    assert (result.visits[~game.legal_mask(game.initial_state())] == 0).all()


@pytest.mark.parametrize("name", list_games())
def test_classic_visits_add_up_to_the_simulations(name):
    game = get_game(name)
    forest = Forest.allocate(game, 1, *pool_sizes(game, 500))
    result = classic_mcts_search(game, game.initial_state(), 500, forest=forest)
    assert forest.visits[0, forest.children(0, 0)].sum() == 500
    assert result.visits.sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("name", list_games())
def test_noise_changes_root_priors_only(name):
    game = get_game(name)
    state = game.initial_state()
    plain = Forest.allocate(game, 1, *pool_sizes(game, 300))
    noisy = Forest.allocate(game, 1, *pool_sizes(game, 300))
    alphazero_search(game, state, 300, None, forest=plain)
    alphazero_search(game, state, 300, None, forest=noisy, add_noise=True, seed=5)
    legal_count = int(game.legal_mask(state).sum())
    root_plain = plain.prior[0, plain.children(0, 0)]
    root_noisy = noisy.prior[0, noisy.children(0, 0)]
    assert np.allclose(root_plain, 1.0 / legal_count)
    assert not np.allclose(root_noisy, root_plain)
    assert root_noisy.sum() == pytest.approx(1.0, abs=1e-5)
    # Every deeper node keeps the evaluator's (uniform) prior.
    deeper = 0
    for node in range(1, int(noisy.node_count[0])):
        if noisy.kind[0, node] == EXPANDED:
            children = noisy.children(0, node)
            assert np.allclose(noisy.prior[0, children], 1.0 / len(children))
            deeper += 1
    assert deeper > 0


@pytest.mark.parametrize("name", list_games())
def test_zero_simulations_is_the_policy_alone(name):
    game = get_game(name)
    state = game.initial_state()
    evaluator = fixed_evaluator(game.num_actions)
    result = alphazero_search(game, state, 0, evaluator)
    legal = game.legal_mask(state)
    assert result.action == int(np.flatnonzero(legal)[0])  # the highest fixed logit
    assert np.array_equal(result.visits, result.prior)
    assert result.prior[legal].sum() == pytest.approx(1.0, abs=1e-6)
    assert (result.prior[~legal] == 0).all()


def test_prior_is_the_softmax_of_the_root_logits():
    game = get_game("tictactoe")
    result = alphazero_search(game, game.initial_state(), 10, fixed_evaluator(9))
    logits = np.linspace(2.0, 0.0, 9)
    expected = np.exp(logits) / np.exp(logits).sum()
    assert np.allclose(result.prior, expected, atol=1e-6)


def test_full_node_pool_degrades_without_crashing():
    game = get_game("tictactoe")
    forest = Forest.allocate(game, 1, 40, 8)  # far too small for 300 simulations
    result = alphazero_search(game, game.initial_state(), 300, None, forest=forest)
    assert result.visits.sum() == pytest.approx(1.0, abs=1e-5)
    assert forest.node_count[0] <= 40
    classic = Forest.allocate(game, 1, 40, 8)
    result = classic_mcts_search(game, game.initial_state(), 300, forest=classic)
    assert result.visits.sum() == pytest.approx(1.0, abs=1e-5)


def test_bad_input_gets_clear_errors():
    game = get_game("tictactoe")
    state = game.initial_state()
    with pytest.raises(ValueError, match="simulations"):
        alphazero_search(game, state, -1, None)
    with pytest.raises(ValueError, match="simulations"):
        classic_mcts_search(game, state, 2.5)
    with pytest.raises(ValueError, match="state"):
        classic_mcts_search(game, np.zeros(3, np.int64), 10)
    ctx = EngineContext("tictactoe")
    finished = ctx.reset().state
    for action in (0, 3, 1, 4, 2):
        finished = ctx.step(finished, action).state
    with pytest.raises(ValueError, match="over"):
        alphazero_search(game, finished, 10, None)

    def wrong_shape(planes):
        return np.zeros((planes.shape[0], 5), np.float32), np.zeros(planes.shape[0])

    with pytest.raises(ValueError, match="evaluator returned"):
        alphazero_search(game, state, 10, wrong_shape)

    def not_finite(planes):
        return np.full((planes.shape[0], 9), np.nan, np.float32), np.zeros(planes.shape[0])

    with pytest.raises(ValueError, match="non-finite"):
        alphazero_search(game, state, 10, not_finite)


def test_kernels_are_built_once_per_game():
    game = get_game("tictactoe")
    assert build_kernels(game, False) is build_kernels(game, False)
    assert build_kernels(game, True) is not build_kernels(game, False)
