"""What the isolated parser refuses and why: a workbook that unpacks past the memory cap, a child that died.

Each message names the limit (size, memory) and the setting that moves it, never a reader's internal error.
"""

from __future__ import annotations

import signal
import zipfile
from pathlib import Path

from finlib.config import Settings
from finlib.errors import FileRejectedError

BYTES_PER_MB = 1024 * 1024
STDERR_TAIL_CHARS = 400
STDERR_HEAD_CHARS = 2000
MEMORY_EXIT_CODE = 3
# A workbook declaring more unpacked data than this share of the memory cap is refused before parsing.
UNPACKED_SHARE_OF_MEMORY = 0.5
NEAR_CAP_SHARE = 0.8
ZIP_MAGIC = b"PK\x03\x04"  # xlsx is a zip archive


def refuse_zip_bomb(path: Path, shown: str, size_mb: float, settings: Settings) -> None:
    """Refuse a workbook that declares more unpacked data than the parser may hold, before any parser sees it."""
    with path.open("rb") as handle:
        if not handle.read(4).startswith(ZIP_MAGIC):
            return
    unpacked_mb = unpacked_bytes(path) / BYTES_PER_MB
    if unpacked_mb > settings.parse_memory_mb * UNPACKED_SHARE_OF_MEMORY:
        raise FileRejectedError(
            f"{shown} unpacks to {unpacked_mb:,.0f} MB of spreadsheet data (from {max(size_mb, 0.1):,.1f} MB), more "
            f"than the parser may use ({settings.parse_memory_mb:,} MB). If it is a real ledger, export it as CSV "
            "or raise PARSE_MEMORY_MB."
        )


def unpacked_bytes(path: Path) -> int:
    """What a zip-based file (xlsx) declares it unpacks to, in bytes; 0 for anything else."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0


def death_message(shown: str, returncode: int, stderr: bytes, settings: Settings, peak_mb: float = 0.0) -> str:
    # The reason is often the first line (Rust: "memory allocation of N bytes failed"), and a backtrace after it
    # (RUST_BACKTRACE=1) can push it out of the tail: both ends are read.
    text = stderr.decode("utf-8", errors="replace")
    ends = text[:STDERR_HEAD_CHARS] + text[-STDERR_TAIL_CHARS:]
    memory_words = ("MemoryError", "bad_alloc", "Cannot allocate memory", "OutOfMemory", "memory allocation")
    # A native reader that cannot allocate aborts (SIGABRT) rather than raising: a peak near the cap says why.
    near_cap = peak_mb >= NEAR_CAP_SHARE * settings.parse_memory_mb
    if returncode == MEMORY_EXIT_CODE or any(word in ends for word in memory_words) or near_cap:
        return (
            f"Reading {shown} needed more than the {settings.parse_memory_mb} MB memory limit and was stopped. "
            "Split the file, remove unused sheets, or raise PARSE_MEMORY_MB."
        )
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        return (
            f"The parser crashed on {shown} ({name}); the file may be damaged or crafted. "
            "Open it in Excel and save it again (or export as CSV), then retry."
        )
    return (
        f"The parser stopped on {shown} with exit code {returncode} without a result. "
        "Save the file again (or export it as CSV) and retry."
    )
