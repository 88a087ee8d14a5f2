"""The HTTP API: shapes of docs/api.md, every bad input a 4xx with a message, limits
(body size, simulations cap, capacity, time) and static serving that stays inside web/dist.

Fine-grained cases use FastAPI's TestClient on the real app; the end-to-end cases start
`python -m actor --no-selfplay` on 127.0.0.1 and talk to it over sockets.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from actor_models import make_model
from fastapi import HTTPException
from fastapi.testclient import TestClient
from reliability_helpers import START_LIMIT_S, wait_for

from actor import evaluation, tournament
from actor.api import MoveService, create_app
from actor.arena import PerfectAgent, RandomAgent
from actor.config import SELFPLAY_SETTINGS, ActorConfig
from actor.replay_db import ReplayWriter
from actor.worker import effective_selfplay
from engine import get_game, list_games
from engine.records import GameRecord
from runfiles import layout
from runfiles import stats as stats_module


def make_config(tmp_path: Path, **overrides) -> ActorConfig:
    dist = tmp_path / "dist"
    dist.mkdir(exist_ok=True)
    (dist / "index.html").write_text("<html>cartridge index</html>")
    (dist / "assets").mkdir(exist_ok=True)
    (dist / "assets" / "app.js").write_text("console.log('app')")
    (tmp_path / "secret.txt").write_text("TOP SECRET outside dist")
    settings = dict(
        data_dir=tmp_path / "data", pretrained_dir=tmp_path / "pretrained", web_dist=dist
    )
    settings.update(overrides)
    return ActorConfig(**settings)


@pytest.fixture
def config(tmp_path: Path) -> ActorConfig:
    return make_config(tmp_path)


@pytest.fixture
def client(config: ActorConfig):
    with TestClient(create_app(config)) as test_client:
        yield test_client


def move(client: TestClient, game: str = "tictactoe", **body):
    return client.post(f"/api/games/{game}/move", json=body)


def test_health_and_games_have_the_contract_shapes(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["training_game"] is None
    assert health["selfplay"] is False
    assert set(health["models"]) == set(list_games())
    assert health["models"]["tictactoe"] == {"step": None, "source": "none", "last_refusal": None}
    assert health["workers"] == [] and health["selfplay_rates"] is None  # serving only
    assert health["searches"] == {"running": 0, "waiting": 0, "started": 0, "dropped": 0}
    startup = health["startup"]  # no self-play and no warm-up: nothing to prepare
    assert (startup["selfplay"], startup["move_searches"], startup["searches_ready"]) == (
        "off", "off", [],
    )  # fmt: skip
    games = {g["name"]: g for g in client.get("/api/games").json()["games"]}
    assert set(games) == set(list_games())
    assert games["tictactoe"] == {
        "name": "tictactoe", "rows": 3, "cols": 3, "num_actions": 9, "model_step": None,
        "model_source": "none", "pretrained_step": None,
        "players": ["alphazero", "mcts", "random", "perfect"], "max_simulations": 1600,
    }  # fmt: skip
    if "othello" in games:
        assert "perfect" not in games["othello"]["players"]


def health_model(client: TestClient, game: str = "tictactoe") -> dict:
    """The API's model of `game` as /api/health shows it (asking re-reads latest.onnx)."""
    return client.get("/api/health").json()["models"][game]


def test_alphazero_uses_latest_then_checkpoints(config: ActorConfig, client: TestClient) -> None:
    answer = move(client, moves=[0, 4], simulations=20, player="alphazero").json()
    assert answer["model_step"] is None  # no model: uniform prior
    assert answer["action"] not in (0, 4)
    models = config.data_dir / "tictactoe" / "models"
    make_model(models / "latest.onnx", step=12)
    make_model(models / "model_step_000003.onnx", step=3)
    assert wait_for(lambda: health_model(client)["step"] == 12, 30)  # re-read once a second
    answer = move(client, moves=[0, 4], simulations=50).json()
    assert answer["model_step"] == 12
    assert len(answer["visits"]) == 9 and abs(sum(answer["visits"]) - 1) < 1e-4
    assert answer["visits"][0] == answer["visits"][4] == 0
    assert -1 <= answer["value"] <= 1 and abs(sum(answer["prior"]) - 1) < 1e-4
    policy_only = move(client, moves=[], simulations=0).json()
    assert policy_only["visits"] == pytest.approx(policy_only["prior"])
    assert move(client, simulations=10, checkpoint=3).json()["model_step"] == 3
    response = move(client, simulations=10, checkpoint=4)
    assert response.status_code == 404 and "not kept" in response.json()["detail"]
    steps = client.get("/api/games/tictactoe/checkpoints").json()["checkpoints"]
    assert [c["step"] for c in steps] == [3] and steps[0]["created_at"] > 0
    assert client.get("/api/health").json()["models"]["tictactoe"]["source"] == "run"


def test_pretrained_model_is_used_when_no_run_model(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    make_model(config.pretrained_dir / "tictactoe.onnx", step=777)
    with TestClient(create_app(config)) as client:
        assert move(client, simulations=0).json()["model_step"] == 777
        assert client.get("/api/health").json()["models"]["tictactoe"]["source"] == "pretrained"
        games = {g["name"]: g for g in client.get("/api/games").json()["games"]}
        assert games["tictactoe"]["model_source"] == "pretrained"
        assert games["tictactoe"]["pretrained_step"] == 777
        assert games["connect4"]["pretrained_step"] is None  # none shipped in this folder


def test_the_shipped_model_plays_on_request_while_the_run_has_models(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    make_model(config.pretrained_dir / "tictactoe.onnx", step=777)
    models = config.data_dir / "tictactoe" / "models"
    make_model(models / "latest.onnx", step=12)
    make_model(models / "model_step_000003.onnx", step=3)
    with TestClient(create_app(config)) as client:
        games = {g["name"]: g for g in client.get("/api/games").json()["games"]}
        assert games["tictactoe"]["model_step"] == 12
        assert games["tictactoe"]["model_source"] == "run"
        assert games["tictactoe"]["pretrained_step"] == 777
        assert move(client, simulations=8).json()["model_step"] == 12
        answer = move(client, moves=[4], simulations=8, pretrained=True)
        assert answer.status_code == 200 and answer.json()["model_step"] == 777
        assert answer.json()["action"] != 4
        both = move(client, simulations=8, pretrained=True, checkpoint=3)
        assert both.status_code == 400 and "not both" in both.json()["detail"]
        other = move(client, simulations=8, pretrained=True, player="mcts")
        assert other.status_code == 400 and "only to player 'alphazero'" in other.json()["detail"]
        text = move(client, simulations=8, pretrained="yes")
        assert text.status_code == 422 and "pretrained" in text.json()["detail"]
        missing = move(client, "connect4", simulations=8, pretrained=True)
        assert missing.status_code == 404 and "no shipped model" in missing.json()["detail"]
        (config.pretrained_dir / "tictactoe.onnx").write_bytes(b"not an onnx file")
        refused = move(client, simulations=8, pretrained=True)
        assert refused.status_code == 422 and "shipped model is refused" in refused.json()["detail"]
        assert move(client, simulations=8).json()["model_step"] == 12  # the run still plays
        games = {g["name"]: g for g in client.get("/api/games").json()["games"]}
        assert games["tictactoe"]["pretrained_step"] is None


def test_the_warm_up_says_what_it_does(caplog) -> None:
    """On a first run the API compiles its searches for about a minute, in which moves answer
    slowly: the log says so, and when they are ready, the game being trained first."""
    from actor.startup import SearchWarmUp
    from engine import get_game, list_games

    warm_up = SearchWarmUp([get_game(name) for name in list_games()], first="othello")
    with caplog.at_level("INFO", logger="actor.startup"):
        warm_up.run()
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith("API: preparing the move searches (a first run compiles")
    assert messages[-1].startswith("API: move searches ready after")
    assert warm_up.state == "ready" and warm_up.ready == ["othello", "tictactoe", "connect4"]


def test_mcts_and_random_players_answer_legal_moves(client: TestClient) -> None:
    moves = [4, 0, 8]
    for player in ("mcts", "random"):
        answer = move(client, moves=moves, simulations=100, player=player).json()
        assert answer["action"] not in moves and answer["model_step"] is None
        assert len(answer["visits"]) == 9


def test_zero_simulations_is_refused_only_for_mcts(client: TestClient) -> None:
    """0 means the network's policy alone (alphazero); mcts would silently run one rollout."""
    from actor.players import PlayerError, choose_move
    from engine import get_game

    game = get_game("tictactoe")
    with pytest.raises(PlayerError, match="at least 1 simulation"):
        choose_move(game, game.initial_state(), "mcts", 0)
    for player in ("alphazero", "random", "perfect"):  # the page sends 0 for the last two
        assert move(client, moves=[4], simulations=0, player=player).status_code == 200, player


def test_mcts_finds_the_immediate_win(client: TestClient) -> None:
    # x: 0, 1 ; o: 3, 4 ; x to move wins at 2.
    answer = move(client, moves=[0, 3, 1, 4], simulations=400, player="mcts").json()
    assert answer["action"] == 2


def test_perfect_player_plays_the_win_or_says_unavailable(client: TestClient) -> None:
    response = move(client, moves=[0, 3, 1, 4], player="perfect")
    try:
        from engine.solvers import solve_action_values  # noqa: F401
    except ImportError:
        assert response.status_code == 400 and "perfect" in response.json()["detail"]
        return
    answer = response.json()
    assert response.status_code == 200 and answer["action"] == 2 and answer["value"] == 1.0
    assert answer["visits"][2] > 0 and answer["model_step"] is None
    # From the empty board every move draws: visits spread over all nine.
    answer = move(client, player="perfect").json()
    assert answer["value"] == 0.0 and answer["visits"] == pytest.approx([1 / 9] * 9)


def test_perfect_early_in_connect4_moves_with_the_network_and_says_so(tmp_path: Path) -> None:
    """Connect 4's solver takes seconds to minutes on a nearly empty board: after
    `solver_time_s` the network moves (the run's newest or the shipped model, whichever trained
    longer), and the answer says so (the page shows it)."""
    make_model(tmp_path / "data" / "connect4" / "models" / "latest.onnx", "connect4", step=9)
    # A move limit far above the solver's: the note, not a 503, shows that the network moved.
    config = make_config(tmp_path, solver_time_s=0.05, move_timeout_s=START_LIMIT_S)
    with TestClient(create_app(config)) as client:
        answer = move(client, "connect4", moves=[3], player="perfect")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model_step"] == 9 and 0 <= body["action"] < 7
        assert body["note"] == (
            "The solver cannot finish within 0.05 s for this position, so AlphaZero (model step 9,"
            " 400 simulations) chose this move"
        )
        # a position it solves in time: the solver's own move, no note
        late = move(client, "tictactoe", moves=[0, 3, 1], player="perfect").json()
        assert late["action"] == 2 and late["note"] is None and late["model_step"] is None
    # A shipped model trained for longer than the run's newest stands in instead.
    make_model(tmp_path / "pretrained" / "connect4.onnx", "connect4", step=500)
    with TestClient(create_app(config)) as client:
        body = move(client, "connect4", moves=[3], player="perfect").json()
        assert body["model_step"] == 500 and "(model step 500," in body["note"]


@pytest.mark.parametrize("flag", ["--solver-time", "--move-timeout", "--log-interval"])
@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_time_limits_must_be_positive_at_start(flag: str, value: str, capsys) -> None:
    """A bad limit is refused when the actor starts, not with a 4xx on every move request (or,
    for the progress log's interval, a thread logging without pause)."""
    from actor.config import parse_args

    with pytest.raises(SystemExit):
        parse_args([flag, value])
    wanted = "a finite number" if value == "nan" else "above 0"
    assert f"argument {flag}: must be {wanted}, got {value}\n" in capsys.readouterr().err
    assert parse_args([flag, "0.5"]).as_log_dict()[flag[2:].replace("-", "_") + "_s"] == "0.5"


BAD_MOVES = [
    ("unknown game", "chess", {"moves": []}, 404, "unknown game"),
    ("illegal move", "tictactoe", {"moves": [4, 4]}, 400, "illegal"),
    ("negative move", "tictactoe", {"moves": [-1]}, 400, "out of range"),
    ("move too large", "tictactoe", {"moves": [9]}, 400, "out of range"),
    ("move after the end", "tictactoe", {"moves": [0, 3, 1, 4, 2, 5]}, 400, "over"),
    ("finished game", "tictactoe", {"moves": [0, 3, 1, 4, 2]}, 400, "finished"),
    ("simulations < 0", "tictactoe", {"simulations": -1}, 422, "simulations"),
    ("simulations over cap", "tictactoe", {"simulations": 1601}, 422, "1600"),
    ("simulations float", "tictactoe", {"simulations": 2.5}, 422, "simulations"),
    ("simulations bool", "tictactoe", {"simulations": True}, 422, "simulations"),
    ("mcts 0 simulations", "tictactoe", {"player": "mcts", "simulations": 0}, 422, "at least 1"),
    ("unknown player", "tictactoe", {"player": "deepblue"}, 400, "unknown player"),
    ("moves not a list", "tictactoe", {"moves": 3}, 422, "moves"),
    ("moves strings", "tictactoe", {"moves": ["a"]}, 422, "moves.0"),
    ("moves floats", "tictactoe", {"moves": [1.5]}, 422, "moves.0"),
    ("moves too long", "tictactoe", {"moves": [0] * 2000}, 422, "moves"),
    ("extra field", "tictactoe", {"moves": [], "cheat": 1}, 422, "cheat"),
    ("checkpoint for random", "tictactoe", {"player": "random", "checkpoint": 1}, 400, "only"),
    ("checkpoint not kept", "tictactoe", {"checkpoint": 123}, 404, "not kept"),
    ("checkpoint string", "tictactoe", {"checkpoint": "x"}, 422, "checkpoint"),
]


@pytest.mark.parametrize(
    "game,body,status,words", [case[1:] for case in BAD_MOVES], ids=[c[0] for c in BAD_MOVES]
)
def test_bad_move_requests_get_4xx_with_a_message(
    client: TestClient, game: str, body: dict, status: int, words: str
) -> None:
    response = client.post(f"/api/games/{game}/move", json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and words in detail


def test_perfect_is_refused_for_unsolved_games(client: TestClient) -> None:
    response = move(client, "othello", player="perfect")
    assert response.status_code == 400 and "perfect" in response.json()["detail"]


def test_malformed_and_oversized_bodies(client: TestClient) -> None:
    json_type = {"content-type": "application/json"}
    response = client.post("/api/games/tictactoe/move", content=b"{not json", headers=json_type)
    assert response.status_code == 422 and isinstance(response.json()["detail"], str)
    response = client.post("/api/games/tictactoe/move", content=b"[1, 2]",
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 422
    big = json.dumps({"moves": [0] * 40000}).encode()
    response = client.post("/api/games/tictactoe/move", content=big,
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413 and "larger than" in response.json()["detail"]

    def chunks():
        for _ in range(100):
            yield b" " * 1024

    response = client.post("/api/games/tictactoe/move", content=chunks(),
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-8"],
)
def test_a_json_body_is_read_whatever_its_content_type(
    client: TestClient, content_type: str | None
) -> None:
    """`curl -d '{...}' URL` sends form-urlencoded: the API takes JSON whatever the label."""
    headers = {} if content_type is None else {"content-type": content_type}
    body = b'{"moves": [0, 3, 1, 4], "player": "perfect"}'
    response = client.post("/api/games/tictactoe/move", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["action"] == 2
    response = client.post("/api/games/tictactoe/move", content=b" " * 100_000, headers=headers)
    assert response.status_code == 413


UNREADABLE_BODIES = [
    ("truncated", b'{"moves":[', "the body is not valid JSON: Expecting value at character 10"),
    ("not json", b"{not json", "the body is not valid JSON: Expecting property name"),
    ("not utf-8", b'{"moves": [4]}\xff\xfe', "the body is not UTF-8 text"),
    ("deep", b'{"moves":' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
    ("long number", b'{"moves":[' + b"9" * 5000 + b"]}", "a number has more than"),
    ("empty", b"", "the body is empty"),
    ("not an object", b"[1, 2]", "the body must be a JSON object"),
]


@pytest.mark.parametrize(
    "body,words", [c[1:] for c in UNREADABLE_BODIES], ids=[c[0] for c in UNREADABLE_BODIES]
)
def test_an_unreadable_body_gets_422_saying_why(client: TestClient, body: bytes, words: str):
    headers = {"content-type": "application/json"}
    response = client.post("/api/games/tictactoe/move", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_head_answers_like_get_without_a_body(config: ActorConfig, client: TestClient) -> None:
    (config.data_dir / "tictactoe").mkdir(parents=True)
    (config.data_dir / "tictactoe" / "stats.json").write_text('{"step": 5}')
    for path in ("/api/health", "/api/games", "/api/games/tictactoe/stats", "/",
                 "/api/games/tictactoe/replays?limit=3", "/api/games/tictactoe/checkpoints",
                 "/assets/app.js", "/openapi.json"):  # fmt: skip
        head, get = client.head(path), client.get(path)
        assert head.status_code == get.status_code == 200, (path, head.text)
        assert head.content == b"" and get.content, path
        assert head.headers["content-type"] == get.headers["content-type"], path
    assert client.head("/api/games/chess/stats").status_code == 404


def test_a_wrong_method_gets_405_and_an_unknown_api_path_404(client: TestClient) -> None:
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        response = client.request(method, "/api/games/tictactoe/move")
        assert response.status_code == 405, (method, response.text)
        assert response.headers["allow"] == "POST"
        if method != "HEAD":
            assert response.json()["detail"] == (
                f"{method} is not allowed here: use POST for /api/games/tictactoe/move"
            )
    response = client.post("/api/games/connect4/stats")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert "use GET or HEAD for /api/games/connect4/stats" in response.json()["detail"]
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in ("/api", "/api/", "/api/unknown", "/api/games/tictactoe/move/extra"):
            response = client.request(method, path)
            assert response.status_code == 404, (method, path)
            assert response.json()["detail"] == f"no API path {path}"


def test_stats_replays_and_checkpoints(config: ActorConfig, client: TestClient) -> None:
    response = client.get("/api/games/tictactoe/stats")  # no run yet: a state the page polls
    assert response.status_code == 200
    assert response.json() == {"game": "tictactoe", "no_run": True}
    assert client.get("/api/games/nope/stats").status_code == 404
    stats = {"game": "tictactoe", "step": 5, "history": [{"step": 1, "loss_total": 2.0}]}
    (config.data_dir / "tictactoe").mkdir(parents=True)
    (config.data_dir / "tictactoe" / "stats.json").write_text(json.dumps(stats))
    assert client.get("/api/games/tictactoe/stats").json() == stats

    assert client.get("/api/games/tictactoe/replays").json() == {"replays": []}
    visits = np.full((3, 9), 1 / 9, np.float32)
    record = GameRecord(np.array([4, 0, 8]), visits, np.array([0.5, -0.25, 0.0]), 0, 9)
    with ReplayWriter(config.data_dir / "tictactoe" / "replay.db") as writer:
        first = writer.insert(record)
        writer.insert(GameRecord(np.array([1]), visits[:1], np.array([1.0]), 1, 10))
    replays = client.get("/api/games/tictactoe/replays?limit=5").json()["replays"]
    assert [r["model_step"] for r in replays] == [10, 9]
    oldest = replays[1]
    assert oldest["id"] == first and oldest["moves"] == [4, 0, 8] and oldest["num_moves"] == 3
    assert oldest["root_values"] == [0.5, -0.25, 0.0] and oldest["outcome"] == 0
    assert oldest["visits"][0] == pytest.approx([1 / 9] * 9, abs=1e-3)
    assert len(client.get("/api/games/tictactoe/replays?limit=1").json()["replays"]) == 1
    for bad in ("0", "1000", "x"):
        response = client.get(f"/api/games/tictactoe/replays?limit={bad}")
        assert response.status_code == 422 and "limit" in response.json()["detail"]
    assert client.get("/api/games/nope/replays").status_code == 404
    assert client.get("/api/games/nope/checkpoints").status_code == 404
    assert client.get("/api/games/connect4/checkpoints").json() == {"checkpoints": []}


def test_refused_model_shows_in_health(config: ActorConfig, client: TestClient) -> None:
    models = config.data_dir / "tictactoe" / "models"
    make_model(models / "latest.onnx", step=4)
    assert wait_for(lambda: health_model(client)["step"] == 4, 30)  # re-read once a second
    make_model(models / "latest.onnx", "connect4", step=5)  # a connect4 net for tictactoe
    assert wait_for(lambda: health_model(client)["last_refusal"] is not None, 30)
    info = health_model(client)
    assert info["step"] == 4 and "game 'connect4', not 'tictactoe'" in info["last_refusal"]
    answer = move(client, moves=[3], simulations=8).json()
    assert answer["model_step"] == 4 and len(answer["visits"]) == 9


def test_static_files_and_spa_fallback(client: TestClient) -> None:
    assert "cartridge index" in client.get("/").text
    route = client.get("/replays/connect4/", follow_redirects=False)  # the page's hash route
    assert route.status_code == 307 and route.headers["location"] == "/#/replays/connect4"
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/#/dashboard"
    redirects = {"/no/such/page": "/", "/foo": "/", "/index.htm": "/", "/play/": "/#/play",
                 "/replays/connect4/5": "/#/replays/connect4/5", "/replays/connect4/5/x":
                 "/#/replays/connect4/5", "/play/connect4/5": "/#/play/connect4"}  # fmt: skip
    for path, target in redirects.items():
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 307 and response.headers["location"] == target, path
    assert "cartridge index" in client.get("/foo/bar").text
    assert client.get("/assets/app.js").text == "console.log('app')"
    assert client.get("/assets/missing.js").status_code == 404  # a missing asset is no page
    response = client.get("/api/nothing")
    assert response.status_code == 404 and "no API path" in response.json()["detail"]
    schema = client.get("/openapi.json").json()
    assert "/api/games/{game}/move" in schema["paths"]
    assert "/api/games/{game}/replays" in schema["paths"]
    assert "/api/games/{game}/replays/{replay_id}" in schema["paths"]


def test_api_docs_load_their_files_from_the_actor(client: TestClient) -> None:
    """/docs names only files the actor serves itself: no CDN, so it works offline."""
    html = client.get("/docs").text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    urls += re.findall(r"""url: ?["']([^"']+)""", html)  # Swagger UI's schema
    assert len(urls) == 4 and all(url.startswith("/") for url in urls), urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and response.content, url
    assert "SwaggerUIBundle" in html


def test_page_without_a_build_says_how_to_build(tmp_path: Path) -> None:
    config = make_config(tmp_path, web_dist=tmp_path / "missing")
    with TestClient(create_app(config)) as client:
        assert "npm run build" in client.get("/").text
        assert client.get("/api/health").status_code == 200


def test_capacity_and_time_limit_answer_503(tmp_path: Path) -> None:
    """One search thread, no queue: a second request is refused at once for capacity (not
    after waiting for the first), the first one answers 503 past its time limit, and its place
    is free again once its search ends."""
    service = MoveService(
        make_config(tmp_path, search_threads=1, search_queue=0, move_timeout_s=0.3)
    )
    searching, release = threading.Event(), threading.Event()

    def slow_search() -> str:
        searching.set()
        release.wait(START_LIMIT_S)
        return "slow"

    async def scenario() -> None:
        slow = asyncio.create_task(service.run_search(slow_search))
        assert await asyncio.to_thread(searching.wait, START_LIMIT_S)  # it holds the thread
        with pytest.raises(HTTPException) as full:
            await service.run_search(lambda: "fast")
        assert full.value.status_code == 503 and "too many move requests" in full.value.detail
        with pytest.raises(HTTPException) as late:
            await slow
        assert late.value.status_code == 503 and "longer than" in late.value.detail
        assert service.searches.snapshot().running == 1  # answered; its search goes on
        release.set()
        # The one search thread runs this after the slow search, whose end frees its place.
        await asyncio.to_thread(service.executor.submit(lambda: None).result, START_LIMIT_S)
        assert await service.run_search(lambda: "fast") == "fast"
        counts = service.searches.snapshot()
        assert (counts.running, counts.waiting, counts.started, counts.dropped) == (0, 0, 2, 0)

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        service.close()


def raw_get(port: int, path: str) -> tuple[int, bytes]:
    """A GET with the path sent exactly as given (clients normalise `..` away)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_real_server_rejects_bad_input_and_keeps_serving(tmp_path: Path, processes) -> None:
    config = make_config(tmp_path)
    actor = processes.actor(config.data_dir, "--no-selfplay", "--web-dist", str(config.web_dist))
    try:
        url = actor.url + "/api/games/tictactoe/move"
        for case in BAD_MOVES:
            response = httpx.post(actor.url + f"/api/games/{case[1]}/move", json=case[2])
            assert response.status_code == case[3], (case, response.text)
        response = httpx.post(url, content=b"x" * 100_000)
        assert response.status_code == 413
        response = httpx.post(
            url, content=b"\xff\xfe", headers={"content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500
        assert httpx.post(url, json={"moves": [4], "player": "random"}).status_code == 200
        curl_d = {"content-type": "application/x-www-form-urlencoded"}  # curl -d's default
        response = httpx.post(url, content=b'{"moves": [4], "player": "random"}', headers=curl_d)
        assert response.status_code == 200, response.text
        for path in ("/api/health", "/api/games", "/api/games/tictactoe/checkpoints"):
            head = httpx.head(actor.url + path)
            assert head.status_code == 200 and head.content == b"", (path, head.text)
        assert httpx.get(url).headers["allow"] == "POST"
        for path in (
            "/../pyproject.toml", "/..%2fpyproject.toml", "/%2e%2e/pyproject.toml",
            "/assets/../../secret.txt", "/assets/..%2f..%2fsecret.txt",
            "/%2e%2e/%2e%2e/secret.txt", "/....//secret.txt", "//etc/passwd",
        ):  # fmt: skip
            status, data = raw_get(actor.port, path)
            assert b"TOP SECRET" not in data and b"[project]" not in data, path
            assert b"root:" not in data, path
            assert status in (200, 307, 400, 404), (path, status)
            if status == 307:  # to the page, never elsewhere
                assert b"\r\nlocation: /\r\n" in data, (path, data)
        status, data = raw_get(actor.port, "/assets/app.js")
        assert status == 200 and b"console.log" in data
        assert httpx.get(actor.url + "/api/health").json()["status"] == "ok"
    finally:
        code = actor.terminate()
    assert code == 0, actor.log()


def test_command_line_refuses_an_unknown_game(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "actor", "--game", "chess", "--data-dir", str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "unknown game 'chess'" in result.stderr


def test_worker_board_carries_counters_and_refusals_between_processes() -> None:
    """What self-play workers publish for the progress log and /api/health: counters per
    worker, and a refusal text cut to its room without breaking a UTF-8 character."""
    import multiprocessing

    from actor.worker import REFUSAL_BYTES, WorkerBoard

    board = WorkerBoard.create(multiprocessing.get_context("spawn"), 2)
    board.publish(0, games=3, model_step=250)
    board.publish(1, games=4, model_step=500, int8=True)
    long_text = "é" * REFUSAL_BYTES  # 2 bytes each: must be cut on a character boundary
    board.set_refusal(1, long_text)
    assert board.totals()["games"] == 7
    first, second = board.snapshot()
    assert first == {
        "index": 0, "model_step": 250, "int8": False, "games": 3, "last_refusal": None,
    }  # fmt: skip
    assert second["model_step"] == 500 and second["int8"]
    assert second["last_refusal"] == "é" * (REFUSAL_BYTES // 2)
    board.set_refusal(1, "shorter")
    assert board.refusal(1) == "shorter"
    board.set_refusal(1, "")
    assert board.refusal(1) is None


def test_replays_skip_rows_that_do_not_fit_the_game(config: ActorConfig, client: TestClient):
    """Rows that do not fit the game are skipped: a valid record with 65,535 actions (a
    `?limit=1` answer of hundreds of MB), and a Connect 4 game in Tic-tac-toe's replay.db."""
    db = config.data_dir / "tictactoe" / "replay.db"
    with ReplayWriter(db) as writer:
        good = writer.insert(GameRecord(np.array([4]), np.full((1, 9), 1 / 9), np.zeros(1), 0))
        writer.insert(GameRecord(np.array([3]), np.full((1, 7), 1 / 7), np.zeros(1), 0))
        wide = np.full((40, 65535), 1 / 65535, np.float32)
        writer.insert(GameRecord(np.zeros(40, np.int64), wide, np.zeros(40), 0))
    response = client.get("/api/games/tictactoe/replays?limit=5")
    assert response.status_code == 200 and len(response.content) < 100_000  # not the wide row
    assert [r["id"] for r in response.json()["replays"]] == [good]


def test_one_replay_by_id(config: ActorConfig, client: TestClient) -> None:
    """The page's #/replays/GAME/ID: the game as the list has it, also once newer games push it
    out of the list; a game the learner trimmed, or a row the list skips, says why."""
    db = config.data_dir / "tictactoe" / "replay.db"
    assert client.get("/api/games/tictactoe/replays/1").status_code == 404  # no replay.db yet
    visits = np.full((3, 9), 1 / 9, np.float32)
    with ReplayWriter(db) as writer:
        first = writer.insert(GameRecord(np.array([4, 0, 8]), visits, np.array([0.5, 0, 0]), 0, 9))
        for _ in range(3):
            writer.insert(GameRecord(np.array([1]), visits[:1], np.array([1.0]), 1, 10))
        connect4 = writer.insert(GameRecord(np.array([3]), np.full((1, 7), 1 / 7), np.zeros(1), 0))
        odd_time = writer.insert(GameRecord(np.array([2]), visits[:1], np.zeros(1), 0))
    newest = client.get("/api/games/tictactoe/replays?limit=2").json()["replays"]
    assert first not in [r["id"] for r in newest]
    response = client.get(f"/api/games/tictactoe/replays/{first}")
    assert response.status_code == 200, response.text
    listed = client.get("/api/games/tictactoe/replays?limit=10").json()["replays"]
    assert response.json() == listed[-1] and response.json()["moves"] == [4, 0, 8]
    assert client.head(f"/api/games/tictactoe/replays/{first}").status_code == 200

    connection = sqlite3.connect(db)
    connection.execute("DELETE FROM games WHERE id = ?", (first,))  # the learner's window
    connection.execute("UPDATE games SET created_at = 'soon' WHERE id = ?", (odd_time,))
    connection.commit()
    connection.close()
    for missing in (first, 999):
        response = client.get(f"/api/games/tictactoe/replays/{missing}")
        assert response.status_code == 404
        assert response.json()["detail"].startswith(f"no game {missing} in tictactoe's replay.db")
    response = client.get(f"/api/games/tictactoe/replays/{connect4}")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"game {connect4} in replay.db is not a readable tictactoe game:"
        " record has 7 actions, the game 9"
    )
    response = client.get(f"/api/games/tictactoe/replays/{odd_time}")
    assert response.status_code == 422 and "'soon'" in response.json()["detail"]
    for bad in ("0", "-3", "x", "1.5", str(2**63)):
        response = client.get(f"/api/games/tictactoe/replays/{bad}")
        assert response.status_code == 422 and "replay_id" in response.json()["detail"], bad
    assert client.get("/api/games/chess/replays/1").status_code == 404
    (config.data_dir / "connect4").mkdir()
    (config.data_dir / "connect4" / "replay.db").write_bytes(b"not a database" * 100)
    response = client.get("/api/games/connect4/replays/1")
    assert response.status_code == 503 and "replay.db cannot be read" in response.json()["detail"]


HOUR = 3600.0


def stopped_run(config: ActorConfig) -> tuple[Path, dict]:
    """A run folder whose learner stopped an hour ago at step 100: its stats.json (written by
    the learner's writer, with an evaluation and a rating of its own) and those stats."""
    run = config.data_dir / "tictactoe"
    stats = stats_module.new_stats("tictactoe", {})
    stats["step"] = 100
    stats_module.append_evaluation(
        stats, step=50, opponent="random", simulations=64, win_rate=0.5, draw_rate=0.5,
        loss_rate=0.0, when=time.time() - 2 * HOUR,
    )  # fmt: skip
    stats_module.append_elo(stats, player="step-50", step=50, elo=100.0)
    assert stats_module.write_stats(run / layout.STATS_FILE, stats)
    set_mtime(run / layout.STATS_FILE, time.time() - HOUR)
    return run, json.loads((run / layout.STATS_FILE).read_text())


def set_mtime(path: Path, when: float) -> None:
    os.utime(path, (when, when))


def evaluate_and_hold_a_tournament(run: Path) -> None:
    """What `python -m actor.evaluation` and `python -m actor.tournament` write, by their own
    writers: an evaluation of step 100 now, one of a step the learner lost (300, before it
    stopped), and a tournament of random against perfect play."""
    entry = {"opponent": "random", "simulations": 64, "win_rate": 1.0, "draw_rate": 0.0}
    lost = {**entry, "step": 300, "time": time.time() - 2 * HOUR}
    evaluation.append_evaluations(run, [{**entry, "step": 100, "time": time.time()}, lost])
    entrants = [tournament.Entrant(RandomAgent()), tournament.Entrant(PerfectAgent())]
    result = {"a": "random", "b": "perfect", "a_wins": 0, "draws": 2, "b_wins": 4, "games": 6}
    tournament.write_tournament(run, get_game("tictactoe"), entrants, [result])


STOPPED_RESULTS = ([(50, 0.5)], ["step-50"])  # what the stopped learner's stats.json holds
NEW_EVALUATIONS, NEW_PLAYERS = [(100, 1.0)], ["perfect", "random"]


def results(answer: dict) -> tuple[list, list]:
    """What the dashboard draws of an answer: (step, win rate) per evaluation, rated players."""
    evaluations = [(entry["step"], entry["win_rate"]) for entry in answer["evaluations"]]
    return evaluations, sorted(row["player"] for row in answer["elo"])


def without_results(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key not in ("evaluations", "elo")}


def test_newer_evaluations_and_tournament_reach_the_stats(
    config: ActorConfig, client: TestClient
) -> None:
    """Results of `python -m actor.evaluation` / `actor.tournament` made while the learner is
    stopped show before training runs again: newer than stats.json, they are merged
    into the answer (as the learner would: not the lost step 300), the baselines with step
    null, and stats.json itself is left as it is."""
    run, stats = stopped_run(config)
    on_disk = (run / layout.STATS_FILE).read_bytes()
    evaluate_and_hold_a_tournament(run)
    served = client.get("/api/games/tictactoe/stats").json()
    assert results(served) == (NEW_EVALUATIONS, NEW_PLAYERS)
    assert {row["step"] for row in served["elo"]} == {None}
    assert without_results(served) == without_results(stats)
    assert (run / layout.STATS_FILE).read_bytes() == on_disk


def test_results_older_than_the_stats_are_not_merged_again(
    config: ActorConfig, client: TestClient
) -> None:
    """A running learner merges both files at every write, so stats.json is the newer and is
    served as it is; each file is judged by its own time (here a tournament held before the
    learner's last write, which it dropped, and a newer evaluation)."""
    run, stats = stopped_run(config)
    evaluate_and_hold_a_tournament(run)
    set_mtime(run / layout.TOURNAMENT_FILE, time.time() - 2 * HOUR)
    served = client.get("/api/games/tictactoe/stats").json()
    assert results(served) == (NEW_EVALUATIONS, STOPPED_RESULTS[1])
    set_mtime(run / layout.EVALUATIONS_FILE, time.time() - 2 * HOUR)
    assert client.get("/api/games/tictactoe/stats").json() == stats


@pytest.mark.parametrize(
    "name,content",
    [
        ("evaluations.json", b'[{"step": 100, "opp'),
        ("evaluations.json", b'{"step": 100}'),
        ("evaluations.json", b"[" * 100_000),  # nested too deeply for json
        ("tournament.json", b"\xff\xfe not utf-8"),
        ("tournament.json", b'{"players": 7}'),
        ("tournament.json", b"[1, 2]"),
    ],
)
def test_a_damaged_newer_results_file_leaves_its_part_of_the_stats(
    config: ActorConfig, client: TestClient, name: str, content: bytes
) -> None:
    """A damaged (hand-edited, truncated) evaluations.json or tournament.json newer than
    stats.json must not break the dashboard: its part is served as stats.json has it, and the
    other, sound file is still merged."""
    run, stats = stopped_run(config)
    evaluate_and_hold_a_tournament(run)
    (run / name).write_bytes(content)
    response = client.get("/api/games/tictactoe/stats")
    assert response.status_code == 200, response.text
    damaged_evaluations = name == layout.EVALUATIONS_FILE
    assert results(response.json()) == (
        STOPPED_RESULTS[0] if damaged_evaluations else NEW_EVALUATIONS,
        NEW_PLAYERS if damaged_evaluations else STOPPED_RESULTS[1],
    )
    assert without_results(response.json()) == without_results(stats)


@pytest.mark.parametrize("text", ["[1, 2]", '"text"', "3", "null"])
def test_stats_that_are_no_json_object_answer_503(
    config: ActorConfig, client: TestClient, text: str
) -> None:
    """A stats.json holding a list (`[1,2]`) is answered 503 like an unreadable one, not 200."""
    (config.data_dir / "tictactoe").mkdir(parents=True)
    (config.data_dir / "tictactoe" / "stats.json").write_text(text)
    response = client.get("/api/games/tictactoe/stats")
    assert response.status_code == 503 and "not an object" in response.json()["detail"]


def test_stats_carry_the_runs_selfplay_settings_and_the_games_defaults(
    config: ActorConfig, client: TestClient
) -> None:
    """The dashboard shows what a run self-plays with and what it changed: stats.json is the
    learner's, so the answer adds the run's actor_config.json (as `python -m actor` writes it)
    beside the game's defaults. Without a readable file the answer is stats.json alone."""
    run, stats = stopped_run(config)
    assert client.get("/api/games/tictactoe/stats").json() == stats  # no actor_config.json
    actor = ActorConfig(game="tictactoe", simulations=200, c_puct=2.5)
    logged = actor.as_log_dict(effective_selfplay(get_game("tictactoe"), actor))
    (run / layout.ACTOR_CONFIG_FILE).write_text(json.dumps(logged, indent=2))
    answer = client.get("/api/games/tictactoe/stats").json()
    settings = answer.pop("selfplay_config")
    assert answer == stats
    assert list(settings) == list(SELFPLAY_SETTINGS)
    assert settings["simulations"] == {"value": 200, "default": 100}
    assert settings["c_puct"] == {"value": 2.5, "default": 1.5}
    assert settings["dirichlet_alpha"] == {"value": 1.0, "default": 1.0}
    assert settings["eval_cache"] == {"value": 65536, "default": 65536}
    # a hand-edited file: an older one lacking a setting, a value that is no number
    (run / layout.ACTOR_CONFIG_FILE).write_text(
        json.dumps({"simulations": "nan", "c_puct": "lots"})
    )
    settings = client.get("/api/games/tictactoe/stats").json()["selfplay_config"]
    assert settings["simulations"] == {"value": "nan", "default": 100}
    assert settings["c_puct"]["value"] == "lots" and settings["opening_moves"]["value"] is None
    for broken in (b"\xff not utf-8", b"[1, 2]", b"[" * 100_000):
        (run / layout.ACTOR_CONFIG_FILE).write_bytes(broken)
        assert client.get("/api/games/tictactoe/stats").json() == stats
    (run / layout.ACTOR_CONFIG_FILE).unlink()
    (run / layout.ACTOR_CONFIG_FILE).mkdir()  # unreadable
    assert client.get("/api/games/tictactoe/stats").json() == stats
