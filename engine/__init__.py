"""Cartridge 2 game engine: Numba rules for Tic-tac-toe, Connect 4 and Othello. Rules only."""

from engine.context import EngineContext, StepResult
from engine.game import Game
from engine.registry import get_game, list_games

__all__ = ["EngineContext", "Game", "StepResult", "get_game", "list_games"]
