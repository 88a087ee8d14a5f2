"""Installs the project into .venv with pip, showing what pip is doing: start_training.sh runs
it on the first run, run_tests.sh with the test tools (`install.py dev`), both with .venv's
Python. Standard library only, since nothing else is installed yet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
SETUP_LOG = REPO_ROOT / ".venv" / "setup.log"
SITE_PACKAGES = Path(sysconfig.get_path("purelib"))
PROGRESS_EVERY_S = 15.0  # a progress line this often without a terminal (CI, a log file)
COLLECTED = "Installing collected packages: "


def pip_install(extras: str = "") -> list[str]:
    """pip's command line for the project, with the optional extras (`dev`: the test tools)."""
    target = f".[{extras}]" if extras else "."
    return [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-e", target]


def install_packages(
    command: list[str] | None = None,
    log_path: Path = SETUP_LOG,
    every_s: float | None = None,
    out: TextIO | None = None,
    site_packages: Path = SITE_PACKAGES,
) -> int:
    """Runs the install (pip, into `log_path`): says first what to expect, then shows life
    while it runs: how long it has run, pip's current step and how long that step has taken,
    on a terminal in one line redrawn every second, elsewhere (CI=true, output to a file) a line
    every PROGRESS_EVERY_S. Returns its exit status; on failure, shows the end of the log."""
    out = out or sys.stdout
    terminal = out.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
    every_s = every_s or (1.0 if terminal else PROGRESS_EVERY_S)
    print(
        "[setup] installing the Python packages (the first time 1-3 minutes where pip finds"
        " PyTorch locally; on a machine without it, PyTorch alone is a download of up to a few"
        f" GB; an update takes under a minute; log: {log_path})",
        file=out,
        flush=True,
    )
    start, started_at = time.monotonic(), time.time()
    step, step_start = "", start
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command or pip_install(), cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            while True:
                try:
                    code = process.wait(timeout=every_s)
                    break
                except subprocess.TimeoutExpired:
                    now = time.monotonic()
                    latest = current_step(log_path, installed_since(site_packages, started_at))
                    if latest != step:
                        step, step_start = latest, now
                    line = f"[setup] {now - start:.0f} s: {step}"
                    if now - step_start >= 2 * every_s:  # a step that takes a while
                        line += f" ({now - step_start:.0f} s on this step)"
                    if terminal:
                        width = min(shutil.get_terminal_size().columns - 1, 120)
                        print(f"\r{line[:width]}\x1b[K", end="", file=out, flush=True)
                    else:
                        print(line[:120], file=out, flush=True)
        except KeyboardInterrupt:  # Ctrl-C: pip got it too
            process.kill()
            process.wait()
            print("\n[setup] stopped: the next start installs again", file=out, flush=True)
            return 130
    if terminal:
        print("\r\x1b[K", end="", file=out)
    if code == 0:
        print(f"[setup] installed in {time.monotonic() - start:.0f} s", file=out, flush=True)
        return 0
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    shown = [line for line in lines if "is ignored" not in line][-40:]
    print(*shown, sep="\n", file=out)
    print(f"[setup] installing the Python packages failed (above; all in {log_path})", file=out)
    return code or 1


def installed_since(site_packages: Path, since: float) -> int:
    """How many packages pip has put into `site_packages` since `since` (a time.time()): each
    gets a new *.dist-info folder as it goes in."""
    try:
        folders = list(site_packages.glob("*.dist-info"))
    except OSError:
        return 0
    count = 0
    for folder in folders:
        try:
            count += folder.stat().st_mtime >= since
        except OSError:  # pip replaced it meanwhile
            pass
    return count


def current_step(path: Path, installed: int) -> str:
    """pip's current step, from the end of its log, for the progress line. While pip installs
    what it collected it logs nothing but uninstalls of older versions, for minutes where
    PyTorch is among them: then the step is how many of the collected packages are in
    (`installed`, counted by the caller) and which goes in now, since pip goes in the order it
    listed them. Otherwise it is pip's last line, without a progress bar's bar, a warning about
    this machine's index settings ("... is ignored") or the package that asked for it."""
    with path.open("rb") as file:
        file.seek(max(0, path.stat().st_size - 65536))
        lines = file.read().decode("utf-8", errors="replace").splitlines()
    steps = [line.replace("━", "").strip() for line in lines if "is ignored" not in line]
    steps = [step.split(" (from ")[0] for step in steps if step]
    collected = next((i for i in reversed(range(len(steps))) if steps[i].startswith(COLLECTED)), -1)
    if collected >= 0 and not any(step.startswith("Successfully installed") for step in steps):
        names = steps[collected].removeprefix(COLLECTED).split(", ")
        done = min(installed, len(names) - 1)
        return f"installing the {len(names)} packages: {done} in, now {names[done]}"
    return steps[-1] if steps else "starting pip"


if __name__ == "__main__":
    sys.exit(install_packages(pip_install(*sys.argv[1:2])))
