"""Shared fixtures: real actors that never outlive their test, and no test that skips
because a part of this project does not import.

The plain helpers (free_port, wait_for, wait_gone, Proc, start_actor...) live in
reliability_helpers.py, which benchmarks/load.py imports too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_helpers import START_LIMIT_S, Proc, start_actor, wait_healthy

# importorskip's message when one of the project's own packages fails to import.
PROJECT_IMPORT_SKIP = re.compile(r"could not import '(engine|actor|learner|runfiles)\b")


class Processes:
    """Starts real actors for one test, each in its own process group; the `processes`
    fixture SIGKILLs whatever of them (workers included) still runs when the test ends."""

    def __init__(self) -> None:
        self.started: list[Proc] = []

    def actor(self, data_dir: Path, *args: str, warm_up: bool = False) -> Proc:
        """`python -m actor` on a free port of 127.0.0.1 once its /api/health answers."""
        proc = start_actor(data_dir, *args, warm_up=warm_up)
        self.started.append(proc)
        wait_healthy(proc, START_LIMIT_S)
        return proc

    def close(self) -> None:
        for proc in self.started:
            proc.close()


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    try:
        yield started
    finally:
        started.close()


def _fail_project_import_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """A skip for a project module that does not import (pytest.importorskip) is a failure:
    the project is broken, not an optional part missing."""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
        if PROJECT_IMPORT_SKIP.search(reason):
            report.outcome = "failed"
            report.longrepr = f"{reason}\n(a module of this project must import: not skipped)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    _fail_project_import_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    _fail_project_import_skip(report)
    return report
