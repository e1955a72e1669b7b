"""Start-up of `python -m finlib`: each command imports only what it needs (issue 11: `--help`, `projects` < 0.3 s).

Timings on a shared machine are noise, so these tests check the cause instead: which heavy modules a command
loaded, read from the interpreter's own import log (``-X importtime``). That log shows modules imported by an
``import`` statement; the ones ``finlib.lazy.deferred`` imports are not in it, but what they import is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.ledgers import LEDGER_CSV

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "pyarrow", "sqlalchemy", "litellm", "boto3", "plotly")


def imported_modules(argv: list[str], home: Path) -> set[str]:
    """Every module a `python -m finlib` run imported (dotted names)."""
    env = {**os.environ, "FINLIB_HOME": str(home), "ALIAS_SALT": "startup-test-salt"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "finlib", *argv], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    return set(lines)


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["--help"], set()),
        (["stats", "--help"], set()),
        (["projects"], {"sqlalchemy"}),
        (["projects", "--json"], {"sqlalchemy"}),
    ],
)
def test_a_command_that_reads_no_ledger_imports_no_heavy_library(tmp_path, argv, allowed) -> None:
    loaded = {name.split(".")[0] for name in imported_modules(argv, tmp_path / "home")}
    assert {name for name in HEAVY if name in loaded} == allowed


def test_listing_projects_starts_no_parser_server(tmp_path) -> None:
    loaded = imported_modules(["projects"], tmp_path / "home")
    assert "finlib.db" in loaded  # it did read the project list
    assert "finlib.ingest.sandbox" not in loaded


def test_stats_reads_the_stored_figures_without_pandas_or_the_ledger(tmp_path) -> None:
    ledger = tmp_path / "march.csv"
    ledger.write_text(LEDGER_CSV, encoding="utf-8")
    imported_modules(["register", "march", str(ledger)], tmp_path / "home")
    loaded = imported_modules(["stats", "march", "--json"], tmp_path / "home")
    assert {name.split(".")[0] for name in loaded} & {"pandas", "numpy", "pyarrow"} == set()


def blas_wait_in_a_run(env: dict[str, str]) -> str:
    """The OpenBLAS thread wait a `python -m finlib --help` run had, and whether numpy was loaded before it was set."""
    script = (
        "import os, runpy, sys\n"
        "sys.argv = ['finlib', '--help']\n"
        "try:\n"
        "    runpy.run_module('finlib', run_name='__main__', alter_sys=True)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), 'numpy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_a_run_sets_a_short_blas_thread_wait_before_numpy_loads(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env.update(FINLIB_HOME=str(tmp_path / "home"), ALIAS_SALT="startup-test-salt")
    assert blas_wait_in_a_run(env) == "4 False"  # set, and `--help` loaded no numpy that could have read it earlier
    assert blas_wait_in_a_run({**env, "OPENBLAS_THREAD_TIMEOUT": "12"}) == "12 False"  # the user's own value stays


def test_registration_builds_the_parse_request_without_importing_pandas(tmp_path) -> None:
    # The parse child starts when the request is sent; pandas imported before it (~0.3 s) delays the whole parse.
    script = (
        "import sys\n"
        "from finlib.config import load_settings\n"
        "from finlib import summaries\n"
        "followup = summaries.figures_followup(load_settings())\n"
        "print(followup.entry, 'pandas' in sys.modules)\n"
    )
    env = {**os.environ, "FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "startup-test-salt"}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["finlib.analytics.figures:write_figures", "False"]
