"""The web page in real Chromium (Debian's package) against a real actor on 127.0.0.1.

One actor (`python -m actor --no-selfplay`) serves web/dist and the API from a temporary data
folder holding small ONNX models this file makes, a stats.json and a replay.db. The tests click
through the page like a person: a whole Tic-tac-toe game, moves in Connect 4 and Othello with
the bot answering, the training dashboard's charts, stepping through a replay. Any console
error or uncaught page error fails the test.

Set WEB_SCREENSHOTS=docs/screenshots to also save the screenshots used in the README (the first
screen of each page; WEB_FULL=1 for whole pages).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from actor_models import make_model
from reliability_helpers import start_actor, wait_healthy

from actor.config import ActorConfig
from actor.worker import effective_selfplay
from engine import EngineContext, get_game
from engine.records import (
    REPLAY_SCHEMA,
    GameRecord,
    encode_record,
)
from learner.config import make_config as make_learner_config
from learner.config import run_defaults, to_dict
from runfiles.layout import ACTOR_CONFIG_FILE, RunFolder

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
GAMES = ("tictactoe", "connect4", "othello")
MODEL_STEP = 1200
DESKTOP = {"width": 1360, "height": 860}
PHONE = {"width": 390, "height": 844}


# ---------------------------------------------------------------- run folder the actor reads


def stats_document(game: str, steps: int = 60, every: int = 20) -> dict:
    """A stats.json of a plausible run: falling losses, a step-down learning rate, evaluations."""
    now = time.time()
    history = []
    for i in range(steps):
        step = (i + 1) * every
        policy = 2.1 * math.exp(-i / 25) + 0.55 + 0.03 * math.sin(i)
        value = 0.9 * math.exp(-i / 18) + 0.12 + 0.02 * math.cos(i * 1.7)
        history.append(
            {
                "step": step,
                "time": now - (steps - i) * 30,
                "loss_total": policy + value,
                "loss_policy": policy,
                "loss_value": value,
                "learning_rate": 0.02 if i < 40 else 0.002,
                "samples_per_s": 2400 + 150 * math.sin(i / 3),
                "replay_positions": min(50_000, 900 * (i + 1)),
                # the first minute: self-play without a network, 30-40x faster
                "games_per_s": 240.0 if i < 3 else 6 + math.sin(i / 4),
                "positions_per_s": 4000.0 if i < 3 else 150 + 25 * math.cos(i / 7),
            }
        )
    evaluations = []
    for i in range(0, steps, 10):
        step = (i + 1) * every
        progress = i / steps
        for opponent, sims, base in (("random", None, 0.7), ("mcts", 200, 0.15)):
            win = min(0.98, base + (1 - base) * progress)
            evaluations.append(
                {
                    "step": step,
                    "time": now - (steps - i) * 30,
                    "opponent": opponent,
                    "simulations": sims,
                    "win_rate": win,
                    "draw_rate": (1 - win) / 2,
                    "loss_rate": (1 - win) / 2,
                    "optimal_move_rate": None if game == "othello" else 0.55 + 0.4 * progress,
                }
            )
        if game != "othello":  # the solver's judgement, with what random moves score there
            evaluations.append(
                {
                    "step": step, "time": now - (steps - i) * 30, "opponent": "solver",
                    "simulations": 200, "win_rate": None, "draw_rate": None, "loss_rate": None,
                    "optimal_move_rate": 0.6 + 0.39 * progress, "random_optimal_rate": 0.58,
                }
            )  # fmt: skip
    elo = [{"player": "alphazero", "step": step, "elo": 900 + 8 * i * 10, "elo_ci95": 60.0}
           for i, step in enumerate(sorted({e["step"] for e in evaluations}))]  # fmt: skip
    elo += [{"player": "random", "step": None, "elo": 600}, {"player": "mcts", "step": None,
            "elo": 1300}]  # fmt: skip
    last = history[-1]
    # the first model is published at step 60: the history's first three points are before it;
    # the learning rate steps down tenfold at step 820, as the history has it
    config = make_learner_config(
        game, lr=0.02, lr_schedule="milestones", lr_milestones=(820,), publish_every=60
    )
    return {
        "game": game,
        "step": last["step"],
        "updated_at": now - 4,
        "config": to_dict(config),
        "config_defaults": run_defaults(game),
        "loss": {
            "total": last["loss_total"],
            "policy": last["loss_policy"],
            "value": last["loss_value"],
        },
        "learning_rate": last["learning_rate"],
        "samples_per_s": last["samples_per_s"],
        "replay_games": 3100,
        "replay_positions": last["replay_positions"],
        "games_per_s": last["games_per_s"],
        "positions_per_s": last["positions_per_s"],
        "skipped_rows": 0,
        "history": history,
        "evaluations": evaluations,
        "elo": elo,
    }


def random_record(game_name: str, rng: np.random.Generator) -> GameRecord:
    """A legal game with a made-up but plausible visit distribution for each move."""
    context = EngineContext(game_name)
    result = context.reset(0)
    moves, visits, values = [], [], []
    while not result.terminal:
        legal = np.flatnonzero(result.legal_mask)
        weights = rng.dirichlet(np.full(len(legal), 0.6))
        distribution = np.zeros(result.legal_mask.shape[0], dtype=np.float32)
        distribution[legal] = weights
        action = int(legal[np.argmax(weights)])
        moves.append(action)
        visits.append(distribution)
        values.append(float(np.tanh(rng.normal(0, 0.5))))
        result = context.step(result.state, action)
    return GameRecord(
        np.array(moves, dtype=np.int64),
        np.array(visits, dtype=np.float32),
        np.array(values, dtype=np.float32),
        int(result.winner),
        MODEL_STEP,
    )


def write_replays(
    path: Path, game_name: str, count: int, seed: int = 7, opening: int = 0
) -> list[int]:
    """A replay.db made the way the actor makes it (engine.records schema and blob); each game's
    first `opening` moves are random opening moves (all-zero visit rows)."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    connection.execute(REPLAY_SCHEMA)
    ids = []
    for i in range(count):
        record = random_record(game_name, rng)
        record.visits[:opening] = 0.0
        record.root_values[:opening] = 0.0
        cursor = connection.execute(
            "INSERT INTO games (created_at, model_step, num_moves, outcome, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (time.time() - 60 * (count - i), record.model_step, record.num_moves,
             record.outcome, encode_record(record)),
        )  # fmt: skip
        ids.append(int(cursor.lastrowid))
    connection.commit()
    connection.close()
    return ids


SELFPLAY_SIMULATIONS = 200  # tictactoe's run self-plays with twice the game's default


def write_actor_config(run: Path, game: str, **selfplay: int | float) -> None:
    """The run's actor_config.json as `python -m actor` writes it at a self-play start."""
    config = ActorConfig(game=game, **selfplay)
    logged = config.as_log_dict(effective_selfplay(get_game(game), config))
    run.mkdir(parents=True, exist_ok=True)
    (run / ACTOR_CONFIG_FILE).write_text(json.dumps(logged, indent=2))


def write_run_folder(data_dir: Path) -> None:
    """Models for every game; stats and replays for tictactoe and othello, none for connect4;
    tictactoe's self-play settings (othello's run has none: its self-play never started)."""
    write_actor_config(data_dir / "tictactoe", "tictactoe", simulations=SELFPLAY_SIMULATIONS)
    for game in GAMES:
        run = RunFolder.of(data_dir, game)
        make_model(run.latest_model, game, MODEL_STEP)
        make_model(run.model_step(400), game, 400)
    for game in ("tictactoe", "othello"):
        run = RunFolder.of(data_dir, game)
        run.stats.write_text(json.dumps(stats_document(game)))
        write_replays(run.replay_db, game, 6, opening=2 if game == "tictactoe" else 0)


# ---------------------------------------------------------------- actor and browser fixtures


def ensure_web_built() -> None:
    if (WEB / "dist" / "index.html").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("web/dist is missing and npm is not installed to build it")
    if not (WEB / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run([npm, "run", "build"], cwd=WEB, check=True)


@contextlib.contextmanager
def serve_actor(data_dir: Path, *options: str) -> Iterator[str]:
    """A real actor on a free port serving the built page and the API from `data_dir`;
    yields its base URL once /api/health answers."""
    ensure_web_built()
    actor = start_actor(data_dir, *options, "--web-dist", str(WEB / "dist"), warm_up=True)
    try:
        wait_healthy(actor)
        yield actor.url
    finally:
        actor.terminate()
        actor.close()


@pytest.fixture(scope="module")
def web_actor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The actor every page test uses: serving only, run folders made by `write_run_folder`."""
    data_dir = tmp_path_factory.mktemp("web_data")
    write_run_folder(data_dir)
    with serve_actor(data_dir, "--no-selfplay", "--solver-time", "0.3") as base:
        yield base


@pytest.fixture(scope="module")
def web_browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (run_tests.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Page:
    """A browser page that records console errors and uncaught exceptions."""

    def __init__(self, browser, base: str, viewport: dict, touch: bool = False) -> None:
        self.context = browser.new_context(
            viewport=viewport, device_scale_factor=1, has_touch=touch, is_mobile=touch
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(45_000)  # generous: the cores are shared and busy
        self.base = base
        self.errors: list[str] = []
        # Console errors a test causes on purpose (requests it makes fail), by their text.
        self.expected_errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message) -> None:
        expected = any(text in message.text for text in self.expected_errors)
        if message.type == "error" and not expected:
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def open(self, route: str, simulations_preset: int = 3):
        """Opens a route; on the play view the bot gets a small search (preset 3: 16 sims)."""
        self.page.goto(f"{self.base}/#/{route}")
        if route.startswith("play/"):
            self.page.get_by_test_id("strength").fill(str(simulations_preset))
        return self.page

    def screenshot(self, name: str) -> None:
        folder = os.environ.get("WEB_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.evaluate("window.scrollTo(0, 0)")
            self.page.wait_for_timeout(700)  # let animations settle
            self.page.screenshot(
                path=str(Path(folder) / f"{name}.png"), full_page=bool(os.environ.get("WEB_FULL"))
            )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def web_page(web_browser, web_actor) -> Iterator[Page]:
    page = Page(web_browser, web_actor, DESKTOP)
    yield page
    page.close()
    assert page.errors == [], f"console errors: {page.errors}"


# A cell that plays now: Play's cells stay focusable (arrow keys walk the whole board), so
# those that cannot be played are aria-disabled rather than disabled.
PLAYABLE = "[data-testid^=cell-][aria-disabled=false]"


def move_count(page) -> int:
    text = page.get_by_test_id("move-count").inner_text()
    return int(text.split()[1].rstrip(":"))


def wait_for_moves(page, count: int, timeout: float | None = None) -> None:
    page.wait_for_function(
        """n => {
            const el = document.querySelector('[data-testid=move-count]');
            return el && parseInt(el.textContent.trim().split(/\\s+/)[1]) >= n;
        }""",
        arg=count,
        timeout=timeout,
    )


# ---------------------------------------------------------------- tests


def test_whole_tictactoe_game_by_clicking(web_page: Page) -> None:
    page = web_page.open("play/tictactoe")
    page.get_by_test_id("your-turn").wait_for()
    page.wait_for_function(  # the labels fill in when /api/games answers, maybe after the board
        "() => document.querySelector('[data-testid=opponent]')?.textContent.includes('step 1200')"
    )
    for _ in range(5):
        page.locator(PLAYABLE).first.click()
        page.locator("[data-testid=your-turn], [data-testid=result]").first.wait_for()
        if page.get_by_test_id("result").count():
            break
    result = page.get_by_test_id("result").inner_text()
    assert any(text in result for text in ("You win", "draw", "bot takes"))
    board = page.locator("[data-testid^=cell-]")
    assert board.count() == 9
    pieces = [board.nth(i).get_attribute("data-piece") for i in range(9)]
    assert pieces.count("x") >= 3 and pieces.count("x") - pieces.count("o") in (0, 1)
    assert page.get_by_test_id("bot-win").inner_text().endswith("%")
    web_page.screenshot("play-tictactoe")
    page.get_by_test_id("new-game").click()
    assert all(board.nth(i).get_attribute("data-piece") == "" for i in range(9))


def test_tictactoe_undo_and_keyboard(web_page: Page) -> None:
    page = web_page.open("play/tictactoe")
    page.get_by_test_id("your-turn").wait_for()
    page.keyboard.press("5")  # the centre
    wait_for_moves(page, 2)
    assert page.get_by_test_id("cell-4").get_attribute("data-piece") == "x"
    page.get_by_test_id("undo").click()
    page.get_by_test_id("your-turn").wait_for()
    assert move_count(page) == 0
    assert page.get_by_test_id("cell-4").get_attribute("data-piece") == ""


def test_connect4_bot_answers_and_pieces_drop(web_page: Page) -> None:
    page = web_page.open("play/connect4")
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("col-3").click()
    wait_for_moves(page, 2)
    page.get_by_test_id("your-turn").wait_for()
    assert page.get_by_test_id("c4-cell-38").get_attribute("data-piece") == "1"  # bottom, col 3
    pieces = page.locator("[data-testid^=c4-cell-][data-piece='2']")
    assert pieces.count() == 1
    # The heat overlay shows the bot's visit share per column.
    assert page.get_by_test_id("heat-col-0").inner_text().endswith("%")
    page.keyboard.press("4")
    wait_for_moves(page, 4)
    page.get_by_test_id("your-turn").wait_for()
    assert page.locator("[data-testid^=c4-cell-][data-piece='1']").count() == 2
    web_page.screenshot("play-connect4")


def test_the_shipped_model_plays_while_the_run_has_its_own(web_page: Page) -> None:
    """The run has models, yet the opponent list also offers the shipped one, which answers."""
    with urllib.request.urlopen(f"{web_page.base}/api/games", timeout=10) as answer:
        games = {g["name"]: g for g in json.load(answer)["games"]}
    shipped = games["tictactoe"]["pretrained_step"]
    assert games["tictactoe"]["model_source"] == "run" and shipped not in (None, MODEL_STEP)
    page = web_page.open("play/tictactoe")
    opponent = page.get_by_test_id("opponent")
    opponent.locator("option", has_text="shipped").wait_for(state="attached")  # /api/games came
    options = opponent.locator("option").all_inner_texts()
    assert options[:2] == [
        f"AlphaZero, step {MODEL_STEP} (run)",
        f"AlphaZero, step {shipped} (shipped)",
    ]
    page.get_by_test_id("opponent").select_option("pretrained")
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("cell-4").click()
    wait_for_moves(page, 2)
    page.get_by_text(f"model step {shipped}").wait_for()


def test_switching_games_after_a_move_starts_a_fresh_game(web_page: Page) -> None:
    """The new tab shows the new game's own game, never the old moves under its rules (an
    unplayable board, "tictactoe: left is not legal here"). Each game keeps its own game: back
    on Connect 4, its game goes on."""
    page = web_page.open("play/connect4")
    page.get_by_test_id("your-turn").wait_for()
    for moves in (2, 4):  # column 4 twice: illegal as Tic-tac-toe cells
        page.get_by_test_id("col-3").click()
        wait_for_moves(page, moves)
        page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("game-tictactoe").click()
    page.get_by_test_id("your-turn").wait_for()
    assert move_count(page) == 0
    assert page.get_by_test_id("error").count() == 0
    cells = page.locator("[data-testid^=cell-]")
    assert cells.count() == 9
    assert all(cells.nth(i).get_attribute("data-piece") == "" for i in range(9))
    page.get_by_test_id("cell-4").click()  # the fresh board plays
    wait_for_moves(page, 2)
    page.get_by_test_id("your-turn").wait_for()
    page.go_back()  # a hash change back to Connect 4
    page.wait_for_url("**/#/play/connect4")
    page.get_by_test_id("your-turn").wait_for()
    assert move_count(page) == 4  # its own game, not Tic-tac-toe's moves
    assert page.locator("[data-testid^=c4-cell-][data-piece='1']").count() == 2
    assert page.get_by_test_id("error").count() == 0
    page.go_forward()
    page.wait_for_url("**/#/play/tictactoe")
    page.get_by_test_id("your-turn").wait_for()
    assert move_count(page) == 2
    page.locator(PLAYABLE).first.click()
    wait_for_moves(page, 4)
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("game-othello").click()  # e1 and the bot's cell are no Othello moves
    page.get_by_test_id("your-turn").wait_for()
    assert page.get_by_test_id("disc-count").inner_text().split() == ["2", ":", "2"]
    assert page.get_by_test_id("error").count() == 0
    page.get_by_test_id("cell-19").click()
    wait_for_moves(page, 2)


def test_a_side_chosen_in_one_game_is_not_the_next_games(web_page: Page) -> None:
    """A newcomer in a fresh tab chooses O in Tic-tac-toe, then opens Connect 4 and Othello:
    they are not Yellow and White with the bot having opened. A game without a saved one starts
    with the first side and the bot waiting, and each game keeps the side chosen in it."""
    page = web_page.open("play/tictactoe")
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("side-1").click()  # O: the bot opens
    wait_for_moves(page, 1)
    page.get_by_test_id("your-turn").wait_for()
    for game, first in (("connect4", "Red (first)"), ("othello", "Black (first)")):
        page.get_by_test_id(f"game-{game}").click()
        page.wait_for_url(f"**/#/play/{game}")
        page.get_by_test_id("your-turn").wait_for()
        assert move_count(page) == 0, game
        side = page.get_by_test_id("side-0")
        assert (side.inner_text(), side.get_attribute("aria-pressed")) == (first, "true")
    page.get_by_test_id("game-tictactoe").click()
    page.get_by_test_id("your-turn").wait_for()
    assert page.get_by_test_id("side-1").get_attribute("aria-pressed") == "true"
    assert move_count(page) == 1


def test_labels_fit_at_laptop_and_tablet_widths(web_browser, web_actor) -> None:
    """The closed opponent select shows the model's step, and "Black (first)" stays one line."""
    measure = """select => {
        const style = getComputedStyle(select);
        const context = document.createElement('canvas').getContext('2d');
        context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const room = select.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight) - 20;  // the arrow
        const chosen = select.options[select.selectedIndex].text;
        const steps = [...select.options].map(o => o.text.match(/^AlphaZero, step \\d+/))
            .filter(Boolean).map(m => context.measureText(m[0]).width);
        return {room, chosen: context.measureText(chosen).width, steps};
    }"""
    for width, whole in ((1280, True), (900, False)):
        page = Page(web_browser, web_actor, {"width": width, "height": 860})
        try:
            tab = page.open("play/othello")
            select = tab.get_by_test_id("opponent")
            select.locator("option", has_text="shipped").wait_for(state="attached")
            sizes = select.evaluate(measure)
            assert len(sizes["steps"]) >= 2 and max(sizes["steps"]) <= sizes["room"], (width, sizes)
            if whole:  # the whole label of the run's model: "AlphaZero, step 1200 (run)"
                assert sizes["chosen"] <= sizes["room"], sizes
            first, second = tab.get_by_test_id("side-0"), tab.get_by_test_id("side-1")
            assert first.inner_text() == "Black (first)"
            assert first.bounding_box()["height"] == second.bounding_box()["height"], width
            assert tab.locator(".keys").is_visible()  # a mouse and keyboard: the keys are named
        finally:
            page.close()
        assert page.errors == [], f"console errors: {page.errors}"


def test_phone_replay_controls_and_touch_hints(web_browser, web_actor) -> None:
    """On a touch phone: the step buttons fit one row, the replay list says it scrolls, and no
    keyboard hints are shown."""
    page = Page(web_browser, web_actor, PHONE, touch=True)
    try:
        tab = page.open("replays/othello")
        tab.get_by_test_id("replay-6").click()
        buttons = [tab.get_by_test_id(f"replay-{name}") for name in
                   ("first", "prev", "next", "last")]  # fmt: skip
        boxes = [b.bounding_box() for b in buttons]
        assert len({round(box["y"]) for box in boxes}) == 1, boxes
        assert boxes[-1]["x"] + boxes[-1]["width"] <= PHONE["width"]
        assert tab.get_by_test_id("replay-prev").get_attribute("aria-label") == "previous move"
        hint = tab.get_by_text("scroll for more")
        assert hint.is_visible()
        tab.locator(".list ul").evaluate("list => list.scrollTo(0, list.scrollHeight)")
        hint.wait_for(state="detached")
        assert not tab.locator(".keys").is_visible()
        tab = page.open("play/connect4")
        tab.get_by_test_id("your-turn").wait_for()
        assert not tab.locator(".keys").is_visible()
    finally:
        page.close()
    assert page.errors == [], f"console errors: {page.errors}"


def test_perfect_play_opens_connect4_with_the_network_and_says_so(web_page: Page) -> None:
    """The solver cannot answer this early: the bot still moves, and the page says whose move
    it was instead of leaving the game stuck."""
    page = web_page.open("play/connect4")
    page.get_by_test_id("opponent").locator("option[value=perfect]").wait_for(state="attached")
    page.get_by_test_id("opponent").select_option("perfect")
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("col-3").click()
    wait_for_moves(page, 2)
    note = page.get_by_test_id("bot-note").inner_text()
    assert note.startswith("The solver cannot finish within 0.3 s for this position")
    # the stand-in is the model trained longest: here the shipped one, not the run's step 1200
    with urllib.request.urlopen(f"{web_page.base}/api/games", timeout=10) as answer:
        games = {g["name"]: g for g in json.load(answer)["games"]}
    longest = max(MODEL_STEP, games["connect4"]["pretrained_step"] or 0)
    assert f"AlphaZero (model step {longest}, 400 simulations) chose this move" in note
    assert "Heat shows" not in page.locator(".side").inner_text()  # nor "0 simulations"
    web_page.screenshot("perfect-opening-connect4")


def test_connect4_swap_sides_lets_the_bot_open(web_page: Page) -> None:
    page = web_page.open("play/connect4")
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("side-1").click()
    wait_for_moves(page, 1)
    page.get_by_test_id("your-turn").wait_for()
    assert page.locator("[data-testid^=c4-cell-][data-piece='1']").count() == 1


def test_othello_flips_and_disc_count(web_page: Page) -> None:
    page = web_page.open("play/othello")
    page.get_by_test_id("your-turn").wait_for()
    assert page.get_by_test_id("disc-count").inner_text().split() == ["2", ":", "2"]
    page.get_by_test_id("cell-19").click()  # d3 flips d4
    wait_for_moves(page, 2)
    page.get_by_test_id("your-turn").wait_for()
    assert page.get_by_test_id("cell-27").get_attribute("data-piece") in ("black", "white")
    black, _, white = page.get_by_test_id("disc-count").inner_text().split()
    assert int(black) + int(white) == 6
    assert page.locator(PLAYABLE).count() >= 1
    web_page.screenshot("play-othello")


def test_dashboard_draws_charts_from_stats(web_page: Page) -> None:
    page = web_page.open("dashboard/tictactoe")
    for chart in ("loss", "replay", "throughput", "winrate", "optimal", "elo"):
        locator = page.get_by_test_id(f"chart-{chart}")
        locator.locator("canvas").wait_for()
    assert page.get_by_test_id("chart-loss").get_attribute("data-points") == "60"
    assert page.get_by_test_id("card-step").inner_text().count("1200") == 1
    # the first minute's 4000 positions/s go above the axis: the rest (125-175) stays readable
    throughput = page.get_by_test_id("chart-throughput")
    assert throughput.get_by_test_id("peaks-above").is_visible()
    assert 175 <= float(throughput.locator("[data-y-top]").get_attribute("data-y-top")) < 200
    # the chart and the self-play card name their rates (the card's 11.3k beside the chart's 4k
    # looked like a contradiction), and the chart says why the first minute is so much faster
    assert "learner's intake" in throughput.locator("figcaption").inner_text()
    assert throughput.get_by_test_id("chart-note").inner_text() == (
        "Before the first model (step 60) self-play needs no network, so it is much faster."
    )
    source = page.get_by_test_id("card-selfplay-source").inner_text()
    assert source == "the learner's intake (last minute)"  # this actor does not self-play
    loss_top = float(
        page.get_by_test_id("chart-loss").locator("[data-y-top]").get_attribute("data-y-top")
    )
    assert loss_top >= 3.1  # the loss chart still shows its start (2.1 + 0.55 + 0.9 at step 20)
    assert not page.get_by_test_id("chart-loss").get_by_test_id("peaks-above").count()
    # the Elo band's edges are drawn as a shade, not as lines of the legend
    legend = page.get_by_test_id("chart-elo").locator(".u-legend")
    assert "this run's checkpoints" in legend.inner_text()
    assert "95% interval" not in legend.inner_text()
    evaluation = page.get_by_test_id("card-evaluation").inner_text()
    # the simulations are the evaluated network's, not the opponent's
    assert "vs mcts\n(AlphaZero at 200 sims)\n" in evaluation and "% won · " in evaluation
    assert "optimal moves, 200 sims" in evaluation and "92.5% (all positions)\nrandom" in evaluation
    web_page.screenshot("dashboard")


def test_dashboard_shows_the_runs_settings_and_what_differs(web_browser, web_actor) -> None:
    """Two tabs of two runs tell their settings apart. The Settings card shows the most-used
    ones at once, each change marked with the game's default, the rest behind an expander, and
    fits a phone."""
    for viewport in (DESKTOP, PHONE):
        page = Page(web_browser, web_actor, viewport)
        try:
            tab = page.open("dashboard/tictactoe")
            card = tab.get_by_test_id("card-settings")
            lr = card.get_by_test_id("setting-lr")
            lr.wait_for()
            assert lr.locator(".value").inner_text() == "0.02"
            assert lr.locator(".default").inner_text() == "default 0.002"
            simulations = card.get_by_test_id("setting-simulations")
            assert simulations.locator(".value").inner_text() == str(SELFPLAY_SIMULATIONS)
            assert simulations.locator(".default").inner_text() == "default 100"
            schedule = card.get_by_test_id("setting-schedule")
            assert schedule.locator(".value").inner_text() == "×0.1 at 820"
            assert schedule.locator(".default").inner_text() == "default constant"
            assert card.get_by_test_id("setting-shape").inner_text() == "network\nmlp 2×128"
            assert card.get_by_test_id("setting-c_puct").locator(".default").count() == 0
            summary = card.get_by_test_id("settings-summary").inner_text()
            assert summary == "· 5 settings differ from Tic-tac-toe's defaults"
            hidden = card.get_by_test_id("setting-publish_every")
            assert not hidden.is_visible()
            more = card.get_by_test_id("settings-more")
            assert more.inner_text() == "All settings · 3 more changed"
            more.click()
            assert hidden.locator(".default").inner_text() == "default 300"
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], "the page scrolls sideways"
            tab = page.open("dashboard/othello")  # its self-play never started here
            note = tab.get_by_test_id("card-settings").get_by_text("self-play has not started")
            note.wait_for()
        finally:
            page.close()
        assert page.errors == [], f"console errors: {page.errors}"


def test_dashboard_explains_itself_to_a_newcomer(web_page: Page) -> None:
    """What a newcomer would misread: the page says that a loss that levels off still learns
    and when the agent plays perfectly, the learning rate rides on the loss chart rather than
    taking a quarter of the screen for a flat line, and the evaluation charts' x axes line up
    with the others'."""
    page = web_page.page

    def perfect(route) -> None:  # the solver found a best move everywhere from step 820 on
        answer = route.fetch()
        doc = answer.json()
        for entry in doc["evaluations"]:
            if entry["opponent"] == "solver" and entry["step"] >= 820:
                entry.update(optimal_move_rate=1.0, positions=4520)
        # the history's learning rate steps down at 820: the next step-down is at 80,000
        doc["config"].update(lr=0.02, lr_schedule="milestones", lr_milestones=[820, 80_000],
                             lr_gamma=0.1)  # fmt: skip
        route.fulfill(response=answer, json=doc)

    page.route("**/api/games/tictactoe/stats", perfect)
    web_page.open("dashboard/tictactoe")
    ids = ("loss", "replay", "throughput", "winrate", "optimal", "elo")
    for chart in ids:
        page.get_by_test_id(f"chart-{chart}").locator("canvas").wait_for()
    loss = page.get_by_test_id("chart-loss")
    assert (
        loss.get_by_test_id("chart-note")
        .inner_text()
        .startswith("Neither loss reaches 0, even with perfect play")
    )
    # the learning rate: beside the loss it changes, and in the Training card with its next step
    assert page.get_by_test_id("chart-lr").count() == 0
    assert "learning rate" in loss.locator(".u-legend").inner_text()
    assert page.get_by_test_id("card-lr").inner_text() == "lr 0.002, 0.0002 from step 80,000"
    said = page.get_by_test_id("perfect-play").inner_text().split("\n")
    assert said == ["Perfect play", "a best move in all 4,520 reachable positions (200 sims since "
                    "step 820)", "first reached at step 820"]  # fmt: skip
    # every chart spans the same steps, and a step is at the same place on charts one above
    # another (in each column of the grid)
    ranges = {c: page.get_by_test_id(f"chart-{c}").locator("[data-x-range]") for c in ids}
    assert {c: r.get_attribute("data-x-range") for c, r in ranges.items()} == {
        c: "20 1200" for c in ids
    }
    columns: dict[float, set] = {}
    for chart in ids:
        figure = page.get_by_test_id(f"chart-{chart}").bounding_box()
        plot = page.get_by_test_id(f"chart-{chart}").locator(".u-over").bounding_box()
        columns.setdefault(figure["x"], set()).add((plot["x"], plot["width"]))
    assert len(columns) == 2 and all(len(plots) == 1 for plots in columns.values()), columns
    web_page.screenshot("dashboard-perfect-play")
    # Connect 4's solver judges a test set, not every position: said so
    doc = stats_document("connect4")
    for entry in doc["evaluations"]:
        if entry["opponent"] == "solver":
            entry.update(optimal_move_rate=1.0, positions=500)
    page.route("**/api/games/connect4/stats", lambda route: route.fulfill(json=doc))
    web_page.open("dashboard/connect4")
    said = page.get_by_test_id("perfect-play").inner_text().split("\n")
    assert said == ["Perfect play on the test set", "a best move in all 500 test positions "
                    "(200 sims since step 20)", "first reached at step 20"]  # fmt: skip


def test_dashboard_says_the_training_time_and_a_near_perfect_models_counts(
    web_browser, tmp_path
) -> None:
    """The dashboard says how long a run has trained, and 4,518 of 4,520 best moves as counts,
    not "100.0%" (perfect play would seem to come and go). A run folder whose stats.json holds
    the training time, and whose newest model fell short of perfect play its predecessors
    reached."""
    doc = stats_document("tictactoe")
    for i, point in enumerate(doc["history"]):
        point["elapsed_s"] = 3000 + 30 * i
    doc.update(elapsed_s=doc["history"][-1]["elapsed_s"], updated_at=time.time() - 600)
    for entry in doc["evaluations"]:
        if entry["opponent"] == "solver":
            moves = 4518 if entry["step"] == 1020 else 4520 if entry["step"] >= 620 else 4000
            entry.update(optimal_move_rate=moves / 4520, optimal_moves=moves, positions=4520)
    (tmp_path / "tictactoe").mkdir()
    RunFolder(tmp_path / "tictactoe").stats.write_text(json.dumps(doc))
    with serve_actor(tmp_path, "--no-selfplay") as base:
        page = Page(web_browser, base, DESKTOP)
        try:
            tab = page.open("dashboard/tictactoe")
            # stopped ten minutes ago: the clock stands at the learner's last write
            assert tab.get_by_test_id("training-time").inner_text() == "1 h 19 min"
            perfect = tab.get_by_test_id("perfect-play").inner_text().split("\n")
            assert perfect == [
                "Perfect play reached, not held",
                "a best move in all 4,520 reachable positions (200 sims: 4,518 / 4,520 at step"
                " 1,020, no longer all)",
                "first reached at step 620, after 1 h 5 min of training",
            ]
            assert "4,518 / 4,520" in tab.get_by_test_id("card-evaluation").inner_text()
            tab.get_by_test_id("axis-time").click()
            # the x axis spans the history's seconds of training
            tab.get_by_test_id("chart-loss").locator("[data-x-range='3000 4770']").wait_for()
            assert "training time" in tab.get_by_test_id("chart-loss").inner_text()
        finally:
            page.close()
        assert page.errors == [], f"console errors: {page.errors}"


def test_a_fresh_run_shows_no_model_yet_and_names_the_shipped_one(web_browser, tmp_path) -> None:
    """Before the run's first model the actor serves the shipped one: neither the dashboard
    (Tic-tac-toe "132411 · 3 s old" beside the run's first losses) nor Play ("AlphaZero, step
    132411") may show it as the run's own model."""
    run = tmp_path / "tictactoe"
    run.mkdir()
    RunFolder(run).stats.write_text(json.dumps(stats_document("tictactoe", steps=3)))
    with serve_actor(tmp_path, "--no-selfplay") as base:
        with urllib.request.urlopen(f"{base}/api/games", timeout=10) as answer:
            games = {g["name"]: g for g in json.load(answer)["games"]}
        shipped = games["tictactoe"]["pretrained_step"]
        assert games["tictactoe"]["model_source"] == "pretrained" and shipped
        page = Page(web_browser, base, DESKTOP)
        try:
            tab = page.open("dashboard/tictactoe")
            card = tab.get_by_test_id("card-step")
            tab.get_by_test_id("no-model").wait_for()
            assert card.locator("strong").inner_text() == "no model yet"
            assert f"Play uses the shipped model (step {shipped})" in card.inner_text()
            assert "old" not in card.inner_text()
            page.screenshot("dashboard-fresh-run")
            tab = page.open("play/tictactoe")
            opponent = tab.get_by_test_id("opponent")
            label = f"AlphaZero, step {shipped} (shipped)"  # the step first: a closed select
            opponent.locator("option", has_text=label).wait_for(state="attached")  # cuts the end
            assert opponent.locator("option").all_inner_texts()[0] == label
            said = tab.get_by_test_id("opponent-shipped").inner_text()
            assert said == "The shipped model: training has made no model of its own yet."
            tab.get_by_test_id("cell-4").click()
            wait_for_moves(tab, 2)
            # the thinking panel names the model that made the move shown
            assert tab.get_by_test_id("answered-by").inner_text() == f"AlphaZero, step {shipped}"
        finally:
            page.close()
        assert page.errors == [], f"console errors: {page.errors}"


def training_connect4(workers: int, rates: dict | None = None):
    """A health answer of an actor that self-plays Connect 4 with `workers` workers (this one
    only serves), for page.route."""
    worker = {"index": 0, "model_step": 0, "int8": False, "games": 0, "last_refusal": None}

    def answer(route) -> None:
        real = route.fetch()
        route.fulfill(response=real, json={**real.json(), "training_game": "connect4",
                                           "selfplay": True, "workers": [worker] * workers,
                                           "selfplay_rates": rates})  # fmt: skip

    return answer


def test_replays_say_self_play_is_starting_while_the_game_trains(web_page: Page) -> None:
    """In the first minute of a run (self-play compiles its search) Replays says self-play is
    starting, not "No self-play games yet. Start training with ./start_training.sh". The actor
    here only
    serves: its health answer says it self-plays Connect 4, which has no games yet."""
    page = web_page.page
    page.route("**/api/health", training_connect4(workers=2))
    web_page.open("replays/connect4")
    empty = page.get_by_test_id("replays-empty")
    page.get_by_text("Self-play is starting").wait_for()
    text = empty.inner_text()
    assert "the first games appear in a minute or so" in text and "start_training" not in text
    web_page.screenshot("replays-starting")
    page.unroute("**/api/health")
    page.reload()  # the actor's own answer: it trains nothing, so how to train Connect 4
    page.get_by_text("No self-play games yet").wait_for()
    assert "./start_training.sh connect4" in empty.inner_text()


def test_replays_say_when_self_play_is_not_running(web_page: Page) -> None:
    """ "Self-play is starting" trusted the training game the health answer names, and stayed
    for good where no worker played it or the actor had stopped (it does when a worker dies).
    Now it takes the workers and their rates for evidence, and says what it finds."""
    web_page.expected_errors.append("net::ERR_CONNECTION_REFUSED")
    page = web_page.page
    page.route("**/api/health", training_connect4(workers=0))  # named, but no worker plays
    web_page.open("replays/connect4")
    empty = page.get_by_test_id("replays-empty")
    page.get_by_text("self-play is not running").wait_for()
    assert "./start_training.sh connect4" in empty.inner_text()
    assert "starting" not in empty.inner_text()
    page.unroute("**/api/health")
    rates = {"games_per_s": 0.0, "positions_per_s": 80.0, "nn_evals_per_s": 9000.0}
    page.route("**/api/health", training_connect4(workers=2, rates=rates))
    page.get_by_text("Self-play is running").wait_for(timeout=15_000)  # App's next poll (3 s)
    actor_down(page)
    page.get_by_text("the actor does not answer: self-play is not running").wait_for(timeout=15_000)
    assert "Self-play is running" not in empty.inner_text()
    page.unroute("**/api/health")
    actor_back(page)
    page.get_by_text("No self-play games yet, and self-play is not running").wait_for(
        timeout=15_000
    )  # back, serving only


def test_a_replays_address_scrolls_the_list_to_its_game(web_browser, web_actor) -> None:
    """On a phone the list shows about four games: #/replays/othello/1 opened game 1, the
    oldest, with its entry out of sight below. The list scrolls to it, the page stays put, and
    so it does for another address later (Back, or one typed in)."""
    in_sight = """id => {
        const list = document.querySelector('.list ul');
        const entry = document.querySelector(`[data-testid=replay-${id}]`);
        if (!list || !entry || !entry.classList.contains('active')) return false;
        const box = list.getBoundingClientRect(), at = entry.getBoundingClientRect();
        return at.top >= box.top - 0.5 && at.bottom <= box.bottom + 0.5;
    }"""
    for viewport in (PHONE, DESKTOP):
        page = Page(web_browser, web_actor, viewport)
        try:
            tab = page.open("replays/othello/1")
            tab.wait_for_function(in_sight, arg=1, timeout=10_000)
            assert tab.evaluate("window.scrollY") == 0, viewport  # the list moved, not the page
            tab.evaluate("location.hash = '#/replays/othello/6'")
            tab.wait_for_function(in_sight, arg=6, timeout=10_000)
            assert tab.evaluate("window.scrollY") == 0, viewport
        finally:
            page.close()
        assert page.errors == [], f"console errors: {page.errors}"


def test_dashboard_without_a_run_says_how_to_start(web_page: Page) -> None:
    page = web_page.open("dashboard/connect4")
    text = page.get_by_test_id("dashboard-empty").inner_text()
    assert "./start_training.sh connect4" in text and "same --data-dir as this actor" in text
    page.get_by_test_id("dashboard-play").click()  # the game plays meanwhile
    page.get_by_test_id("your-turn").wait_for()
    assert page.url.endswith("#/play/connect4")


def test_a_game_without_a_run_logs_no_error(web_page: Page) -> None:
    """Connect 4 has no run here (no stats.json, no replay.db): each view of it meets a state,
    not an error status the browser would log at each poll. No console error (the fixture
    checks it) and no answer with an error status."""
    failed: list[str] = []
    web_page.page.on(
        "response", lambda answer: failed.append(f"{answer.status} {answer.url}")
        if answer.status >= 400 else None
    )  # fmt: skip
    page = web_page.open("dashboard/connect4")
    page.get_by_test_id("dashboard-empty").wait_for()  # the stats were answered
    page.get_by_test_id("view-replays").click()
    page.get_by_test_id("replays-empty").wait_for()
    page.get_by_test_id("view-play").click()
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("view-dashboard").click()
    page.get_by_test_id("dashboard-empty").wait_for()
    assert failed == []


def test_api_docs_render_with_no_network(web_browser, web_actor) -> None:
    """/docs loaded Swagger UI from a CDN, a blank page offline. Here every request that leaves
    127.0.0.1 is refused: /docs lists the API's operations, and no request fails."""
    page = Page(web_browser, web_actor, DESKTOP)
    outside: list[str] = []
    failed: list[str] = []

    def local_only(route) -> None:
        if urllib.parse.urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", local_only)
    page.page.on("requestfailed", lambda request: failed.append(request.url))
    page.page.on(
        "response", lambda answer: failed.append(f"{answer.status} {answer.url}")
        if answer.status >= 400 else None
    )  # fmt: skip
    try:
        page.page.goto(f"{web_actor}/docs")
        paths = page.page.locator(".opblock-summary-path")
        paths.filter(has_text="/api/games/{game}/move").wait_for()
        shown = paths.all_inner_texts()
        page.page.wait_for_load_state("networkidle")  # the favicon too
    finally:
        page.close()
    assert {"/api/health", "/api/games", "/api/games/{game}/stats"} <= set(shown), shown
    assert outside == [] and failed == [] and page.errors == [], (outside, failed, page.errors)


def test_replays_step_through_a_game(web_page: Page) -> None:
    page = web_page.open("replays/othello")
    page.locator("[data-testid^=replay-]").first.wait_for()
    page.get_by_test_id("replay-6").click()
    ply = page.get_by_test_id("replay-ply")
    assert ply.inner_text().startswith("move 0 /")
    page.get_by_test_id("replay-next").click()
    page.keyboard.press("ArrowRight")
    assert ply.inner_text().startswith("move 2 /")
    assert "visits" in page.get_by_test_id("replay-caption").inner_text()
    discs = page.locator("[data-testid^=cell-][data-piece]:not([data-piece=''])")
    assert discs.count() == 6
    web_page.screenshot("replays")
    page.keyboard.press("End")
    assert "Final position" in page.get_by_test_id("replay-caption").inner_text()


def othello_replay(page, base: str, replay_id: int) -> tuple[int, list[str]]:
    """The game's number of moves and its moves' names ("d3"), as the actor lists them."""
    listed = page.request.get(f"{base}/api/games/othello/replays?limit=20").json()["replays"]
    moves = next(replay["moves"] for replay in listed if replay["id"] == replay_id)
    return len(moves), [f"{'abcdefgh'[a % 8]}{a // 8 + 1}" if a < 64 else "pass" for a in moves]


def test_a_replays_address_opens_its_game(web_page: Page) -> None:
    """#/replays/othello/2 opens game 2, not the newest game, also where the list holds only
    the newest (here the list asks for the 2 newest, and the actor answers that for real), a
    reload keeps it, and a click in the list puts the game it picks in the address in place of
    the one before (no history entry per click)."""
    page = web_page.page

    def two_newest(route) -> None:
        route.continue_(url=re.sub(r"limit=\d+", "limit=2", route.request.url))

    page.route(lambda url: "/api/games/othello/replays?limit=" in url, two_newest)
    page.goto(f"{web_page.base}/#/replays/othello/2")
    ply = page.get_by_test_id("replay-ply")
    ply.wait_for()
    title = page.locator(".viewer .title strong")
    assert title.inner_text() == "Game #2"  # not the newest
    assert page.evaluate("location.hash") == "#/replays/othello/2"
    assert page.locator("li [data-testid^=replay-]").count() == 2  # games 6 and 5
    moves, _ = othello_replay(page, web_page.base, 2)
    assert ply.inner_text() == f"move 0 / {moves}"
    assert "Game #2, still shown" in page.get_by_test_id("replay-dropped").inner_text()
    page.reload()
    ply.wait_for()
    assert title.inner_text() == "Game #2"
    entries = page.evaluate("history.length")
    page.get_by_test_id("replay-5").click()
    page.wait_for_function("() => location.hash === '#/replays/othello/5'")
    assert page.evaluate("history.length") == entries
    assert page.get_by_test_id("replay-dropped").count() == 0
    assert page.get_by_test_id("route-note").count() == 0


def test_a_replay_no_longer_kept_gives_way_to_the_newest(web_page: Page) -> None:
    """The learner keeps a window of the newest games: an address naming one it dropped says
    so, shows the newest, and the address no longer names the missing game."""
    web_page.expected_errors.append("status of 404")  # the missing game's answer
    page = web_page.page
    page.goto(f"{web_page.base}/#/replays/othello/999")
    note = page.get_by_test_id("route-note")
    assert note.inner_text() == "game 999 is no longer kept: showing the newest"
    page.wait_for_function("() => location.hash === '#/replays/othello'")
    assert page.get_by_test_id("replay-viewer").get_attribute("aria-label") == "replay of game #6"
    assert "active" in (page.get_by_test_id("replay-6").get_attribute("class") or "")
    page.get_by_test_id("replay-4").click()  # the note is about the address, not this game
    page.wait_for_function("() => location.hash === '#/replays/othello/4'")
    assert note.count() == 0


def test_replays_step_with_the_keyboard(web_page: Page) -> None:
    """The replay viewer (board and steps) is one Tab stop with a name, steps with the arrow
    keys, Home and End while it has the focus, says each move to a screen reader, and keeps the
    focus when a step disables the button pressed."""
    page = web_page.open("replays/othello/6")
    page.get_by_test_id("replay-ply").wait_for()
    moves, names = othello_replay(page, web_page.base, 6)

    def focused_id() -> str:
        return page.evaluate("document.activeElement.dataset.testid")

    page.get_by_test_id("replay-1").focus()  # the list's last entry: the viewer comes next
    page.keyboard.press("Tab")
    assert focused_id() == "replay-viewer"
    viewer = page.get_by_role("group", name="replay of game #6")
    assert viewer.get_attribute("aria-describedby") == "replay-keys"
    spoken = page.get_by_test_id("replay-spoken")
    assert spoken.get_attribute("aria-live") == "polite"
    assert spoken.text_content() == f"move 0 of {moves}: the start"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert spoken.text_content() == f"move 2 of {moves}: {names[1]}"
    assert page.get_by_test_id("replay-ply").inner_text() == f"move 2 / {moves}"
    page.keyboard.press("ArrowLeft")
    assert spoken.text_content() == f"move 1 of {moves}: {names[0]}"
    page.keyboard.press("End")
    assert spoken.text_content() == f"move {moves} of {moves}: {names[-1]}"
    page.keyboard.press("ArrowRight")  # stops at the end
    assert spoken.text_content() == f"move {moves} of {moves}: {names[-1]}"
    page.keyboard.press("Home")
    assert spoken.text_content() == f"move 0 of {moves}: the start"
    assert focused_id() == "replay-viewer"
    page.keyboard.press("Tab")  # first and previous are disabled at the start
    assert focused_id() == "replay-next"
    page.keyboard.press("End")  # disables Next: the focus stays in the viewer
    page.wait_for_function("() => document.activeElement.dataset.testid === 'replay-viewer'")
    page.keyboard.press("ArrowLeft")
    assert spoken.text_content() == f"move {moves - 1} of {moves}: {names[-2]}"
    alt_left = page.evaluate("""() => {
            const key = {key: 'ArrowLeft', altKey: true, bubbles: true, cancelable: true};
            const event = new KeyboardEvent('keydown', key);
            document.activeElement.dispatchEvent(event);
            return event.defaultPrevented;
        }""")
    assert not alt_left  # Alt+Left is the browser's Back, not a step
    assert spoken.text_content() == f"move {moves - 1} of {moves}: {names[-2]}"


def test_replays_list_title_fits_one_line(web_browser, web_actor) -> None:
    """It wrapped as "Newest self- / play games" beside the Refresh button at 1280 px."""
    for width in (1280, 900):
        page = Page(web_browser, web_actor, {"width": width, "height": 860})
        try:
            tab = page.open("replays/othello")
            tab.get_by_test_id("replay-6").wait_for()
            title = tab.locator(".list h3")
            lines = title.evaluate(
                "h => h.getBoundingClientRect().height / parseFloat(getComputedStyle(h).lineHeight)"
            )
            assert round(lines) == 1, (width, lines)
            header = tab.locator(".list header").bounding_box()
            refresh = tab.get_by_test_id("replays-refresh").bounding_box()
            assert refresh["x"] + refresh["width"] <= header["x"] + header["width"] + 0.5, width
        finally:
            page.close()
        assert page.errors == [], f"console errors: {page.errors}"


def test_a_path_route_opens_its_view(web_page: Page) -> None:
    page = web_page.page
    page.goto(f"{web_page.base}/replays/othello")
    page.get_by_test_id("replay-6").wait_for()  # the replays view, not a blank page
    assert page.url.endswith("/#/replays/othello")


def test_replays_say_which_moves_were_random_openings(web_page: Page) -> None:
    page = web_page.open("replays/tictactoe")
    page.get_by_test_id("replay-6").click()
    caption = page.get_by_test_id("replay-caption")
    assert "random opening move" in caption.inner_text()
    assert page.locator("[data-testid^=cell-] .heat").count() == 0  # no visits to show
    moves = int(page.get_by_test_id("replay-ply").inner_text().split("/")[1])
    line = page.locator(".spark path").get_attribute("d") or ""
    assert line.count("L") + line.count("M") == moves - 2  # the win estimate skips the opening
    web_page.screenshot("replays-opening")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.get_by_test_id("replay-ply").inner_text().startswith("move 2 /")
    assert "the search chose" in caption.inner_text()


def test_phone_sized_screens(web_browser, web_actor) -> None:
    page = Page(web_browser, web_actor, PHONE)
    try:
        tab = page.open("play/connect4")
        tab.get_by_test_id("your-turn").wait_for()
        tab.get_by_test_id("col-2").click()
        wait_for_moves(tab, 2)
        tab.get_by_test_id("your-turn").wait_for()
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the page scrolls sideways on a phone"
        page.screenshot("phone-play-connect4")
        tab = page.open("dashboard/othello")
        tab.get_by_test_id("chart-loss").locator("canvas").wait_for()
        page.screenshot("phone-dashboard")
        assert page.errors == [], f"console errors: {page.errors}"
    finally:
        page.close()


def test_page_opens_on_the_game_being_trained(web_browser, tmp_path) -> None:
    """An address without a game shows the dashboard of the game the actor self-plays.

    No view loads another game's data first (such as Tic-tac-toe's stats, a 404 on a fresh
    run, before switching)."""
    write_run_folder(tmp_path)
    options = ["--game", "othello", "--workers", "1", "--games-in-parallel", "2",
               "--simulations", "2", "--no-evaluation", "--worker-nice", "19"]  # fmt: skip
    with serve_actor(tmp_path, *options) as base:
        page = Page(web_browser, base, DESKTOP)
        requested: list[str] = []
        page.page.on("request", lambda request: requested.append(request.url))
        try:
            page.page.goto(f"{base}/")
            page.page.wait_for_url("**/#/dashboard/othello")
            assert page.page.get_by_test_id("game-othello").get_attribute("aria-pressed") == "true"
            page.page.get_by_test_id("chart-loss").locator("canvas").wait_for()
            other_games = [url for url in requested if "/api/games/othello" not in url]
            assert not [url for url in other_games if "/api/games/" in url], requested
            page.page.goto(f"{base}/#/play/connect4")
            page.page.reload()
            page.page.get_by_test_id("strength").wait_for()
            assert page.page.url.endswith("#/play/connect4")
        finally:
            page.close()
        assert page.errors == [], f"console errors: {page.errors}"


# ---------------------------------------------------------------- an actor that goes away


def actor_down(page) -> None:
    """The actor stops answering: every API request fails as if nothing listened."""
    page.route("**/api/**", lambda route: route.abort("connectionrefused"))


def actor_back(page) -> None:
    page.unroute("**/api/**")


def test_play_moves_by_itself_once_the_actor_answers_again(web_page: Page) -> None:
    """A move made while the actor is down is played by itself once the actor is back, as the
    top banner clears by itself: "The bot could not move" does not wait for Retry."""
    web_page.expected_errors.append("net::ERR_CONNECTION_REFUSED")
    page = web_page.open("play/tictactoe")
    page.get_by_test_id("your-turn").wait_for()
    actor_down(page)
    page.get_by_test_id("cell-4").click()
    error = page.get_by_test_id("error")
    assert "cannot reach the actor" in error.inner_text()
    hinted = page.get_by_test_id("retry-when-back").count()  # "It moves once the actor ..."
    # Down for a while, as it would be: longer than the strength slider's restart (0.4 s after
    # open() set it), which asks for the bot's move once more.
    page.wait_for_timeout(1000)
    actor_back(page)
    wait_for_moves(page, 2, timeout=15_000)  # by itself, after App's next poll of the games (3 s)
    page.get_by_test_id("your-turn").wait_for()
    assert error.count() == 0 and page.get_by_test_id("api-error").count() == 0
    assert hinted == 1


def test_an_actor_that_went_away_is_said_once(web_page: Page) -> None:
    """ "cannot reach the actor: is `python -m actor` running?" stood twice on the page (the top
    banner and the view's own line), and named only one of the two ways to start it."""
    web_page.expected_errors.append("net::ERR_CONNECTION_REFUSED")
    page = web_page.open("dashboard/tictactoe")
    page.get_by_test_id("chart-loss").locator("canvas").wait_for()
    actor_down(page)
    banner = page.get_by_test_id("api-error")
    banner.wait_for(timeout=15_000)  # App's next poll of the games list (3 s)
    page.get_by_text("last poll failed").wait_for(timeout=15_000)  # the dashboard's poll too
    assert (
        "is it running? Start it with ./start_training.sh tictactoe, or python -m actor"
        in banner.inner_text()
    )
    body = page.locator("body").inner_text()
    assert body.count("Start it with") == 1 and body.count("python -m actor") == 1, body
    web_page.screenshot("actor-down")
    actor_back(page)
    banner.wait_for(state="detached", timeout=15_000)


def test_replays_keep_their_list_when_a_refresh_fails(web_page: Page) -> None:
    """A failed Refresh keeps the list and does not say the newest game dropped out of it;
    the list comes back by itself once the actor answers again."""
    web_page.expected_errors.append("net::ERR_CONNECTION_REFUSED")
    page = web_page.open("replays/othello")
    page.get_by_test_id("replay-6").wait_for()
    page.get_by_test_id("replay-next").click()
    actor_down(page)
    page.get_by_test_id("replays-refresh").click()
    error = page.get_by_test_id("replays-error")
    error.wait_for()
    assert page.locator("[data-testid^=replay-]:is(li button)").count() == 6  # still listed
    assert page.get_by_test_id("replay-dropped").count() == 0
    assert "Refresh failed: cannot reach the actor" in error.inner_text()
    assert page.get_by_test_id("replay-ply").inner_text().startswith("move 1 /")
    web_page.screenshot("replays-refresh-failed")
    actor_back(page)
    error.wait_for(state="detached")  # loaded again after App's next poll
    assert page.locator("[data-testid^=replay-]:is(li button)").count() == 6
    assert page.get_by_test_id("replay-ply").inner_text().startswith("move 1 /")


def test_play_keeps_its_game_across_views_and_reloads(web_page: Page) -> None:
    """Training or Replays and back (nav or browser Back) keeps the game, with the side,
    opponent and strength; so does a reload, and a saved game that is no longer
    legal starts a fresh one instead of breaking the page."""
    page = web_page.open("play/connect4")
    page.get_by_test_id("opponent").select_option("mcts")
    page.get_by_test_id("side-1").click()  # the bot (red) opens
    wait_for_moves(page, 1)
    page.get_by_test_id("col-3").click()
    wait_for_moves(page, 3)
    page.get_by_test_id("your-turn").wait_for()

    def same_game(moves: int) -> None:
        page.get_by_test_id("your-turn").wait_for()
        assert move_count(page) == moves
        assert page.get_by_test_id("opponent").input_value() == "mcts"
        assert page.get_by_test_id("simulations").inner_text() == "16"
        assert page.get_by_test_id("side-1").get_attribute("aria-pressed") == "true"
        assert page.locator("[data-testid^=c4-cell-][data-piece='2']").count() == 1

    page.get_by_test_id("view-dashboard").click()
    page.get_by_test_id("chart-loss").or_(page.get_by_test_id("dashboard-empty")).wait_for()
    page.go_back()
    same_game(3)
    page.get_by_test_id("view-replays").click()
    page.get_by_test_id("view-play").click()
    same_game(3)
    page.reload()
    same_game(3)
    # an older page's record, or rules that changed: column 4 holds 6 pieces, not 7
    page.evaluate("""() => {
            const key = 'cartridge2.play.connect4';
            const saved = JSON.parse(sessionStorage.getItem(key));
            sessionStorage.setItem(key, JSON.stringify({...saved, moves: [3, 3, 3, 3, 3, 3, 3]}));
        }""")
    page.reload()
    wait_for_moves(page, 1)  # a fresh game, the bot opening it as before
    page.get_by_test_id("your-turn").wait_for()
    assert page.get_by_test_id("opponent").input_value() == "mcts"


def test_a_bad_address_is_corrected_and_said(web_page: Page) -> None:
    """#/play/chess and the other bad addresses are corrected, with a word, to the same game
    whatever the page before."""
    page = web_page.page
    hash_of = lambda: page.evaluate("location.hash")  # noqa: E731
    note = page.get_by_test_id("route-note")
    page.goto(f"{web_page.base}/#/play/chess")
    assert note.inner_text() == "no game 'chess': showing Tic-tac-toe"
    assert hash_of() == "#/play/tictactoe"
    page.get_by_test_id("cell-4").wait_for()
    web_page.screenshot("route-note")
    for asked, shown in (
        ("#/play/connect4", "#/play/connect4"),
        ("#/play/chess", "#/play/tictactoe"),  # the same game, whatever was shown before
        ("#/PLAY/Connect4", "#/play/connect4"),
        ("#/play/othello?x=1", "#/play/othello"),
        ("#/replays/othello/3", "#/replays/othello/3"),  # a replay's id is kept
        ("#/replays/othello/x", "#/replays/othello"),  # no id: the newest
        ("#garbage", "#/play/tictactoe"),
    ):
        page.goto(f"{web_page.base}/{asked}")
        page.wait_for_function("hash => location.hash === hash", arg=shown)
        game = shown.split("/")[2]
        assert page.get_by_test_id(f"game-{game}").get_attribute("aria-pressed") == "true"
        if "chess" in asked:
            assert note.inner_text() == "no game 'chess': showing Tic-tac-toe"
        elif "garbage" in asked:
            assert note.inner_text() == "no page 'garbage': showing Play"
        else:
            assert note.count() == 0, asked
    page.go_back()  # the corrected addresses replaced the bad ones
    page.wait_for_function("() => location.hash === '#/replays/othello'")


def focused(page) -> dict:
    return page.evaluate("""() => {
            const e = document.activeElement;
            return {testid: e.dataset.testid ?? e.tagName,
                    playable: e.getAttribute('aria-disabled') === 'false',
                    inBoard: !!e.closest('[data-testid=board]')};
        }""")


def test_arrow_keys_and_enter_play_on_the_board(web_page: Page) -> None:
    """After a click on New game or a game tab, the arrow keys and Enter play on the board, not
    the button just clicked, and after a move the focus stays on the board.
    The boards are ARIA grids (row > gridcell), Connect 4's columns named with their pieces."""
    page = web_page.open("play/tictactoe")
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id("new-game").click()
    page.keyboard.press("ArrowRight")  # to the board: its playable cell nearest the middle
    assert focused(page) == {"testid": "cell-4", "playable": True, "inBoard": True}
    page.keyboard.press("ArrowRight")
    assert focused(page)["testid"] == "cell-5"
    web_page.screenshot("keyboard-focus")
    page.keyboard.press("Enter")
    wait_for_moves(page, 2)
    assert page.get_by_test_id("cell-5").get_attribute("data-piece") == "x"
    page.get_by_test_id("your-turn").wait_for()
    page.wait_for_function("() => document.activeElement.getAttribute('aria-disabled') === 'false'")
    assert focused(page)["inBoard"]  # on to the nearest cell still free
    page.keyboard.press("Enter")
    wait_for_moves(page, 4)

    page.get_by_test_id("game-othello").click()
    page.get_by_test_id("your-turn").wait_for()
    page.keyboard.press("ArrowUp")
    assert focused(page)["playable"]
    page.keyboard.press("Enter")
    wait_for_moves(page, 2)
    assert page.get_by_test_id("game-othello").get_attribute("aria-pressed") == "true"

    page.get_by_test_id("game-connect4").click()
    page.get_by_test_id("your-turn").wait_for()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Space")
    wait_for_moves(page, 2)
    page.get_by_test_id("your-turn").wait_for()
    assert focused(page) == {"testid": "col-3", "playable": True, "inBoard": True}
    label = page.get_by_test_id("col-3").get_attribute("aria-label")
    assert label.startswith("column 4: red") and label.endswith("empty; play here"), label
    tree = page.get_by_test_id("board").aria_snapshot()
    assert '- grid "Connect 4 board' in tree and 'row "column 1: ' in tree, tree
    assert 'gridcell "column 1: ' in tree and 'button "column 1: ' in tree, tree
    for game, cells in (("tictactoe", 9), ("othello", 64)):
        page.get_by_test_id(f"game-{game}").click()
        grid = page.get_by_role("grid")
        assert grid.get_by_role("row").count() == int(cells**0.5)
        assert grid.get_by_role("row").first.get_by_role("gridcell").count() == int(cells**0.5)
        assert grid.get_by_role("gridcell").count() == cells
