"""Parquet and JSON ledgers: typed tables whose column names are the headers, row N being the N-th record."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd

from finlib.errors import FileRejectedError


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
