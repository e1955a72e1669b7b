"""ui.warmup: a served process imports the first page's modules and gets its services before a browser asks."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from finlib.errors import DatabaseError
from ui.warmup import first_run_modules, start_warm_up, warm_up


def test_the_first_run_modules_are_the_scripts_top_level_imports_with_the_modules_named_by_from(
    tmp_path: Path,
) -> None:
    frame = tmp_path / "frame.py"
    frame.write_text(
        "from __future__ import annotations\n"
        "import json\n"
        "from typing import TYPE_CHECKING\n"
        "from ui import charts, wording\n"
        "from finlib.errors import FinlibError\n"
        "if TYPE_CHECKING:\n"
        "    import sqlite3\n"
        "def later():\n"
        "    import csv\n",
        encoding="utf-8",
    )
    page = tmp_path / "page.py"
    page.write_text("import json\nimport ui.format\n", encoding="utf-8")
    assert first_run_modules((frame, page)) == [
        "json", "typing", "ui", "ui.charts", "ui.wording", "finlib.errors", "ui.format",
    ]  # fmt: skip


def test_by_default_the_frame_and_the_overview_are_warmed() -> None:
    modules = first_run_modules()
    assert {"streamlit", "pandas", "ui.sidebar", "ui.services", "ui.overview_figures", "ui.charts"} <= set(modules)


def test_a_warm_up_gets_the_services_once_and_logs_its_seconds(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    with caplog.at_level(logging.INFO, logger="ui.warmup"):
        warm_up(lambda: calls.append("services"))
    assert calls == ["services"]
    assert "start-up warm-up: imports" in caplog.text and "services" in caplog.text


def test_a_warm_up_stopped_by_a_finlib_error_logs_its_message_and_returns(caplog: pytest.LogCaptureFixture) -> None:
    def unreachable() -> object:
        raise DatabaseError("Cannot reach the database at db:5432/finlib: connection refused.")

    with caplog.at_level(logging.INFO, logger="ui.warmup"):
        warm_up(unreachable)
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "Cannot reach the database at db:5432/finlib" in record.getMessage()


def test_an_unexpected_failure_of_the_warm_up_is_logged_with_its_traceback_and_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> object:
        raise RuntimeError("a bug")

    with caplog.at_level(logging.INFO, logger="ui.warmup"):
        warm_up(broken)
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is not None
    assert "first page will import and register itself" in record.getMessage()


def test_the_server_never_waits_for_the_warm_up() -> None:
    release = threading.Event()
    thread = start_warm_up(lambda: release.wait(30))
    try:
        assert thread.daemon and thread.is_alive()
    finally:
        release.set()
        thread.join(30)
    assert not thread.is_alive()
