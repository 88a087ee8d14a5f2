"""The first run's install of the project into .venv: start_training.sh runs this with the new
.venv's Python. Standard library only, since nothing else is installed yet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
PIP_INSTALL = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-e", "."]
SETUP_LOG = REPO_ROOT / ".venv" / "setup.log"
PROGRESS_EVERY_S = 15.0  # a progress line this often without a terminal (CI, a log file)


def install_packages(
    command: list[str] | None = None,
    log_path: Path = SETUP_LOG,
    every_s: float | None = None,
    out: TextIO | None = None,
) -> int:
    """Runs the install (pip, into `log_path`): says first what to expect, then shows life
    while it runs (it was silent for minutes): how long it has run and pip's latest step, on a
    terminal in one line redrawn every second, elsewhere (CI=true, output to a file) a line every
    PROGRESS_EVERY_S. Returns its exit status; on failure, shows the end of the log."""
    out = out or sys.stdout
    terminal = out.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
    every_s = every_s or (1.0 if terminal else PROGRESS_EVERY_S)
    print(
        "[setup] installing the Python packages (first run only: 1-3 minutes where pip finds"
        " PyTorch locally; on a machine without it, PyTorch alone is a download of up to a few"
        f" GB; log: {log_path})",
        file=out,
        flush=True,
    )
    start = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command or PIP_INSTALL, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            while True:
                try:
                    code = process.wait(timeout=every_s)
                    break
                except subprocess.TimeoutExpired:
                    line = f"[setup] {time.monotonic() - start:.0f} s: {last_step(log_path)}"
                    if terminal:
                        width = min(shutil.get_terminal_size().columns - 1, 100)
                        print(f"\r{line[:width]}\x1b[K", end="", file=out, flush=True)
                    else:
                        print(line[:100], file=out, flush=True)
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


def last_step(path: Path) -> str:
    """pip's latest step in its log, for the progress line: its last line, without a progress
    bar's bar or a warning about this machine's index settings ("... is ignored")."""
    with path.open("rb") as file:
        file.seek(max(0, path.stat().st_size - 8192))
        lines = file.read().decode("utf-8", errors="replace").splitlines()
    steps = (line.replace("━", "").strip() for line in reversed(lines) if "is ignored" not in line)
    return next((step for step in steps if step), "starting pip")


if __name__ == "__main__":
    sys.exit(install_packages())
