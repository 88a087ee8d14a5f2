"""The actor refuses a run folder it cannot use before it starts anything, with a message that
names the folder (it crashed with a traceback, or its self-play worker died after the API was
up)."""

import subprocess
import sys
from pathlib import Path

from actor_models import free_port


def start_actor(data_dir: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "actor", "--game", "tictactoe", "--data-dir", str(data_dir),
               "--port", str(free_port()), "--workers", "1", "--no-warmup"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_a_run_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tictactoe").write_text("a file where the run folder should be")
    result = start_actor(tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"cannot write the run folder {tmp_path / 'tictactoe'}" in result.stderr
    assert "Traceback" not in result.stderr
