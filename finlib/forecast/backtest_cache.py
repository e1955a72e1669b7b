"""Backtest results on disk, one JSON file per (project, project version, settings that change the result).

A backtest of a million-row ledger takes a minute or more; its result holds method names and error figures
only (no customer names), so it is kept until the project's file changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pandas as pd

from finlib.code_version import code_fingerprint
from finlib.config import Settings
from finlib.forecast.backtest import BacktestResult, run_backtest

log = logging.getLogger(__name__)

# Bump when a method or score changes: kept results of older code must not be served.
BACKTEST_CACHE_VERSION = "2"


def backtest_path(settings: Settings, project: str, version: str) -> Path:
    """Where the backtest of this project version under these settings is kept."""
    material = json.dumps([BACKTEST_CACHE_VERSION, code_fingerprint(), project, version, settings.moving_avg_window])
    return settings.cache_dir / "backtest" / f"{hashlib.sha256(material.encode('utf-8')).hexdigest()[:32]}.json"


def load_backtest(settings: Settings, project: str, version: str) -> BacktestResult | None:
    """The kept backtest of this project version, or None."""
    path = backtest_path(settings, project, version)
    try:
        return BacktestResult.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable backtest cache %s: %s", path.name, exc)
        return None


def cached_backtest(ledger: pd.DataFrame, settings: Settings, project: str, version: str) -> BacktestResult:
    """The kept backtest, or a new one that is then kept (written to a temporary file, then renamed)."""
    found = load_backtest(settings, project, version)
    if found is not None:
        return found
    result = run_backtest(ledger, window=settings.moving_avg_window)
    path = backtest_path(settings, project, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(result.to_json()), encoding="utf-8")
    temporary.replace(path)
    return result
