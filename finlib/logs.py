"""Logging of the app and the CLI: one `app.log` in the data home, names never at INFO or above."""

from __future__ import annotations

import logging
import sys

from finlib.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE_NAME = "app.log"


def configure_logging(settings: Settings, *, debug: bool = False) -> None:
    """Send log records to `app.log` in the data home (and to stderr with debug); idempotent per process."""
    root = logging.getLogger()
    if any(getattr(handler, "_finlib", False) for handler in root.handlers):
        return
    settings.home.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.home / LOG_FILE_NAME, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler._finlib = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    if debug:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(stream)
