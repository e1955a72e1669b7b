"""Scratch files of a parse: private folders in the data home, named by their process, removed once it is gone.

A parse writes the ledger (real names) to disk on its way from the child to the parent. Those files live under
``<data home>/tmp`` (mode 0700, like the home), never in the system temp folder, and each folder and temporary
file carries the id of the process that made it: a process killed with ``kill -9`` cannot clean up after itself,
so the next process to parse removes whatever belongs to processes that no longer exist.

The parser server's socket is the exception: a socket path is limited to 107 bytes, which a data home can
exceed, so its folder (``finlib-parser-<pid>-*``, mode 0700, no data) is in the system temp folder. The server
removes it when it exits, also after a ``kill -9`` of its parent, and the next server start sweeps any left by
a server that was itself killed.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

SCRATCH_DIR = "tmp"
PARSE_PREFIX = "parse-"
SOCKET_PREFIX = "finlib-parser-"
TEMP_SUFFIX = ".tmp"
# "parse-<pid>-<random>" and "finlib-parser-<pid>-<random>" folders, "<name>.<pid>-<random>.tmp" files.
_OWNER = re.compile(r"^(?:parse|finlib-parser)-(\d+)-|\.(\d+)-[^.]+\.tmp$")
_swept: set[Path] = set()


def scratch_root(home: Path) -> Path:
    """``<home>/tmp``, created private to this user."""
    root = home / SCRATCH_DIR
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


@contextmanager
def parse_folder(home: Path) -> Iterator[Path]:
    """A private folder for one parse's files, removed when the block ends (and by ``sweep`` after a crash)."""
    root = scratch_root(home)
    if root not in _swept:
        _swept.add(root)
        sweep(root)
    folder = Path(tempfile.mkdtemp(prefix=f"{PARSE_PREFIX}{os.getpid()}-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def socket_folder() -> str:
    """A new private folder for the parser server's socket in the system temp folder, after sweeping old ones."""
    root = Path(tempfile.gettempdir())
    sweep(root, prefix=SOCKET_PREFIX)
    return tempfile.mkdtemp(prefix=f"{SOCKET_PREFIX}{os.getpid()}-", dir=root)


def remove_socket_folder(socket_path: Path) -> None:
    """Remove a parser server's socket and its folder (nothing if already gone)."""
    socket_path.unlink(missing_ok=True)
    try:
        socket_path.parent.rmdir()
    except OSError:
        pass


def temporary_beside(path: Path) -> Path:
    """A unique temporary name next to ``path`` (same folder, so a rename is atomic) that ``sweep_files`` knows."""
    handle, name = tempfile.mkstemp(prefix=f"{path.name}.{os.getpid()}-", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(handle)
    return Path(name)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(name: str) -> int | None:
    match = _OWNER.search(name)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def sweep(folder: Path, prefix: str = "") -> int:
    """Remove the scratch folders and temporary files in ``folder`` (not below) whose process is gone; how many.

    ``prefix`` limits the sweep to names that start with it (the system temp folder holds everyone's files).
    """
    removed = 0
    try:
        entries = [entry for entry in folder.iterdir() if entry.name.startswith(prefix)]
    except OSError:
        return 0
    for entry in entries:
        pid = _owner(entry.name)
        if pid is None or _alive(pid):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("removed %d scratch entries left by stopped processes in %s", removed, folder)
    return removed
