"""Presentation mode: a copy of a ledger in which every customer and person name is replaced by its alias.

Used by the dashboard when a screen is shared: names are swapped in the ledger itself, before any KPI, chart
or table is computed, so nothing downstream can show a real name. Free-text columns (service type, location,
pay terms, invoice and order numbers) are scanned with the chat's name scanner, because people type customer
names into them; a name the scanner finds here is one the chat's send guard would also refuse.
"""

from __future__ import annotations

import pandas as pd

from finlib.privacy.aliasing import AliasBook
from finlib.privacy.scanner import NameScanner, alias_text, folded_key

FREE_TEXT_COLUMNS = ("service_type", "location", "pay_terms", "invoice_number", "sales_order_number")
# The ledger's extra category columns (billing channel, region, ...) are free text too. The prefix is
# finlib.ingest.ledger.EXTRA_PREFIX; privacy sits beside ingest, not above it, so it is restated here.
EXTRA_PREFIX = "extra:"
NO_ALIAS = "(no alias)"
_STANDALONE_NUMBER = r"\b\d+\b"


def _name_tokens(scanner: NameScanner) -> frozenset[str]:
    """Every folded token any name variant contains, and each variant's joined form ("alnoor")."""
    tokens: set[str] = set()
    for words, *_ in scanner.variants():
        parts = words.split()
        tokens.update(parts)
        tokens.add(folded_key(parts))
    return frozenset(tokens)


def _alias_column(values: pd.Series, scanner: NameScanner, vocabulary: frozenset[str]) -> pd.Series:
    distinct = pd.Series(values.dropna().unique(), dtype="str")
    if distinct.empty:
        return values
    # Invoice numbers are nearly all distinct: reduce each value to its words (standalone numbers dropped,
    # vectorised), look at each distinct word pattern once, and scan only the values whose words could be a name.
    skeletons = distinct.str.replace(_STANDALONE_NUMBER, " ", regex=True)
    suspicious = [
        skeleton
        for skeleton in skeletons.unique()
        if any(token in vocabulary for _, _, token in scanner.tokens(str(skeleton)))
    ]
    candidates = distinct[skeletons.isin(suspicious)]
    replaced = {value: alias_text(value, scanner) for value in candidates}
    replaced = {value: text for value, text in replaced.items() if text != value}
    if not replaced:
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):  # an alias is a new category: go through plain text
        values = values.astype("object")
    return values.where(~values.isin(list(replaced)), values.map(replaced))


def present_ledger(ledger: pd.DataFrame, aliases: AliasBook) -> pd.DataFrame:
    """A copy of the ledger whose name columns hold aliases and whose free text holds no real name.

    ``ledger`` carries ``customer_alias`` and ``sales_manager_alias`` (as ``projects.load_project`` returns it).
    """
    presented = ledger.copy()
    presented["customer_name"] = ledger["customer_alias"].where(ledger["customer_alias"].notna(), NO_ALIAS)
    has_manager = ledger["sales_manager"].notna()
    presented["sales_manager"] = ledger["sales_manager_alias"].where(has_manager, None)
    presented.loc[has_manager & presented["sales_manager"].isna(), "sales_manager"] = NO_ALIAS
    if len(aliases):
        scanner = NameScanner.from_book(aliases)
        vocabulary = _name_tokens(scanner)
        extra = [column for column in ledger.columns if str(column).startswith(EXTRA_PREFIX)]
        for column in (*FREE_TEXT_COLUMNS, *extra):
            presented[column] = _alias_column(ledger[column], scanner, vocabulary)
    return presented
