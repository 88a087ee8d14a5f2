"""The registered games. Adding a game: one file in engine/games/ plus one line here."""

from engine.game import Game
from engine.games import connect4, othello, tictactoe

GAMES: dict[str, Game] = {game.name: game for game in (tictactoe.GAME, connect4.GAME, othello.GAME)}


def list_games() -> list[str]:
    return list(GAMES)


def get_game(name: str) -> Game:
    """The game called `name`; an unknown name gets a ValueError that lists the known ones."""
    try:
        return GAMES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown game {name!r}; known games: {', '.join(GAMES)}") from None
