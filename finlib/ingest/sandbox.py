"""Parsing in a child process with a size pre-check, a memory cap (RLIMIT_AS) and a wall-clock limit.

Spreadsheet parsers can abort or exhaust memory on crafted files, and an abort inside native code cannot be
caught in Python; so the parent only ever sees a frame, a ParseError, or a FileRejectedError that explains.

Children are forked from a *parser server* (``python -m finlib.ingest.sandbox LISTENER_FD``) that imported pandas,
pyarrow and the Excel readers once, so a parse starts in milliseconds instead of paying ~0.6 s of imports. The
first parse of a process starts the server ("cold"); later ones reuse it ("warm"). Per request the server forks
a small waiter, which forks the parse child and reports its pid, then its exit status and peak memory, on the
request's socket. The child leads its own session, applies the memory cap, writes the frame as an Arrow IPC
file and the report as JSON, and sends its stderr to a file so a death can be explained. The server exits when
its parent does (end of file on its stdin).

multiprocessing's forkserver would do the forking, but on Python 3.11 each of its children re-runs the parent's
main script (``streamlit run`` → all of Streamlit again, ~0.5 s) and it requires a ``__main__`` guard in every
script that parses; this server runs only this module's code.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finlib import errors
from finlib.errors import FileRejectedError, ParseError
from finlib.ingest import limits, scratch

if TYPE_CHECKING:
    import pandas as pd

    from finlib.config import Settings
    from finlib.ingest.parsing import ParseReport

log = logging.getLogger(__name__)

DEFAULT_ENTRY = "finlib.ingest.parsing:parse_ledger_compact"
SOCKET_NAME = "server.sock"
BYTES_PER_MB = 1024 * 1024
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# Imported once by the server so that children start with them loaded. The fallback readers (python-calamine,
# openpyxl) are left to the rare child that needs them: they would add ~0.15 s to every cold start.
PRELOAD_MODULES = (
    "finlib.ingest.parsing",
    "finlib.config",
    "pyarrow.compute",
    "pyarrow.csv",
    "pyarrow.feather",
    "fastexcel",
)


class _ParserServer:
    """The parent's handle on the server process: started on first use, restarted if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._address = ""
        atexit.register(self.stop)

    def address(self) -> str:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            return self._address

    def _start(self) -> None:
        self._remove_socket()
        address = os.path.join(scratch.socket_folder(), SOCKET_NAME)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
        listener.listen(64)
        # Listening before the server exists: the first request queues while the server imports its modules.
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "finlib.ingest.sandbox", str(listener.fileno()), address],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                cwd=PACKAGE_ROOT,
                pass_fds=[listener.fileno()],
                start_new_session=True,
            )
        finally:
            listener.close()
        self._address = address

    def stop(self) -> None:
        """Close the server's stdin (it exits on end of file) and wait briefly for it."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._remove_socket()

    def _remove_socket(self) -> None:
        if self._address:
            scratch.remove_socket_folder(Path(self._address))
        self._address = ""


_server = _ParserServer()


def start_parser_server() -> None:
    """Start the parser server now, so that its imports overlap the caller's (optional: parsing starts it)."""
    _server.address()


def stop_parser_server() -> None:
    """Stop the parser server (the next parse starts a new one)."""
    _server.stop()


def parse_ledger_isolated(
    path: Path,
    *,
    settings: Settings,
    filename: str | None = None,
    mapping: dict[str, str] | None = None,
    entry: str = DEFAULT_ENTRY,
) -> tuple[pd.DataFrame, ParseReport]:
    """``parse_ledger`` in a child process under the configured size, memory and time limits.

    ``entry`` ("module:function") is the seam tests use to run a misbehaving parser in the child. The child hands
    the compact ledger over (repetitive text as Arrow dictionaries: less to write and read) and the parent
    expands it.
    """
    path = Path(path)
    shown = filename or path.name
    size_mb = path.stat().st_size / BYTES_PER_MB
    if size_mb > settings.max_file_mb:
        raise FileRejectedError(
            f"{shown} is {size_mb:.0f} MB, above the {settings.max_file_mb} MB limit. "
            "Split the ledger into smaller files or raise MAX_FILE_MB."
        )
    limits.refuse_zip_bomb(path, shown, size_mb, settings)
    with scratch.parse_folder(settings.home) as folder:
        request: dict[str, Any] = {
            "path": str(path.resolve()),
            "filename": filename,
            "mapping": mapping,
            "settings": settings.parse.to_json(),
            "memory_mb": settings.parse_memory_mb,
            "entry": entry,
            "frame": str(folder / "ledger.arrow"),
            "result": str(folder / "result.json"),
            "stderr": str(folder / "stderr.txt"),
        }
        started = time.perf_counter()
        returncode, peak_mb = _run_in_child(request, settings.parse_timeout_s, shown)
        log.info(
            "parsed %s in a child process: exit code %d, %.2f s, peak memory %.0f MB",
            shown,
            returncode,
            time.perf_counter() - started,
            peak_mb,
            extra={"child_peak_mb": peak_mb},
        )
        result_path = folder / "result.json"
        if returncode != 0 or not result_path.exists():
            stderr_path = Path(request["stderr"])
            stderr = stderr_path.read_bytes() if stderr_path.exists() else b""
            raise FileRejectedError(limits.death_message(shown, returncode, stderr, settings, peak_mb))
        result = json.loads(result_path.read_text(encoding="utf-8"))
        if "error" in result:
            raise _rebuild_error(result["error"], shown)
        return _read_frame(request["frame"]), _report(result["report"])


def _run_in_child(request: dict[str, Any], timeout_s: float, shown: str) -> tuple[int, float]:
    """Exit code and peak memory (MB) of a parse child run by the server; kills it after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(_server.address())
        connection.sendall(json.dumps(request).encode("utf-8") + b"\n")
        replies = connection.makefile("rb")
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            pid = int(replies.readline().split()[1])
            connection.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                line = replies.readline()
            except TimeoutError:
                _kill(pid)
                raise FileRejectedError(
                    f"Reading {shown} took longer than {timeout_s:g} s and was stopped. "
                    "Check the file is a normal ledger export, split it, or raise PARSE_TIMEOUT_S."
                ) from None
        except (IndexError, ValueError, TimeoutError) as exc:
            raise FileRejectedError(
                f"The parser process did not answer for {shown}. Retry; if it persists, restart the app."
            ) from exc
        _, code, peak_kb = line.split()
        return int(code), int(peak_kb) / 1024


def _kill(pid: int) -> None:
    """Stop a child and whatever it started: it leads its own session, whose id is its pid."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _read_frame(path: str) -> pd.DataFrame:
    """The child's frame, memory-mapped: numbers are copied once, text stays in the file's pages.

    Unlinking the file with the work folder is safe: the mapping lives as long as the frame does.
    """
    import pyarrow as pa
    import pyarrow.feather as feather

    from finlib.ingest.ledger import expand_ledger

    ledger = expand_ledger(feather.read_table(path, memory_map=True).to_pandas())
    pa.default_memory_pool().release_unused()  # the compact frame is gone: hand its memory back
    return ledger


def _report(data: dict[str, Any]) -> ParseReport:
    from finlib.ingest.parsing import ParseReport

    return ParseReport.from_dict(data)


def _rebuild_error(error: dict[str, Any], shown: str) -> ParseError:
    kind = getattr(errors, str(error.get("class")), None)
    if kind is errors.MissingColumnsError:
        return errors.MissingColumnsError(
            found=error.get("found", []), missing=error.get("missing", []), unreadable=error.get("unreadable")
        )
    if isinstance(kind, type) and issubclass(kind, ParseError):
        return kind(error["message"])
    return FileRejectedError(
        f"{shown} could not be read: {error.get('message', 'unknown error')}. "
        "Check that it is an invoice ledger (xlsx, xls or csv) and retry."
    )


def _limit_memory(memory_mb: int) -> None:
    import resource

    limit = memory_mb * BYTES_PER_MB
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _redirect_output(stderr_path: str) -> None:
    """Send the child's stdout away and its stderr (native crash messages included) to a file."""
    stderr = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(stderr, 2)
    os.close(stderr)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def run_child(request: dict[str, Any]) -> int:
    """Child side: apply the memory cap, parse, and write the frame and the report (or the error)."""
    _limit_memory(int(request["memory_mb"]))
    result: dict[str, Any]
    try:
        from finlib.config import ParseSettings

        module_name, function_name = request["entry"].split(":")
        parse = getattr(importlib.import_module(module_name), function_name)
        settings = ParseSettings(**request["settings"])
        frame, report = parse(
            Path(request["path"]), settings=settings, filename=request["filename"], mapping=request["mapping"]
        )
        import pyarrow.feather as feather

        # Arrow IPC, uncompressed: ~0.1 s each way at 1M rows where parquet took ~0.5 s to write and to read.
        feather.write_feather(frame, request["frame"], compression="uncompressed")
        result = {"report": report.to_dict()}
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return limits.MEMORY_EXIT_CODE
    except ParseError as exc:
        result = {"error": {"class": type(exc).__name__, "message": str(exc)}}
        if isinstance(exc, errors.MissingColumnsError):
            result["error"].update(found=exc.found, missing=exc.missing, unreadable=exc.unreadable)
    except Exception as exc:  # noqa: BLE001 - anything else becomes a message for the parent
        if "alloc" in str(exc).casefold() or "memory" in type(exc).__name__.casefold():
            print(f"MemoryError: {exc}", file=sys.stderr)
            return limits.MEMORY_EXIT_CODE
        result = {"error": {"class": type(exc).__name__, "message": f"{type(exc).__name__}: {exc}"}}
    Path(request["result"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


def _serve_request(connection: socket.socket) -> None:
    """Waiter side: fork the parse child, report its pid, then its exit code and peak memory (KB)."""
    request = json.loads(connection.makefile("rb").readline())
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            connection.close()
            os.setsid()
            _redirect_output(request["stderr"])
            code = run_child(request)
        except BaseException:  # noqa: BLE001 - a child must never fall back into the server loop
            import traceback

            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    connection.sendall(f"started {pid}\n".encode())
    _watch_requester(connection, pid)
    _, status, usage = os.wait4(pid, 0)
    connection.sendall(f"exited {os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}\n".encode())


def _watch_requester(connection: socket.socket, pid: int) -> None:
    """Wait for the child to end; kill it if the process that asked for the parse goes away first (kill -9)."""
    child = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([connection.fileno(), child], [], [])
            if child in ready:
                return
            if not connection.recv(1):
                _kill(pid)
                return
    finally:
        os.close(child)


def serve(listener_fd: int, address: str = "") -> None:
    """Server side: preload the parsers, then fork a waiter per connection until stdin reaches end of file.

    At the end it removes its socket and folder: after a ``kill -9`` of the parent nobody else would.
    """
    try:
        _serve_until_closed(socket.socket(fileno=listener_fd))
    finally:
        if address:
            scratch.remove_socket_folder(Path(address))


def _serve_until_closed(listener: socket.socket) -> None:
    for module in PRELOAD_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    while True:
        ready, _, _ = select.select([listener, sys.stdin.buffer], [], [])
        if sys.stdin.buffer in ready and not os.read(sys.stdin.fileno(), 1):
            return
        if listener not in ready:
            continue
        connection, _ = listener.accept()
        if os.fork() == 0:
            code = 0
            try:
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _serve_request(connection)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        connection.close()


if __name__ == "__main__":
    from finlib.ingest.sandbox import serve as _serve

    _serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
