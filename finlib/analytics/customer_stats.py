"""Per-customer (and per-manager) statistics and forecasts: the formulas behind ``stats`` and the chat's facts.

The customer computation is one sort and a handful of ``numpy.bincount`` passes over integer group codes: no
Python loop per customer or per row, so a million invoices take a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from finlib.analytics.measures import Portfolio, breakdown, invoice_number_rank, resolve_as_of
from finlib.jsonable import json_scalar

NANOSECONDS_PER_DAY = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min
_ALIAS_COLUMNS = {"customer_key": "customer_alias", "sales_manager_key": "sales_manager_alias"}
TRENDS = ("increasing", "decreasing", "stable")
STATS_COLUMNS = (
    "customer", "customer_key", "alias", "invoice_count", "total_amount", "average_amount", "moving_average",
    "trend", "avg_payment_delay_days", "last_payment_date", "predicted_next_payment_date", "predicted_next_amount",
    "first_invoice_date", "last_invoice_date", "paid_count", "unpaid_count", "outstanding_amount",
    "overdue_amount", "delay_std_days", "on_time_share",
)  # fmt: skip
DATE_COLUMNS = ("last_payment_date", "predicted_next_payment_date", "first_invoice_date", "last_invoice_date")
FIGURE_DECIMALS = 2
TIE_SLICE_PAIRS = 100_000  # pairs of tied invoice numbers compared at a time (memory, see _numbers_ascend)
SHARE_DECIMALS = 4
MANAGER_COLUMNS = (
    "sales_manager", "sales_manager_key", "alias", "invoice_count", "customer_count", "total_invoiced",
    "total_collected", "outstanding", "overdue", "avg_payment_delay_days",
)  # fmt: skip


def compute_customer_stats(
    ledger: pd.DataFrame,
    *,
    window: int = 3,
    trend_threshold: float = 0.05,
    as_of: pd.Timestamp | None = None,
    group_key: str = "customer_key",
    name_column: str = "customer_name",
) -> pd.DataFrame:
    """One row per customer (``STATS_COLUMNS``), sorted by key; formulas as in the README.

    - Invoices are ordered by invoice date, ties by invoice number in natural order ("INV-9" before "INV-10").
    - ``moving_average`` = ``predicted_next_amount`` = mean of the last ``window`` amounts (all of them when
      fewer); ``average_amount`` = mean of all amounts.
    - ``trend`` compares the moving average with the average by a margin of ``trend_threshold * |average|``:
      increasing above ``average + margin``, decreasing below ``average - margin``, else stable. For a positive
      average this is exactly "more than 5% above/below"; taking the absolute value keeps the direction right
      when credit notes make the average negative, and with a zero average any positive moving average is
      increasing and any negative one decreasing.
    - Delays are payment date - invoice date in days over paid invoices (credit notes, negative amounts, are
      not payments: they count in amounts but not in delays or ``last_payment_date``); ``delay_std_days`` is the sample
      standard deviation (null below two paid invoices); ``on_time_share`` = share of paid invoices with a due
      date paid on or before it.
    - ``predicted_next_payment_date`` = ``last_payment_date`` + the average delay rounded to whole days, halves
      away from zero (2.5 days -> 3).
    - ``outstanding_amount`` / ``overdue_amount`` use the open/overdue rules of ``analytics`` at ``as_of``
      (default: latest invoice or payment date). ``alias`` comes from ``customer_alias`` when present.

    Output names are the customer contract's whatever ``group_key`` / ``name_column`` group by.
    """
    has_key = ledger[group_key].notna()
    rows = ledger if has_key.all() else ledger[has_key]
    as_of = resolve_as_of(rows) if as_of is None else pd.Timestamp(as_of)
    if rows.empty or as_of is None:
        return _empty_stats()
    grouped = _Grouped.of(rows, group_key)
    first_rows = grouped.order[grouped.starts]
    stats = pd.DataFrame(
        {
            "customer": rows[name_column].iloc[first_rows].to_numpy(dtype=object),
            "customer_key": np.asarray(grouped.keys, dtype=object),
            "alias": _aliases(rows, group_key, first_rows),
            **_amount_figures(grouped, window, trend_threshold),
            **_payment_figures(grouped),
            **_balance_figures(grouped, pd.Timestamp(as_of).as_unit("ns").value),
        }
    )
    return stats[list(STATS_COLUMNS)].sort_values("customer_key", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class _Grouped:
    """A ledger's rows as arrays sorted by customer, then invoice order; ``starts``/``ends`` bound each customer."""

    keys: pd.Index
    order: np.ndarray  # row positions in the ledger, in sorted order
    code: np.ndarray  # the customer of each sorted row (0 .. len(keys) - 1)
    invoice_ns: np.ndarray
    payment_ns: np.ndarray
    due_ns: np.ndarray
    amount: np.ndarray
    invoice_count: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, rows: pd.DataFrame, group_key: str) -> _Grouped:
        codes, keys = pd.factorize(rows[group_key])
        invoice_ns = _nanoseconds(rows["invoice_date"])
        order = _invoice_order(codes, invoice_ns, rows["invoice_number"])
        # The tie check's Arrow string takes are freed, but Arrow's allocator keeps their pages (~30 MB at a
        # million rows): handed back here, before the figures' arrays are allocated on top of them.
        pa.default_memory_pool().release_unused()
        code = codes[order]
        invoice_count = np.bincount(code, minlength=len(keys))
        ends = np.cumsum(invoice_count)
        return cls(
            keys=keys,
            order=order,
            code=code,
            invoice_ns=invoice_ns[order],
            payment_ns=_nanoseconds(rows["payment_date"])[order],
            due_ns=_nanoseconds(rows["due_date"])[order],
            amount=rows["amount"].to_numpy(dtype="float64")[order],
            invoice_count=invoice_count,
            starts=ends - invoice_count,
            ends=ends,
        )

    def sum(self, mask: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Per customer: how many rows ``mask`` selects, or the sum of ``values`` over them."""
        weights = None if values is None else values[mask]
        return np.bincount(self.code[mask], weights=weights, minlength=len(self.keys)).astype("float64")


def _amount_figures(grouped: _Grouped, window: int, trend_threshold: float) -> dict[str, np.ndarray]:
    """Invoice count, totals, the moving average of the last ``window`` invoices and the trend."""
    count = grouped.invoice_count
    in_window = grouped.ends[grouped.code] - np.arange(len(grouped.code)) <= window
    total_amount = grouped.sum(np.ones(len(grouped.code), dtype=bool), grouped.amount)
    average_amount = total_amount / count
    moving_average = grouped.sum(in_window, grouped.amount) / np.minimum(count, window)
    return {
        "invoice_count": count.astype("int64"),
        "total_amount": total_amount,
        "average_amount": average_amount,
        "moving_average": moving_average,
        "trend": _trend(moving_average, average_amount, trend_threshold),
        "predicted_next_amount": moving_average,
        "first_invoice_date": _datetimes(grouped.invoice_ns[grouped.starts]),
        "last_invoice_date": _datetimes(grouped.invoice_ns[grouped.ends - 1]),
    }


def _payment_figures(grouped: _Grouped) -> dict[str, np.ndarray]:
    """Delays, their spread, the last and the predicted next payment date, the on-time share."""
    g = grouped
    paid = g.payment_ns != _NAT
    # A credit note settled against the account is not a payment by the customer: it has no delay to learn from.
    payment = paid & (g.amount > 0)
    # A prepayment (paid before its invoice date) waited 0 days, as in ``periods.days_to_pay``.
    delay_days = np.maximum(g.payment_ns - g.invoice_ns, 0) / NANOSECONDS_PER_DAY
    paid_count = np.bincount(g.code[paid], minlength=len(g.keys))
    payment_count = np.bincount(g.code[payment], minlength=len(g.keys))
    avg_delay = _divide(g.sum(payment, delay_days), payment_count)
    deviation = np.where(payment, delay_days - avg_delay[g.code], 0.0)
    last_payment_ns = np.full(len(g.keys), _NAT, dtype=np.int64)
    np.maximum.at(last_payment_ns, g.code[payment], g.payment_ns[payment])
    rounded_delay = np.where(payment_count > 0, _round_half_away(np.nan_to_num(avg_delay)), 0).astype(np.int64)
    next_payment_ns = np.where(payment_count > 0, last_payment_ns + rounded_delay * NANOSECONDS_PER_DAY, _NAT)
    has_due = g.due_ns != _NAT
    on_time = g.sum(payment & has_due & (g.payment_ns <= g.due_ns))
    return {
        "avg_payment_delay_days": avg_delay,
        "last_payment_date": _datetimes(last_payment_ns),
        "predicted_next_payment_date": _datetimes(next_payment_ns),
        "paid_count": paid_count.astype("int64"),
        "unpaid_count": (g.invoice_count - paid_count).astype("int64"),
        "delay_std_days": np.sqrt(_divide(g.sum(payment, deviation**2), payment_count - 1)),
        "on_time_share": _divide(on_time, g.sum(payment & has_due)),
    }


def _balance_figures(grouped: _Grouped, as_of_ns: int) -> dict[str, np.ndarray]:
    """Outstanding and overdue amounts at the balance date (the open/overdue rules of ``analytics.balances``)."""
    g = grouped
    paid = g.payment_ns != _NAT
    is_open = (g.invoice_ns <= as_of_ns) & (~paid | (g.payment_ns > as_of_ns))
    is_overdue = is_open & (g.due_ns != _NAT) & (g.due_ns < as_of_ns)
    return {"outstanding_amount": g.sum(is_open, g.amount), "overdue_amount": g.sum(is_overdue, g.amount)}


def _invoice_order(codes: np.ndarray, invoice_ns: np.ndarray, numbers: pd.Series) -> np.ndarray:
    """Row positions by group, invoice date, invoice number (``invoice_number_rank``), then file order."""
    rows = len(codes)
    date_rank, _ = pd.factorize(invoice_ns, sort=True)
    row_bits = rows.bit_length()
    date_bits = int(date_rank.max() + 1).bit_length()
    if int(codes.max() + 1).bit_length() + date_bits + row_bits <= 63:
        # Sorting one packed int64 key (group, date, row) is several times faster than an argsort or lexsort.
        packed = (codes.astype(np.int64) << (date_bits + row_bits)) | (date_rank.astype(np.int64) << row_bits)
        packed |= np.arange(rows, dtype=np.int64)
        packed.sort()
        order: np.ndarray = packed & ((1 << row_bits) - 1)
    else:
        order = np.lexsort((invoice_ns, codes))
    same_as_next = (codes[order][1:] == codes[order][:-1]) & (invoice_ns[order][1:] == invoice_ns[order][:-1])
    if same_as_next.any() and not _numbers_ascend(numbers, order[:-1][same_as_next], order[1:][same_as_next]):
        tied = np.zeros(rows, dtype=bool)
        tied[1:] |= same_as_next
        tied[:-1] |= same_as_next
        subset = order[tied]
        ranks = invoice_number_rank(numbers.iloc[subset])
        order[tied] = subset[np.lexsort((ranks, invoice_ns[subset], codes[subset]))]
    return order


def _numbers_ascend(numbers: pd.Series, before: np.ndarray, after: np.ndarray) -> bool:
    """Whether each invoice number at ``before`` ranks at or below the one at ``after`` (``invoice_number_rank``).

    Exports usually list a day's invoices in number order, so tied rows are most often already in place and
    comparing neighbours saves ranking every tied number (~0.4 s at a million rows). Compared in slices: the
    taken numbers of ~700k tied pairs at once held ~60 MB more at the peak of `register`.
    """
    for start in range(0, len(before), TIE_SLICE_PAIRS):
        stop = start + TIE_SLICE_PAIRS
        if not _slice_ascends(numbers, before[start:stop], after[start:stop]):
            return False
    return True


def _slice_ascends(numbers: pd.Series, before: np.ndarray, after: np.ndarray) -> bool:
    """``_numbers_ascend`` for one slice of the tied pairs."""
    left = numbers.iloc[before].reset_index(drop=True)
    right = numbers.iloc[after].reset_index(drop=True)
    left_missing, right_missing = left.isna().to_numpy(), right.isna().to_numpy()
    if (left_missing & ~right_missing).any():
        return False
    both = ~left_missing & ~right_missing
    left, right = left[both], right[both]
    left_length, right_length = left.str.len().to_numpy(), right.str.len().to_numpy()
    same_length = left_length == right_length
    if (left_length > right_length).any():
        return False
    return bool((left[same_length] <= right[same_length]).all())


def _nanoseconds(dates: pd.Series) -> np.ndarray:
    nanoseconds: np.ndarray = dates.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return nanoseconds


def _datetimes(nanoseconds: np.ndarray) -> np.ndarray:
    return np.asarray(nanoseconds, dtype=np.int64).view("datetime64[ns]")


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise division with NaN where the denominator is not positive."""
    denominator = np.asarray(denominator, dtype="float64")
    result = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=result, where=denominator > 0)
    return result


def _round_half_away(values: np.ndarray) -> np.ndarray:
    rounded: np.ndarray = np.sign(values) * np.floor(np.abs(values) + 0.5)
    return rounded


def _trend(moving_average: np.ndarray, average: np.ndarray, threshold: float) -> np.ndarray:
    margin = threshold * np.abs(average)
    difference = moving_average - average
    return np.select([difference > margin, difference < -margin], TRENDS[:2], default=TRENDS[2])


def _aliases(rows: pd.DataFrame, group_key: str, first_rows: np.ndarray) -> np.ndarray:
    column = _ALIAS_COLUMNS.get(group_key)
    if column is None or column not in rows.columns:
        return np.full(len(first_rows), None, dtype=object)
    values: np.ndarray = rows[column].iloc[first_rows].to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    return values


def _empty_stats() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype="float64") for column in STATS_COLUMNS})
    types: dict[str, Any] = {column: "datetime64[ns]" for column in DATE_COLUMNS}
    types.update({c: object for c in ("customer", "customer_key", "alias", "trend")})
    types.update({c: "int64" for c in ("invoice_count", "paid_count", "unpaid_count")})
    return frame.astype(types)


def compute_manager_stats(ledger: pd.DataFrame, *, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per sales manager (``MANAGER_COLUMNS``), largest invoiced first; rows without a manager are left out.

    Totals follow ``analytics.breakdown``; ``alias`` comes from ``sales_manager_alias`` when present.
    """
    rows = ledger[ledger["sales_manager_key"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=list(MANAGER_COLUMNS))
    totals = breakdown(rows, by="sales_manager_key", as_of=as_of)
    people = rows.drop_duplicates("sales_manager_key").set_index("sales_manager_key")
    totals["sales_manager"] = totals["sales_manager_key"].map(people["sales_manager"])
    alias_column = _ALIAS_COLUMNS["sales_manager_key"]
    if alias_column in people.columns:
        totals["alias"] = totals["sales_manager_key"].map(people[alias_column]).astype(object)
    else:
        totals["alias"] = None
    totals["alias"] = totals["alias"].where(totals["alias"].notna(), None)
    return totals[list(MANAGER_COLUMNS)]


def decimals_for(name: str) -> int:
    """Decimals a figure is shown with: shares (0-1) to 4, amounts (cents) and days to 2."""
    return SHARE_DECIMALS if "share" in name else FIGURE_DECIMALS


def customer_stats_records(stats: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe dicts of a stats frame: ``YYYY-MM-DD`` dates, figures rounded (``decimals_for``), ``None`` if missing.

    Built column by column (one NumPy pass each), so 20,000 customers take milliseconds; rounding to cents
    removes the binary noise of sums (``298899.72000000003`` is shown as ``298899.72``).
    """
    columns: dict[str, list[Any]] = {}
    for name in stats.columns:
        values = stats[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d").astype(object)
            columns[name] = text.where(values.notna(), None).tolist()
        elif pd.api.types.is_float_dtype(values):
            columns[name] = _rounded(values.to_numpy(dtype="float64"), decimals_for(name))
        elif pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
            columns[name] = values.tolist()
        else:
            columns[name] = _texts(values)
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _texts(values: pd.Series) -> list[Any]:
    """A text column's JSON values: the strings as they are, ``None`` where missing (``json_scalar`` otherwise)."""
    objects = values.to_numpy(dtype=object)
    present = values.notna().to_numpy()
    if pd.api.types.infer_dtype(objects[present], skipna=False) in ("string", "empty"):
        return list(np.where(present, objects, None))
    return [json_scalar(v) for v in objects.tolist()]


def customer_stats_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The stats frame of ``customer_stats_records`` output (figures as rounded there), dtypes as computed."""
    frame = pd.DataFrame.from_records(records, columns=list(STATS_COLUMNS))
    for name in STATS_COLUMNS:
        if name in DATE_COLUMNS:
            frame[name] = pd.to_datetime(frame[name], format="%Y-%m-%d").astype("datetime64[ns]")
        elif name in ("customer", "customer_key", "alias", "trend"):
            frame[name] = frame[name].astype("str")
        elif name in ("invoice_count", "paid_count", "unpaid_count"):
            frame[name] = frame[name].astype("int64")
        else:
            frame[name] = frame[name].astype("float64")
    return frame


def portfolio_json(portfolio: Portfolio) -> dict[str, Any]:
    """JSON-safe portfolio figures: dates as ``YYYY-MM-DD``, numbers rounded like the customer figures."""
    result: dict[str, Any] = {}
    for name, value in vars(portfolio).items():
        value = json_scalar(value)
        if isinstance(value, float):
            value = _rounded(np.array([value]), decimals_for(name))[0]
        result[name] = value
    return result


def _rounded(values: np.ndarray, decimals: int) -> list[Any]:
    rounded = np.round(values, decimals).astype(object)
    rounded[~np.isfinite(values)] = None
    return list(rounded)
