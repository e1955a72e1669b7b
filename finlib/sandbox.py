"""Parsing in a child process with a size pre-check, a memory cap (RLIMIT_AS) and a wall-clock limit.

Spreadsheet parsers can abort or exhaust memory on crafted files, and an abort inside native code cannot be
caught in Python; so the parent only ever sees a frame, a ParseError, or a FileRejectedError that explains.
Run as ``python -m finlib.sandbox REQUEST.json``; the child writes the frame as an Arrow IPC file and the report
as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finlib import errors
from finlib.errors import FileRejectedError, ParseError

if TYPE_CHECKING:
    import pandas as pd

    from finlib.config import Settings
    from finlib.parsing import ParseReport

DEFAULT_ENTRY = "finlib.parsing:parse_ledger"
BYTES_PER_MB = 1024 * 1024
STDERR_TAIL_CHARS = 400


def _settings_to_json(settings: Settings) -> dict[str, Any]:
    return {"default_terms_days": settings.default_terms_days}


def parse_ledger_isolated(
    path: Path,
    *,
    settings: Settings,
    filename: str | None = None,
    mapping: dict[str, str] | None = None,
    entry: str = DEFAULT_ENTRY,
) -> tuple[pd.DataFrame, ParseReport]:
    """``parse_ledger`` in a child process under the configured size, memory and time limits.

    ``entry`` ("module:function") is the seam tests use to run a misbehaving parser in the child.
    """
    path = Path(path)
    shown = filename or path.name
    size_mb = path.stat().st_size / BYTES_PER_MB
    if size_mb > settings.max_file_mb:
        raise FileRejectedError(
            f"{shown} is {size_mb:.0f} MB, above the {settings.max_file_mb} MB limit. "
            "Split the ledger into smaller files or raise MAX_FILE_MB."
        )
    with tempfile.TemporaryDirectory(prefix="finlib-parse-") as work:
        folder = Path(work)
        request = {
            "path": str(path.resolve()),
            "filename": filename,
            "mapping": mapping,
            "settings": _settings_to_json(settings),
            "memory_mb": settings.parse_memory_mb,
            "entry": entry,
            "frame": str(folder / "ledger.arrow"),
            "result": str(folder / "result.json"),
        }
        (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "finlib.sandbox", str(folder / "request.json")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_child_environment(),
            start_new_session=True,
        )
        try:
            _, stderr = process.communicate(timeout=settings.parse_timeout_s)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise FileRejectedError(
                f"Reading {shown} took longer than {settings.parse_timeout_s:g} s and was stopped. "
                "Check the file is a normal ledger export, split it, or raise PARSE_TIMEOUT_S."
            ) from None
        result_path = folder / "result.json"
        if not result_path.exists():
            raise FileRejectedError(_death_message(shown, process.returncode, stderr, settings))
        result = json.loads(result_path.read_text(encoding="utf-8"))
        if "error" in result:
            raise _rebuild_error(result["error"], shown)
        import pyarrow.feather as feather

        from finlib.parsing import LEDGER_DTYPES, ParseReport

        frame = feather.read_table(request["frame"], memory_map=False).to_pandas().astype(LEDGER_DTYPES)
        return frame, ParseReport.from_dict(result["report"])


def _child_environment() -> dict[str, str]:
    environment = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    existing = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = root + (os.pathsep + existing if existing else "")
    return environment


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()


def _death_message(shown: str, returncode: int, stderr: bytes, settings: Settings) -> str:
    tail = stderr.decode("utf-8", errors="replace")[-STDERR_TAIL_CHARS:]
    if "MemoryError" in tail or "bad_alloc" in tail or "Cannot allocate memory" in tail or "OutOfMemory" in tail:
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


def _rebuild_error(error: dict[str, Any], shown: str) -> ParseError:
    kind = getattr(errors, str(error.get("class")), None)
    if kind is errors.MissingColumnsError:
        return errors.MissingColumnsError(found=error.get("found", []), missing=error.get("missing", []))
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


def run_child(request_path: Path) -> int:
    """Child side: apply the memory cap, parse, and write the frame and the report (or the error)."""
    request = json.loads(request_path.read_text(encoding="utf-8"))
    _limit_memory(int(request["memory_mb"]))
    result: dict[str, Any]
    try:
        import importlib

        from finlib.config import Settings

        module_name, function_name = request["entry"].split(":")
        parse = getattr(importlib.import_module(module_name), function_name)
        settings = Settings(**request["settings"])
        frame, report = parse(
            Path(request["path"]), settings=settings, filename=request["filename"], mapping=request["mapping"]
        )
        import pyarrow.feather as feather

        # Arrow IPC, uncompressed: ~0.1 s each way at 1M rows where parquet took ~0.5 s to write and to read.
        feather.write_feather(frame, request["frame"], compression="uncompressed")
        result = {"report": report.to_dict()}
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return 3
    except ParseError as exc:
        result = {"error": {"class": type(exc).__name__, "message": str(exc)}}
        if isinstance(exc, errors.MissingColumnsError):
            result["error"].update(found=exc.found, missing=exc.missing)
    except Exception as exc:  # noqa: BLE001 - anything else becomes a message for the parent
        if "alloc" in str(exc).casefold() or "memory" in type(exc).__name__.casefold():
            print(f"MemoryError: {exc}", file=sys.stderr)
            return 3
        result = {"error": {"class": type(exc).__name__, "message": f"{type(exc).__name__}: {exc}"}}
    Path(request["result"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(run_child(Path(sys.argv[1])))
