"""A newcomer's path: the README, pyproject.toml and the Streamlit config agree on what the app needs and does."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
STREAMLIT_CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_readme_and_pyproject_name_the_same_minimum_python() -> None:
    required = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert required == ">=3.11"
    assert "Python 3.11 or newer" in README


def test_the_app_listens_on_localhost_only_at_the_url_the_readme_gives() -> None:
    assert STREAMLIT_CONFIG["server"]["address"] == "127.0.0.1"
    port = STREAMLIT_CONFIG["server"].get("port", 8501)
    assert f"<http://127.0.0.1:{port}>" in README


def test_the_file_watcher_is_off_for_the_readmes_run_command() -> None:
    # The config applies because the README's command, `finlib serve`, runs `streamlit run server.py` from the
    # repository root; `streamlit run app.py` (the dashboard alone) reads the same file.
    assert STREAMLIT_CONFIG["server"]["fileWatcherType"] == "none"
    assert STREAMLIT_CONFIG["server"]["runOnSave"] is False
    assert re.search(r"^python3 -m venv \.venv .*&& \.venv/bin/python -m finlib serve$", README, re.MULTILINE)
    assert "`.venv/bin/streamlit run app.py`, which still works" in README


def test_no_usage_statistics_leave_the_machine() -> None:
    assert STREAMLIT_CONFIG["browser"]["gatherUsageStats"] is False
