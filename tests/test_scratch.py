"""Specification of finlib.ingest.scratch: a parse's files stay in the private data home and outlive no process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from finlib.ingest import scratch


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_parse_folder_is_private_inside_the_data_home_and_removed_afterwards(tmp_path: Path) -> None:
    with scratch.parse_folder(tmp_path) as folder:
        assert folder.parent == tmp_path / "tmp"
        assert folder.stat().st_mode & 0o777 == 0o700
        assert (tmp_path / "tmp").stat().st_mode & 0o077 == 0
        (folder / "ledger.arrow").write_bytes(b"real names")
    assert not folder.exists()


def test_sweeping_removes_what_a_stopped_process_left_and_keeps_what_a_live_one_holds(tmp_path: Path) -> None:
    dead = _dead_pid()
    left = [tmp_path / f"parse-{dead}-abc", tmp_path / f"x.arrow.{dead}-q1w2.tmp"]
    held = [tmp_path / f"parse-{os.getpid()}-def", tmp_path / f"x.arrow.{os.getppid()}-q1w2.tmp"]
    other = tmp_path / "abcdef.arrow"
    left[0].mkdir()
    held[0].mkdir()
    for path in (left[1], held[1], other):
        path.write_bytes(b"x")
    assert scratch.sweep(tmp_path) == 2
    assert [p.exists() for p in left] == [False, False]
    assert [p.exists() for p in held] == [True, True]
    assert other.exists()


def test_temporary_names_beside_a_file_are_unique_and_known_to_the_sweep(tmp_path: Path) -> None:
    first = scratch.temporary_beside(tmp_path / "entry.arrow")
    second = scratch.temporary_beside(tmp_path / "entry.arrow")
    assert first != second and first.parent == tmp_path
    assert scratch._owner(first.name) == os.getpid()


def test_the_parser_socket_folder_is_private_and_a_start_sweeps_those_of_servers_that_are_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    left = tmp_path / f"finlib-parser-{_dead_pid()}-abc"
    held = tmp_path / f"finlib-parser-{os.getppid()}-def"
    other = tmp_path / f"parse-{_dead_pid()}-ghi"  # not the sweep's business here: the system temp is shared
    for folder in (left, held, other):
        folder.mkdir()
    (left / "server.sock").write_bytes(b"")
    folder = Path(scratch.socket_folder())
    assert folder.parent == tmp_path and folder.name.startswith(f"finlib-parser-{os.getpid()}-")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (left.exists(), held.exists(), other.exists()) == (False, True, True)
    (folder / "server.sock").write_bytes(b"")
    scratch.remove_socket_folder(folder / "server.sock")
    assert not folder.exists()
