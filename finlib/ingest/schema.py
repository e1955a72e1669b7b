"""Canonical ledger columns, header normalisation and mapping detection with type checks (names in ``synonyms``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from finlib.errors import MissingColumnsError, ParseError
from finlib.ingest.synonyms import FALLBACK_SYNONYMS, KEYWORDS, LINE_AMOUNT_HEADERS, SYNONYMS

CANONICAL_COLUMNS: tuple[str, ...] = (
    "customer_name",
    "invoice_date",
    "invoice_number",
    "sales_order_number",
    "pay_terms",
    "due_date",
    "net_amount",
    "vat_amount",
    "total_amount",
    "payment_date",
    "sales_manager",
    "service_type",
    "location",
)
DATE_COLUMNS = frozenset({"invoice_date", "due_date", "payment_date"})
AMOUNT_COLUMNS = frozenset({"net_amount", "vat_amount", "total_amount"})
TEXT_COLUMNS = frozenset(CANONICAL_COLUMNS) - DATE_COLUMNS - AMOUNT_COLUMNS
AMOUNT_SOURCES = ("total_amount", "net_amount")
# In an explicit mapping, a column mapped to this is not read at all (the user said "ignore it").
IGNORED = ""
REQUIRED_LABELS = {"customer_name": "customer name", "invoice_date": "invoice date", "amount": "amount"}
# A candidate column must parse for at least this share of its non-empty sample values: half for a known
# synonym (bad rows are rejected later, with examples), most for a header that only contains a keyword.
TYPE_CHECK_MIN_SHARE = 0.5
KEYWORD_MIN_SHARE = 0.8
TYPE_CHECK_SAMPLE = 500

_PARENTHESISED = re.compile(r"\([^)]*\)")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_header(header: object) -> str:
    """Comparable form of a header: case, accents, spacing, punctuation, '(...)' notes ignored; '#', 'Nº' read 'no'."""
    text = str(header if header is not None else "").casefold()
    text = text.replace("#", " no ").replace("nº", " no ").replace("n°", " no ")
    if not text.isascii():
        # Fälligkeit, échéance, razão: a European ERP export's headers match their unaccented synonyms.
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _PARENTHESISED.sub(" ", text)
    return _NON_ALNUM.sub("", text)


_LOOKUP: dict[str, tuple[str, int]] = {}
for _canonical, _names in SYNONYMS.items():
    for _rank, _name in enumerate(_names):
        _LOOKUP.setdefault(normalise_header(_name), (_canonical, _rank))
_KEYWORD_RANK = 1000


def candidates_for(header: object) -> list[tuple[str, int]]:
    """Canonical columns a header may stand for, with a rank (lower is a better match)."""
    key = normalise_header(header)
    if not key:
        return []
    found: list[tuple[str, int]] = []
    if key in _LOOKUP:
        found.append(_LOOKUP[key])
    for canonical, words in KEYWORDS.items():
        if any(word in key for word in words) and all(c != canonical for c, _ in found):
            found.append((canonical, _KEYWORD_RANK))
    return found


def score_header(cells: Iterable[object], mapping: Mapping[str, str] | None = None) -> int:
    """How many cells of a candidate header row name a known column (exact synonyms or explicit mapping)."""
    explicit = {normalise_header(k) for k in (mapping or {})}
    score = 0
    for cell in cells:
        key = normalise_header(cell)
        if key and (key in _LOOKUP or key in explicit):
            score += 1
    return score


@dataclass(frozen=True)
class ColumnMapping:
    """Result of mapping detection: source header → canonical, and what was left out and why."""

    columns: dict[str, str]
    unmapped: list[str]
    warnings: list[str] = field(default_factory=list)
    fallbacks: dict[str, str] = field(default_factory=dict)  # canonical → source filling its blank cells
    # canonical → (header, example value) of a column named like it whose values failed the type check
    unreadable: dict[str, tuple[str, str]] = field(default_factory=dict)

    def source_for(self, canonical: str) -> str | None:
        """The source header mapped to a canonical column, if any."""
        for source, target in self.columns.items():
            if target == canonical:
                return source
        return None


def _passes_type_check(canonical: str, sample: pd.Series, min_share: float) -> bool:
    from finlib.ingest import values

    present = sample[sample.notna()]
    if present.dtype == object or pd.api.types.is_string_dtype(present.dtype):
        text = present.astype(str).str.strip()
        # Blank cells and repeated header cells say nothing about the column's type.
        present = present[(text != "") & (text.map(normalise_header) != normalise_header(sample.name))]
        if canonical in DATE_COLUMNS:
            # An ERP's "no date" (9999-12-31) says nothing either: a payment column may hold only those.
            present = present[~values.no_date_mask(present.astype(str).str.strip())]
    if present.empty:
        return True
    present = present.iloc[:TYPE_CHECK_SAMPLE]
    if canonical in DATE_COLUMNS:
        if _holds_amounts(present, strict=min_share >= KEYWORD_MIN_SHARE):
            return False
        parsed = values.parse_dates(present).values
    elif canonical in AMOUNT_COLUMNS:
        # A number out of range (1e308) is still a number: the column is an amount column, that row is rejected.
        numbers = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
        parsed = values.parse_amounts(present).where(numbers.isna(), numbers).values
    else:
        return True
    return float(pd.notna(parsed).mean()) >= min_share


def _holds_amounts(present: pd.Series, *, strict: bool) -> bool:
    """Whether a candidate date column holds amounts: numbers with cents, or (``strict``) plain numbers only.

    Excel serials are whole numbers; a column with decimals is never dates, and a column named only *like* a
    date ("Total Due") whose cells are all plain numbers is an amount column, even where they fit the serial range.
    """
    if pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(present.dtype):
        numbers = present.astype("float64")
    else:
        text = present.astype(str).str.strip()
        numbers = pd.to_numeric(text.where(text.str.fullmatch(r"[+-]?\d+(?:\.\d+)?")), errors="coerce")
    if numbers.isna().any():
        return False
    return bool((numbers != numbers.round()).any()) or strict


def detect_mapping(
    headers: list[str], sample: pd.DataFrame | None = None, explicit: Mapping[str, str] | None = None
) -> ColumnMapping:
    """Map source headers to canonical columns: explicit entries first, then synonyms that pass the type check.

    An explicit entry mapped to ``IGNORED`` ("") keeps that column out of detection altogether.
    """
    columns: dict[str, str] = {}
    warnings: list[str] = []
    claimed: dict[str, str] = {}
    failed: dict[str, tuple[str, str]] = {}
    ignored = {source for source, canonical in (explicit or {}).items() if canonical == IGNORED}
    for source, canonical in (explicit or {}).items():
        if canonical == IGNORED:
            continue
        if canonical not in CANONICAL_COLUMNS:
            raise ParseError(
                f"The column mapping names {canonical!r}, which is not a ledger column. "
                f"Use one of: {', '.join(CANONICAL_COLUMNS)}."
            )
        if source not in headers:
            raise ParseError(
                f"The column mapping names the column {source!r}, which the file does not have. "
                f"Columns found: {', '.join(repr(h) for h in headers)}. Update the mapping for this project."
            )
        if canonical in claimed:
            raise ParseError(
                f"The column mapping reads both {claimed[canonical]!r} and {source!r} as {canonical}. "
                "Map only one of them to it and leave the other unmapped."
            )
        claimed[canonical] = source
        columns[source] = canonical
    taken = set(columns.values())
    offers = sorted(
        (
            (rank, position, header, canonical)
            for position, header in enumerate(headers)
            if header not in columns and header not in ignored
            for canonical, rank in candidates_for(header)
        ),
    )
    for rank, _position, header, canonical in offers:
        if canonical in taken or header in columns:
            continue
        share = KEYWORD_MIN_SHARE if rank >= _KEYWORD_RANK else TYPE_CHECK_MIN_SHARE
        if sample is not None and header in sample.columns and not _passes_type_check(canonical, sample[header], share):
            kind = "dates" if canonical in DATE_COLUMNS else "numbers"
            warnings.append(f"Column {header!r} looks like {canonical} by name but its values are not {kind}; ignored.")
            if canonical not in failed:
                failed[canonical] = (header, _first_value(sample[header]))
            continue
        columns[header] = canonical
        taken.add(canonical)
    fallbacks = _fallbacks([h for h in headers if h not in ignored], columns)
    unmapped = [h for h in headers if h not in columns and h not in fallbacks.values()]
    _prefer_line_amounts(columns, explicit or {}, warnings)
    unreadable = {c: found for c, found in failed.items() if c not in columns.values()}
    return ColumnMapping(columns, unmapped, warnings, fallbacks, unreadable)


def _prefer_line_amounts(columns: dict[str, str], explicit: Mapping[str, str], warnings: list[str]) -> None:
    """Drop an invoice-level total when line amounts exist (Xero repeats each invoice's Total on every line)."""
    line = [h for h, c in columns.items() if c == "net_amount" and normalise_header(h) in LINE_AMOUNT_HEADERS]
    total = [h for h, c in columns.items() if c == "total_amount" and h not in explicit]
    if line and total:
        del columns[total[0]]
        warnings.append(
            f"Column {total[0]!r} repeats the invoice total on every line; the line amounts ({line[0]!r}, plus tax) "
            "are used instead."
        )


def _first_value(column: pd.Series) -> str:
    text = column.dropna().astype(str).str.strip()
    text = text[text != ""]
    return str(text.iloc[0])[:40] if len(text) else ""


def _fallbacks(headers: list[str], columns: Mapping[str, str]) -> dict[str, str]:
    """Unmapped fallback columns (e.g. Entity Legal Name) for canonical columns mapped from another header."""
    found: dict[str, str] = {}
    for canonical, names in FALLBACK_SYNONYMS.items():
        if canonical not in columns.values():
            continue
        wanted = [normalise_header(n) for n in names]
        spare = [h for h in headers if h not in columns and normalise_header(h) in wanted]
        if spare:
            found[canonical] = min(spare, key=lambda h: wanted.index(normalise_header(h)))
    return found


def missing_required(mapped: Iterable[str]) -> list[str]:
    """Labels of the required columns a mapping lacks (customer name, invoice date, an amount)."""
    present = set(mapped)
    missing = [REQUIRED_LABELS[c] for c in ("customer_name", "invoice_date") if c not in present]
    if not present.intersection(AMOUNT_SOURCES):
        missing.append(REQUIRED_LABELS["amount"])
    return missing


def mapping_problem(chosen: Mapping[str, str], labels: Mapping[str, str]) -> str | None:
    """Why a user's mapping (source column → canonical) cannot be saved, or None: a field twice, a required one missing.

    ``labels`` names the canonical columns as the user sees them.
    """
    counts: dict[str, int] = {}
    for canonical in chosen.values():
        counts[canonical] = counts.get(canonical, 0) + 1
    twice = [labels.get(c, c) for c, count in counts.items() if count > 1]
    if twice:
        return f"Each field can come from one column only: {', '.join(twice)} is chosen twice."
    missing = missing_required(chosen.values())
    if missing:
        return f"The mapping needs a column for {', '.join(missing)}."
    return None


def require_columns(mapping: ColumnMapping, headers: list[str]) -> None:
    """Raise MissingColumnsError when a required column is missing from the mapping."""
    missing = missing_required(mapping.columns.values())
    if missing:
        reasons: dict[str, str] = {}
        for canonical, label in REQUIRED_LABELS.items():
            sources = AMOUNT_SOURCES if canonical == "amount" else (canonical,)
            failed = next((mapping.unreadable[c] for c in sources if c in mapping.unreadable), None)
            if label in missing and failed is not None:
                kind = "a number" if canonical == "amount" else "a date"
                reasons[label] = (
                    f"The column {failed[0]!r} looks like the {label} column, but too few of its values read as "
                    f"{kind} (e.g. {failed[1]!r})"
                )
        raise MissingColumnsError(found=headers, missing=missing, unreadable=reasons)
