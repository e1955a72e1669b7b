"""Presentation mode: a copy of a ledger in which every customer and person name is replaced by its alias.

Used by the dashboard when a screen is shared: names are swapped in the ledger itself, before any KPI, chart
or table is computed, so nothing downstream can show a real name. Free-text columns (service type, location,
pay terms, invoice and order numbers) are scanned with the chat's name scanner, because people type customer
names into them; a name the scanner finds here is one the chat's send guard would also refuse.
"""

from __future__ import annotations

import pandas as pd

from finlib.aliasing import AliasBook
from finlib.privacy import NameScanner, alias_text, as_scanner

FREE_TEXT_COLUMNS = ("service_type", "location", "pay_terms", "invoice_number", "sales_order_number")
NO_ALIAS = "(no alias)"


def _alias_column(values: pd.Series, scanner: NameScanner) -> pd.Series:
    distinct = values.dropna().unique()
    if len(distinct) == 0:
        return values
    replaced = {value: alias_text(str(value), scanner) for value in distinct}
    if all(str(value) == text for value, text in replaced.items()):
        return values
    return values.map(replaced, na_action="ignore")


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
        scanner = as_scanner(aliases)
        for column in FREE_TEXT_COLUMNS:
            presented[column] = _alias_column(ledger[column], scanner)
    return presented
