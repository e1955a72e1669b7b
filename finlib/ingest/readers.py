"""Files → raw grids of cells: format detection, xlsx/xls/csv readers, encoding and delimiter sniffing, header rows."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from finlib.errors import FileRejectedError, ParseError

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PARQUET_MAGIC = b"PAR1"
EXCEL_EXTENSIONS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls"}
HEADER_SEARCH_ROWS = 30
MIN_HEADER_SCORE = 2
SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 2_000
MAX_LINES_IN_CELL = 50
MAX_QUOTE_REPAIRS = 20
# Sheets tried for a ledger (visible ones first): a workbook of 2,000 sheets must not take minutes.
MAX_SHEETS = 50
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"[^>]*>(.*?)</(?:\w+:)?row>", re.S)
_VALUE_TAG = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>[^<]")


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


def read_frame(path: Path, fmt: str, display_name: str) -> pd.DataFrame:
    """A Parquet file, or a JSON table (a list of records, or columns of values), as a frame with its own headers.

    Raises:
        FileRejectedError: the file cannot be read, or its JSON is not a table.
    """
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise FileRejectedError(
                f"{display_name} is not a readable Parquet file; export it again (or as CSV) and retry."
            ) from exc
    return _json_frame(path.read_bytes(), display_name)


def _json_frame(raw: bytes, display_name: str) -> pd.DataFrame:
    import json

    not_table = FileRejectedError(
        f'{display_name} is JSON but not a table: a ledger is a list of records ([{{"Customer": ..., ...}}, ...]) '
        'or columns of values ({"Customer": [...], ...}). Export the ledger in one of those shapes, or as CSV.'
    )
    try:
        # NUL characters (\u0000) are dropped before decoding: no database stores them in text.
        document = json.loads(raw.removeprefix(codecs.BOM_UTF8).replace(b"\\u0000", b""))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise FileRejectedError(
            f"{display_name} is not valid JSON{where}. Export the ledger again, or as CSV."
        ) from exc
    if isinstance(document, dict):
        tables = [value for value in document.values() if isinstance(value, list) and value and _records(value)]
        if len(document) == 1 and tables:
            document = tables[0]  # {"invoices": [...]}: the one list of records inside
    try:
        if isinstance(document, list) and _records(document):
            frame = pd.DataFrame.from_records(document)
        elif isinstance(document, dict) and document and all(isinstance(v, list | dict) for v in document.values()):
            frame = pd.DataFrame(document)
        else:
            raise not_table
    except (ValueError, TypeError) as exc:
        raise not_table from exc
    for column in [c for c in frame.columns if frame[c].dtype == "object"]:
        nested = frame[column].map(lambda value: isinstance(value, dict | list))
        if nested.any():
            frame[column] = frame[column].where(~nested, frame[column].map(json.dumps))
    frame.columns = [str(c) for c in frame.columns]
    return frame.reset_index(drop=True)


def _records(items: list[object]) -> bool:
    return all(isinstance(item, dict) for item in items[:1000])


def unpacked_bytes(path: Path) -> int:
    """What a zip-based file (xlsx) declares it unpacks to, in bytes; 0 for anything else."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0


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


@dataclass
class CsvText:
    """A text ledger as UTF-8 bytes plus what sniffing found."""

    data: bytes
    encoding: str
    delimiter: str
    preview: pd.DataFrame
    line_numbers: list[int]
    widths: list[int]
    warnings: list[str] = field(default_factory=list)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode error handler: a byte that is not UTF-8 is read as Windows-1252 (one field at a time, in effect)."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("finlib-cp1252", _cp1252_fallback)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when every other byte of the start is NUL (text saved as UTF-16 without a BOM)."""
    sample = head[: 4096 - 4096 % 2]
    if len(sample) < 8:
        return None
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if odd >= 0.9 * len(sample) // 2 and even == 0:
        return "utf-16-le"
    if even >= 0.9 * len(sample) // 2 and odd == 0:
        return "utf-16-be"
    return None


def _decode(raw: bytes) -> tuple[bytes, str, list[str]]:
    """UTF-8 bytes, the detected encoding and warnings: BOMs, UTF-16 without BOM, UTF-8, Windows-1252, or a mix.

    A file that mixes UTF-8 and Windows-1252 (two exports pasted together) is decoded per character sequence,
    so neither part turns into mojibake, and the mix is reported.
    """
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :], "utf-8-sig", []
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace").encode("utf-8"), "utf-16", []
    if utf16 := _utf16_without_bom(raw):
        return raw.decode(utf16, errors="replace").encode("utf-8"), utf16, []
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # In slices, discarding the text: a whole-file decode would hold a second copy of a large file.
        for start in range(0, len(raw), 4 * SNIFF_BYTES):
            decoder.decode(raw[start : start + 4 * SNIFF_BYTES], final=start + 4 * SNIFF_BYTES >= len(raw))
        return raw, "utf-8", []
    except UnicodeDecodeError:
        first_bad = _first_invalid_utf8(raw)
    if _UTF8_MULTIBYTE.search(raw) is None:
        return raw.decode("cp1252", errors="replace").encode("utf-8"), "cp1252", []
    line = raw.count(b"\n", 0, first_bad) + 1
    return (
        raw.decode("utf-8", errors="finlib-cp1252").encode("utf-8"),
        "utf-8+cp1252",
        [
            f"The file mixes UTF-8 and Windows-1252 text (from line {line}); each part was read in its own encoding. "
            "Check accented names, and export the ledger again as UTF-8 if any look wrong."
        ],
    )


def _first_invalid_utf8(raw: bytes) -> int:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return len(raw)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _looks_binary(head: bytes) -> bool:
    """More than 1% (and 8) control bytes (NUL and the like) in the start, and not UTF-16: not a text file."""
    if not head or _utf16_without_bom(head) is not None or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > max(len(head) // 100, 8)


def _strip_nul(data: bytes) -> tuple[bytes, list[str]]:
    count = data.count(b"\x00")
    if not count:
        return data, []
    line = data.count(b"\n", 0, data.find(b"\x00")) + 1
    return data.replace(b"\x00", b""), [
        f"Removed {count} NUL character{'s' if count > 1 else ''} (invisible binary zeros, first on line {line})."
    ]


def _sniff_delimiter(lines: list[str]) -> str:
    best, best_key = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in r)]
        if not counts:
            continue
        values, frequency = np.unique(counts, return_counts=True)
        mode = int(values[np.argmax(frequency)])
        key = (int(frequency.max()) if mode > 1 else 0, mode)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def sniff_csv(path: Path, display_name: str | None = None) -> CsvText:
    """Read a text file, detect encoding and delimiter, and parse its first lines for header detection."""
    shown = display_name or path.name
    raw = path.read_bytes()
    if _looks_binary(raw[:SNIFF_BYTES]):
        raise FileRejectedError(
            f"{shown} contains binary data and is not a CSV, Excel, Parquet or JSON ledger. "
            "Export the ledger again as .xlsx or .csv."
        )
    data, encoding, warnings = _decode(raw)
    data, nul_warnings = _strip_nul(data)
    warnings += nul_warnings
    if len(data) > SNIFF_BYTES and data.find(b"\n", 0, SNIFF_BYTES) < 0:
        raise FileRejectedError(
            f"The first line of {shown} is longer than {SNIFF_BYTES // 1024} KB (one line holding the whole file, "
            "or thousands of columns): that is not an invoice ledger with one row per line. "
            "Export the ledger again as CSV or Excel."
        )
    head = data[:SNIFF_BYTES].decode("utf-8", errors="ignore")
    physical = head.splitlines()[:-1] if len(data) > SNIFF_BYTES else head.splitlines()
    delimiter = _sniff_delimiter(physical[:200])
    kept = [(n, line) for n, line in enumerate(physical[:200], start=1) if line.strip()]
    rows = list(csv.reader([line for _, line in kept], delimiter=delimiter))
    width = max((len(r) for r in rows), default=0)
    if width > MAX_COLUMNS:
        raise FileRejectedError(
            f"{shown} has {width:,} columns; an invoice ledger has at most a few dozen. "
            "Check the delimiter and export the ledger again as CSV or Excel."
        )
    padded = [r + [""] * (width - len(r)) for r in rows]
    preview = pd.DataFrame(padded, dtype=object).replace({"": None})
    return CsvText(data, encoding, delimiter, preview, [n for n, _ in kept], [len(r) for r in rows], warnings)


def _line_offset(data: bytes, line_number: int) -> int:
    """Byte offset where a 1-based physical line starts."""
    offset = 0
    for _ in range(line_number - 1):
        found = data.find(b"\n", offset)
        if found < 0:
            return len(data)
        offset = found + 1
    return offset


def read_csv_body(
    text: CsvText, header_line: int, width: int, text_columns: set[int], dictionary_columns: set[int] | None = None
) -> Grid:
    """Data lines after the header as a grid; pyarrow's reader, the pandas C engine as a fallback.

    ``dictionary_columns`` (a subset of ``text_columns``) come back as categoricals: the reader encodes their
    few distinct values once instead of building a string per row.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    start = _line_offset(text.data, header_line + 1)
    names = [f"c{i}" for i in range(width)]
    dictionary = dictionary_columns or set()
    invalid: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append(row.text or "")
        return "skip"

    data = text.data
    body = memoryview(data)[start:]
    if not bytes(body[:SNIFF_BYTES]).strip():
        return Grid(cells=pd.DataFrame(columns=range(width), dtype=object), row_numbers=np.array([], dtype="int64"))
    unclosed: list[tuple[int, str]] = []
    column_types = {
        names[i]: pa.dictionary(pa.int32(), pa.string()) if i in dictionary else pa.string()
        for i in text_columns
        if i < width
    }

    def read(newlines_in_values: bool) -> pd.DataFrame:
        invalid.clear()
        return pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(
                delimiter=text.delimiter, invalid_row_handler=on_invalid, newlines_in_values=newlines_in_values
            ),
            convert_options=pacsv.ConvertOptions(column_types=column_types, null_values=[""], strings_can_be_null=True),
        ).to_pandas()

    quoted = data.find(b'"', start) >= 0
    try:
        cells = read(quoted)
        while quoted and len(unclosed) < MAX_QUOTE_REPAIRS:
            culprit = next((row for row in invalid[:1000] if row.count("\n") > MAX_LINES_IN_CELL), None)
            if culprit is None:
                break
            # An unclosed quote reads the rest of the file as one row: blank out that line (its number stays
            # counted), refuse it with its line number, and read again so that every other row still loads.
            position = data.find(culprit.split("\n", 1)[0].encode("utf-8"), start)
            end = data.find(b"\n", position)
            unclosed.append((header_line + 1 + data.count(b"\n", start, position), 'unclosed quote (")'))
            data = data[:position] + data[end:]
            body = memoryview(data)[start:]
            cells = read(quoted)
        if quoted and _swallowed(cells, invalid, text_columns, data.count(b"\n", start)):
            raise FileRejectedError(
                'A quote (") in the file is never closed, so many lines would be read as one cell. '
                "Fix the quotes (or export the ledger again as CSV) and retry."
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        invalid.clear()
        cells = pd.read_csv(
            io.BytesIO(body),
            sep=text.delimiter,
            header=None,
            names=names,
            dtype=str,
            engine="python",
            on_bad_lines=lambda fields: _refuse_line(invalid, text.delimiter.join(fields)),
            skip_blank_lines=True,
            keep_default_na=False,
            na_values=[""],
        )
    cells.columns = range(width)
    rows = _data_line_numbers(data, start, header_line, len(cells), invalid)
    grid = Grid(cells=cells, row_numbers=rows)
    grid.rejected = sorted(unclosed + _locate_invalid(data, start, header_line, invalid))
    grid.rejected_total = len(invalid) + len(unclosed)
    return grid


def _refuse_line(invalid: list[str], line: str) -> None:
    """pandas' bad-line hook: count the line as refused (returning None drops it)."""
    invalid.append(line)


def _swallowed(cells: pd.DataFrame, invalid: list[str], text_columns: set[int], lines: int) -> bool:
    """Whether a cell or refused row holds more line breaks than a quoted multi-line value has (an unclosed quote).

    The cells are looked at only when far fewer rows than lines were read.
    """
    if any(row.count("\n") > MAX_LINES_IN_CELL for row in invalid[:1000]):
        return True
    if len(cells) + len(invalid) >= lines - MAX_LINES_IN_CELL:
        return False
    for position in text_columns:
        if position >= cells.shape[1]:
            continue
        column = cells.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = pd.Series(column.cat.categories)
        counts = column.dropna().astype(str).str.count("\n")
        if len(counts) and int(counts.max()) > MAX_LINES_IN_CELL:
            return True
    return False


def _data_line_numbers(data: bytes, start: int, header_line: int, count: int, invalid: list[str]) -> np.ndarray:
    """File line numbers of the parsed data rows; the slow scan runs only when blank or invalid lines exist."""
    body = memoryview(data)[start:]
    if not invalid:
        # As many lines as rows proves there is no blank line: one count instead of two searches (0.3 s at 1M rows).
        lines = data.count(b"\n", start) + (0 if data.endswith(b"\n") or len(data) <= start else 1)
        if lines == count or (data.find(b"\n\n", start) < 0 and data.find(b"\n\r\n", start) < 0):
            return np.arange(header_line + 1, header_line + 1 + count, dtype="int64")
    buffer = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 10)
    if len(buffer) and buffer[-1] != 10:
        ends = np.append(ends, len(buffer))
    starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else np.array([], dtype="int64")
    lengths = ends - starts
    blank = (lengths == 0) | ((lengths == 1) & (buffer[np.minimum(starts, max(len(buffer) - 1, 0))] == 13))
    keep = ~blank
    bad = {n - header_line - 1 for n, _ in _locate_invalid(data, start, header_line, invalid)}
    if bad:
        keep[list(i for i in bad if i < len(keep))] = False
    numbers = np.flatnonzero(keep) + header_line + 1
    return numbers[:count].astype("int64")


def _locate_invalid(data: bytes, start: int, header_line: int, invalid: list[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    cursor: dict[bytes, int] = {}
    for text in invalid[:1000]:
        needle = text.encode("utf-8")
        position = data.find(needle, cursor.get(needle, start))
        if position < 0:
            continue
        cursor[needle] = position + max(len(needle), 1)
        line = header_line + 1 + data.count(b"\n", start, position)
        found.append((line, "wrong number of fields"))
    return sorted(found)
