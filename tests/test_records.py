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
