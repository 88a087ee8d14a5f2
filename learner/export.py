"""Publishing the network as ONNX without ever exposing a half-written file.

The model is exported to memory, metadata is added, the bytes go to a temporary file in
`models/` (same filesystem, so `os.replace` is atomic), which then replaces `latest.onnx`. A
reader polling `latest.onnx` sees either the old or the new file, never a partial one, and an
export that fails leaves the old `latest.onnx` untouched.
"""

from __future__ import annotations

import copy
import io
import logging
import time
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from engine import Game
from engine.records import META_CREATED_AT, META_ENCODING_VERSION, META_GAME, META_STEP
from runfiles import write_atomic
from runfiles.layout import (
    CHECKPOINTS,
    LATEST_MODEL,
    MODEL_STEP_GLOB,
    MODELS,
    STATS_FILE,
    model_step_name,
    model_step_of,
)

log = logging.getLogger("learner.export")

OPSET = 17


def onnx_bytes(model: nn.Module, game: Game, step: int, created_at: float | None = None) -> bytes:
    """The model as a self-contained ONNX file (input `planes`, outputs `policy`, `value`)."""
    export_model = copy.deepcopy(model).to("cpu").eval()
    dummy = torch.zeros(1, *game.plane_shape, dtype=torch.float32)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's DeprecationWarning
        torch.onnx.export(
            export_model,
            (dummy,),
            buffer,
            dynamo=False,
            input_names=["planes"],
            output_names=["policy", "value"],
            dynamic_axes={"planes": {0: "batch"}, "policy": {0: "batch"}, "value": {0: "batch"}},
            opset_version=OPSET,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    metadata = {
        META_GAME: game.name,
        META_STEP: str(int(step)),
        META_ENCODING_VERSION: str(int(game.encoding_version)),
        META_CREATED_AT: repr(time.time() if created_at is None else float(created_at)),
    }
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


def publish(
    model: nn.Module,
    game: Game,
    step: int,
    models_dir: Path,
    *,
    keep_last: int = 10,
    milestone_every: int = 10_000,
    max_milestones: int = 32,
    early_every: int = 0,
) -> bool:
    """Exports `model` as model_step_NNNNNN.onnx and latest.onnx, then prunes old step files.

    Returns False (and logs why) when the export failed; latest.onnx is then unchanged.
    """
    try:
        data = onnx_bytes(model, game, step)
        write_atomic(models_dir / model_step_name(step), data)
        write_atomic(models_dir / LATEST_MODEL, data)
    except Exception as error:  # noqa: BLE001 - a failed export must not stop training
        log.error("ONNX export at step %d failed, latest.onnx left as it was: %s", step, error)
        return False
    prune(models_dir, keep_last, milestone_every, max_milestones, early_every)
    return True


def kept_steps(models_dir: Path) -> list[int]:
    """Steps of the model_step_*.onnx files present, ascending."""
    steps = (model_step_of(path.name) for path in models_dir.glob(MODEL_STEP_GLOB))
    return sorted(step for step in steps if step is not None)


def prune(
    models_dir: Path,
    keep_last: int,
    milestone_every: int,
    max_milestones: int = 32,
    early_every: int = 0,
) -> None:
    """Deletes step files other than the newest `keep_last`, the milestones and the early ones.

    Early ones are the steps below the first milestone at `early_every` times a power of two
    (300, 600, 1200... for Tic-tac-toe): the weak models a person wants to play to feel the
    progress. Tic-tac-toe plays perfectly long before its first milestone, and the newest 10
    span a few seconds of its training.

    Milestones are the first step files at or after each multiple of `milestone_every` (see
    `milestone_steps`); when there are more than `max_milestones`, only those of the multiples
    of 2x, 4x, 8x... `milestone_every` are kept, the smallest spacing that fits. They stay
    spread over the whole run, the spacing only grows, and a week-long run keeps a bounded
    number of files.
    """
    steps = kept_steps(models_dir)
    recent = set(steps[-keep_last:]) if keep_last > 0 else set()
    milestones: set[int] = set()
    if milestone_every > 0 and steps:
        spacing = milestone_every
        milestones = milestone_steps(steps, spacing)
        while len(milestones) > max(max_milestones, 0) and spacing <= steps[-1]:
            spacing *= 2
            milestones = milestone_steps(steps, spacing)
    for step in steps:
        if step in recent or step in milestones:
            continue
        if is_early(step, early_every, milestone_every):
            continue
        path = models_dir / model_step_name(step)
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as error:  # a folder of that name, no permission: training goes on
            log.warning("cannot remove old model %s: %s", path, error)


def milestone_steps(steps: list[int], spacing: int) -> set[int]:
    """The first of `steps` (ascending) at or after each multiple of `spacing`, and step 0.

    Not the multiples themselves: Tic-tac-toe publishes every 300 steps, which 10,000 is not a
    multiple of, so only the common multiples (every 30,000) would be kept. The first file at or
    after a multiple is kept from its publish on, so it stays the first one.
    """
    firsts: dict[int, int] = {}
    for step in steps:
        firsts.setdefault(step // spacing, step)
    return {step for multiple, step in firsts.items() if multiple > 0 or step == 0}


def is_early(step: int, early_every: int, milestone_every: int) -> bool:
    """Whether `step` is `early_every` times a power of two, below the first milestone."""
    if early_every <= 0 or step % early_every or (milestone_every and step >= milestone_every):
        return False
    multiple = step // early_every
    return multiple > 0 and multiple & (multiple - 1) == 0


# Temporary files of write_atomic() in the folders only the learner writes to, and the run
# folder's stats.json (the actor writes its own temporary files there too: those stay).
_TEMP_PATTERNS = ((MODELS, ".*.tmp"), (CHECKPOINTS, ".*.tmp"), (".", f".{STATS_FILE}.*.tmp"))


def remove_stale_temp_files(run_dir: Path) -> list[str]:
    """Deletes the temporary files a killed learner left half-written; their names.

    Called when the learner starts, before it writes anything: no write of ours is in flight.
    """
    removed = []
    for folder, pattern in _TEMP_PATTERNS:
        for path in (Path(run_dir) / folder).glob(pattern):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as error:
                log.warning("cannot remove stale temporary file %s: %s", path, error)
                continue
            removed.append(path.name)
    if removed:
        log.info("removed %d temporary files of interrupted writes", len(removed))
    return removed
