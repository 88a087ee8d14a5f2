"""Mixed precision for the training step: bfloat16 autocast where this machine runs it faster.

Why: on CPUs with AMX or AVX512-BF16 (and on recent GPUs) a bfloat16 forward and backward pass
trains the default Connect 4 and Othello networks about twice as fast as float32
(`benchmarks/learner.py --precision`); where bfloat16 is emulated it is slower, and the
Tic-tac-toe MLP is too small to gain (its casts cost more than its products). So "auto" times a
few forward and backward passes of both on a copy of the network at start, and keeps bfloat16
only when it is clearly faster. Weights, gradients, optimiser state and exported models stay
float32 (autocast runs the convolutions and matrix products in bfloat16 only), and the loss is
computed in float32, so no loss scaling is needed.

The default for Othello only (engine/games/othello.py): on 2 cores Connect 4's learning waits
on self-play, so a faster learner buys it nothing, and whether bfloat16 costs strength per step
is not settled (networks trained on the same data differ too much from one another to
tell). Othello gains anyway, because its second self-play worker plays in the time the faster
learner leaves free (data/pretrained/README.md).
"""

from __future__ import annotations

import contextlib
import copy
import statistics
import time

import torch

MIN_SPEED_UP = 1.2  # "auto" keeps bfloat16 only when it is at least this much faster
TIMING_ROUNDS = 3  # rounds, alternating the precisions (medians: the machine is shared)
STEPS_PER_ROUND = 2


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context the forward pass runs in: bfloat16 autocast, or nothing for float32."""
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def step_seconds(model: torch.nn.Module, planes: torch.Tensor, precision: str) -> float:
    """Seconds per forward + backward pass of `model` on `planes` (a few passes' mean)."""
    start = time.perf_counter()
    for _ in range(STEPS_PER_ROUND):
        with autocast(planes.device, precision):
            logits, value = model(planes)
        loss = logits.float().logsumexp(dim=1).mean() + value.float().square().mean()
        model.zero_grad(set_to_none=True)
        loss.backward()
    return (time.perf_counter() - start) / STEPS_PER_ROUND


def choose_precision(
    requested: str, model: torch.nn.Module, planes: torch.Tensor
) -> tuple[str, str]:
    """(precision to train in, why). "float32" and "bfloat16" are taken as asked; "auto" times
    both on a copy of `model` (its weights and batch-norm statistics stay untouched) with a
    batch of `planes` and picks bfloat16 when it is at least MIN_SPEED_UP times faster."""
    if requested != "auto":
        return requested, "as configured"
    trial = copy.deepcopy(model).train()
    times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    try:
        for round_ in range(1 + TIMING_ROUNDS):  # round 0 warms up: kernel choice, allocation
            for precision, seconds in times.items():
                elapsed = step_seconds(trial, planes, precision)
                if round_ > 0:
                    seconds.append(elapsed)
    except RuntimeError as error:  # no bfloat16 kernels for this device
        return "float32", f"bfloat16 unavailable here ({error})"
    float32, bfloat16 = (statistics.median(seconds) for seconds in times.values())
    speed_up = float32 / max(bfloat16, 1e-12)
    timing = (
        f"batch of {planes.shape[0]}: bfloat16 {bfloat16 * 1e3:.1f} ms, float32 "
        f"{float32 * 1e3:.1f} ms per forward + backward"
    )
    if speed_up >= MIN_SPEED_UP:
        return "bfloat16", f"{speed_up:.2f}x as fast; {timing}"
    return "float32", f"bfloat16 only {speed_up:.2f}x as fast, {MIN_SPEED_UP}x needed; {timing}"
