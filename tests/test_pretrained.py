"""The shipped models in data/pretrained/: they load through the actor's validation, stay small,
and the Tic-tac-toe one plays perfectly with search (a regression guard on the shipped file)."""

from pathlib import Path

import pytest

from actor.arena import optimal_move_rate
from actor.evaluation_positions import tictactoe_positions
from actor.model import load_model
from engine import get_game, list_games

PRETRAINED = Path(__file__).resolve().parent.parent / "data" / "pretrained"
MAX_BYTES = 10 * 1024 * 1024


@pytest.mark.parametrize("game_name", list_games())
def test_shipped_model_loads_and_is_small(game_name: str) -> None:
    path = PRETRAINED / f"{game_name}.onnx"
    assert path.stat().st_size <= MAX_BYTES
    model = load_model(path, get_game(game_name))  # raises ModelError when refused
    assert model.step > 0


def test_shipped_tictactoe_model_plays_perfectly() -> None:
    game = get_game("tictactoe")
    model = load_model(PRETRAINED / "tictactoe.onnx", game)
    positions = tictactoe_positions()
    assert optimal_move_rate(game, positions, model, 64) == 1.0
    assert optimal_move_rate(game, positions, model, 0) >= 0.99
