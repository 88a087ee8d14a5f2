"""The Python API of the engine: `EngineContext(name).reset()` / `.step(state, action)`.

Each step runs one jitted kernel that validates the action, applies the move to a copy of the
state and writes the new legal mask, so the API costs one Numba dispatch per step. The copies
are made in Python and filled in place: handing fresh arrays out of Numba costs more than the
move itself.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numba
import numpy as np

from engine.game import FIRST_PLAYER_WON, SECOND_PLAYER_WON, STATE_DTYPE, Game
from engine.registry import get_game

ILLEGAL = -1
_WINNER_BY_STATUS = (0, 1, -1, 0)  # ONGOING, FIRST_PLAYER_WON, SECOND_PLAYER_WON, DRAW
_STATE_DTYPE = np.dtype(STATE_DTYPE)
_BOOL = np.dtype(np.bool_)
_empty = np.empty
_tuple_new = tuple.__new__


class StepResult(NamedTuple):
    """A state and what a player needs to know about it (immutable; a NamedTuple for speed)."""

    state: np.ndarray
    legal_mask: np.ndarray
    terminal: bool
    winner: int  # when terminal: 1 first player won, -1 second player won, 0 draw
    to_play: int  # 0 first player, 1 second player


def winner_from_status(status: int) -> int:
    if status == FIRST_PLAYER_WON:
        return 1
    if status == SECOND_PLAYER_WON:
        return -1
    return 0


@functools.cache
def _step_kernel(game: Game):
    """A jitted `step(state, legal_out, action) -> code`, changing `state` in place.

    code = status * 2 + side to move, or ILLEGAL (state untouched, `legal_out` = legal moves).
    """
    legal_mask = game.legal_mask
    apply_action = game.apply_action
    status = game.status
    to_play = game.to_play
    num_actions = game.num_actions

    @numba.njit
    def step(state, legal_out, action):
        legal = legal_mask(state)
        if action < 0 or action >= num_actions or not legal[action]:
            legal_out[:] = legal
            return ILLEGAL
        apply_action(state, action)
        legal_out[:] = legal_mask(state)
        return status(state) * 2 + to_play(state)

    return step


class EngineContext:
    """One game's rules behind a small, safe Python API. `step` never changes its input."""

    def __init__(self, name: str) -> None:
        self.game = get_game(name)
        self._step = _step_kernel(self.game)
        self._shape = (self.game.state_size,)
        self._num_actions = self.game.num_actions
        start = self.game.initial_state()
        self._start = (start, self.game.legal_mask(start), self.game.to_play(start))

    @property
    def name(self) -> str:
        return self.game.name

    def reset(self, seed: int | None = None) -> StepResult:
        """The initial position. The rules are deterministic; `seed` is accepted for API parity."""
        state, legal, to_play = self._start
        return StepResult(state.copy(), legal.copy(), False, 0, to_play)

    def check_state(self, state: object) -> np.ndarray:
        """`state` if it is a state of this game, else a ValueError saying what is wrong."""
        if not isinstance(state, np.ndarray):
            raise ValueError(f"state must be a numpy array, got {type(state).__name__}")
        if state.dtype != STATE_DTYPE or state.shape != self._shape:
            raise ValueError(
                f"{self.name} state must be int64 of shape ({self.game.state_size},), "
                f"got {state.dtype} of shape {state.shape}"
            )
        return np.asarray(state)

    def step(self, state: np.ndarray, action: int) -> StepResult:
        """The position after `action`; an illegal action gets a ValueError listing legal ones."""
        if type(state) is not np.ndarray or state.dtype is not _STATE_DTYPE:
            state = self.check_state(state)
        elif state.shape != self._shape:
            self.check_state(state)
        if type(action) is not int:
            if isinstance(action, bool) or not isinstance(action, np.integer):
                self._refuse(state, f"action must be an integer, got {action!r}")
            action = int(action)
        num_actions = self._num_actions
        if action < 0 or action >= num_actions:
            self._refuse(state, f"illegal action {action} in {self.name}")
        legal = _empty(num_actions, _BOOL)  # positional dtype: the keyword costs 150 ns
        new_state = state.copy()
        code = self._step(new_state, legal, action)
        if code < 0:
            self._refuse(state, f"illegal action {action} in {self.name}")
        result = (new_state, legal, code > 1, _WINNER_BY_STATUS[code >> 1], code & 1)
        return _tuple_new(StepResult, result)  # NamedTuple's own __new__ is a Python call more

    def _refuse(self, state: np.ndarray, message: str) -> None:
        legal = np.flatnonzero(self.game.legal_mask(state)).tolist()
        over = " (the game is over)" if not legal else ""
        raise ValueError(f"{message}; legal actions: {legal}{over}")

    def legal_actions(self, state: np.ndarray) -> list[int]:
        return np.flatnonzero(self.game.legal_mask(self.check_state(state))).tolist()

    def encode(self, state: np.ndarray) -> np.ndarray:
        """The network input planes, float32 [planes, rows, cols], from the side to move's view."""
        planes = np.zeros(self.game.plane_shape, dtype=np.float32)
        self.game.encode(self.check_state(state), planes)
        return planes
