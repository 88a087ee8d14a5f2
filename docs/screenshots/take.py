"""Takes the README's screenshots from a page that is already running; starts nothing itself.

Start a real run first, let it train for a few minutes (until the dashboard has an evaluation),
then point this at its page:

    ./start_training.sh connect4 --data-dir /tmp/shots --port 8090      # in one terminal
    .venv/bin/python docs/screenshots/take.py http://127.0.0.1:8090      # in another

It drives Debian's Chromium (/usr/bin/chromium) headless through Playwright (both installed by
./run_tests.sh) and writes into docs/screenshots/ (or --out):

- dashboard-GAME-run.png: the Training page of the game being trained, the whole page;
- play-tictactoe.png, play-connect4.png, play-othello.png: the Play page after one move of
  yours and the bot's answer, first screen (the trained game plays the run's model, the
  others the shipped one);
- replays.png: the Replays page of the trained game, its newest game three moves before its end;
- phone-play-connect4.png: the Play page on a phone-sized screen.

Desktop shots are 1360x860 CSS pixels at scale 1, the phone's 390x844 at scale 2. Look at each
file before committing it: the page shows what the run has done so far.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1360, "height": 860}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 60_000  # a bot move on a busy 2-core machine, or a chart's first data
# A first move of each game that is legal from the start: its element's test id on the board.
FIRST_MOVE = {"tictactoe": "cell-4", "connect4": "col-3", "othello": "cell-19"}
GAMES = tuple(FIRST_MOVE)
# No animations: a disc mid-drop would be caught in the air, and the page re-renders a board
# (restarting its last disc's drop) whenever its data refreshes.
STILL = "*, *::before, *::after { animation: none !important; transition: none !important; }"


def open_page(browser: Browser, url: str, viewport: dict, scale: int = 1) -> Page:
    context = browser.new_context(viewport=viewport, device_scale_factor=scale)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def save(page: Page, path: Path, full_page: bool = False) -> None:
    """The page's current screen (or whole page), fonts loaded, every piece where it rests."""
    page.add_style_tag(content=STILL)
    page.evaluate("window.scrollTo(0, 0)")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path}")


def training_game(browser: Browser, base: str) -> str:
    """The game the actor trains, from /api/health (the page opens on it too)."""
    page = open_page(browser, f"{base}/api/health", DESKTOP)
    game = page.evaluate("() => JSON.parse(document.body.innerText).training_game")
    page.context.close()
    if game not in GAMES:
        raise SystemExit(f"take.py: {base} trains no game (training_game {game!r}): start a run")
    return game


def wait_for_moves(page: Page, count: int) -> None:
    page.wait_for_function(
        """n => {
            const el = document.querySelector('[data-testid=move-count]');
            return el && parseInt(el.textContent.trim().split(/\\s+/)[1]) >= n;
        }""",
        arg=count,
    )


def play_shot(browser: Browser, base: str, game: str, path: Path, phone: bool = False) -> None:
    """The Play page after one move of each side."""
    viewport, scale = (PHONE, 2) if phone else (DESKTOP, 1)
    page = open_page(browser, f"{base}/#/play/{game}", viewport, scale)
    page.get_by_test_id("your-turn").wait_for()
    page.get_by_test_id(FIRST_MOVE[game]).click()
    wait_for_moves(page, 2)
    page.get_by_test_id("your-turn").wait_for()
    save(page, path)
    page.context.close()


def dashboard_shot(browser: Browser, base: str, game: str, path: Path) -> None:
    """The whole Training page, once its loss chart and an evaluation are drawn."""
    page = open_page(browser, f"{base}/#/dashboard/{game}", DESKTOP)
    page.get_by_test_id("chart-loss").locator("canvas").wait_for()
    page.get_by_test_id("card-evaluation").wait_for()
    save(page, path, full_page=True)
    page.context.close()


def replays_shot(browser: Browser, base: str, game: str, path: Path) -> None:
    """The Replays page with its newest game open, a few moves before its end (past a random
    opening, so the search's visits show)."""
    page = open_page(browser, f"{base}/#/replays/{game}", DESKTOP)
    page.locator("li button[data-testid^=replay-]").first.click()
    page.get_by_test_id("replay-viewer").wait_for()
    page.get_by_test_id("replay-last").click()
    for _ in range(3):
        page.get_by_test_id("replay-prev").click()
    save(page, path)
    page.context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the running page, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent, help="folder for the PNGs"
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"take.py: {CHROMIUM} is missing (./run_tests.sh installs it)", file=sys.stderr)
        return 2
    base = args.url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        game = training_game(browser, base)
        dashboard_shot(browser, base, game, args.out / f"dashboard-{game}-run.png")
        for name in GAMES:
            play_shot(browser, base, name, args.out / f"play-{name}.png")
        replays_shot(browser, base, game, args.out / "replays.png")
        play_shot(browser, base, "connect4", args.out / "phone-play-connect4.png", phone=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
