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

A parse may carry a ``Followup``: work the child does on the frame it has written after telling the parent it is
there ("handed" on the socket), so both processes work at once (registration: the figures in the child while
the parent expands the frame and writes its aliases). The parent collects its output once the child has exited;
a follow-up that fails, dies or runs out of time gives nothing, and the caller does the work itself.

multiprocessing's forkserver would do the forking, but on Python 3.11 each of its children re-runs the parent's
main script (``streamlit run`` → all of Streamlit again, ~0.5 s) and it requires a ``__main__`` guard in every
script that parses; this server runs only this module's code.
"""

from __future__ import annotations

import atexit
import contextlib
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finlib import errors
from finlib.errors import FileRejectedError, ParseError
from finlib.ingest import limits, scratch
from finlib.lazy import import_in_background

if TYPE_CHECKING:
    import pandas as pd

    from finlib.config import Settings
    from finlib.ingest.report import ParseReport

log = logging.getLogger(__name__)

DEFAULT_ENTRY = "finlib.ingest.parsing:parse_ledger_compact"
SOCKET_NAME = "server.sock"
# What reading the child's frame imports, imported while the child parses (``lazy.import_in_background``).
FRAME_MODULES = ("numpy", "pandas", "pyarrow", "pyarrow.feather", "pyarrow.compute")
# How long a stopped parse waits for its waiter to confirm the child is gone, before removing its files anyway.
CANCEL_WAIT_S = 5.0
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


@dataclass(frozen=True)
class Followup:
    """Work for the parse child once its frame is handed over: ``entry(ledger, output_path, **arguments)``.

    ``ledger`` is the handed-over frame's ``columns`` (None: all), expanded as the parent expands it; ``entry`` is
    "module:function", imported in the child (so a light module); ``arguments`` must be JSON.
    """

    entry: str
    columns: tuple[str, ...] | None = None
    arguments: dict[str, Any] = field(default_factory=dict)


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
    with PendingParse(path, settings=settings, filename=filename, mapping=mapping, entry=entry) as pending:
        return pending.result()


class PendingParse:
    """A parse started in a child process (as ``parse_ledger_isolated``) that the caller collects with ``result``.

    The caller works meanwhile (a local file's ETag is an MD5 pass over it); leaving the ``with`` block without
    the result stops the child and removes its files. The size and zip-bomb checks run before the child starts.
    """

    def __init__(
        self,
        path: Path,
        *,
        settings: Settings,
        filename: str | None = None,
        mapping: dict[str, str] | None = None,
        entry: str = DEFAULT_ENTRY,
        followup: Followup | None = None,
    ) -> None:
        path = Path(path)
        self._shown = filename or path.name
        size_mb = path.stat().st_size / BYTES_PER_MB
        if size_mb > settings.max_file_mb:
            raise FileRejectedError(
                f"{self._shown} is {size_mb:.0f} MB, above the {settings.max_file_mb} MB limit. "
                "Split the ledger into smaller files or raise MAX_FILE_MB."
            )
        limits.refuse_zip_bomb(path, self._shown, size_mb, settings)
        self._settings = settings
        self._cleanup = contextlib.ExitStack()
        folder = self._cleanup.enter_context(scratch.parse_folder(settings.home))
        self._request: dict[str, Any] = {
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
        if followup is not None:
            self._request["followup"] = {
                "entry": followup.entry,
                "columns": followup.columns,
                "arguments": followup.arguments,
            }
            self._request["followup_output"] = str(folder / "followup.out")
        self._started = time.perf_counter()
        self._deadline = time.monotonic() + settings.parse_timeout_s
        try:
            self._connection = self._cleanup.enter_context(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
            self._connection.connect(_server.address())
            self._connection.sendall(json.dumps(self._request).encode("utf-8") + b"\n")
        except BaseException:
            self._cleanup.close()
            raise
        self._replies = self._connection.makefile("rb")
        self._pid: int | None = None
        self._handed = False
        self._exit: tuple[int, float] | None = None  # the child's exit code and peak memory (MB), once it exited
        self._display_names: dict[str, pd.Series] = {}
        import_in_background(FRAME_MODULES)  # the caller waits for the child meanwhile

    def __enter__(self) -> PendingParse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def result(self) -> tuple[pd.DataFrame, ParseReport]:
        """The child's ledger and report once handed over; its ParseError, or a FileRejectedError that explains."""
        shown, settings = self._shown, self._settings
        self._read_until(lambda: self._handed or self._exit is not None)
        result_path = Path(self._request["result"])
        if not self._handed:
            returncode, peak_mb = self._exit or (1, 0.0)
            if returncode != 0 or not result_path.exists():
                stderr_path = Path(self._request["stderr"])
                stderr = stderr_path.read_bytes() if stderr_path.exists() else b""
                raise FileRejectedError(limits.death_message(shown, returncode, stderr, settings, peak_mb))
        result = json.loads(result_path.read_text(encoding="utf-8"))
        if "error" in result:
            raise _rebuild_error(result["error"], shown)
        ledger, self._display_names = _read_frame(self._request["frame"])
        return ledger, _report(result["report"])

    def display_names(self) -> dict[str, pd.Series]:
        """After ``result``: the frame's display names per key column (``ledger.compact_display_names``)."""
        return self._display_names

    def followup_output(self) -> bytes | None:
        """What the child's follow-up wrote, once the child has exited; None if it failed, died or ran out of time.

        Call it after ``result``. None asks the caller to do the work itself; why is logged (a warning).
        """
        if "followup" not in self._request:
            return None
        try:
            self._read_until(lambda: self._exit is not None)
        except FileRejectedError as exc:
            log.warning("the follow-up of the parse of %s did not finish: %s", self._shown, exc)
            return None
        returncode, _ = self._exit or (1, 0.0)
        output = Path(self._request["followup_output"])
        if returncode != 0 or not output.exists():
            # The exit code only: the child's stderr may quote a cell of the ledger (a real name).
            log.warning("the follow-up of the parse of %s failed (exit code %d)", self._shown, returncode)
            return None
        return output.read_bytes()

    def close(self) -> None:
        """Stop the child if it still runs (its waiter kills it once this side stops writing), then remove its files."""
        try:
            if self._exit is not None:
                return
            self._connection.shutdown(socket.SHUT_WR)
            self._connection.settimeout(CANCEL_WAIT_S)
            while self._replies.readline():  # until the waiter reports the child's exit and closes
                pass
        except OSError:
            pass  # the waiter is gone already
        finally:
            self._replies.close()
            self._cleanup.close()

    def _read_until(self, done: Callable[[], bool]) -> None:
        """Read the waiter's lines (pid, exit) and the child's (hand-over) until ``done``; the timeout kills the child.

        The lines may come in either order: the child can hand over before its waiter has reported the pid.
        """
        shown, timeout_s = self._shown, self._settings.parse_timeout_s
        while not done():
            self._connection.settimeout(max(self._deadline - time.monotonic(), 0.001))
            try:
                fields = self._replies.readline().split()
                kind = fields[0]
                if kind == b"started":
                    self._pid = int(fields[1])
                elif kind == b"handed":
                    self._handed = True
                elif kind == b"exited":
                    self._exited(int(fields[1]), int(fields[2]) / 1024, float(fields[3]))
                else:
                    raise ValueError(kind)
            except TimeoutError:
                if self._pid is None:
                    raise FileRejectedError(
                        f"The parser process did not answer for {shown}. Retry; if it persists, restart the app."
                    ) from None
                _kill(self._pid)
                raise FileRejectedError(
                    f"Reading {shown} took longer than {timeout_s:g} s and was stopped. "
                    "Check the file is a normal ledger export, split it, or raise PARSE_TIMEOUT_S."
                ) from None
            except (IndexError, ValueError, OSError) as exc:
                raise FileRejectedError(
                    f"The parser process did not answer for {shown}. Retry; if it persists, restart the app."
                ) from exc

    def _exited(self, returncode: int, peak_mb: float, cpu_s: float) -> None:
        self._exit = (returncode, peak_mb)
        log.info(
            "parsed %s in a child process: exit code %d, %.2f s, peak memory %.0f MB, %.2f CPU-s",
            self._shown,
            returncode,
            time.perf_counter() - self._started,
            peak_mb,
            cpu_s,
            extra={"child_peak_mb": peak_mb, "child_cpu_s": cpu_s},
        )


def _kill(pid: int) -> None:
    """Stop a child and whatever it started: it leads its own session, whose id is its pid."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _read_frame(path: str) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The child's frame expanded (memory-mapped: text stays in the file's pages) and its display names.

    The display names are counted on the compact frame's codes before it is expanded (ms, where the expanded
    text took ~0.11 CPU-s at a million rows).
    """
    import pyarrow as pa

    from finlib.ingest.ledger import compact_display_names, expand_ledger, read_compact_table

    compact = read_compact_table(Path(path))
    display = compact_display_names(compact)
    ledger = expand_ledger(compact)
    del compact
    pa.default_memory_pool().release_unused()  # the compact frame is gone: hand its memory back
    return ledger, display


def _report(data: dict[str, Any]) -> ParseReport:
    # Not from finlib.ingest.parsing, which imports every reader (~0.05 s after the hand-over).
    from finlib.ingest.report import ParseReport

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


def run_child(request: dict[str, Any], hand_over: Callable[[], None] | None = None) -> int:
    """Child side: apply the memory cap, parse, write the frame and the report (or the error), then any follow-up.

    ``hand_over`` tells the parent that the frame and the report are written, before the follow-up starts.
    """
    _limit_memory(int(request["memory_mb"]))
    followup = request.get("followup") if hand_over is not None else None
    code, result, kept = _parse_and_write(request, followup)
    if result is None:
        return code
    Path(request["result"]).write_text(json.dumps(result), encoding="utf-8")
    if followup is None or kept is None or hand_over is None:
        return 0
    try:
        hand_over()
    except OSError:
        return 0  # the parent is gone: its waiter stops this child
    return _run_followup(followup, request, kept)


def _parse_and_write(
    request: dict[str, Any], followup: dict[str, Any] | None
) -> tuple[int, dict[str, Any] | None, pd.DataFrame | None]:
    """Parse and write the frame: (0, the result to report, the follow-up's columns of the compact frame, if it
    has one), or (an exit code, None, None) when memory ran out.

    The follow-up's columns are kept from the frame in memory: reading them back from the file just written cost
    ~0.2 CPU-s at a million rows (its 16 batches concatenated, the dictionaries unified); the rest is freed.
    """
    result: dict[str, Any]
    kept: pd.DataFrame | None = None
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
        if followup is not None:
            wanted = followup["columns"]
            # A column the frame lacks leaves the follow-up undone (the parent does its work), not the parse.
            if wanted is None or set(wanted) <= set(frame.columns):
                kept = frame if wanted is None else frame[list(wanted)]
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return limits.MEMORY_EXIT_CODE, None, None
    except ParseError as exc:
        result = {"error": {"class": type(exc).__name__, "message": str(exc)}}
        if isinstance(exc, errors.MissingColumnsError):
            result["error"].update(found=exc.found, missing=exc.missing, unreadable=exc.unreadable)
    except Exception as exc:  # noqa: BLE001 - anything else becomes a message for the parent
        if "alloc" in str(exc).casefold() or "memory" in type(exc).__name__.casefold():
            print(f"MemoryError: {exc}", file=sys.stderr)
            return limits.MEMORY_EXIT_CODE, None, None
        result = {"error": {"class": type(exc).__name__, "message": f"{type(exc).__name__}: {exc}"}}
    return 0, result, kept


def _run_followup(followup: dict[str, Any], request: dict[str, Any], compact: pd.DataFrame) -> int:
    """The follow-up on the handed-over frame's columns; an exit code other than 0: the parent does the work."""
    import pyarrow as pa

    from finlib.ingest.ledger import expand_ledger

    pa.default_memory_pool().release_unused()  # the rest of the parse is gone: the follow-up starts from less
    try:
        module_name, function_name = followup["entry"].split(":")
        work = getattr(importlib.import_module(module_name), function_name)
        ledger = expand_ledger(compact)
        del compact
        work(ledger, Path(request["followup_output"]), **followup["arguments"])
    except MemoryError:
        print("MemoryError in the follow-up", file=sys.stderr)
        return limits.MEMORY_EXIT_CODE
    return 0


def _serve_request(connection: socket.socket) -> None:
    """Waiter side: fork the parse child, report its pid, then its exit code, peak memory (KB) and CPU seconds."""
    request = json.loads(connection.makefile("rb").readline())
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setsid()
            _redirect_output(request["stderr"])
            if "followup" in request:
                code = run_child(request, lambda: connection.sendall(b"handed\n"))
            else:
                connection.close()
                code = run_child(request)
        except BaseException:  # noqa: BLE001 - a child must never fall back into the server loop
            import traceback

            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    try:
        connection.sendall(f"started {pid}\n".encode())
    except OSError:
        _kill(pid)  # the process that asked is gone already (or stopped the parse): nobody waits for this child
        raise
    _watch_requester(connection, pid)
    _, status, usage = os.wait4(pid, 0)
    cpu_s = usage.ru_utime + usage.ru_stime
    connection.sendall(f"exited {os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {cpu_s:.3f}\n".encode())


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
    # Nothing is left to flush or close: skip the interpreter's teardown of pandas and the readers (0.1-0.6 s, by
    # the machine's load), which the process that started this server waits for as it exits.
    os._exit(0)
