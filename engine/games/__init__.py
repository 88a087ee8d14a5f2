"""One file per game; each defines `GAME`, an `engine.game.Game`."""
