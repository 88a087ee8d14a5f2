"""The game interface: what every rules file provides so generic jitted code can use it.

A game is a bundle of constants and `@numba.njit` functions over a fixed-size ``int64`` state
vector. Generic code (random playouts, MCTS, self-play, replay decoding) is built per game by a
factory that closes over these functions, so Numba compiles it with the calls inlined and no
Python runs per node (see ``engine/playouts.py`` for the pattern).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Result of `status(state)`; shared by all games so generic code can read it.
ONGOING = 0
FIRST_PLAYER_WON = 1
SECOND_PLAYER_WON = 2
DRAW = 3

STATE_DTYPE = np.int64


@dataclass(frozen=True, eq=False)
class Game:
    """Constants and jitted rule functions of one game.

    Jitted functions (``state`` is a 1-D int64 array of length ``state_size``):
      initial_state() -> state
      legal_mask(state, out=None) -> bool[num_actions]  (fills and returns `out` when given,
                                                   so hot loops allocate nothing)
      apply_action(state, action) -> None      (in place; the action must be legal)
      status(state) -> ONGOING | FIRST_PLAYER_WON | SECOND_PLAYER_WON | DRAW
      to_play(state) -> 0 (first player) or 1 (second player)
      encode(state, out) -> None               (out: float32[num_planes, rows, cols])
      transform_state(state, symmetry) -> state (the board seen through a symmetry)

    ``symmetry_action_perms[g, a]`` is the action that `a` becomes under symmetry `g`;
    ``symmetry_cell_perms[g, i]`` is the flat cell that cell `i` becomes. Symmetry 0 is the
    identity.

    ``settings``: the game's experiment. The values of the learner's and the actor's settings
    (declared in learner/config.py and actor/config.py) that it trains with where no flag, TOML
    file or resumed run sets them; whether the launcher spreads more than two CPUs over
    training (`spread_cpus`); and the budgets of the background evaluation (`evaluation`) and
    of tournaments (`tournament`). Whatever it leaves out takes the generic default.
    """

    name: str
    rows: int
    cols: int
    num_actions: int
    num_planes: int
    state_size: int
    max_game_length: int
    encoding_version: int
    dirichlet_alpha: float
    symmetry_action_perms: np.ndarray
    symmetry_cell_perms: np.ndarray
    initial_state: Any
    legal_mask: Any
    apply_action: Any
    status: Any
    to_play: Any
    encode: Any
    transform_state: Any
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def num_symmetries(self) -> int:
        return int(self.symmetry_action_perms.shape[0])

    @property
    def plane_shape(self) -> tuple[int, int, int]:
        return (self.num_planes, self.rows, self.cols)


def square_symmetry_cell_perms(size: int) -> np.ndarray:
    """The 8 symmetries of a size x size board as flat-cell permutations (identity first)."""
    perms = np.empty((8, size * size), dtype=np.int64)
    for g in range(8):
        for r in range(size):
            for c in range(size):
                rr, cc = r, c
                if g & 1:  # mirror left-right
                    cc = size - 1 - cc
                if g & 2:  # mirror top-bottom
                    rr = size - 1 - rr
                if g & 4:  # transpose
                    rr, cc = cc, rr
                perms[g, r * size + c] = rr * size + cc
    return perms
