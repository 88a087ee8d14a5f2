"""File formats shared by actor and learner: the replay record and the model metadata.

Both processes import this one module so the writer and the reader cannot drift apart.

Replay record (the `data` column of table `games`), zlib-compressed::

    header  "<4sHHHf": magic b"C2R1", num_actions, num_moves, reserved (0), unused (0.0)
    moves         int16[num_moves]
    visits        float16[num_moves, num_actions]   MCTS visit distribution (sums to 1; all
                                                    zero: played without a search, e.g. a
                                                    random opening move, not a training target)
    root_values   float16[num_moves]                root value for the side to move
"""

from __future__ import annotations

import operator
import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engine.game import Game

RECORD_MAGIC = b"C2R1"
_HEADER = struct.Struct("<4sHHHf")

# Keys of the ONNX model's metadata_props.
META_GAME = "game"
META_STEP = "step"
META_ENCODING_VERSION = "encoding_version"
META_CREATED_AT = "created_at"

# Table `games` in replay.db; the actor creates it, the learner reads it.
REPLAY_SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    model_step INTEGER NOT NULL,
    num_moves INTEGER NOT NULL,
    outcome INTEGER NOT NULL,
    data BLOB NOT NULL
)
"""
REPLAY_COLUMNS = ("id", "created_at", "model_step", "num_moves", "outcome", "data")
# What a replay.db-wal is cut back to after a checkpoint, on every connection to it. SQLite
# keeps a WAL file at its largest size otherwise, and one trim of a fast game's window (150,000
# Tic-tac-toe games in one DELETE) left 31 MB of it for the rest of the run.
WAL_SIZE_LIMIT_BYTES = 4 << 20


# Bounds of a record's size for readers that do not name the game; each game's are much smaller
# (its number of actions and Game.max_game_length).
MAX_ACTIONS = 4096
MAX_MOVES = 1024


class RecordError(ValueError):
    """A replay row that cannot be decoded."""


@dataclass
class GameRecord:
    """One finished self-play game.

    outcome: 1 first player won, -1 second player won, 0 draw.
    """

    moves: np.ndarray  # int [num_moves]
    visits: np.ndarray  # float [num_moves, num_actions], rows sum to 1 (0: no search)
    root_values: np.ndarray  # float [num_moves], for the side to move at each move
    outcome: int
    model_step: int = 0

    @property
    def num_moves(self) -> int:
        return int(self.moves.shape[0])


def encode_record(record: GameRecord) -> bytes:
    num_moves, num_actions = record.visits.shape
    if record.moves.shape != (num_moves,) or record.root_values.shape != (num_moves,):
        raise RecordError("moves, visits and root_values must have one entry per move")
    header = _HEADER.pack(RECORD_MAGIC, num_actions, num_moves, 0, 0.0)
    body = (
        record.moves.astype("<i2").tobytes()
        + record.visits.astype("<f2").tobytes()
        + record.root_values.astype("<f2").tobytes()
    )
    return zlib.compress(header + body, 6)


def _integer(value: object, column: str) -> int:
    """An integer column's value; SQLite stores text or floats in them if it is given those."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise RecordError(f"{column} {str(value)[:40]!r} is not an integer") from None


def record_bytes(num_actions: int, num_moves: int) -> int:
    """The inflated size of a record of `num_moves` moves over `num_actions` actions."""
    return _HEADER.size + num_moves * (2 + 2 * num_actions + 2)


def max_blob_bytes(num_actions: int, max_moves: int) -> int:
    """A bound on the compressed size of such records (zlib adds at most ~0.1% to random data):
    readers skip larger blobs without loading them."""
    raw = record_bytes(num_actions, max_moves)
    return raw + raw // 100 + 64


def decode_record(
    blob: bytes | None,
    outcome: int,
    model_step: int = 0,
    *,
    num_actions: int | None = None,
    max_moves: int = MAX_MOVES,
) -> GameRecord:
    """The record in `blob`; a RecordError when it is truncated, garbage or inconsistent
    (the typed columns `outcome` and `model_step` included), or does not fit the game: other
    than `num_actions` actions (when given; else more than MAX_ACTIONS) or more than
    `max_moves` moves. Inflates at most the size the header announces, so a small blob that
    inflates to gigabytes (a "zip bomb") costs no memory."""
    outcome = _integer(outcome, "outcome")
    model_step = _integer(model_step, "model_step")
    if outcome not in (-1, 0, 1):
        raise RecordError(f"outcome {outcome} is not -1, 0 or 1")
    if blob is None:
        raise RecordError("no record, or one larger than any game's")
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(blob, _HEADER.size)
        if len(raw) < _HEADER.size:
            raise RecordError("record is shorter than its header")
        magic, actions, moves, _, _ = _HEADER.unpack_from(raw)
        if magic != RECORD_MAGIC:
            raise RecordError(f"bad record magic {magic!r}")
        if num_actions is None and actions > MAX_ACTIONS:
            raise RecordError(f"record has {actions} actions, more than {MAX_ACTIONS}")
        if num_actions is not None and actions != num_actions:
            raise RecordError(f"record has {actions} actions, the game {num_actions}")
        if moves > max_moves:
            raise RecordError(f"record has {moves} moves, more than the game's {max_moves}")
        expected = record_bytes(actions, moves)
        raw += inflater.decompress(inflater.unconsumed_tail, expected - len(raw) + 1)
    except (zlib.error, TypeError) as error:
        raise RecordError(f"record is not zlib data: {error}") from None
    if len(raw) > expected:
        raise RecordError(f"record inflates to more than the {expected} bytes its header says")
    if len(raw) < expected or not inflater.eof:
        raise RecordError(f"record is truncated: {len(raw)} of {expected} bytes")
    return _arrays(raw, actions, moves, outcome, model_step)


def decode_game_record(
    game: Game, blob: bytes | None, outcome: int, model_step: int = 0
) -> GameRecord:
    """`decode_record` within the bounds of `game`: its number of actions, its longest game."""
    return decode_record(
        blob, outcome, model_step, num_actions=game.num_actions, max_moves=game.max_game_length
    )


def _arrays(
    raw: bytes, num_actions: int, num_moves: int, outcome: int, model_step: int
) -> GameRecord:
    offset = _HEADER.size
    moves = np.frombuffer(raw, "<i2", num_moves, offset).astype(np.int64)
    offset += 2 * num_moves
    visits = np.frombuffer(raw, "<f2", num_moves * num_actions, offset)
    visits = visits.astype(np.float32).reshape(num_moves, num_actions)
    offset += 2 * num_moves * num_actions
    root_values = np.frombuffer(raw, "<f2", num_moves, offset).astype(np.float32)
    if not (np.isfinite(visits).all() and np.isfinite(root_values).all()):
        raise RecordError("record holds non-finite numbers")
    return GameRecord(moves, visits, root_values, outcome, model_step)
