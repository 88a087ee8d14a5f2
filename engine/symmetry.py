"""Applying a board symmetry to network planes and to per-action vectors (NumPy, batched)."""

import numpy as np

from engine.game import Game


def transform_planes(game: Game, planes: np.ndarray, symmetry: int) -> np.ndarray:
    """Planes [..., C, H, W] as seen through `symmetry`."""
    flat = planes.reshape(*planes.shape[:-2], game.rows * game.cols)
    out = np.empty_like(flat)
    out[..., game.symmetry_cell_perms[symmetry]] = flat
    return out.reshape(planes.shape)


def transform_policy(game: Game, policy: np.ndarray, symmetry: int) -> np.ndarray:
    """A per-action vector [..., num_actions] as seen through `symmetry`."""
    out = np.empty_like(policy)
    out[..., game.symmetry_action_perms[symmetry]] = policy
    return out
