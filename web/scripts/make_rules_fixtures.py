"""Write random games played by OpenSpiel as JSON so vitest can check the TypeScript rules.

Each game: the moves, the legal actions before each move and the final returns. The TypeScript
rules in web/src/games/ must agree with OpenSpiel (our engine's reference) move by move.
Run from the repository root: .venv/bin/python web/scripts/make_rules_fixtures.py
"""

import json
import random
from pathlib import Path

import pyspiel

GAMES = {
    "tictactoe": ("tic_tac_toe", 40),
    "connect4": ("connect_four", 25),
    "othello": ("othello", 12),
}
OUT = Path(__file__).resolve().parent.parent / "src" / "games" / "fixtures" / "openspiel.json"


def random_game(spiel_name: str, rng: random.Random) -> dict:
    state = pyspiel.load_game(spiel_name).new_initial_state()
    moves, legal = [], []
    while not state.is_terminal():
        actions = state.legal_actions()
        legal.append(actions)
        action = rng.choice(actions)
        moves.append(action)
        state.apply_action(action)
    return {"moves": moves, "legal": legal, "returns": [int(r) for r in state.returns()]}


def main() -> None:
    rng = random.Random(2026)
    fixtures = {
        name: [random_game(spiel_name, rng) for _ in range(count)]
        for name, (spiel_name, count) in GAMES.items()
    }
    OUT.write_text(json.dumps(fixtures, separators=(",", ":")))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
