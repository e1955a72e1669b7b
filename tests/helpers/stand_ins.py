"""Stand-in parsers and follow-ups run in the parse child by tests (imported there as ``tests.helpers.stand_ins``)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

ENTRY = "tests.helpers.stand_ins"


def announce_and_sleep(path: Path, **_: Any) -> None:
    """Writes its pid beside the ledger, then never finishes."""
    path.with_suffix(".pid").write_text(str(os.getpid()))
    time.sleep(120)


def die_after_hand_over(ledger: Any, output: Path, **_: Any) -> None:
    """Follow-up stand-in: the parse child is killed (SIGKILL) once it has handed its frame over."""
    os.kill(os.getpid(), signal.SIGKILL)


def fail_after_hand_over(ledger: Any, output: Path, **_: Any) -> None:
    """Follow-up stand-in with a bug, after writing part of its output."""
    output.write_bytes(b'{"portfolio": {')
    raise RuntimeError("a bug in the follow-up")


def hang_after_hand_over(ledger: Any, output: Path, **_: Any) -> None:
    """Follow-up stand-in that never finishes."""
    time.sleep(120)


def count_when_told(ledger: Any, output: Path, *, go: str, **_: Any) -> None:
    """Follow-up stand-in: waits (up to 20 s) for the file ``go``, then writes what it was given (or that it waited)."""
    deadline = time.monotonic() + 20
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    told = Path(go).exists()
    output.write_text(f"{len(ledger)} rows, columns {','.join(ledger.columns)}" if told else "never told")
