import struct
import tracemalloc
import zlib

import numpy as np
import pytest

from engine.records import GameRecord, RecordError, decode_record, encode_record


def make_record(num_moves: int = 5, num_actions: int = 9) -> GameRecord:
    rng = np.random.default_rng(0)
    visits = rng.random((num_moves, num_actions)).astype(np.float32)
    visits /= visits.sum(axis=1, keepdims=True)
    return GameRecord(
        moves=rng.integers(0, num_actions, num_moves),
        visits=visits,
        root_values=rng.uniform(-1, 1, num_moves).astype(np.float32),
        outcome=-1,
        model_step=7,
    )


def test_record_round_trip() -> None:
    record = make_record()
    decoded = decode_record(encode_record(record), record.outcome, record.model_step)
    np.testing.assert_array_equal(decoded.moves, record.moves)
    np.testing.assert_allclose(decoded.visits, record.visits, atol=1e-3)
    np.testing.assert_allclose(decoded.root_values, record.root_values, atol=1e-3)
    assert (decoded.outcome, decoded.model_step) == (-1, 7)


@pytest.mark.parametrize("blob", [b"", b"garbage", encode_record(make_record())[:-3]])
def test_garbage_and_truncated_records_are_refused(blob: bytes) -> None:
    with pytest.raises(RecordError):
        decode_record(blob, 0)


def bomb(num_actions: int, num_moves: int, inflated: int) -> bytes:
    """A small blob with a valid header that inflates to `inflated` bytes of zeros."""
    squeezer = zlib.compressobj(9)
    parts = [squeezer.compress(struct.pack("<4sHHHf", b"C2R1", num_actions, num_moves, 0, 0))]
    chunk = bytes(1 << 20)
    parts += [squeezer.compress(chunk) for _ in range(inflated >> 20)]
    return b"".join(parts) + squeezer.flush()


def test_a_zip_bomb_is_refused_without_inflating_it() -> None:
    """A 64 KiB row that inflates to 64 MiB is refused without inflating it: inflated first,
    the learner's memory would grow by the inflated size before the size check refused it."""
    blob = bomb(9, 5, 64 << 20)
    assert len(blob) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(RecordError):
            decode_record(blob, 0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
    with pytest.raises(RecordError, match="actions"):  # a header that announces gigabytes
        decode_record(bomb(65535, 65535, 1 << 20), 0)


def test_records_that_do_not_fit_the_game_are_refused() -> None:
    blob = encode_record(make_record(num_moves=5, num_actions=9))
    assert decode_record(blob, 1, num_actions=9, max_moves=9).num_moves == 5
    with pytest.raises(RecordError, match="7"):
        decode_record(blob, 1, num_actions=7)
    with pytest.raises(RecordError, match="moves"):
        decode_record(blob, 1, num_actions=9, max_moves=4)
    with pytest.raises(RecordError, match="outcome"):
        decode_record(blob, 2)
    with pytest.raises(RecordError):
        decode_record(None, 0)  # a blob the reader did not load: too large for the game
