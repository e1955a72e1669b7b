"""A fingerprint of finlib's own source code, part of every cache key: results of other code are never reused.

The parsed ledgers, the stored figures and the kept backtests outlive the process that wrote them (and, in a
shared bucket, the replica). Their manual version constants say when a format changed; this fingerprint covers
what a constant forgets: any change to any module (a new date format, a fixed formula) makes every kept result a
miss, so an upgraded app re-reads the source once instead of showing figures the new code would not compute.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent


@functools.cache
def code_fingerprint() -> str:
    """The fingerprint of this installed package, computed once per process (~15 ms)."""
    return fingerprint_of(PACKAGE_ROOT)


def fingerprint_of(root: Path) -> str:
    """16 hex digits of SHA-256 over every ``.py`` file under ``root`` (relative path and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
