"""ONNX publishing: same outputs as torch, metadata, atomic replace, failure safety, pruning."""

import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from engine import get_game
from engine.records import META_CREATED_AT, META_ENCODING_VERSION, META_GAME, META_STEP
from learner import export
from learner.config import make_config
from learner.network import build_network
from runfiles.layout import model_step_name


def session(path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize(
    "game_name, overrides, memory_format",
    [
        ("tictactoe", {}, torch.contiguous_format),
        ("connect4", {"blocks": 1, "channels": 8}, torch.contiguous_format),
        ("connect4", {"blocks": 1, "channels": 8}, torch.channels_last),  # as the learner trains
    ],
)
def test_onnx_outputs_equal_torch(tmp_path, game_name, overrides, memory_format) -> None:
    game = get_game(game_name)
    torch.manual_seed(0)
    model = build_network(game, make_config(game_name, **overrides))
    model = model.to(memory_format=memory_format)
    # A few training steps so BatchNorm running statistics are not trivial.
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(3):
        logits, value = model(torch.rand(8, *game.plane_shape))
        (logits.pow(2).mean() + value.mean()).backward()
        optimizer.step()
    assert export.publish(model, game, 42, tmp_path)
    model.eval()
    sess = session(tmp_path / "latest.onnx")
    assert [i.name for i in sess.get_inputs()] == ["planes"]
    assert [o.name for o in sess.get_outputs()] == ["policy", "value"]
    for batch in (1, 5):
        planes = np.random.default_rng(batch).random((batch, *game.plane_shape), np.float32)
        policy, value = sess.run(None, {"planes": planes})
        with torch.no_grad():
            torch_policy, torch_value = model(torch.from_numpy(planes))
        assert policy.shape == (batch, game.num_actions) and value.shape == (batch, 1)
        np.testing.assert_allclose(policy, torch_policy.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(value, torch_value.numpy(), rtol=1e-5, atol=1e-5)
        assert np.all(np.abs(value) <= 1)
    meta = {p.key: p.value for p in onnx.load(tmp_path / "latest.onnx").metadata_props}
    assert meta[META_GAME] == game_name
    assert meta[META_STEP] == "42"
    assert meta[META_ENCODING_VERSION] == str(game.encoding_version)
    assert float(meta[META_CREATED_AT]) > 0
    assert (tmp_path / "model_step_000042.onnx").read_bytes() == (
        tmp_path / "latest.onnx"
    ).read_bytes()


def test_reader_never_sees_a_partial_file(tmp_path) -> None:
    game = get_game("tictactoe")
    model = build_network(game)
    assert export.publish(model, game, 0, tmp_path)
    stop = threading.Event()
    loads: list[int] = []
    failures: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                data = (tmp_path / "latest.onnx").read_bytes()
                sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
                sess.run(None, {"planes": np.zeros((1, *game.plane_shape), np.float32)})
                loads.append(len(data))
            except Exception as error:  # noqa: BLE001 - any failure is what we look for
                failures.append(repr(error))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for step in range(1, 101):
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.add_(0.01)
            assert export.publish(model, game, step, tmp_path, keep_last=10, milestone_every=50)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert len(loads) >= 10
    assert export.kept_steps(tmp_path) == [0, 50] + list(range(91, 101))
    assert not list(tmp_path.glob("*.tmp"))


def test_early_models_are_kept_to_play_against(tmp_path) -> None:
    """Tic-tac-toe plays perfectly long before its first milestone, and its newest 10 models
    span seconds: the weak early ones (publish steps times a power of two) are kept."""
    for step in range(300, 36_001, 300):
        (tmp_path / model_step_name(step)).write_bytes(b"onnx")
        export.prune(tmp_path, keep_last=2, milestone_every=30_000, early_every=300)
    early = [300, 600, 1200, 2400, 4800, 9600, 19200]
    assert export.kept_steps(tmp_path) == early + [30_000, 35_700, 36_000]
    export.prune(tmp_path, keep_last=2, milestone_every=30_000)  # without: only the usual
    assert export.kept_steps(tmp_path) == [30_000, 35_700, 36_000]


def test_failed_export_leaves_latest_intact(tmp_path, monkeypatch) -> None:
    game = get_game("tictactoe")
    model = build_network(game)
    assert export.publish(model, game, 1, tmp_path)
    before = (tmp_path / "latest.onnx").read_bytes()

    def broken_export(*args, **kwargs):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(torch.onnx, "export", broken_export)
    assert not export.publish(model, game, 2, tmp_path)
    assert (tmp_path / "latest.onnx").read_bytes() == before
    assert export.kept_steps(tmp_path) == [1]
    assert not list(tmp_path.glob(".*tmp"))


def test_a_step_file_that_cannot_be_removed_does_not_stop_publishing(tmp_path, caplog) -> None:
    """A step file the learner cannot delete (here a folder of that name; or no permission)
    does not stop the learner at its next publish: it is left, said so, and the rest is pruned."""
    (tmp_path / model_step_name(1)).mkdir()
    for step in (2, 3):
        (tmp_path / model_step_name(step)).write_bytes(b"onnx")
    game = get_game("tictactoe")
    assert export.publish(build_network(game), game, 4, tmp_path, keep_last=1, milestone_every=0)
    assert export.kept_steps(tmp_path) == [1, 4]
    assert "cannot remove old model" in caplog.text


def test_milestones_are_kept_when_publish_every_does_not_divide_milestone_every(tmp_path) -> None:
    """Tic-tac-toe publishes every 300 steps and keeps milestones every 10,000: the first
    publish at or after each multiple is kept, not only the common multiples (every 30,000)."""
    for step in range(300, 35_001, 300):
        (tmp_path / model_step_name(step)).write_bytes(b"onnx")
        export.prune(tmp_path, keep_last=3, milestone_every=10_000, early_every=300)
    early = [300, 600, 1200, 2400, 4800, 9600]
    assert export.kept_steps(tmp_path) == early + [10_200, 20_100, 30_000, 34_200, 34_500, 34_800]
    for step in range(35_100, 100_001, 300):  # thinned: every 20,000 once 9 > 4
        (tmp_path / model_step_name(step)).write_bytes(b"onnx")
        export.prune(tmp_path, keep_last=1, milestone_every=10_000, max_milestones=4)
    assert export.kept_steps(tmp_path) == [20_100, 40_200, 60_000, 80_100, 99_900]
