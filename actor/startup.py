"""The API's move searches prepared after a start (`SearchWarmUp`), and what /api/health says
of it so that the page can tell a player why the first moves are slow.

A first start compiles the searches with Numba (cached on disk: later starts load them in
seconds). Each self-play worker compiles its own before its first game; the API's warm-up waits
for that, so that it takes no CPU from the compile that stands between a start and the first
game, and then loads the game being trained from the cache the workers wrote (its search takes
self-play's argument types). The other games follow, so that their first move is quick too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Literal

from engine.game import Game

log = logging.getLogger(__name__)

WarmUpState = Literal["waiting", "compiling", "ready", "failed"]
PLAYERS = ("alphazero", "mcts")  # the players whose searches are compiled (Numba)
SELFPLAY_WAIT_S = 300.0  # the warm-up starts after this long even if self-play has not
POLL_S = 0.5


class SearchWarmUp:
    """Compiles each game's move searches once, `first` first, at niceness `nice` (of its own
    thread only), after `selfplay_started()` is true (None: at once). `state` and `ready` (the
    games done, in order) may be read from any thread while `run` goes on in its own."""

    def __init__(
        self,
        games: Iterable[Game],
        *,
        first: str | None = None,
        nice: int = 0,
        selfplay_started: Callable[[], bool] | None = None,
    ) -> None:
        self.games = sorted(games, key=lambda game: game.name != first)  # stable: first first
        self.nice = nice
        self.selfplay_started = selfplay_started
        self.state: WarmUpState = "waiting" if selfplay_started is not None else "compiling"
        self.ready: list[str] = []
        self._stop = threading.Event()

    def run(self) -> None:
        from actor.evaluation import lower_priority
        from actor.players import choose_move

        if self.nice > 0:
            lower_priority(self.nice)
        if self.selfplay_started is not None:
            deadline = time.monotonic() + SELFPLAY_WAIT_S
            while not self.selfplay_started() and time.monotonic() < deadline:
                if self._stop.wait(POLL_S):
                    return
        self.state = "compiling"
        log.info("API: preparing the move searches (a first run compiles them: about 15 s a game)")
        started = time.monotonic()
        for game in self.games:
            for player in PLAYERS:
                if self._stop.is_set():
                    return
                try:
                    choose_move(game, game.initial_state(), player, 2, None)
                except Exception as error:  # best effort: a move request reports its own error
                    log.warning("warm-up of %s/%s failed: %s", game.name, player, error)
                    self.state = "failed"
                    return
            self.ready.append(game.name)
        self.state = "ready"
        log.info("API: move searches ready after %.0f s", time.monotonic() - started)

    def close(self) -> None:
        """Stops `run` before its next search (one that runs finishes: a jitted call cannot be
        interrupted)."""
        self._stop.set()
