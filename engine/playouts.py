"""Bulk random playouts, compiled once per game through the generic game interface.

This is the pattern all generic jitted code follows: a cached factory closes over one game's
jitted functions, and Numba compiles the loop with those calls resolved statically.
"""

import functools

import numba
import numpy as np

from engine.game import DRAW, FIRST_PLAYER_WON, ONGOING, Game


@numba.njit(cache=True)
def random_legal_action(mask: np.ndarray) -> int:
    """A uniformly random action among those set in `mask` (which must have one)."""
    count = 0
    for legal in mask:
        count += legal
    pick = np.random.randint(count)
    for action in range(mask.shape[0]):
        if mask[action]:
            if pick == 0:
                return action
            pick -= 1
    return -1


@functools.cache
def build_random_playouts(game: Game):
    """A jitted `playouts(num_games, seed) -> int64[4]`: first wins, second wins, draws, moves."""
    initial_state = game.initial_state
    legal_mask = game.legal_mask
    apply_action = game.apply_action
    status = game.status

    @numba.njit
    def playouts(num_games, seed):
        np.random.seed(seed)
        totals = np.zeros(4, dtype=np.int64)
        for _ in range(num_games):
            state = initial_state()
            while status(state) == ONGOING:
                apply_action(state, random_legal_action(legal_mask(state)))
                totals[3] += 1
            result = status(state)
            if result == FIRST_PLAYER_WON:
                totals[0] += 1
            elif result == DRAW:
                totals[2] += 1
            else:
                totals[1] += 1
        return totals

    return playouts
