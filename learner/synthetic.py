"""Random legal games written to a replay.db, for the learner's tests and benchmark.

The actor writes the real games; these have the same format (engine.records) and schema, with
a random visit distribution over the legal moves, so the learner can be exercised without it.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from pathlib import Path

import numba
import numpy as np

from engine.game import FIRST_PLAYER_WON, ONGOING, SECOND_PLAYER_WON, Game
from engine.playouts import random_legal_action
from engine.records import REPLAY_SCHEMA, GameRecord, encode_record


@functools.cache
def build_random_games(game: Game):
    """A jitted `games(n, seed) -> (moves, offsets, outcomes, visits, root_values)`."""
    initial_state = game.initial_state
    legal_mask = game.legal_mask
    apply_action = game.apply_action
    status = game.status
    num_actions = game.num_actions
    max_length = game.max_game_length

    @numba.njit
    def games(num_games, seed):
        np.random.seed(seed)
        moves = np.empty(num_games * max_length, dtype=np.int64)
        visits = np.zeros((num_games * max_length, num_actions), dtype=np.float32)
        offsets = np.zeros(num_games + 1, dtype=np.int64)
        outcomes = np.zeros(num_games, dtype=np.int64)
        i = 0
        for g in range(num_games):
            state = initial_state()
            while status(state) == ONGOING:
                mask = legal_mask(state)
                total = 0.0
                for a in range(num_actions):
                    if mask[a]:
                        weight = np.random.random() + 0.01
                        visits[i, a] = weight
                        total += weight
                for a in range(num_actions):
                    visits[i, a] /= total
                action = random_legal_action(mask)
                moves[i] = action
                apply_action(state, action)
                i += 1
            offsets[g + 1] = i
            result = status(state)
            outcomes[g] = (
                1 if result == FIRST_PLAYER_WON else (-1 if result == SECOND_PLAYER_WON else 0)
            )
        root_values = (np.random.random(i) * 2 - 1).astype(np.float32)
        return moves[:i], offsets, outcomes, visits[:i], root_values

    return games


def random_records(game: Game, num_games: int, seed: int = 0) -> list[GameRecord]:
    """`num_games` random legal games of `game`."""
    moves, offsets, outcomes, visits, roots = build_random_games(game)(num_games, seed)
    return [
        GameRecord(
            moves[offsets[g] : offsets[g + 1]].copy(),
            visits[offsets[g] : offsets[g + 1]],
            roots[offsets[g] : offsets[g + 1]],
            int(outcomes[g]),
        )
        for g in range(num_games)
    ]


def create_db(path: Path) -> sqlite3.Connection:
    """replay.db with the shared schema in WAL mode (what the actor creates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(REPLAY_SCHEMA)
    return connection


def insert_records(path: Path, records: list[GameRecord]) -> list[int]:
    """Inserts `records` (one transaction); their ids."""
    connection = create_db(Path(path))
    now = time.time()
    ids = []
    try:
        connection.execute("BEGIN IMMEDIATE")
        for record in records:
            cursor = connection.execute(
                "INSERT INTO games (created_at, model_step, num_moves, outcome, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (now, record.model_step, record.num_moves, record.outcome, encode_record(record)),
            )
            ids.append(int(cursor.lastrowid))
        connection.execute("COMMIT")
    finally:
        connection.close()
    return ids


def insert_raw(path: Path, data: bytes, num_moves: int = 5, outcome: int = 0) -> int:
    """Inserts one row with an arbitrary `data` blob (for undecodable-row tests); its id."""
    connection = create_db(Path(path))
    try:
        cursor = connection.execute(
            "INSERT INTO games (created_at, model_step, num_moves, outcome, data)"
            " VALUES (?, 0, ?, ?, ?)",
            (time.time(), num_moves, outcome, data),
        )
    finally:
        connection.close()
    return int(cursor.lastrowid)
