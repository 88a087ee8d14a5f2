"""Torch checkpoints that let a restarted learner continue exactly where it stopped.

One file, `checkpoints/latest.pt`, written to a temporary file and `os.replace`d, holding the
model, optimiser, scheduler, step, every random state (NumPy sampler, torch, CUDA, Python)
and the replay counters (so the replay ratio is not reset by a restart).
"""

from __future__ import annotations

import copy
import io
import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from runfiles import write_atomic

log = logging.getLogger("learner.checkpoint")


class CheckpointRefused(Exception):
    """The checkpoint cannot be resumed from (unreadable, another game, another network shape);
    nothing of it was applied."""


def save_checkpoint(
    path: Path,
    *,
    game: str,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    rng: np.random.Generator,
    extra: dict[str, Any],
) -> None:
    """Writes everything needed to resume to `path` atomically."""
    state = {
        "game": game,
        "step": int(step),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "optimizer_class": type(optimizer).__name__,
        "scheduler": scheduler.state_dict(),
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "python_rng": random.getstate(),
        "extra": extra,
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(Path(path), buffer.getvalue())


def load_checkpoint(
    path: Path,
    *,
    game: str,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    rng: np.random.Generator,
) -> tuple[int, dict[str, Any]] | None:
    """Restores a checkpoint into the given objects; (step, extra), or None when there is none.

    All or nothing: a checkpoint that cannot be used raises CheckpointRefused with the objects
    as they were (torch's `load_state_dict` copies the tensors that fit before it complains
    about the rest). A checkpoint of the other optimiser (`--optimizer` changed) resumes the
    model, step and schedule, and the optimiser starts fresh: its state does not carry over.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - any unreadable file is refused the same way
        raise CheckpointRefused(f"unreadable: {error}") from error
    if not isinstance(state, dict) or state.get("game") != game:
        found = state.get("game") if isinstance(state, dict) else None
        raise CheckpointRefused(f"it is for {found!r}, not {game!r}")
    _check_network(state.get("model"), model)
    saved_class = _optimizer_class(state.get("optimizer"), state.get("optimizer_class"))
    same_optimizer = saved_class == type(optimizer).__name__
    before = (copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()))
    before_scheduler = copy.deepcopy(scheduler.state_dict())
    try:
        model.load_state_dict(state["model"])
        if same_optimizer:
            optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        rng_states = (state["numpy_rng"], state["torch_rng"], state["python_rng"])
        step, extra = int(state["step"]), dict(state.get("extra", {}))
    except Exception as error:  # noqa: BLE001 - put everything back, then refuse
        model.load_state_dict(before[0])
        optimizer.load_state_dict(before[1])
        scheduler.load_state_dict(before_scheduler)
        raise CheckpointRefused(f"{type(error).__name__}: {error}") from error
    if not same_optimizer:
        log.warning(
            "checkpoint %s was trained with %s, this run uses %s: the model and step resume,"
            " the optimiser state starts fresh",
            path,
            saved_class,
            type(optimizer).__name__,
        )
    rng.bit_generator.state = rng_states[0]
    torch.set_rng_state(rng_states[1])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    random.setstate(rng_states[2])
    return step, extra


def _check_network(saved: Any, model: torch.nn.Module) -> None:
    """CheckpointRefused unless `saved` has exactly the model's tensors, shape for shape."""
    if not isinstance(saved, dict):
        raise CheckpointRefused("it holds no network")
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    found = {name: tuple(getattr(tensor, "shape", ())) for name, tensor in saved.items()}
    if found != expected:
        differ = sorted(set(found) ^ set(expected)) or sorted(
            name for name in expected if found[name] != expected[name]
        )
        raise CheckpointRefused(
            f"its network has another shape than this run's config ({', '.join(differ[:3])}"
            f"{', ...' if len(differ) > 3 else ''} differ)"
        )


def _optimizer_class(saved: Any, name: Any) -> str | None:
    """The saved optimiser's class name; inferred from its settings for checkpoints written
    before the name was saved (SGD has momentum, AdamW betas)."""
    if isinstance(name, str):
        return name
    try:
        group = saved["param_groups"][0]
    except (TypeError, KeyError, IndexError):
        return None
    return "AdamW" if "betas" in group else "SGD" if "momentum" in group else None
