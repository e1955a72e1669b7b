"""Files → raw grids of cells: format detection, the Excel readers (visible sheets first), header rows.

Delimited text is read by ``finlib.ingest.delimited``, Parquet and JSON by ``finlib.ingest.structured``.
"""

from __future__ import annotations

import codecs
import html
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from finlib.errors import FileRejectedError, ParseError
from finlib.ingest.limits import ZIP_MAGIC as XLSX_MAGIC

XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PARQUET_MAGIC = b"PAR1"
EXCEL_EXTENSIONS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls"}
HEADER_SEARCH_ROWS = 30
MIN_HEADER_SCORE = 2
SNIFF_BYTES = 64 * 1024
# Sheets tried for a ledger (visible ones first): a workbook of 2,000 sheets must not take minutes.
MAX_SHEETS = 50
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"[^>]*>(.*?)</(?:\w+:)?row>", re.S)
_VALUE_TAG = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>[^<]")
# A formula cell whose result was never saved: <c r="F2"><f>D2+E2</f><v /></c> (a workbook a program wrote and
# no spreadsheet application recalculated). Readers see an empty cell.
_UNSAVED_FORMULA = re.compile(
    rb"<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_SHEET_NAME = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"")


@dataclass
class Grid:
    """A sheet or text file as positional cells, with the 1-based file row of each grid row."""

    cells: pd.DataFrame
    row_numbers: np.ndarray
    sheet: str | None = None
    warnings: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_total: int = 0  # rows refused by the reader; ``rejected`` lists the first of them


def detect_format(path: Path, filename: str | None = None) -> str:
    """'xlsx', 'xls', 'parquet', 'json' or 'csv': magic bytes first, then the extension of the name, else text."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(XLS_MAGIC):
        return "xls"
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.removeprefix(codecs.BOM_UTF8).lstrip()[:1] in (b"[", b"{"):
        return "json"
    suffix = Path(filename or path.name).suffix.casefold()
    if suffix in EXCEL_EXTENSIONS:
        raise FileRejectedError(
            f"{filename or path.name} is named like an Excel file but its content is not one. "
            "Export it again from Excel, or save it as CSV."
        )
    return "csv"


def find_header_row(rows: pd.DataFrame, score: Callable[[list[object]], int]) -> int:
    """Index of the header among the first rows: the best-scoring row, else the fullest one."""
    preview = rows.iloc[:HEADER_SEARCH_ROWS]
    best_index, best_score = -1, 0
    for index, cells in enumerate(preview.itertuples(index=False)):
        value = score(list(cells))
        if value > best_score:
            best_index, best_score = index, value
    if best_score >= MIN_HEADER_SCORE:
        return best_index
    filled = preview.notna().sum(axis=1).to_numpy()
    return int(np.argmax(filled)) if len(filled) else 0


def _sheet_members(archive: zipfile.ZipFile) -> list[str]:
    """The zip member of each xlsx sheet, in workbook order ([] if the workbook's parts cannot be read)."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except (KeyError, OSError, zipfile.BadZipFile):
        return []
    ids = re.findall(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook)
    targets = dict(re.findall(rb"<Relationship\b[^>]*?Id=\"([^\"]+)\"[^>]*?Target=\"([^\"]+)\"", rels))
    targets.update(
        (k, v) for v, k in re.findall(rb"<Relationship\b[^>]*?Target=\"([^\"]+)\"[^>]*?Id=\"([^\"]+)\"", rels)
    )
    members = []
    for sheet_id in ids:
        target = targets.get(sheet_id, b"").decode(errors="replace").lstrip("/")
        members.append(target if target.startswith("xl/") else "xl/" + target)
    return members


def has_unsaved_formulas(path: Path, sheet: str | None) -> bool:
    """Whether an xlsx sheet holds formula cells without a saved result (read in 1 MB chunks; False if unknown)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                html.unescape(n.decode("utf-8", "replace"))
                for n in _SHEET_NAME.findall(archive.read("xl/workbook.xml"))
            ]
            members = _sheet_members(archive)
            if sheet not in names or names.index(sheet) >= len(members):
                return False
            with archive.open(members[names.index(sheet)]) as stream:
                tail = b""
                while chunk := stream.read(1024 * 1024):
                    text = tail + chunk
                    if _UNSAVED_FORMULA.search(text):
                        return True
                    tail = text[-SNIFF_BYTES:]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        return False
    return False


def _first_sheet_row(archive: zipfile.ZipFile, member: str) -> int:
    """1-based row of the first non-empty cell of an xlsx sheet, read from the start of its XML (1 if unknown)."""
    try:
        with archive.open(member) as stream:
            text = b""
            while len(text) < 8 * SNIFF_BYTES:
                chunk = stream.read(SNIFF_BYTES)
                if not chunk:
                    break
                text += chunk
                for match in _ROW_TAG.finditer(text):
                    if _VALUE_TAG.search(match.group(2)):
                        return int(match.group(1))
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        pass
    return 1


def _grid_from_rows(rows: Sequence[Sequence[object]], first_row: int, sheet: str | None) -> Grid:
    frame = pd.DataFrame(rows, dtype=object)
    return Grid(cells=frame, row_numbers=np.arange(first_row, first_row + len(frame), dtype="int64"), sheet=sheet)


def unreadable_workbook(display_name: str) -> FileRejectedError:
    """The one-line error for a file that looks like a workbook but no reader can open (the cause is chained)."""
    return FileRejectedError(
        f"{display_name} is not a readable Excel workbook; open it in Excel and save it again, or export it as CSV."
    )


def iter_excel_grids(path: Path, fmt: str, display_name: str | None = None) -> Iterator[Grid]:
    """Each sheet of a workbook as a grid of cells (fastexcel; python-calamine or openpyxl as fallbacks).

    Raises:
        FileRejectedError: no reader can open the workbook (the readers' own multi-line texts are chained, not shown).
    """
    display = display_name or path.name
    try:
        import fastexcel

        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
    except Exception:  # noqa: BLE001 - any reader failure moves on to the fallback
        yield from _fallback_grids(path, fmt, display)
        return
    try:
        archive = zipfile.ZipFile(path) if fmt == "xlsx" else None
    except (zipfile.BadZipFile, OSError):
        archive = None
    members = _sheet_members(archive) if archive is not None else []
    try:
        yield from _fastexcel_grids(reader, names, path, fmt, display, archive, members)
    finally:
        if archive is not None:
            archive.close()


def _fastexcel_grids(
    reader: Any, names: list[str], path: Path, fmt: str, display: str, archive: Any, members: list[str]
) -> Iterator[Grid]:
    for index in sheet_order(path, len(names))[:MAX_SHEETS]:
        name = names[index]
        try:
            sheet = reader.load_sheet(index, header_row=None, dtypes="string", skip_whitespace_tail_rows=True)
            cells = sheet.to_arrow().to_pandas()
        except Exception as exc:  # noqa: BLE001
            raise ParseError(
                f"Sheet {name!r} of {display} could not be read; open the workbook in Excel and save it again, "
                "or export the sheet as CSV."
            ) from exc
        cells.columns = range(cells.shape[1])
        if archive is None:
            first = _calamine_first_row(path, index)
        else:
            first = _first_sheet_row(archive, members[index]) if index < len(members) else 1
        yield Grid(cells=cells, row_numbers=np.arange(first, first + len(cells), dtype="int64"), sheet=name)


def sheet_order(path: Path, count: int) -> list[int]:
    """Sheet indexes to read, visible sheets first: a hidden sheet (an old copy, a lookup) never wins over them."""
    hidden: set[int] = set()
    try:
        from python_calamine import CalamineWorkbook

        metadata = CalamineWorkbook.from_path(str(path)).sheets_metadata
        hidden = {
            i for i, sheet in enumerate(metadata) if str(sheet.visible).rsplit(".", 1)[-1].casefold() != "visible"
        }
    except Exception:  # noqa: BLE001 - without metadata the workbook's own order is kept
        pass
    return [i for i in range(count) if i not in hidden] + [i for i in range(count) if i in hidden]


def _calamine_first_row(path: Path, index: int) -> int:
    from python_calamine import CalamineWorkbook

    start = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(index).start
    return int(start[0]) + 1 if start else 1


def _fallback_grids(path: Path, fmt: str, display_name: str) -> Iterator[Grid]:
    try:
        if fmt == "xlsx":
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True, data_only=True)
            for sheet in workbook.worksheets:
                yield _grid_from_rows([list(r) for r in sheet.iter_rows(values_only=True)], 1, sheet.title)
            workbook.close()
            return
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            yield _grid_from_rows(book.get_sheet_by_name(name).to_python(skip_empty_area=False), 1, name)
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise unreadable_workbook(display_name) from exc
