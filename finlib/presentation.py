"""Presentation mode: a copy of a ledger in which every customer and person name is replaced by its alias.

Used by the dashboard when a screen is shared: names are swapped in the ledger itself, before any KPI, chart
or table is computed, so nothing downstream can show a real name. Free-text columns (service type, location,
pay terms) are scanned too, because people type customer names into them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pandas as pd

from finlib.names import normalise_name

FREE_TEXT_COLUMNS = ("service_type", "location", "pay_terms")


def compile_name_pattern(real_names: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive, whole-word pattern over the names, longest first (so "ABC Ltd" beats "ABC")."""
    words = sorted({name.strip() for name in real_names if name and name.strip()}, key=len, reverse=True)
    if not words:
        return None
    # Any run of whitespace in a name matches any run in the text, as names are compared normalised.
    body = "|".join(r"\s+".join(re.escape(part) for part in word.split()) for word in words)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def replace_names(text: str, pattern: re.Pattern[str] | None, alias_of: Callable[[str], str | None]) -> str:
    """``text`` with every name the pattern finds replaced by its alias (names without one are left as they are)."""
    if pattern is None or not text:
        return text
    return pattern.sub(lambda match: alias_of(normalise_name(match.group(0))) or match.group(0), text)


def present_ledger(ledger: pd.DataFrame, aliases_by_key: dict[str, str]) -> pd.DataFrame:
    """A copy of the ledger whose name columns hold aliases and whose free text holds no real name.

    Args:
        ledger: a ledger frame with ``customer_alias`` and ``sales_manager_alias`` (``projects.load_project``).
        aliases_by_key: normalised real name → alias, for customers and people (the alias table).
    """
    presented = ledger.copy()
    presented["customer_name"] = ledger["customer_alias"].where(ledger["customer_alias"].notna(), "(no alias)")
    has_manager = ledger["sales_manager"].notna()
    presented["sales_manager"] = ledger["sales_manager_alias"].where(has_manager, None)
    real_names = set(ledger["customer_name"].dropna().unique()) | set(ledger["sales_manager"].dropna().unique())
    pattern = compile_name_pattern(real_names)
    for column in FREE_TEXT_COLUMNS:
        values = ledger[column]
        distinct = values.dropna().unique()
        if pattern is None or len(distinct) == 0:
            continue
        replaced = {value: replace_names(str(value), pattern, aliases_by_key.get) for value in distinct}
        presented[column] = values.map(replaced, na_action="ignore")
    return presented
