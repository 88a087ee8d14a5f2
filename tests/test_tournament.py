"""Tournament: a real round robin of ONNX checkpoints and baselines, Elo, tournament.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from actor_models import make_model

from actor import tournament
from actor.arena import PerfectAgent, RandomAgent
from engine import get_game
from runfiles.layout import RunFolder

TICTACTOE = get_game("tictactoe")


def test_pick_checkpoints_spreads_over_steps():
    kept = [(step, Path(f"model_step_{step:06d}.onnx")) for step in range(0, 100, 10)]
    picked = tournament.pick_checkpoints(kept, 4)
    assert [step for step, _ in picked] == [0, 30, 60, 90]
    assert tournament.pick_checkpoints(kept, 20) == kept
    assert tournament.pick_checkpoints(kept, 1) == [kept[-1]]
    assert tournament.pick_checkpoints(kept, 0) == []


def test_ratings_rank_the_winner_first_and_anchor_random():
    entrants = [tournament.Entrant(RandomAgent()), tournament.Entrant(PerfectAgent())]
    results = tournament.run_tournament(TICTACTOE, entrants, 10, seed=1)
    assert results[0]["a"] == "random" and results[0]["games"] == 10
    assert results[0]["b_wins"] >= 5 and results[0]["a_wins"] == 0
    table = tournament.ratings(entrants, results)
    assert [row["player"] for row in table] == ["perfect", "random"]
    assert table[1]["elo"] == 0.0 and table[0]["elo"] > 100
    # intervals of the places in the pool (relative to the mean: the anchor's is not 0)
    assert all(50 < row["elo_ci95"] < 2000 for row in table)
    with pytest.raises(ValueError):
        tournament.run_tournament(TICTACTOE, entrants + entrants[:1], 2)


def test_cli_ranks_strong_above_weak_and_writes_tournament_json(tmp_path, capsys):
    models = RunFolder(tmp_path / "tictactoe").models
    for step in (100, 200, 300):
        make_model(models / f"model_step_{step:06d}.onnx", step=step)
    (models / "model_step_000400.onnx").write_bytes(b"broken")  # refused, skipped
    make_model(tmp_path / "pretrained" / "tictactoe.onnx", step=777)
    code = tournament.main(
        ["--game", "tictactoe", "--data-dir", str(tmp_path), "--games-per-pair", "6",
         "--simulations", "2", "--mcts", "200", "--perfect", "--max-checkpoints", "3",
         "--pretrained-dir", str(tmp_path / "pretrained")]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "skipping model_step_000400.onnx" in captured.err and "games" in captured.err
    document = json.loads(RunFolder(tmp_path / "tictactoe").tournament.read_text())
    assert {"updated_at", "players", "results"} <= set(document)
    players = {row["player"]: row for row in document["players"]}
    assert set(players) == {
        "random", "mcts-200", "perfect", "shipped-777", "step-100", "step-200", "step-300"
    }  # fmt: skip
    assert players["random"]["elo"] == 0.0 and players["random"]["step"] is None
    assert players["shipped-777"]["step"] is None  # a baseline: a line on the dashboard
    assert players["step-200"]["step"] == 200 and players["step-200"]["games"] == 6 * 6
    assert players["perfect"]["elo"] > players["random"]["elo"] + 100
    assert players["mcts-200"]["elo"] > players["random"]["elo"]
    assert len(document["results"]) == 21
    assert all(r["a_wins"] + r["draws"] + r["b_wins"] == 6 for r in document["results"])
    ranking = [row["player"] for row in document["players"]]
    assert ranking.index("perfect") < ranking.index("random")
    assert "perfect" in captured.out and "elo" in captured.out and "95% ci" in captured.out
    assert all(row["elo_ci95"] > 0 for row in document["players"])


def test_cli_refuses_bad_input(tmp_path, capsys):
    assert tournament.main(["--game", "chess", "--data-dir", str(tmp_path)]) == 2
    args = ["--game", "tictactoe", "--data-dir", str(tmp_path)]
    assert tournament.main([*args, "--games-per-pair", "0"]) == 2
    alone = [*args, "--mcts", "--max-checkpoints", "0", "--no-shipped"]
    assert tournament.main(alone) == 2  # random alone
    assert tournament.main(["--game", "othello", "--data-dir", str(tmp_path), "--perfect"]) == 2
    assert "python -m actor.tournament" in capsys.readouterr().err
    connect4 = ["--game", "connect4", "--data-dir", str(tmp_path), "--perfect"]
    assert tournament.main(connect4) == 2  # 2 opening moves: minutes per solver move
    assert "--opening-moves 8 or more" in capsys.readouterr().err


def test_the_shipped_model_is_left_out_when_asked_or_missing_or_refused(tmp_path):
    pretrained = tmp_path / "pretrained"
    assert tournament.shipped_entrant(TICTACTOE, pretrained, 2) is None  # none shipped
    make_model(pretrained / "tictactoe.onnx", step=777)
    assert tournament.shipped_entrant(TICTACTOE, pretrained, 2).name == "shipped-777"
    make_model(pretrained / "connect4.onnx", "connect4", step=5)
    (pretrained / "tictactoe.onnx").write_bytes((pretrained / "connect4.onnx").read_bytes())
    assert tournament.shipped_entrant(TICTACTOE, pretrained, 2) is None  # another game's
    make_model(pretrained / "tictactoe.onnx", step=777)
    args = ["--game", "tictactoe", "--data-dir", str(tmp_path), "--pretrained-dir",
            str(pretrained), "--mcts", "--max-checkpoints", "0",
            "--games-per-pair", "2"]  # fmt: skip
    assert tournament.main([*args, "--no-shipped"]) == 2  # random alone
    assert tournament.main(args) == 0
    document = json.loads(RunFolder(tmp_path / "tictactoe").tournament.read_text())
    assert [row["player"] for row in document["players"]].count("shipped-777") == 1
