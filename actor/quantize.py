"""int8 copies of the network for self-play: the same play at about twice the evaluations/s.

Connect 4 and Othello self-play is bound by the network's arithmetic. ONNX Runtime's static
quantization (QDQ; int8 weights per output channel, uint8 activations calibrated on positions
from random play) runs the convolution tower on the CPU's integer dot-product instructions. The
policy and value heads stay float: they are cheap, and quantizing them too costs agreement with
the float model's best move. The shipped models' copies play at least as well as the float models
(arena scores, held-out accuracy), and a run from nothing with int8 self-play learns as fast
per step with about twice the positions/s: speeds, agreement and scores are in
data/pretrained/README.md.

A copy is used only when it passes two checks against the float model on the calibration
positions: its answers are close (mean policy total variation and value difference under the
limits below; a CPU without VNNI can saturate 16-bit sums) and it is faster. Otherwise
self-play keeps the float model, and the log says why.

A run's self-play workers share one copy per model (`shared_int8_copy`): it is made and checked
once, and the other workers only load the file, far cheaper than making it again.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from actor.locking import locked
from actor.model import ModelError, OnnxEvaluator, load_model
from engine.game import ONGOING, Game
from engine.records import META_CREATED_AT, META_STEP
from runfiles import write_atomic
from runfiles.layout import INT8_LOCK

CALIBRATION_POSITIONS = 1024
MAX_POLICY_DISTANCE = 0.05  # mean total variation distance between the move probabilities
MAX_VALUE_DIFFERENCE = 0.05  # mean absolute difference of the values
MIN_SPEED_UP = 1.1  # slower than this: not worth the copy's error
SHARED_MODELS_KEPT = 4  # models whose shared copy (or refusal) stays in the folder


class CopyRefused(ModelError):
    """This model has no int8 copy to use (it fails a check, or cannot be quantized): a
    property of the model, so no other worker needs to try again."""


log = logging.getLogger(__name__)


class _QuietQuantizer(logging.Filter):
    """The quantizer logs hints on the root logger at every call (pre-process the model; a
    bias that is not an initializer stays float): noise in a worker's log at every reload.
    Its errors still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        quantizer = f"onnxruntime{os.sep}quantization" in record.pathname
        return not quantizer or record.levelno >= logging.ERROR


logging.getLogger().addFilter(_QuietQuantizer())


@functools.cache
def calibration_positions(
    game: Game, count: int = CALIBRATION_POSITIONS, seed: int = 0
) -> np.ndarray:
    """Planes of `count` positions from uniformly random games (the same for the same seed).
    These calibrate as well as real self-play positions (the same agreement within a point)
    and need no run."""
    rng = np.random.default_rng(seed)
    planes = np.zeros((count, *game.plane_shape), np.float32)
    filled = 0
    while filled < count:
        state = game.initial_state()
        while game.status(state) == ONGOING and filled < count:
            game.encode(state, planes[filled])
            filled += 1
            game.apply_action(state, int(rng.choice(np.flatnonzero(game.legal_mask(state)))))
    return planes


class _Batches(CalibrationDataReader):
    def __init__(self, planes: np.ndarray, batch: int = 128) -> None:
        self._batches = iter(
            [{"planes": planes[i : i + batch]} for i in range(0, len(planes), batch)]
        )

    def get_next(self) -> dict | None:
        return next(self._batches, None)


def int8_copy(
    model: OnnxEvaluator,
    game: Game,
    *,
    threads: int = 1,
    save_to: Path | None = None,
    log_level: int = logging.INFO,
) -> OnnxEvaluator:
    """The checked int8 copy of `model` (a float model loaded from `model.path`), also written
    to `save_to` if given; ModelError saying why when there is none to use. Its checks' numbers
    are logged at `log_level`."""
    try:
        proto = onnx.load(str(model.path))
    except Exception as error:  # replaced by a broken file, or removed
        raise ModelError(f"{model.path.name}: cannot read it again ({error})"[:300]) from None
    if not _same_model(proto, model):
        raise ModelError(f"{model.path.name}: file replaced since it was loaded")
    if any(node.op_type in ("QuantizeLinear", "DequantizeLinear") for node in proto.graph.node):
        raise CopyRefused(f"{model.path.name}: already quantized")
    planes = calibration_positions(game)
    with tempfile.TemporaryDirectory(prefix="cartridge-int8-") as folder:
        prepared, output = Path(folder) / "prepared.onnx", Path(folder) / model.path.name
        try:
            # ORT's graph clean-up first: an untrained network's equal biases are shared
            # through Identity nodes, and a bias that is not a constant keeps the convolution
            # from its int8 kernel (and runs slower than float)
            quant_pre_process(proto, prepared, skip_symbolic_shape=True)
            graph = onnx.load(str(prepared)).graph
            quantize_static(
                prepared,
                output,
                _Batches(planes),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=[node.name for node in graph.node if "head" in node.name],
            )
        except Exception as error:  # the quantizer raises many types on graphs it cannot do
            raise CopyRefused(f"{model.path.name}: quantization failed ({error})"[:300]) from None
        loaded = load_model(output, game, threads=threads)
        copy = dataclasses.replace(loaded, path=model.path, int8=True)
        distance, difference = _check_close(model, copy, planes)
        speed_up = _check_faster(model, copy, planes[:128])
        if save_to is not None:  # whole or not at all: other workers load it
            write_atomic(save_to, output.read_bytes())
    log.log(
        log_level,
        "%s: int8 copy of step %d: policy distance %.3f, value difference %.3f, %.2fx faster",
        game.name,
        model.step,
        distance,
        difference,
        speed_up,
    )
    return copy


def shared_int8_copy(
    model: OnnxEvaluator,
    game: Game,
    folder: Path,
    *,
    threads: int = 1,
    log_level: int = logging.INFO,
) -> OnnxEvaluator:
    """`int8_copy` made once per model for all the workers of a run: the first to ask makes
    and checks it under a lock and leaves it in `folder` (or, when refused, the reason); the
    others wait for it and load the file. A folder that cannot be used: this worker makes its
    own copy."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with locked(folder / INT8_LOCK):
            return _made_once(model, game, folder, threads, log_level)
    except OSError as error:  # read-only or full disk: the copy is still worth making
        log.warning("%s: cannot share int8 copies in %s (%s)", game.name, folder, error)
        return int8_copy(model, game, threads=threads, log_level=log_level)


def _made_once(
    model: OnnxEvaluator, game: Game, folder: Path, threads: int, log_level: int
) -> OnnxEvaluator:
    """The shared copy of `model` in `folder`, made now if no worker made it yet (the caller
    holds the folder's lock)."""
    name = f"step_{model.step:09d}_{model.created_at:.6f}"
    copy_path, refused_path = folder / f"{name}.onnx", folder / f"{name}.refused"
    if refused_path.exists():  # the reason, written by another worker; any bytes will do
        raise CopyRefused(refused_path.read_text(errors="replace"))
    if copy_path.exists():
        try:
            copy = load_model(copy_path, game, threads=threads)
        except ModelError as error:  # damaged after it was written: made again
            log.warning("%s: shared int8 copy refused (%s); making it again", game.name, error)
        else:
            log.debug("%s: int8 copy of step %d from %s", game.name, model.step, copy_path)
            return dataclasses.replace(copy, path=model.path, int8=True)
    try:
        copy = int8_copy(model, game, threads=threads, save_to=copy_path, log_level=log_level)
    except CopyRefused as error:
        write_atomic(refused_path, str(error).encode())
        _forget_older(folder)
        raise
    _forget_older(folder)
    return copy


def _forget_older(folder: Path) -> None:
    """Keeps the copies and refusals of the newest SHARED_MODELS_KEPT models in `folder`
    (a worker that asks for an older one makes it again) and removes what a worker killed
    while making a copy left behind."""
    entries = sorted(
        (path for path in folder.iterdir() if path.suffix in (".onnx", ".refused")),
        key=lambda path: path.stat().st_mtime_ns,
    )
    leftovers = [path for path in folder.iterdir() if path.suffix == ".tmp"]
    for path in entries[:-SHARED_MODELS_KEPT] + leftovers:
        path.unlink(missing_ok=True)


def _same_model(proto: onnx.ModelProto, model: OnnxEvaluator) -> bool:
    """Whether `proto`'s metadata names `model`'s step and creation time."""
    meta = {prop.key: prop.value for prop in proto.metadata_props}
    try:
        created_at = float(meta.get(META_CREATED_AT, model.created_at))
        return int(meta.get(META_STEP, "")) == model.step and created_at == model.created_at
    except ValueError:
        return False


def _probabilities(logits: np.ndarray) -> np.ndarray:
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def _check_close(
    model: OnnxEvaluator, copy: OnnxEvaluator, planes: np.ndarray
) -> tuple[float, float]:
    """(mean policy distance, mean value difference) of the copy; ModelError beyond limits."""
    logits, values = model(planes)
    copy_logits, copy_values = copy(planes)
    distance = 0.5 * np.abs(_probabilities(logits) - _probabilities(copy_logits)).sum(1).mean()
    difference = np.abs(values - copy_values).mean()
    if distance > MAX_POLICY_DISTANCE or difference > MAX_VALUE_DIFFERENCE:
        raise CopyRefused(
            f"{model.path.name}: int8 copy too far from the float model (policy distance"
            f" {distance:.3f}, limit {MAX_POLICY_DISTANCE}; value difference {difference:.3f},"
            f" limit {MAX_VALUE_DIFFERENCE})"
        )
    return float(distance), float(difference)


def _best_time(evaluator: OnnxEvaluator, planes: np.ndarray, runs: int = 5) -> float:
    """Best of `runs` times of one batch. With one intra-op thread ONNX Runtime computes on
    the calling thread, so that thread's CPU time is the network's cost alone: time another
    process took meanwhile does not count. Wall time would count it: on cores shared with the
    other workers and the learner, a much faster copy can time slower than the float model,
    and that worker would play the float model until the next one. Several threads: wall time,
    as the only measure."""
    one_thread = evaluator.session.get_session_options().intra_op_num_threads == 1
    clock = time.thread_time if one_thread else time.perf_counter
    evaluator(planes)
    times = []
    for _ in range(runs):
        start = clock()
        evaluator(planes)
        times.append(clock() - start)
    return min(times)


def _check_faster(model: OnnxEvaluator, copy: OnnxEvaluator, planes: np.ndarray) -> float:
    """The copy's speed-up on `planes`; ModelError below MIN_SPEED_UP."""
    float_s, int8_s = _best_time(model, planes), _best_time(copy, planes)
    if int8_s * MIN_SPEED_UP > float_s:
        raise CopyRefused(
            f"{model.path.name}: int8 copy not faster on this CPU ({int8_s * 1e3:.2f} ms per"
            f" batch of {len(planes)}, float {float_s * 1e3:.2f} ms)"
        )
    return float_s / int8_s


def main(argv: list[str] | None = None) -> int:
    """`python -m actor.quantize --game G MODEL.onnx OUT.onnx`: writes the checked int8 copy
    (to compare it with `python -m actor.arena`); exit code 2 when there is none."""
    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--game", required=True)
    parser.add_argument("model", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from engine import get_game

    try:
        game = get_game(args.game)
        int8_copy(load_model(args.model, game), game, save_to=args.output)
    except (ValueError, OSError) as error:  # unknown game, refused model, unwritable output
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
