"""What the Overview shows for a set of view filters: the KPI report, monthly trend, aging, delays and rankings.

The rules of a view live here, not in the pages: category filters (service type, location, sales manager) narrow
the ledger for balances and activity alike; the invoice-date period narrows activity only; the balance date comes
from the whole ledger unless the user picks one (``periods.resolve_view_dates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from finlib.analytics.activity import invoiced_in, paid_in
from finlib.analytics.balances import aging_buckets, days_past_due, open_mask
from finlib.analytics.kpis import KpiReport, compute_kpis, monthly_kpis
from finlib.analytics.measures import filter_ledger
from finlib.analytics.periods import ViewDates, days_to_pay, resolve_view_dates

TOP_N = 10


@dataclass(frozen=True)
class ViewFilters:
    """A view's choices; ``None`` or an empty tuple means "all" (or the ledger's own date)."""

    start: date | None = None
    end: date | None = None
    as_of: date | None = None
    service_types: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    sales_manager_keys: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when a category filter narrows the ledger."""
        return bool(self.service_types or self.locations or self.sales_manager_keys)


@dataclass(frozen=True)
class Overview:
    """Everything the Overview draws, for one ledger and one set of filters."""

    report: KpiReport
    monthly: pd.DataFrame  # kpis.monthly_kpis over the period's months
    aging: pd.DataFrame  # bucket, invoice_count, amount at the balance date
    delays: pd.DataFrame  # invoices paid in the period, with delay_days
    top_invoiced: pd.DataFrame  # customer, customer_key, alias, value: invoiced in the period
    most_overdue: pd.DataFrame  # customer, customer_key, alias, value: overdue at the balance date
    invoice_count: int  # invoices dated in the period


def narrow(ledger: pd.DataFrame, filters: ViewFilters) -> pd.DataFrame:
    """The ledger under the category filters (never the period: balances must not depend on it)."""
    if not filters.active:
        return ledger
    return filter_ledger(
        ledger,
        service_types=filters.service_types or None,
        locations=filters.locations or None,
        managers=filters.sales_manager_keys or None,
    )


def view_dates(whole: pd.DataFrame, filters: ViewFilters) -> ViewDates | None:
    """The balance date, period and comparison of a view of ``whole``; None for an empty ledger."""
    return resolve_view_dates(whole, filters.start, filters.end, filters.as_of)


def _ranking(frame: pd.DataFrame, values: pd.Series, top_n: int) -> pd.DataFrame:
    totals = values.groupby(frame["customer_key"]).sum()
    totals = totals[totals > 0]
    first = frame.drop_duplicates("customer_key").set_index("customer_key")
    ranked = pd.DataFrame({"customer_key": totals.index, "value": totals.to_numpy(dtype="float64")})
    ranked["customer"] = ranked["customer_key"].map(first["customer_name"]).astype("str")
    # The alias names a customer wherever a key would reach the browser (a key is the normalised real name).
    aliases = first["customer_alias"] if "customer_alias" in first.columns else pd.Series(dtype="object")
    ranked["alias"] = ranked["customer_key"].map(aliases).fillna(ranked["customer"]).astype("str")
    ranked = ranked.sort_values("customer", kind="stable").sort_values("value", ascending=False, kind="stable")
    return ranked.head(top_n).reset_index(drop=True)[["customer", "customer_key", "alias", "value"]]


def compute_overview(whole: pd.DataFrame, filters: ViewFilters, top_n: int = TOP_N) -> Overview | None:
    """The Overview of ``whole`` under ``filters``; None when the ledger is empty."""
    dates = view_dates(whole, filters)
    if dates is None:
        return None
    ledger = narrow(whole, filters)
    report = compute_kpis(ledger, dates)
    # Masks over the columns each part reads only: a mask over the whole frame copies every text column.
    names = [c for c in ("customer_key", "customer_name", "customer_alias") if c in ledger.columns]
    issued = invoiced_in(ledger, dates.period, [*names, "amount"])
    paid = paid_in(ledger, dates.period, ["invoice_date", "due_date", "payment_date", "amount"])
    delays = paid.assign(delay_days=days_to_pay(paid)).reset_index(drop=True)
    open_rows = ledger[[*names, "due_date", "amount"]][open_mask(ledger, dates.as_of)]
    overdue_rows = open_rows[days_past_due(open_rows, dates.as_of) > 0]
    return Overview(
        report=report,
        monthly=monthly_kpis(ledger, dates.period),
        aging=aging_buckets(ledger, dates.as_of),
        delays=delays,
        top_invoiced=_ranking(issued, issued["amount"], top_n),
        most_overdue=_ranking(overdue_rows, overdue_rows["amount"], top_n),
        invoice_count=len(issued),
    )
