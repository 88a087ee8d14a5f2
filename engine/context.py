"""The Python API of the engine: `EngineContext(name).reset()` / `.step(state, action)`.

Each call runs one jitted kernel that validates the action, copies the state, applies the move
and computes the new legal mask, so the API costs one Numba dispatch per step.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numba
import numpy as np

from engine.game import FIRST_PLAYER_WON, ONGOING, SECOND_PLAYER_WON, STATE_DTYPE, Game
from engine.registry import get_game

ILLEGAL = -1


@dataclass(frozen=True, slots=True)
class StepResult:
    """A state and what a player needs to know about it."""

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
    legal_mask = game.legal_mask
    apply_action = game.apply_action
    status = game.status
    to_play = game.to_play
    num_actions = game.num_actions

    @numba.njit
    def step(state, action):
        legal = legal_mask(state)
        if action < 0 or action >= num_actions or not legal[action]:
            return state.copy(), legal, ILLEGAL, 0
        new_state = state.copy()
        apply_action(new_state, action)
        return new_state, legal_mask(new_state), status(new_state), to_play(new_state)

    return step


class EngineContext:
    """One game's rules behind a small, safe Python API. `step` never changes its input."""

    def __init__(self, name: str) -> None:
        self.game = get_game(name)
        self._step = _step_kernel(self.game)

    @property
    def name(self) -> str:
        return self.game.name

    def reset(self, seed: int | None = None) -> StepResult:
        """The initial position. The rules are deterministic; `seed` is accepted for API parity."""
        state = self.game.initial_state()
        return StepResult(state, self.game.legal_mask(state), False, 0, 0)

    def check_state(self, state: object) -> np.ndarray:
        """`state` if it is a state of this game, else a ValueError saying what is wrong."""
        if not isinstance(state, np.ndarray):
            raise ValueError(f"state must be a numpy array, got {type(state).__name__}")
        if state.dtype != STATE_DTYPE or state.shape != (self.game.state_size,):
            raise ValueError(
                f"{self.name} state must be int64 of shape ({self.game.state_size},), "
                f"got {state.dtype} of shape {state.shape}"
            )
        return state

    def step(self, state: np.ndarray, action: int) -> StepResult:
        """The position after `action`; an illegal action gets a ValueError listing legal ones."""
        self.check_state(state)
        if isinstance(action, bool) or not isinstance(action, int | np.integer):
            raise ValueError(f"action must be an integer, got {action!r}")
        new_state, legal, status, to_play = self._step(state, int(action))
        if status == ILLEGAL:
            raise ValueError(
                f"illegal action {action} in {self.name}; legal actions: "
                f"{np.flatnonzero(legal).tolist()}"
            )
        terminal = status != ONGOING
        return StepResult(new_state, legal, terminal, winner_from_status(status), int(to_play))

    def legal_actions(self, state: np.ndarray) -> list[int]:
        return np.flatnonzero(self.game.legal_mask(self.check_state(state))).tolist()

    def encode(self, state: np.ndarray) -> np.ndarray:
        """The network input planes, float32 [planes, rows, cols], from the side to move's view."""
        planes = np.zeros(self.game.plane_shape, dtype=np.float32)
        self.game.encode(self.check_state(state), planes)
        return planes
