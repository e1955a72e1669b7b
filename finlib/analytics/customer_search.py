"""Finding customers by name: the matches of typed text, and the few a picker lists when there are too many."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CustomerOffer:
    """What a picker lists for a search, and which customer it shows."""

    keys: tuple[str, ...]  # the listed customers' keys in name order (case-insensitive)
    chosen: str | None  # the current customer when it matches, else the largest match; None when nothing matches
    match_count: int  # every customer the text matches, listed or not


def search_customers(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows whose ``customer`` name contains ``text`` (case-insensitive); every row for empty text."""
    needle = (text or "").strip().casefold()
    if not needle:
        return frame
    return frame[frame["customer"].astype("str").str.casefold().str.contains(needle, regex=False)]


def offer_customers(stats: pd.DataFrame, text: str, *, limit: int, current: str | None = None) -> CustomerOffer:
    """The customers of ``stats`` (``customer``, ``customer_key``, ``total_amount``) matching ``text``: the ``limit``
    with the largest total invoiced, plus ``current`` when it matches (a customer opened elsewhere stays listed)."""
    matches = search_customers(stats, text)
    ranked = matches.sort_values("total_amount", ascending=False, kind="stable", na_position="last")
    is_current = ranked["customer_key"] == current
    listed = ranked[(np.arange(len(ranked)) < limit) | is_current.to_numpy()]
    ordered = listed.sort_values("customer", key=lambda names: names.astype("str").str.casefold(), kind="stable")
    if is_current.any():
        chosen: str | None = current
    else:
        chosen = str(ranked["customer_key"].iloc[0]) if len(ranked) else None
    return CustomerOffer(keys=tuple(ordered["customer_key"]), chosen=chosen, match_count=len(matches))
