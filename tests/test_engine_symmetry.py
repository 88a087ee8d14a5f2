"""Board symmetries: a game's `transform_state`, its permutation tables and engine.symmetry agree.

Training augments positions with symmetries through `transform_planes` / `transform_policy`, so
for every symmetry g the network input and targets of g(s) must be exactly those of s seen
through g, and the rules must commute with g.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from engine import get_game, list_games
from engine.game import Game
from engine.symmetry import transform_planes, transform_policy

STATES_PER_GAME = 300


def random_states(game: Game, count: int, seed: int) -> list[np.ndarray]:
    """Positions of random games (terminal ones included), `count` of them."""
    rng = random.Random(seed)
    states: list[np.ndarray] = []
    while len(states) < count:
        state = game.initial_state()
        states.append(state.copy())
        while game.status(state) == 0 and len(states) < count:
            game.apply_action(state, rng.choice(np.flatnonzero(game.legal_mask(state)).tolist()))
            states.append(state.copy())
    return states


def planes_of(game: Game, state: np.ndarray) -> np.ndarray:
    planes = np.zeros(game.plane_shape, dtype=np.float32)
    game.encode(state, planes)
    return planes


@pytest.mark.parametrize("name", list_games())
def test_permutation_tables_are_permutations_with_identity_first(name: str) -> None:
    game = get_game(name)
    cells = game.rows * game.cols
    assert game.symmetry_action_perms.shape == (game.num_symmetries, game.num_actions)
    assert game.symmetry_cell_perms.shape == (game.num_symmetries, cells)
    for g in range(game.num_symmetries):
        assert sorted(game.symmetry_action_perms[g]) == list(range(game.num_actions))
        assert sorted(game.symmetry_cell_perms[g]) == list(range(cells))
    assert list(game.symmetry_action_perms[0]) == list(range(game.num_actions))
    assert list(game.symmetry_cell_perms[0]) == list(range(cells))
    # A group: every symmetry's inverse is a symmetry too.
    perms = [tuple(p) for p in game.symmetry_cell_perms]
    for perm in perms:
        assert tuple(np.argsort(perm)) in perms


@pytest.mark.parametrize("name", list_games())
def test_symmetries_commute_with_the_rules(name: str) -> None:
    game = get_game(name)
    for state in random_states(game, STATES_PER_GAME, seed=5):
        planes = planes_of(game, state)
        legal = game.legal_mask(state)
        before = state.copy()
        for g in range(game.num_symmetries):
            image = game.transform_state(state, g)
            np.testing.assert_array_equal(state, before)  # the input is left alone
            np.testing.assert_array_equal(
                planes_of(game, image), transform_planes(game, planes, g), err_msg=f"g={g}"
            )
            np.testing.assert_array_equal(game.legal_mask(image), transform_policy(game, legal, g))
            assert game.status(image) == game.status(state)
            assert game.to_play(image) == game.to_play(state)
            for action in np.flatnonzero(legal):
                after = state.copy()
                game.apply_action(after, action)
                image_after = image.copy()
                game.apply_action(image_after, game.symmetry_action_perms[g, action])
                np.testing.assert_array_equal(
                    game.transform_state(after, g), image_after, err_msg=f"g={g} a={action}"
                )


@pytest.mark.parametrize("name", list_games())
def test_inverse_symmetry_restores_the_state(name: str) -> None:
    game = get_game(name)
    perms = [tuple(p) for p in game.symmetry_cell_perms]
    for state in random_states(game, 100, seed=9):
        for g in range(game.num_symmetries):
            inverse = perms.index(tuple(np.argsort(perms[g])))
            restored = game.transform_state(game.transform_state(state, g), inverse)
            np.testing.assert_array_equal(restored, state)


@pytest.mark.parametrize("name", list_games())
def test_batched_planes_and_policies_transform_like_single_ones(name: str) -> None:
    game = get_game(name)
    states = random_states(game, 16, seed=2)
    batch = np.stack([planes_of(game, s) for s in states])
    policies = np.random.default_rng(0).random((len(states), game.num_actions), dtype=np.float32)
    for g in range(game.num_symmetries):
        planes_g = transform_planes(game, batch, g)
        policies_g = transform_policy(game, policies, g)
        for i, state in enumerate(states):
            np.testing.assert_array_equal(
                planes_g[i], planes_of(game, game.transform_state(state, g))
            )
            np.testing.assert_array_equal(policies_g[i], transform_policy(game, policies[i], g))
        assert np.isclose(policies_g.sum(), policies.sum())
