"""Stand-in parsers run in the parse child by tests (imported there as ``tests.helpers.stand_ins``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

ENTRY = "tests.helpers.stand_ins"


def announce_and_sleep(path: Path, **_: Any) -> None:
    """Writes its pid beside the ledger, then never finishes."""
    path.with_suffix(".pid").write_text(str(os.getpid()))
    time.sleep(120)
