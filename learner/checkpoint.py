"""Torch checkpoints that let a restarted learner continue exactly where it stopped.

One file, `checkpoints/latest.pt`, written to a temporary file and `os.replace`d, holding the
model, optimiser, scheduler, step, every random state (NumPy sampler, torch, CUDA, Python)
and the replay counters (so the replay ratio is not reset by a restart).
"""

from __future__ import annotations

import io
import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from learner.export import write_atomic

log = logging.getLogger("learner.checkpoint")

CHECKPOINT = "latest.pt"


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

    A checkpoint of another game or of a different network shape is refused (logged, None)
    rather than half-applied, so a changed config starts a fresh run instead of crashing.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        if state.get("game") != game:
            log.warning(
                "checkpoint %s is for %r, not %r: starting fresh", path, state["game"], game
            )
            return None
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    except Exception as error:  # noqa: BLE001 - a bad checkpoint must not stop training
        log.warning("cannot resume from %s (%s): starting fresh", path, error)
        return None
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    random.setstate(state["python_rng"])
    return int(state["step"]), dict(state.get("extra", {}))
