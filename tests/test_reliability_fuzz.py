"""Bad input against the real processes, and the static-serving default.

- schemathesis generates requests from the actor's own OpenAPI schema (as served, and with the
  `game` parameter narrowed to the real games so requests reach the handlers), valid and
  invalid, against a live `python -m actor` on 127.0.0.1: no 5xx but a deliberate 503 (search
  time limit), every error a JSON {"detail": "..."} that says something.
- Static serving: symlinks out of web/dist, absolute paths, backslashes, NUL bytes (the plain
  `..` and `%2e%2e` forms are in tests/test_api.py).
- Model files that are random bytes, empty, truncated, for another game, of the wrong shape or
  that output NaN, placed as latest.onnx while self-play runs: refused with the reason in
  /api/health, play and self-play go on with the last good model, a good file is taken again
  (tests/test_model_reload.py covers the slot itself and one corrupt file live). A model that
  passes the load-time check but gives NaN in real positions must not stop self-play or play.
- Replay rows that are truncated or garbage: the learner process skips and counts them and
  reports skipped_rows in stats.json; garbage in the typed columns must not stall the learner
  nor break /api/games/{game}/replays.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import time
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
import schemathesis
import torch
from actor_models import make_model, model_steps
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from reliability_helpers import (
    START_LIMIT_S,
    Proc,
    read_ids,
    start_actor,
    start_learner,
    wait_for,
    wait_healthy,
)
from schemathesis.generation import GenerationMode

from actor.api import create_app
from actor.config import ActorConfig
from engine import get_game, list_games
from engine.records import GameRecord, encode_record
from learner.replay import Replay
from learner.synthetic import insert_raw, insert_records, random_records

TICTACTOE = get_game("tictactoe")
EXAMPLES = 12  # per operation and generation mode (CI size)
MOVE_TIMEOUT_S = 3


# ---- a live actor with a model, a checkpoint, stats, replays and a web/dist ------------------


def build_site(root: Path) -> Path:
    """web/dist with an asset, a secret next to it, and symlinks that point out of it."""
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>cartridge index</html>")
    (dist / "assets" / "app.js").write_text("console.log('app')")
    (root / "secret.txt").write_text("TOP SECRET outside dist")
    os.symlink(root / "secret.txt", dist / "leak.txt")
    os.symlink(root, dist / "up")
    os.symlink("/etc", dist / "assets" / "etc")
    return dist


@pytest.fixture(scope="module")
def live_actor(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    dist = build_site(root)
    run = root / "data" / "tictactoe"
    make_model(run / "models" / "latest.onnx", step=5)
    make_model(run / "models" / "model_step_000003.onnx", step=3)
    (run / "stats.json").write_text(json.dumps({"game": "tictactoe", "step": 5, "history": []}))
    insert_records(run / "replay.db", random_records(TICTACTOE, 5, seed=1))
    insert_raw(run / "replay.db", b"\x78\x9c garbage")
    actor = start_actor(
        root / "data", "--no-selfplay", "--web-dist", str(dist), "--move-timeout",
        str(MOVE_TIMEOUT_S), "--max-simulations", "200", warm_up=True,
    )  # fmt: skip
    try:
        wait_healthy(actor)
        warm_searches(actor.url)
        yield actor
    finally:
        code = actor.terminate()
        actor.close()
        assert code == 0, actor.log()[-3000:]


def warm_searches(url: str) -> None:
    """One answered move per game and player, so JIT compiling is not mistaken for slowness."""
    for game in list_games():
        for player in ("alphazero", "mcts"):
            body = {"moves": [], "simulations": 8, "player": player}

            def answered(game: str = game, body: dict = body) -> bool:
                response = httpx.post(f"{url}/api/games/{game}/move", json=body, timeout=60)
                assert response.status_code in (200, 503), response.text  # 503: still compiling
                return response.status_code == 200

            assert wait_for(answered, START_LIMIT_S, 0.5), f"no {player} move in {game}"


def narrowed(raw: dict) -> dict:
    """The schema with path parameter `game` limited to the real games."""
    raw = json.loads(json.dumps(raw))
    for path in raw["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "game":
                    parameter["schema"] = {"type": "string", "enum": list_games()}
    return raw


def check_answer(label: str, response) -> None:
    status = response.status_code
    if status == 503:  # deliberate: a search over its time limit, or a solver timeout
        assert "detail" in response.json(), (label, response.text)
        return
    assert status < 500, (label, status, response.text[:500])
    if status >= 400:
        detail = response.json().get("detail")
        assert isinstance(detail, str) and len(detail) > 3, (label, status, response.text[:500])


def fuzz_operation(operation, mode, url: str, statuses: dict[int, int]) -> None:
    """`EXAMPLES` generated requests for one operation: our checks, then schemathesis's."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_schema_conformance,
    )

    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    checks.append(negative_data_rejection)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        # A hang fails here; an answer that busy cores only make late does not.
        response = case.call(base_url=url, timeout=20 * MOVE_TIMEOUT_S)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        check_answer(operation.label, response)
        if response.status_code != 503:  # a deliberate 503 is no server error
            case.validate_response(response, checks=checks)

    try:
        run()
    except Unsatisfiable:  # e.g. no invalid request exists for GET /api/health
        pass


def test_schemathesis_finds_no_server_error(live_actor) -> None:
    raw = httpx.get(live_actor.url + "/openapi.json", timeout=10).json()
    statuses: dict[int, int] = {}
    for source in (raw, narrowed(raw)):
        for result in schemathesis.openapi.from_dict(source).get_all_operations():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz_operation(result.ok(), mode, live_actor.url, statuses)
    assert statuses.get(200, 0) > 20, statuses
    assert httpx.get(live_actor.url + "/api/health").json()["status"] == "ok"
    print(f"schemathesis statuses: {dict(sorted(statuses.items()))}")


def raw_get(port: int, path: bytes) -> tuple[int, bytes]:
    """A GET with the path sent byte for byte (clients normalise `..` and refuse NUL)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    parts = data.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), data


TRAVERSALS = [
    b"/leak.txt",  # symlink to a file outside dist
    b"/up/secret.txt",  # symlinked folder pointing at dist's parent
    b"/assets/etc/passwd",  # symlinked folder pointing at /etc
    b"/%2Fetc%2Fpasswd",  # an absolute path, encoded
    b"/assets/%2Fetc/passwd",
    b"/..%5csecret.txt",  # backslashes
    b"/assets/..\\..\\secret.txt",
    b"/%2e%2e%5c%2e%2e%5csecret.txt",
    b"/assets/%252e%252e/%252e%252e/secret.txt",  # double encoding
    b"/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 dots
    b"/index.html%00/../../secret.txt",  # NUL byte
    b"/%00",
    b"/assets/..;/..;/secret.txt",
    b"/." + b"./" * 40 + b"etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS, ids=[p.decode("latin1") for p in TRAVERSALS])
def test_static_serving_never_leaves_web_dist(live_actor, path: bytes) -> None:
    status, data = raw_get(live_actor.port, path)
    assert b"TOP SECRET" not in data and b"root:" not in data, (path, data[:300])
    assert status in (200, 307, 400, 404, 405), (path, status)
    if status == 200:
        assert b"cartridge index" in data  # the SPA fallback page, nothing else
    if status == 307:  # a path that is no file: to the page, never elsewhere
        assert re.search(rb"\r\nlocation: /(#/[a-z]+/?[^\r/]*)?\r\n", data.lower()), data[:300]


def test_static_serving_still_serves_the_page(live_actor) -> None:
    status, data = raw_get(live_actor.port, b"/assets/app.js")
    assert status == 200 and b"console.log" in data


# ---- bad model files while self-play runs ----------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.writing")
    temp.write_bytes(data)
    os.replace(temp, path)


def bad_model(path: Path, kind: str, good: bytes) -> None:
    if kind == "random bytes":
        write_atomic(path, np.random.default_rng(1).bytes(8192))
    elif kind == "empty file":
        write_atomic(path, b"")
    elif kind == "truncated":
        write_atomic(path, good[: len(good) // 2])
    elif kind == "another game":
        make_model(path, "connect4", step=50)
    elif kind == "input of another game":
        make_model(path, "connect4", step=50, meta_game="tictactoe")
    elif kind == "wrong policy shape":
        make_model(path, "tictactoe", step=50, num_actions=8)
    elif kind == "outputs NaN":
        make_model(path, "tictactoe", step=50, nan=True)
    else:
        raise AssertionError(kind)


BAD_MODELS = {
    "random bytes": "cannot load ONNX file",
    "empty file": "cannot load ONNX file",
    "truncated": "cannot load ONNX file",
    "another game": "model is for game 'connect4'",
    "input of another game": "input must be planes",
    "wrong policy shape": "outputs must be policy [batch, 9]",
    "outputs NaN": "non-finite",
}


def test_bad_models_are_refused_while_play_and_selfplay_go_on(tmp_path: Path) -> None:
    run = tmp_path / "tictactoe"
    latest = run / "models" / "latest.onnx"
    db = run / "replay.db"
    make_model(latest, step=5)
    good = latest.read_bytes()
    actor = start_actor(
        tmp_path, "--game", "tictactoe", "--simulations", "16", "--games-in-parallel", "8"
    )
    try:
        wait_healthy(actor)
        assert wait_for(lambda: 5 in model_steps(db), START_LIMIT_S, 0.2), actor.log()[-3000:]

        def health() -> dict:
            return httpx.get(actor.url + "/api/health", timeout=10).json()["models"]["tictactoe"]

        for kind, reason in BAD_MODELS.items():
            before = len(read_ids(db))
            bad_model(latest, kind, good)
            assert wait_for(
                lambda r=reason: r in (health()["last_refusal"] or ""), 120, 0.3
            ), f"{kind}: {health()}"
            assert health()["step"] == 5, kind
            answer = httpx.post(
                actor.url + "/api/games/tictactoe/move", json={"moves": [4], "simulations": 16}
            )
            assert answer.status_code == 200 and answer.json()["model_step"] == 5, kind
            assert wait_for(lambda n=before: len(read_ids(db)) > n + 8, 120, 0.2), kind
            assert actor.alive(), actor.log()[-3000:]
        assert model_steps(db)[-1] == 5  # self-play kept the last good model throughout
        make_model(latest, step=9)  # a good file is taken again
        assert wait_for(lambda: health()["step"] == 9, 120, 0.3)
        assert wait_for(lambda: 9 in model_steps(db), 120, 0.2)
        assert actor.log().count("refused model") >= len(BAD_MODELS)
        code = actor.terminate()
    finally:
        actor.close()
    assert code == 0, actor.log()[-3000:]


class NanOnThreeStones(torch.nn.Module):
    """Finite on the empty board and on random planes (what load_model tests), NaN on every
    position with exactly three stones, which nearly every real game reaches."""

    def __init__(self) -> None:
        super().__init__()
        size = TICTACTOE.num_planes * TICTACTOE.rows * TICTACTOE.cols
        self.policy = torch.nn.Linear(size, TICTACTOE.num_actions)
        self.value = torch.nn.Linear(size, 1)

    def forward(self, planes: torch.Tensor):
        flat = planes.flatten(1)
        policy, value = self.policy(flat), torch.tanh(self.value(flat))
        bad = (planes[:, :2].sum(dim=(1, 2, 3)) == 3).unsqueeze(1)
        nan = float("nan")
        return torch.where(bad, torch.full_like(policy, nan), policy), torch.where(
            bad, torch.full_like(value, nan), value
        )


def write_nan_on_three_stones(path: Path, step: int, fixed_batch: int | None = None) -> None:
    """The model above; with `fixed_batch`, exported for batches of exactly that size (ORT
    then refuses any other: the load-time test batch has 3 positions)."""
    import warnings

    import onnx

    temp = path.with_name(".nan-model.writing")
    dynamic = {"planes": {0: "batch"}, "policy": {0: "batch"}, "value": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            NanOnThreeStones().eval(), (torch.zeros(fixed_batch or 1, *TICTACTOE.plane_shape),),
            str(temp), dynamo=False, input_names=["planes"], output_names=["policy", "value"],
            dynamic_axes=None if fixed_batch else dynamic, opset_version=17,
        )  # fmt: skip
    model = onnx.load(str(temp))
    meta = {"game": "tictactoe", "step": str(step), "created_at": str(time.time())}
    meta["encoding_version"] = str(TICTACTOE.encoding_version)
    onnx.helper.set_model_props(model, meta)
    onnx.save(model, str(temp))
    os.replace(temp, path)


def test_model_with_nan_on_real_positions_does_not_stop_play(tmp_path: Path) -> None:
    """A model that passes the load-time test batch but gives NaN in real games: self-play must
    go on (the actor must not die) and a move request must get an answer, not a 500."""
    run = tmp_path / "tictactoe"
    db = run / "replay.db"
    make_model(run / "models" / "latest.onnx", step=5)
    actor = start_actor(
        tmp_path, "--game", "tictactoe", "--simulations", "16", "--games-in-parallel", "8"
    )
    try:
        wait_healthy(actor)
        assert wait_for(lambda: 5 in model_steps(db), START_LIMIT_S, 0.2), actor.log()[-3000:]
        write_nan_on_three_stones(run / "models" / "latest.onnx", step=60)

        def worker_refused() -> bool:
            workers = httpx.get(actor.url + "/api/health", timeout=10).json()["workers"]
            return "non-finite" in (workers[0]["last_refusal"] or "")

        # The worker meets the NaN in play and goes back to step 5 (checked below).
        wait_for(lambda: not actor.alive() or worker_refused(), 120, 0.3)
        problems = []
        count = len(read_ids(db))
        if not wait_for(lambda: len(read_ids(db)) > count + 20, 120, 0.3) or not actor.alive():
            problems.append(f"self-play stopped (actor alive: {actor.alive()})")
        if actor.alive():  # the worker's refusal shows in /api/health, and the step it went back to
            workers = httpx.get(actor.url + "/api/health", timeout=10).json()["workers"]
            refusal = workers[0]["last_refusal"] or ""
            if "non-finite" not in refusal or workers[0]["model_step"] != 5:
                problems.append(f"/api/health does not show the worker's refusal: {workers}")
            response = httpx.post(
                actor.url + "/api/games/tictactoe/move",
                json={"moves": [0, 4, 8], "simulations": 16},
                timeout=30,
            )
            if response.status_code >= 500:
                problems.append(f"move request: {response.status_code} {response.text[:200]}")
        assert not problems, f"{problems}\n{actor.log()[-2500:]}"
    finally:
        actor.close()


def three_stones(count: int) -> np.ndarray:
    """`count` tic-tac-toe positions with three stones (where NanOnThreeStones gives NaN)."""
    planes = np.zeros((count, *TICTACTOE.plane_shape), np.float32)
    planes[:, 0, 0, 0] = planes[:, 0, 0, 1] = planes[:, 1, 1, 1] = 1.0
    return planes


def test_slot_refuses_a_model_that_gives_nan_in_play_and_goes_back(tmp_path: Path) -> None:
    """The slot-level part of the test above, in one process: the batch is answered by the
    previous model, the refusal is kept for /api/health, the file is not taken again."""
    from actor.mcts import alphazero_search
    from actor.model import ModelSlot, load_model

    models = tmp_path / "models"
    make_model(models / "latest.onnx", step=5)
    good = load_model(models / "latest.onnx", TICTACTOE)
    slot = ModelSlot(TICTACTOE, models)
    slot.refresh()
    write_nan_on_three_stones(models / "latest.onnx", step=60)
    assert slot.refresh() and slot.step == 60 and slot.last_refusal is None
    planes = three_stones(4)
    logits, values = slot.current(planes)
    expected_logits, expected_values = good(planes)
    assert np.allclose(logits, expected_logits) and np.allclose(values, expected_values)
    assert slot.step == 5 and slot.source == "run"
    assert "non-finite" in slot.last_refusal and "real position" in slot.last_refusal
    assert not slot.refresh() and slot.step == 5  # the refused file is not taken again
    # With no model before it: the uniform prior answers, and a search goes through.
    fresh = ModelSlot(TICTACTOE, models)
    fresh.refresh()
    assert fresh.step == 60
    state = TICTACTOE.initial_state()
    for move in (0, 4, 8):
        TICTACTOE.apply_action(state, move)
    result = alphazero_search(TICTACTOE, state, 16, fresh.current)
    assert fresh.current is None and fresh.source == "none" and fresh.last_refusal
    assert np.isfinite(result.visits).all() and np.isfinite(result.value)


def test_slot_refuses_a_model_that_fails_on_a_real_batch_and_goes_back(tmp_path: Path) -> None:
    """A model that passes the load-time batch of 3 but that ORT refuses for a batch of 4 (a
    fixed batch size): the model is refused like one that gives NaN, and the previous one
    answers; the error kills neither the worker nor, with it, the actor."""
    from actor.model import ModelSlot, load_model

    models = tmp_path / "models"
    make_model(models / "latest.onnx", step=5)
    good = load_model(models / "latest.onnx", TICTACTOE)
    slot = ModelSlot(TICTACTOE, models)
    slot.refresh()
    write_nan_on_three_stones(models / "latest.onnx", step=60, fixed_batch=3)
    assert slot.refresh() and slot.step == 60
    planes = np.zeros((4, *TICTACTOE.plane_shape), np.float32)
    logits, values = slot.current(planes)
    assert np.allclose(logits, good(planes)[0]) and np.allclose(values, good(planes)[1])
    assert slot.step == 5 and "failed on a real batch" in slot.last_refusal


# ---- garbage replay rows ---------------------------------------------------------------------


def garbage_blobs() -> dict[str, bytes | str]:
    good = encode_record(random_records(TICTACTOE, 1, seed=9)[0])
    raw = zlib.decompress(good)
    nan_visits = GameRecord(
        np.array([4]), np.full((1, 9), np.nan, np.float32), np.zeros(1, np.float32), 0
    )
    return {
        "random bytes": np.random.default_rng(2).bytes(300),
        "empty": b"",
        "truncated blob": good[: len(good) // 2],
        "truncated body": zlib.compress(raw[: len(raw) - 7]),
        "header only": zlib.compress(raw[:14]),
        "bad magic": zlib.compress(b"XXXX" + raw[4:]),
        "zlib of garbage": zlib.compress(b"\x00" * 500),
        "NaN visits": encode_record(nan_visits),
        "text instead of a blob": "just some text",
        "zip bomb": zlib.compress(raw[:14] + bytes(16 << 20), 9),  # inflates to 16 MiB
    }


def test_learner_skips_counts_and_reports_garbage_rows(tmp_path: Path) -> None:
    db = tmp_path / "tictactoe" / "replay.db"
    insert_records(db, random_records(TICTACTOE, 20, seed=4))
    garbage = garbage_blobs()
    for blob in garbage.values():
        insert_raw(db, blob)
    insert_records(db, random_records(TICTACTOE, 20, seed=5))
    learner = start_learner(
        tmp_path, "--game", "tictactoe", "--max-steps", "20", "--min-positions", "10",
        "--batch-size", "16", "--publish-every", "10", "--stats-every-s", "1",
    )  # fmt: skip
    try:
        code = learner.process.wait(START_LIMIT_S)
    finally:
        learner.close()
    assert code == 0, learner.log()[-3000:]
    stats = json.loads((tmp_path / "tictactoe" / "stats.json").read_text())
    assert stats["step"] == 20 and stats["skipped_rows"] == len(garbage), stats["skipped_rows"]
    assert learner.log().count("skipping undecodable replay row") == len(garbage)


def typed_garbage_db(path: Path) -> int:
    """Good games plus rows whose typed columns hold text (SQLite stores what it is given)."""
    insert_records(path, random_records(TICTACTOE, 3, seed=7))
    blob = encode_record(random_records(TICTACTOE, 1, seed=8)[0])
    connection = sqlite3.connect(path)
    rows = [
        (time.time(), 0, 5, "x", blob),  # outcome
        (time.time(), "abc", 5, 1, blob),  # model_step
        ("yesterday", 0, 5, 1, blob),  # created_at
    ]
    with connection:
        connection.executemany(
            "INSERT INTO games (created_at, model_step, num_moves, outcome, data)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    connection.close()
    insert_records(path, random_records(TICTACTOE, 3, seed=10))
    return len(rows)


def test_learner_skips_rows_with_garbage_in_typed_columns(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    typed_garbage_db(db)
    replay = Replay(TICTACTOE, db, 10_000)
    replay.poll()  # must not raise: a raise here repeats on every poll and stalls training
    assert replay.counters.games == 7 and replay.counters.skipped_rows == 2


def test_replays_api_skips_rows_with_garbage_in_typed_columns(tmp_path: Path) -> None:
    typed_garbage_db(tmp_path / "data" / "tictactoe" / "replay.db")
    config = ActorConfig(
        data_dir=tmp_path / "data", pretrained_dir=tmp_path / "none", web_dist=tmp_path / "none"
    )
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        response = client.get("/api/games/tictactoe/replays?limit=50")
    assert response.status_code == 200, response.text
    assert len(response.json()["replays"]) == 6


def test_unreadable_replay_db_is_no_server_error(tmp_path: Path) -> None:
    run = tmp_path / "data" / "tictactoe"
    run.mkdir(parents=True)
    (run / "replay.db").write_bytes(b"this is not an sqlite database" * 100)
    config = ActorConfig(
        data_dir=tmp_path / "data", pretrained_dir=tmp_path / "none", web_dist=tmp_path / "none"
    )
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        response = client.get("/api/games/tictactoe/replays")
        assert response.status_code in (200, 503), response.text
        assert client.get("/api/health").status_code == 200


def test_start_with_a_garbage_replay_db_says_why(tmp_path: Path) -> None:
    """The learner on a file that is not SQLite waits and says so instead of crashing."""
    run = tmp_path / "tictactoe"
    run.mkdir(parents=True)
    (run / "replay.db").write_bytes(b"this is not an sqlite database" * 100)
    learner = Proc(
        [
            *start_learner_command(tmp_path),
            "--max-steps", "5", "--min-positions", "10",
        ],
        tmp_path / "learner.out",
    )  # fmt: skip
    try:
        assert wait_for(lambda: "replay" in learner.log() and "not a database" in learner.log(),
                        START_LIMIT_S, 0.3), learner.log()[-3000:]  # fmt: skip
        assert learner.alive()
        code = learner.terminate()
    finally:
        learner.close()
    assert code == 0, learner.log()[-3000:]


def start_learner_command(data_dir: Path) -> list[str]:
    from reliability_helpers import PYTHON

    return [PYTHON, "-m", "learner", "--data-dir", str(data_dir), "--game", "tictactoe"]


def test_actor_on_a_garbage_replay_db_says_what_is_wrong(tmp_path: Path) -> None:
    """The actor says what is wrong, not only "self-play worker 0 died (exit code 1)" after a
    traceback."""
    run = tmp_path / "tictactoe"
    run.mkdir(parents=True)
    (run / "replay.db").write_bytes(np.random.default_rng(5).bytes(50_000))
    actor = start_actor(tmp_path, "--game", "tictactoe", "--workers", "1")
    try:
        code = actor.process.wait(START_LIMIT_S)
    finally:
        actor.close()
    assert code != 0
    assert f"{run / 'replay.db'} is not an SQLite database" in actor.log(), actor.log()[-3000:]
    assert "Traceback" not in actor.log(), actor.log()[-3000:]
