"""runfiles: whole writes readable by other users, and set-asides that never overwrite."""

import logging
import os
import time
from pathlib import Path

import pytest

import runfiles

STAMP = "20261127-105400"


def test_write_atomic_writes_the_bytes_readable_by_other_users(tmp_path: Path) -> None:
    path = tmp_path / "new" / "stats.json"
    runfiles.write_atomic(path, b"first")
    runfiles.write_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert path.stat().st_mode & 0o777 == 0o644  # mkstemp alone makes 0600
    assert [p.name for p in path.parent.iterdir()] == ["stats.json"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch, failing: str
) -> None:
    path = tmp_path / "latest.onnx"
    path.write_bytes(b"old")

    def disk_full(*args):
        raise OSError("disk full")

    monkeypatch.setattr(runfiles.os, failing, disk_full)
    with pytest.raises(OSError, match="disk full"):
        runfiles.write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["latest.onnx"]


def test_set_asides_in_the_same_second_keep_every_file(tmp_path: Path, monkeypatch) -> None:
    """Two damaged files set aside within one second: the second rename overwrote the first."""
    monkeypatch.setattr(runfiles, "utc_stamp", lambda: STAMP)
    path = tmp_path / "stats.json"
    kept = []
    for content in ("one", "two", "three"):
        path.write_text(content)
        kept.append(runfiles.set_aside(path, "damaged"))
    assert [p.name for p in kept] == [
        f"stats.json.damaged-{STAMP}",
        f"stats.json.damaged-{STAMP}-2",
        f"stats.json.damaged-{STAMP}-3",
    ]
    assert [p.read_text() for p in kept] == ["one", "two", "three"]
    assert not path.exists()


def test_set_aside_takes_a_given_stamp_and_moves_folders(tmp_path: Path) -> None:
    folder = tmp_path / "latest.pt"
    (folder / "inside").mkdir(parents=True)
    kept = runfiles.set_aside(folder, "refused", stamp=STAMP)
    assert kept == tmp_path / f"latest.pt.refused-{STAMP}"
    assert (kept / "inside").is_dir() and not folder.exists()


def test_a_failed_rename_returns_none_and_leaves_the_file(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    def refused(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runfiles.os, "rename", refused)
    path = tmp_path / "evaluations.json"
    path.write_text("[")
    with caplog.at_level(logging.WARNING):
        assert runfiles.set_aside(path, "damaged") is None
    assert path.read_text() == "[" and os.listdir(tmp_path) == ["evaluations.json"]
    assert "cannot rename" in caplog.text and "Permission denied" in caplog.text


def test_utc_stamp_is_the_time_in_utc(monkeypatch) -> None:
    monkeypatch.setattr(
        runfiles.time,
        "gmtime",
        lambda *args: time.struct_time((2026, 11, 27, 10, 54, 0, 4, 331, 0)),
    )
    assert runfiles.utc_stamp() == STAMP
