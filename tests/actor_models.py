"""Small real ONNX models for the actor's tests, exported from torch with the model contract."""

from __future__ import annotations

import os
import sqlite3
import time
import warnings
from pathlib import Path

import onnx
import torch

from engine import get_game


class TinyNet(torch.nn.Module):
    """Conv -> ReLU -> Linear heads; `nan` makes every output NaN, `bias` tilts the policy."""

    def __init__(self, planes: int, rows: int, cols: int, actions: int, nan: bool, bias: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(planes, 4, 3, padding=1)
        self.policy = torch.nn.Linear(4 * rows * cols, actions)
        self.value = torch.nn.Linear(4 * rows * cols, 1)
        self.nan = nan
        if bias >= 0:
            with torch.no_grad():
                self.policy.bias[bias] += 5.0

    def forward(self, planes: torch.Tensor):
        hidden = torch.relu(self.conv(planes)).flatten(1)
        policy, value = self.policy(hidden), torch.tanh(self.value(hidden))
        if self.nan:
            policy, value = policy * float("nan"), value * float("nan")
        return policy, value


def make_model(
    path: Path,
    game_name: str = "tictactoe",
    step: int = 1,
    *,
    meta_game: str | None = None,
    encoding_version: int | None = None,
    num_actions: int | None = None,
    nan: bool = False,
    bias: int = -1,
    atomic: bool = True,
) -> Path:
    """Writes an ONNX model for `game_name` (or a broken variant); atomic = temp + os.replace."""
    game = get_game(game_name)
    torch.manual_seed(step)
    net = TinyNet(
        game.num_planes, game.rows, game.cols, num_actions or game.num_actions, nan, bias
    ).eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter, on purpose
        torch.onnx.export(
            net,
            (torch.zeros(1, *game.plane_shape),),
            str(temp),
            dynamo=False,
            input_names=["planes"],
            output_names=["policy", "value"],
            dynamic_axes={"planes": {0: "batch"}, "policy": {0: "batch"}, "value": {0: "batch"}},
            opset_version=17,
        )
    model = onnx.load(str(temp))
    meta = {
        "game": meta_game or game_name,
        "step": str(step),
        "encoding_version": str(
            game.encoding_version if encoding_version is None else encoding_version
        ),
        "created_at": str(time.time()),
    }
    onnx.helper.set_model_props(model, meta)
    onnx.save(model, str(temp))
    if atomic:
        os.replace(temp, path)
    else:
        path.write_bytes(temp.read_bytes())
        temp.unlink()
    return path


def model_steps(db: Path) -> list[int]:
    """The model step of every game in a replay.db, oldest first (read-only; [] before the
    actor has made the table)."""
    if not db.exists():
        return []
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return [r[0] for r in connection.execute("SELECT model_step FROM games ORDER BY id")]
    except sqlite3.OperationalError:
        return []
    finally:
        connection.close()
