"""int8 copies for self-play (actor.quantize): close to the float model, checked, refused with a
reason, and played by a ModelSlot. Real ONNX Runtime sessions on a small ResNet the test makes."""

from __future__ import annotations

import logging
import multiprocessing
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from actor import quantize
from actor.config import ActorConfig
from actor.model import ModelError, ModelSlot, load_model
from actor.selfplay import SelfPlay, default_config
from engine import get_game
from learner.export import onnx_bytes
from learner.network import ResNet
from runfiles.layout import RunFolder

GAME = get_game("connect4")


def write_resnet(path: Path, step: int = 7) -> Path:
    """A small untrained ResNet of the learner's kind (heads named *_head), with metadata."""
    torch.manual_seed(step)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onnx_bytes(ResNet(GAME, blocks=2, channels=32, hidden=32), GAME, step))
    return path


def dequantized_names(graph: onnx.GraphProto) -> set[str]:
    """The tensors that come out of DequantizeLinear nodes: what int8 data feeds."""
    dequantize = [node for node in graph.node if node.op_type == "DequantizeLinear"]
    return {name for node in dequantize for name in node.output}


@pytest.fixture
def no_speed_check(monkeypatch):
    """The speed check depends on the CPU; these tests check everything else."""
    monkeypatch.setattr(quantize, "MIN_SPEED_UP", 0.0)


def test_int8_copy_is_close_to_the_float_model(tmp_path: Path, no_speed_check) -> None:
    model = load_model(write_resnet(tmp_path / "latest.onnx"), GAME)
    copy = quantize.int8_copy(model, GAME, save_to=tmp_path / "int8.onnx")
    assert copy.int8 and not model.int8
    assert (copy.game, copy.step, copy.created_at, copy.path) == (
        model.game,
        model.step,
        model.created_at,
        model.path,
    )
    planes = quantize.calibration_positions(GAME, 256, seed=99)  # not the calibration's
    logits, values = model(planes)
    copy_logits, copy_values = copy(planes)
    assert not np.array_equal(logits, copy_logits)  # it is another computation...
    probabilities = quantize._probabilities(logits)
    copy_probabilities = quantize._probabilities(copy_logits)
    assert 0.5 * np.abs(probabilities - copy_probabilities).sum(1).mean() < 0.05  # ...close
    assert np.abs(values - copy_values).mean() < 0.05


def test_the_tower_is_int8_and_the_heads_stay_float(tmp_path: Path, no_speed_check) -> None:
    model = load_model(write_resnet(tmp_path / "latest.onnx"), GAME)
    quantize.int8_copy(model, GAME, save_to=tmp_path / "int8.onnx")
    graph = onnx.load(str(tmp_path / "int8.onnx")).graph
    dequantized = dequantized_names(graph)

    def int8_weights(node) -> bool:
        return node.input[1] in dequantized

    tower = [node for node in graph.node if node.op_type == "Conv" and "tower" in node.name]
    layers = [node for node in graph.node if node.op_type in ("Conv", "Gemm")]
    heads = [node for node in layers if "head" in node.name]
    assert tower and len(heads) == 5  # policy: conv, linear; value: conv, two linears
    assert all(int8_weights(node) for node in tower)
    assert not any(int8_weights(node) for node in heads)


def test_shared_biases_of_an_untrained_network_are_quantized_too(
    tmp_path: Path, no_speed_check
) -> None:
    """An untrained network's equal biases are exported once and shared through Identity nodes;
    a bias the quantizer cannot see as a constant keeps the convolution from its int8 kernel
    (which runs slower than float), so every tower bias must be quantized."""
    path = write_resnet(tmp_path / "latest.onnx")
    assert any(node.op_type == "Identity" for node in onnx.load(str(path)).graph.node)
    quantize.int8_copy(load_model(path, GAME), GAME, save_to=tmp_path / "int8.onnx")
    graph = onnx.load(str(tmp_path / "int8.onnx")).graph
    dequantized = dequantized_names(graph)
    tower = [node for node in graph.node if node.op_type == "Conv" and "tower" in node.name]
    assert tower and all(node.input[2] in dequantized for node in tower)


def test_copy_not_faster_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(quantize, "MIN_SPEED_UP", 1e6)
    model = load_model(write_resnet(tmp_path / "latest.onnx"), GAME)
    with pytest.raises(ModelError, match="not faster"):
        quantize.int8_copy(model, GAME)


@pytest.mark.parametrize("threads", [1, 2])
def test_speed_is_timed_on_the_cpu_the_network_takes(tmp_path: Path, threads: int) -> None:
    """One ORT thread: the calling thread's CPU time, so a wait (here a sleep; in a run,
    other processes taking the CPU) does not count. More threads: wall time."""
    model = load_model(write_resnet(tmp_path / "latest.onnx"), GAME, threads=threads)

    class Waits:
        session = model.session

        def __call__(self, planes: np.ndarray):
            time.sleep(0.05)
            return model(planes)

    seconds = quantize._best_time(Waits(), quantize.calibration_positions(GAME, 16), runs=2)
    assert (seconds < 0.04) if threads == 1 else (seconds >= 0.05)


def test_copy_too_far_from_the_float_model_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(quantize, "MAX_POLICY_DISTANCE", 0.0)
    model = load_model(write_resnet(tmp_path / "latest.onnx"), GAME)
    with pytest.raises(ModelError, match="too far"):
        quantize.int8_copy(model, GAME)


def test_file_replaced_after_loading_is_not_quantized(tmp_path: Path, no_speed_check) -> None:
    path = write_resnet(tmp_path / "latest.onnx", step=7)
    model = load_model(path, GAME)
    write_resnet(path, step=8)
    with pytest.raises(ModelError, match="replaced"):
        quantize.int8_copy(model, GAME)


def test_slot_plays_the_int8_copy_in_selfplay(tmp_path: Path, no_speed_check) -> None:
    write_resnet(RunFolder(tmp_path).latest_model, step=12)
    slot = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    assert slot.refresh()
    assert slot.current.int8 and slot.step == 12
    selfplay = SelfPlay(GAME, default_config(GAME, games_in_parallel=8, simulations=16))
    for _ in range(40):
        selfplay.step(slot.current)
    assert selfplay.nn_evals > 0 and selfplay.positions > 0


def test_int8_checks_are_logged_with_the_swap_line_only(
    tmp_path: Path, no_speed_check, caplog
) -> None:
    """Each worker makes a copy of every model: its numbers show with the (rate-limited) swap
    line, not once per model and worker."""
    slot = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    caplog.set_level(logging.INFO)
    for step in (12, 13):
        write_resnet(RunFolder(tmp_path).latest_model, step=step)
        assert slot.refresh() and slot.current.int8 and slot.step == step
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert [line.split(":")[1] for line in lines if "step 1" in line] == [
        " int8 copy of step 12",
        " now playing with " + str(RunFolder(tmp_path).latest_model) + " (step 12, int8)",
    ]


def test_slot_falls_back_to_the_float_model_with_the_reason(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    """The reason shows with the swap line, at its pace: a run's every worker meets the same
    refusal at every model, which with many workers would flood the log."""
    monkeypatch.setattr(quantize, "MIN_SPEED_UP", 1e6)
    slot = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    with caplog.at_level(logging.WARNING, logger="actor.model"):
        for step in (12, 13):
            write_resnet(RunFolder(tmp_path).latest_model, step=step)
            assert slot.refresh()
    assert slot.step == 13 and not slot.current.int8
    assert "not faster" in caplog.text
    assert caplog.text.count("playing the float model") == 1


def test_int8_is_the_default_for_the_convolutional_games_only() -> None:
    assert ActorConfig(game="connect4").int8_selfplay()
    assert ActorConfig(game="othello").int8_selfplay()
    assert not ActorConfig(game="tictactoe").int8_selfplay()
    assert not ActorConfig(game="connect4", int8=False).int8_selfplay()
    assert ActorConfig(game="tictactoe", int8=True).int8_selfplay()


def test_command_writes_the_copy_and_refuses_bad_input(
    tmp_path: Path, no_speed_check, capsys
) -> None:
    model = write_resnet(tmp_path / "model.onnx")
    output = tmp_path / "int8.onnx"
    assert quantize.main(["--game", "connect4", str(model), str(output)]) == 0
    assert load_model(output, GAME).step == 7
    assert quantize.main(["--game", "othello", str(model), str(tmp_path / "x.onnx")]) == 2
    assert "not 'othello'" in capsys.readouterr().err
    assert quantize.main(["--game", "connect4", str(output), str(tmp_path / "x.onnx")]) == 2
    assert "already quantized" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


# ---------------------------------------------------------------- one copy per model for a run


@pytest.fixture
def counted_copies(tmp_path: Path, monkeypatch) -> Path:
    """Every int8 copy made, one line each in the returned file (appended by any process)."""
    made = tmp_path / "made.txt"
    make = quantize.int8_copy

    def counting(model, game, **options):
        with open(made, "a") as file:
            file.write(f"{model.step}\n")
        return make(model, game, **options)

    monkeypatch.setattr(quantize, "int8_copy", counting)
    return made


def _refresh_in_a_worker(run: Path, results) -> None:
    slot = ModelSlot(GAME, RunFolder(run).models, int8=True)
    slot.refresh()
    planes = quantize.calibration_positions(GAME, 64, seed=5)
    results.put((slot.step, slot.current.int8, slot.current(planes)[0].tobytes()))


def test_workers_of_a_run_share_one_copy_per_model(
    tmp_path: Path, no_speed_check, counted_copies
) -> None:
    """Three worker processes ask for the copy of the same new model at once: one makes it,
    the others wait for it and load it, and all three play the same int8 numbers."""
    context = multiprocessing.get_context("fork")  # the patched quantizer goes with them
    for step in (12, 13):
        write_resnet(RunFolder(tmp_path).latest_model, step=step)
        results = context.Queue()
        workers = [
            context.Process(target=_refresh_in_a_worker, args=(tmp_path, results)) for _ in range(3)
        ]
        for worker in workers:
            worker.start()
        answers = [results.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert [(s, int8) for s, int8, _ in answers] == [(step, True)] * 3
        assert len({logits for _, _, logits in answers}) == 1
    assert counted_copies.read_text().split() == ["12", "13"]
    assert len(list(RunFolder(tmp_path).int8.glob("step_*.onnx"))) == 2


def test_a_refused_copy_is_not_tried_again_by_the_other_workers(
    tmp_path: Path, monkeypatch, counted_copies, caplog
) -> None:
    write_resnet(RunFolder(tmp_path).latest_model, step=12)
    monkeypatch.setattr(quantize, "MIN_SPEED_UP", 1e6)
    first = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    assert first.refresh() and not first.current.int8
    monkeypatch.setattr(quantize, "MIN_SPEED_UP", 0.0)  # would pass now: not asked again
    second = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    with caplog.at_level(logging.WARNING, logger="actor.model"):
        assert second.refresh() and not second.current.int8
    assert "not faster" in caplog.text
    assert counted_copies.read_text().split() == ["12"]


def test_a_damaged_refusal_note_still_refuses_the_copy(tmp_path: Path, counted_copies) -> None:
    write_resnet(RunFolder(tmp_path).latest_model, step=12)
    model = load_model(RunFolder(tmp_path).latest_model, GAME)
    folder = RunFolder(tmp_path).int8
    folder.mkdir()
    name = f"step_{model.step:09d}_{model.created_at:.6f}.refused"
    (folder / name).write_bytes(b"\xff\xfe not text")  # must not crash the worker
    slot = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    assert slot.refresh() and slot.step == 12 and not slot.current.int8
    assert not counted_copies.exists()  # refused: not made again


def test_copies_of_the_newest_models_are_kept_and_leftovers_removed(
    tmp_path: Path, no_speed_check
) -> None:
    folder = RunFolder(tmp_path).int8
    folder.mkdir()
    (folder / ".step_000000003_1.000000.tmp").write_bytes(b"a worker was killed here")
    slot = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    steps = range(12, 13 + quantize.SHARED_MODELS_KEPT)
    for step in steps:
        write_resnet(RunFolder(tmp_path).latest_model, step=step)
        assert slot.refresh() and slot.current.int8
    kept = sorted(int(path.name.split("_")[1]) for path in folder.glob("step_*"))
    assert kept == list(steps)[-quantize.SHARED_MODELS_KEPT :]
    assert not list(folder.glob("*.tmp"))


def test_a_damaged_shared_copy_is_made_again(
    tmp_path: Path, no_speed_check, counted_copies
) -> None:
    write_resnet(RunFolder(tmp_path).latest_model, step=12)
    assert ModelSlot(GAME, RunFolder(tmp_path).models, int8=True).refresh()
    (shared,) = RunFolder(tmp_path).int8.glob("step_*.onnx")
    shared.write_bytes(b"not a model")
    slot = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    assert slot.refresh() and slot.current.int8 and slot.step == 12
    assert counted_copies.read_text().split() == ["12", "12"]
    assert load_model(shared, GAME).step == 12


def test_a_folder_that_cannot_be_used_still_gives_a_copy(
    tmp_path: Path, no_speed_check, caplog
) -> None:
    RunFolder(tmp_path).int8.write_text("a file where the folder should be")
    write_resnet(RunFolder(tmp_path).latest_model, step=12)
    slot = ModelSlot(GAME, RunFolder(tmp_path).models, int8=True)
    with caplog.at_level(logging.WARNING):
        assert slot.refresh() and slot.current.int8
    assert "cannot share int8 copies" in caplog.text
