"""The actor's HTTP API (FastAPI) and the built web page.

Move searches run in a small thread pool with a bounded number of waiting requests, so a burst
of requests is answered 503 at once instead of piling up behind self-play; each request has a
time limit. Every error is a 4xx/503 with {"detail": "what was wrong"}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actor.config import ActorConfig, selfplay_settings
from actor.model import CheckpointCache, ModelError, ModelSlot, list_checkpoints
from actor.players import PLAYERS, PlayerError, SolverTimeout, choose_move, players_for
from actor.replay_db import StoredGame, read_game, read_newest
from actor.startup import SearchWarmUp
from engine import get_game, list_games
from engine.game import ONGOING, Game
from engine.records import RecordError
from runfiles.layout import RunFolder
from runfiles.stats import merge_newer_results

log = logging.getLogger(__name__)

MAX_MOVES = 1024
MAX_REPLAYS = 200
MAX_ROW_ID = 2**63 - 1  # SQLite's largest INTEGER: a larger id would not even be looked up
FALLBACK_SIMULATIONS = 400  # AlphaZero's search when the solver cannot answer in time
UNKNOWN_API = "/api/{rest:path}"  # the catch-all route: 404 or 405 in JSON
API_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
JSON_EXAMPLE = '{"moves": [4]}'
T = TypeVar("T")


# ---- answers and requests -------------------------------------------------------------------


class ErrorAnswer(BaseModel):
    detail: str


class ModelInfo(BaseModel):
    step: int | None
    source: Literal["run", "pretrained", "none"]
    last_refusal: str | None


class WorkerInfo(BaseModel):
    """A self-play worker: the model step it plays with (as an int8 copy or not) and why it
    last refused a model."""

    index: int
    model_step: int
    int8: bool
    games: int
    last_refusal: str | None


class SelfplayRates(BaseModel):
    """All workers' rates over the last progress-log interval (a few seconds): what self-play
    does now, where stats.json's rates are what the learner read over the last minute."""

    games_per_s: float
    positions_per_s: float
    nn_evals_per_s: float  # leaves evaluated (by the uniform prior before the first model)


class SearchCounts(BaseModel):
    """The move requests' searches (not self-play's): those holding a place now, and those
    started or dropped since the server started."""

    running: int
    waiting: int = Field(description="holding a place, their search not started yet")
    started: int
    dropped: int = Field(description="never run: answered 503 before a thread took them")


class StartupInfo(BaseModel):
    """What the actor still prepares after a start: a first start compiles the searches (about
    half a minute per process on an idle machine; later starts load them in seconds)."""

    selfplay: Literal["off", "starting", "playing"] = Field(
        description="starting: a worker has not played its first batch (it compiles its search)"
    )
    move_searches: Literal["off", "waiting", "compiling", "ready", "failed"] = Field(
        description="the API's warm-up of its move searches; waiting: for self-play to start"
    )
    searches_ready: list[str] = Field(description="the games whose move searches are prepared")
    seconds: float = Field(description="since the actor started")


class HealthAnswer(BaseModel):
    status: Literal["ok"]
    training_game: str | None
    selfplay: bool
    models: dict[str, ModelInfo]
    workers: list[WorkerInfo]
    selfplay_rates: SelfplayRates | None
    searches: SearchCounts
    startup: StartupInfo


class GameInfo(BaseModel):
    name: str
    rows: int
    cols: int
    num_actions: int
    model_step: int | None
    model_source: Literal["run", "pretrained", "none"]
    pretrained_step: int | None = Field(description="the shipped model's step (None: none)")
    players: list[str]
    max_simulations: int


class GamesAnswer(BaseModel):
    games: list[GameInfo]


class MoveRequest(BaseModel):
    """The whole game so far from the initial position, and who should answer it how."""

    model_config = ConfigDict(extra="forbid")
    moves: list[StrictInt] = Field(default_factory=list, max_length=MAX_MOVES)
    simulations: StrictInt = Field(200, ge=0, description="MCTS budget; capped by the server")
    player: str = Field("alphazero", description=f"one of {', '.join(PLAYERS)}")
    checkpoint: StrictInt | None = Field(None, description="an older kept model's step")
    pretrained: StrictBool = Field(
        False, description="play the shipped model even when the run has models of its own"
    )


class MoveAnswer(BaseModel):
    action: int
    value: float = Field(description="for the side to move (the bot), -1..1")
    visits: list[float]
    prior: list[float]
    model_step: int | None
    note: str | None = Field(
        default=None, description="why the move is not the player's own kind of move, if so"
    )


class CheckpointInfo(BaseModel):
    step: int
    created_at: float


class CheckpointsAnswer(BaseModel):
    checkpoints: list[CheckpointInfo]


class Replay(BaseModel):
    id: int
    created_at: float
    model_step: int
    num_moves: int
    outcome: int = Field(description="1 first player won, -1 second player won, 0 draw")
    moves: list[int]
    visits: list[list[float]]
    root_values: list[float]


class ReplaysAnswer(BaseModel):
    replays: list[Replay]


def replay_answer(item: StoredGame) -> Replay:
    """A stored game as the API shows it, the same in the list and alone."""
    return Replay(
        id=item.id,
        created_at=item.created_at,
        model_step=item.record.model_step,
        num_moves=item.record.num_moves,
        outcome=item.record.outcome,
        moves=item.record.moves.tolist(),
        visits=np.round(item.record.visits, 4).tolist(),
        root_values=np.round(item.record.root_values, 4).tolist(),
    )


def read_stats(run_dir: Path) -> dict[str, Any]:
    """The run's stats.json, with evaluations.json and tournament.json merged in where they are
    newer: results made while the learner (which merges them at every write) is stopped show
    at once. In memory only: the learner stays the file's only writer."""
    path = RunFolder(run_dir).stats
    written_at = path.stat().st_mtime  # before reading: a newer file is at worst merged again
    stats = json.loads(path.read_text())
    if not isinstance(stats, dict):  # the learner writes an object; the page reads one
        raise ValueError("it holds JSON, but not an object")
    merge_newer_results(stats, run_dir, written_at)
    return stats


def stats_answer(run_dir: Path, game: str) -> dict[str, Any]:
    """`read_stats`, plus the run's self-play settings beside the game's defaults where its
    actor_config.json can be read (`selfplay_config`): stats.json is the learner's, which
    knows nothing of self-play, and the dashboard shows both."""
    stats = read_stats(run_dir)
    selfplay = selfplay_settings(RunFolder(run_dir).actor_config, game)
    if selfplay is not None:
        stats["selfplay_config"] = selfplay
    return stats


ERRORS = {code: {"model": ErrorAnswer} for code in (400, 404, 413, 422, 503)}
# The move body is read by `json_body`, not FastAPI: the schema is declared here instead.
MOVE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": MoveRequest.model_json_schema()}},
    }
}


# ---- request bodies --------------------------------------------------------------------------


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object whatever its Content-Type: `curl -d` labels JSON as a form,
    and FastAPI reads only bodies labelled JSON."""
    try:
        raw = await request.body()
    except ClientDisconnect:  # BodySizeLimit has answered 413 already, or the client left
        raise HTTPException(400, "the body did not arrive in full") from None
    return parse_json_object(raw)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """`raw` parsed as a JSON object; a 422 that says why it cannot be."""
    if not raw.strip():
        raise HTTPException(422, f"the body is empty: send a JSON object such as {JSON_EXAMPLE}")
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise HTTPException(
            422, f"the body is not UTF-8 text: byte {error.start} cannot be decoded"
        ) from None
    except json.JSONDecodeError as error:
        raise HTTPException(
            422, f"the body is not valid JSON: {error.msg} at character {error.pos}"
        ) from None
    except RecursionError:
        raise HTTPException(422, "the body cannot be read as JSON: nested too deeply") from None
    except ValueError:  # an integer over Python's digit limit
        digits = sys.get_int_max_str_digits()
        raise HTTPException(
            422, f"the body cannot be read as JSON: a number has more than {digits} digits"
        ) from None
    if not isinstance(value, dict):
        raise HTTPException(422, f"the body must be a JSON object such as {JSON_EXAMPLE}")
    return value


def move_request(body: dict[str, Any]) -> MoveRequest:
    """The move request in `body`; a RequestValidationError (422) naming each bad field."""
    try:
        return MoveRequest.model_validate(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


# ---- request body limit ----------------------------------------------------------------------


class BodySizeLimit:
    """Answers 413 to a body over `limit` bytes, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _too_large(send, self.limit)
        received = 0
        started = too_large = False

        async def counting_receive() -> Message:
            nonlocal received, started, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Answer now and tell the app the client left (FastAPI would turn an
                    # exception raised here into a 400); whatever it sends later is dropped.
                    if not started:
                        started = too_large = True
                        await _too_large(send, self.limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, tracking_send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeadAsGet:
    """Answers HEAD as GET without the body: FastAPI's GET routes do not take HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def allowed_methods(routes: list[BaseRoute], path: str) -> list[str]:
    """The methods of the API routes (not the catch-all) that serve `path`; HEAD with GET."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, APIRoute) and route.path not in (UNKNOWN_API, "/api"):
            if route.path_regex.match(path):
                methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


# ---- static files ----------------------------------------------------------------------------


PAGE_VIEWS = ("play", "dashboard", "replays")  # the page's hash routes (web/src/lib/route.ts)


class SpaStaticFiles(StaticFiles):
    """web/dist; any other path but a missing asset redirects to the page (`page_route`).
    Serving index.html there instead gave a blank page: the build's asset paths are relative,
    so they resolved under /replays/. Starlette's lookup keeps every path inside the folder
    (realpath + commonpath) and symlinks are not followed."""

    async def get_response(self, path: str, scope: Scope):
        try:
            return await super().get_response(path, scope)
        except StarletteHTTPException as error:
            if error.status_code != 404 or path.split("/")[0] == "assets":
                raise
            return RedirectResponse(page_route(path), status_code=307)


def page_route(path: str) -> str:
    """The page's hash route closest to `path` (/play/connect4/5: /#/play/connect4; a replay
    keeps its id, /replays/connect4/5: /#/replays/connect4/5), or the page itself for a path
    that names no view."""
    parts = [part for part in path.split("/") if part]
    parts = parts[: 3 if parts[:1] == ["replays"] else 2]
    if parts and parts[0] in PAGE_VIEWS:
        return "/#/" + "/".join(parts)
    return "/"


NOT_BUILT_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Cartridge 2</title>
</head><body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Cartridge 2</h1><p>The actor is running, but the web page is not built yet.</p>
<p>Build it once with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then reload.
The API is at <a href="/docs">/docs</a>.</p></body></html>"""


# ---- the service behind the routes -------------------------------------------------------------


class SearchAbandoned(RuntimeError):
    """A search whose request had timed out before a thread picked it up."""


class SearchCounter:
    """`SearchCounts`, kept by the search pool's threads and the event loop together. A place
    is counted until after it is freed, so counts of zero mean every place is free."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = SearchCounts(running=0, waiting=0, started=0, dropped=0)

    def queued(self) -> None:
        with self._lock:
            self._counts.waiting += 1

    def began(self) -> None:
        with self._lock:
            self._counts.waiting -= 1
            self._counts.running += 1
            self._counts.started += 1

    def ended(self, ran: bool) -> None:
        with self._lock:
            if ran:
                self._counts.running -= 1
            else:
                self._counts.waiting -= 1
                self._counts.dropped += 1

    def snapshot(self) -> SearchCounts:
        with self._lock:
            return self._counts.model_copy()


class MoveService:
    """Models per game for play, and the bounded pool that runs searches."""

    def __init__(self, config: ActorConfig) -> None:
        self.config = config
        self.games: dict[str, Game] = {name: get_game(name) for name in list_games()}
        self.slots = {
            name: ModelSlot(
                game,
                RunFolder(config.run_dir(name)).models,
                config.pretrained_dir / f"{name}.onnx",
                threads=config.ort_threads,
            )
            for name, game in self.games.items()
        }
        self.checkpoints = CheckpointCache(size=6, threads=config.ort_threads)  # 3 shipped
        self.executor = ThreadPoolExecutor(config.search_threads, thread_name_prefix="search")
        self._capacity = threading.BoundedSemaphore(config.search_threads + config.search_queue)
        self.searches = SearchCounter()

    def game(self, name: str) -> Game:
        game = self.games.get(name)
        if game is None:
            raise HTTPException(404, f"unknown game {name!r}; games: {', '.join(self.games)}")
        return game

    def refresh_models(self) -> None:
        for slot in self.slots.values():
            slot.refresh(min_interval_s=1.0)

    def replay_moves(self, game: Game, moves: list[int]) -> np.ndarray:
        """The position after `moves`; 400 naming the first bad move, or when it is finished."""
        state = game.initial_state()
        for index, move in enumerate(moves):
            if game.status(state) != ONGOING:
                raise HTTPException(400, f"the game is over after move {index}; no more moves")
            if not 0 <= move < game.num_actions:
                raise HTTPException(
                    400, f"move {index} ({move}) is out of range 0..{game.num_actions - 1}"
                )
            legal = game.legal_mask(state)
            if not legal[move]:
                raise HTTPException(
                    400,
                    f"move {index} ({move}) is illegal; legal: {np.flatnonzero(legal).tolist()}",
                )
            game.apply_action(state, move)
        if game.status(state) != ONGOING:
            raise HTTPException(400, "the game is already finished; there is no move to make")
        return state

    def evaluator_for(self, game: Game, checkpoint: int | None, pretrained: bool = False):
        if pretrained:
            return self.shipped_model(game)
        if checkpoint is None:
            return self.slots[game.name].current
        models_dir = RunFolder(self.config.run_dir(game.name)).models
        try:
            return self.checkpoints.get(game, models_dir, checkpoint)
        except FileNotFoundError as error:
            raise HTTPException(404, str(error)) from None
        except ModelError as error:
            raise HTTPException(422, f"checkpoint {checkpoint} is refused: {error}") from None

    def shipped_model(self, game: Game):
        """The shipped `<pretrained_dir>/<game>.onnx`: 404 when there is none, 422 when it is
        refused."""
        path = self.config.pretrained_dir / f"{game.name}.onnx"
        if not path.is_file():
            raise HTTPException(404, f"{game.name} has no shipped model ({path.name})")
        try:
            return self.checkpoints.load(game, path)
        except ModelError as error:
            raise HTTPException(422, f"the shipped model is refused: {error}") from None

    def strongest_model(self, game: Game):
        """Of the run's newest model and the shipped one, the one trained for more steps: the
        stand-in for `perfect` where the solver cannot answer in time should play as well as
        anything at hand, and a young run's model is far weaker than the shipped one."""
        newest = self.slots[game.name].current
        try:
            shipped = self.shipped_model(game)
        except HTTPException:
            return newest
        return shipped if newest is None or shipped.step > newest.step else newest

    def shipped_step(self, game: Game) -> int | None:
        try:
            return self.shipped_model(game).step
        except HTTPException:
            return None

    async def run_search(self, function):
        """Runs `function` in the pool; 503 when the pool and its queue are full or on timeout.

        A request past its time limit is answered 503 and wanted by no one: its search is
        dropped if it has not started yet (cancelled in the queue, or skipped when a thread
        picks it up after the deadline), so abandoned requests do not keep the pool busy. A
        search that already runs finishes (the searches have no stop point between batches).
        """
        if not self._capacity.acquire(blocking=False):
            raise HTTPException(503, "too many move requests in progress; try again shortly")
        abandoned = threading.Event()
        # Checked by the search thread itself: while a jitted search holds the GIL the event
        # loop cannot mark the request abandoned before the thread takes the next one.
        deadline = time.monotonic() + self.config.move_timeout_s
        ran = threading.Event()

        def unless_abandoned():
            if abandoned.is_set() or time.monotonic() >= deadline:
                raise SearchAbandoned("the request timed out before its search started")
            self.searches.began()
            ran.set()
            return function()

        def free_place(_) -> None:
            self._capacity.release()
            self.searches.ended(ran.is_set())

        self.searches.queued()
        try:
            future = self.executor.submit(unless_abandoned)
        except RuntimeError:  # shutting down
            free_place(None)
            raise HTTPException(503, "the server is shutting down") from None
        future.add_done_callback(free_place)
        wrapped = asyncio.wrap_future(future)
        # Read the outcome even when no one awaits it any more (no "never retrieved" log).
        wrapped.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            return await asyncio.wait_for(asyncio.shield(wrapped), self.config.move_timeout_s)
        except TimeoutError:
            abandoned.set()
            future.cancel()  # still queued: never runs (its done callback frees the place)
            raise HTTPException(
                503, f"the search took longer than {self.config.move_timeout_s:g} s"
            ) from None

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


# ---- the app -----------------------------------------------------------------------------------


def create_app(
    config: ActorConfig,
    *,
    training_game: str | None = None,
    warm_up: bool = False,
    workers: Any = None,
) -> FastAPI:
    """The FastAPI app: API routes first, then web/dist (or a page that says how to build it).
    `workers`: the self-play workers' `actor.worker.WorkerBoard`, shown by /api/health."""
    service = MoveService(config)
    started_at = time.monotonic()
    searches_warm_up = None
    if warm_up:  # after self-play's first games, beside them (see actor.startup)
        searches_warm_up = SearchWarmUp(
            service.games.values(),
            first=training_game,
            nice=0 if workers is None else config.worker_nice,
            selfplay_started=None if workers is None else workers.started,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(service.refresh_models)
        if searches_warm_up is not None:
            threading.Thread(target=searches_warm_up.run, name="warm-up", daemon=True).start()
        yield
        if searches_warm_up is not None:
            searches_warm_up.close()
        service.close()

    # /docs (Swagger UI) loads its script, style and icon from the installed fastapi-offline
    # package, not from a CDN: it works with no network. No /redoc: ReDoc always asks its
    # maker's CDN for a logo.
    app = FastAPIOffline(
        redoc_url=None,
        title="Cartridge 2 actor",
        version="0.1.0",
        description="Play against the bot, read training stats and self-play replays.",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        parts = []
        for item in error.errors():
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {item.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(parts)}, status_code=422)

    @app.get("/api/health", response_model=HealthAnswer)
    async def health() -> HealthAnswer:
        await run_in_threadpool(service.refresh_models)
        models = {
            name: ModelInfo(step=slot.step, source=slot.source, last_refusal=slot.last_refusal)
            for name, slot in service.slots.items()
        }
        return HealthAnswer(
            status="ok",
            training_game=training_game,
            selfplay=training_game is not None,
            models=models,
            workers=[] if workers is None else workers.snapshot(),
            selfplay_rates=(
                SelfplayRates(**workers.rates) if workers is not None and workers.rates else None
            ),
            searches=service.searches.snapshot(),
            startup=StartupInfo(
                selfplay=(
                    "off" if workers is None else "playing" if workers.started() else "starting"
                ),
                move_searches="off" if searches_warm_up is None else searches_warm_up.state,
                searches_ready=[] if searches_warm_up is None else list(searches_warm_up.ready),
                seconds=round(time.monotonic() - started_at, 1),
            ),
        )

    @app.get("/api/games", response_model=GamesAnswer)
    async def games() -> GamesAnswer:
        await run_in_threadpool(service.refresh_models)
        shipped = {
            name: await run_in_threadpool(service.shipped_step, game)
            for name, game in service.games.items()
        }
        return GamesAnswer(
            games=[
                GameInfo(
                    name=name,
                    rows=game.rows,
                    cols=game.cols,
                    num_actions=game.num_actions,
                    model_step=service.slots[name].step,
                    model_source=service.slots[name].source,
                    pretrained_step=shipped[name],
                    players=players_for(name),
                    max_simulations=config.max_simulations,
                )
                for name, game in service.games.items()
            ]
        )

    @app.post(
        "/api/games/{game}/move",
        response_model=MoveAnswer,
        responses=ERRORS,
        openapi_extra=MOVE_BODY,
    )
    async def move(game: str, body: Annotated[dict[str, Any], Depends(json_body)]) -> MoveAnswer:
        request = move_request(body)
        rules = service.game(game)
        if request.player not in players_for(game):
            raise HTTPException(
                400, f"unknown player {request.player!r} for {game}; players: "
                f"{', '.join(players_for(game))}"
            )  # fmt: skip
        if request.simulations > config.max_simulations:
            raise HTTPException(422, f"simulations must be between 0 and {config.max_simulations}")
        if request.player == "mcts" and request.simulations < 1:
            raise HTTPException(
                422, "player 'mcts' needs at least 1 simulation; 0 (the network's policy alone)"
                " is for alphazero"
            )  # fmt: skip
        if request.checkpoint is not None and request.player != "alphazero":
            raise HTTPException(400, "checkpoint applies only to player 'alphazero'")
        if request.pretrained and request.player != "alphazero":
            raise HTTPException(400, "pretrained applies only to player 'alphazero'")
        if request.pretrained and request.checkpoint is not None:
            raise HTTPException(400, "give either checkpoint or pretrained, not both")
        state = service.replay_moves(rules, request.moves)
        evaluator = None
        if request.player == "alphazero":
            if request.checkpoint is None and not request.pretrained:
                await run_in_threadpool(service.slots[game].refresh, 1.0)
            evaluator = await run_in_threadpool(
                service.evaluator_for, rules, request.checkpoint, request.pretrained
            )
        seed = secrets.randbits(31)

        note = None
        solver_time_s = min(config.solver_time_s, 0.75 * config.move_timeout_s)

        def search():
            return choose_move(
                rules,
                state,
                request.player,
                request.simulations,
                evaluator,
                seed=seed,
                solver_time_s=solver_time_s,
            )

        def network_move():  # where the solver cannot answer in time (early Connect 4)
            return choose_move(
                rules, state, "alphazero", FALLBACK_SIMULATIONS, evaluator, seed=seed
            )

        try:
            try:
                choice = await service.run_search(search)
            except SolverTimeout:
                evaluator = await run_in_threadpool(service.strongest_model, rules)
                choice = await service.run_search(network_move)
                by = "no model" if evaluator is None else f"model step {evaluator.step}"
                note = (
                    f"The solver cannot finish within {solver_time_s:g} s for this position, so"
                    f" AlphaZero ({by}, {FALLBACK_SIMULATIONS} simulations) chose this move"
                )
        except PlayerError as error:
            raise HTTPException(400, str(error)) from None
        except ValueError as error:  # e.g. a checkpoint that gives NaN on this position
            log.warning("%s move search failed: %s", game, error)
            raise HTTPException(503, f"the search failed: {error}") from None
        return MoveAnswer(
            action=choice.action,
            value=choice.value,
            visits=choice.visits.tolist(),
            prior=choice.prior.tolist(),
            model_step=None if evaluator is None else evaluator.step,
            note=note,
        )

    @app.get("/api/games/{game}/checkpoints", response_model=CheckpointsAnswer, responses=ERRORS)
    async def checkpoints(game: str) -> CheckpointsAnswer:
        service.game(game)
        found = []
        for step, path in list_checkpoints(RunFolder(config.run_dir(game)).models):
            try:
                found.append(CheckpointInfo(step=step, created_at=path.stat().st_mtime))
            except OSError:  # deleted by the learner meanwhile
                continue
        return CheckpointsAnswer(checkpoints=found)

    @app.get(
        "/api/games/{game}/stats",
        response_model=dict[str, Any],
        responses=ERRORS,
        description="The run's stats.json as the learner wrote it, with evaluation and"
        " tournament results newer than it merged in, and `selfplay_config`: the run's"
        " self-play settings ({name: {value, default}}) where its actor_config.json is read."
        ' A game that no run has written stats for yet answers `{"game": GAME, "no_run": true}`'
        " (a state, not an error: the page polls it).",
    )
    async def stats(game: str) -> JSONResponse:
        service.game(game)
        try:
            return JSONResponse(await run_in_threadpool(stats_answer, config.run_dir(game), game))
        except FileNotFoundError:
            return JSONResponse({"game": game, "no_run": True})
        except (OSError, ValueError, RecursionError) as error:
            raise HTTPException(503, f"stats.json cannot be read: {error}") from None

    async def read_replay_db(reader: Callable[..., T], game: str, *args: Any) -> T:
        """`reader(path of game's replay.db, *args, rules)` in a thread; an unreadable file
        (not a database, corrupt, or locked too long) is 503."""
        rules, path = service.game(game), RunFolder(config.run_dir(game)).replay_db
        try:
            return await run_in_threadpool(reader, path, *args, rules)
        except sqlite3.DatabaseError as error:
            raise HTTPException(503, f"replay.db cannot be read: {error}") from None

    @app.get("/api/games/{game}/replays", response_model=ReplaysAnswer, responses=ERRORS)
    async def replays(game: str, limit: int = Query(20, ge=1, le=MAX_REPLAYS)) -> ReplaysAnswer:
        stored, _ = await read_replay_db(read_newest, game, limit)
        return ReplaysAnswer(replays=[replay_answer(item) for item in stored])

    @app.get(
        "/api/games/{game}/replays/{replay_id}",
        response_model=Replay,
        responses=ERRORS,
        description="One self-play game by its id, as in the list: the page's #/replays/GAME/ID.",
    )
    async def replay(
        game: str, replay_id: Annotated[int, PathParam(ge=1, le=MAX_ROW_ID)]
    ) -> Replay:
        try:
            stored = await read_replay_db(read_game, game, replay_id)
        except RecordError as error:  # the list skips such a row too
            raise HTTPException(
                422, f"game {replay_id} in replay.db is not a readable {game} game: {error}"
            ) from None
        if stored is None:
            raise HTTPException(
                404,
                f"no game {replay_id} in {game}'s replay.db: the learner keeps only its newest"
                " games, or there never was one",
            )
        return replay_answer(stored)

    @app.api_route("/api", methods=API_METHODS, include_in_schema=False)
    @app.api_route(UNKNOWN_API, methods=API_METHODS, include_in_schema=False)
    async def unknown_api(request: Request) -> JSONResponse:
        path = request.scope["path"]
        allowed = allowed_methods(app.routes, path)
        if not allowed:
            return JSONResponse({"detail": f"no API path {path}"}, status_code=404)
        detail = f"{request.method} is not allowed here: use {' or '.join(allowed)} for {path}"
        return JSONResponse(
            {"detail": detail}, status_code=405, headers={"Allow": ", ".join(allowed)}
        )

    mount_web(app, config.web_dist)
    app.add_middleware(BodySizeLimit, limit=config.max_body_bytes)
    app.add_middleware(HeadAsGet)
    return app


def mount_web(app: FastAPI, web_dist: Path) -> None:
    if (Path(web_dist) / "index.html").is_file():
        app.mount("/", SpaStaticFiles(directory=web_dist, html=True), name="web")
        return

    @app.get("/{path:path}", include_in_schema=False)
    async def not_built(path: str) -> HTMLResponse:
        return HTMLResponse(NOT_BUILT_PAGE)
