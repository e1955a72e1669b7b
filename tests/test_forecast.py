"""Per-customer statistics and forecasts: the README formulas, checked on hand-computed ledgers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from ledger_frames import make_ledger

from finlib.analytics.customer_stats import (
    MANAGER_COLUMNS,
    STATS_COLUMNS,
    compute_customer_stats,
    compute_manager_stats,
    customer_stats_records,
)


def one(stats: pd.DataFrame, key: str = "abc company") -> pd.Series:
    return stats.set_index("customer_key").loc[key]


def test_stats_have_the_contract_columns_in_order() -> None:
    stats = compute_customer_stats(
        make_ledger([{"customer_name": "ABC Company", "invoice_date": "2025-01-01", "amount": 1}])
    )
    assert tuple(stats.columns) == STATS_COLUMNS


def test_moving_average_uses_the_last_three_invoices_in_invoice_date_order() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": "2025-04-01", "amount": 400.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-01-01", "amount": 100.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-03-01", "amount": 300.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-02-01", "amount": 200.0},
        ]
    )
    row = one(compute_customer_stats(ledger))
    assert row["moving_average"] == pytest.approx(300.0)
    assert row["predicted_next_amount"] == pytest.approx(300.0)
    assert row["average_amount"] == pytest.approx(250.0)
    assert row["total_amount"] == pytest.approx(1000.0)
    assert row["invoice_count"] == 4
    assert row["first_invoice_date"] == pd.Timestamp("2025-01-01")
    assert row["last_invoice_date"] == pd.Timestamp("2025-04-01")


def test_ties_on_invoice_date_are_ordered_by_invoice_number() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": "2025-01-01", "invoice_number": "INV-1", "amount": 1000.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-02-01", "invoice_number": "INV-10", "amount": 30.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-02-01", "invoice_number": "INV-9", "amount": 20.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-02-01", "invoice_number": "INV-8", "amount": 10.0},
        ]
    )
    # Natural order INV-8, INV-9, INV-10: the last two are 20 and 30 (text order or file order would give 15).
    assert one(compute_customer_stats(ledger, window=2))["moving_average"] == pytest.approx(25.0)


@pytest.mark.parametrize("slice_pairs", [1, 2, 100_000])
def test_ties_out_of_number_order_after_ordered_ones_are_found_whatever_the_slice(
    monkeypatch: pytest.MonkeyPatch, slice_pairs: int
) -> None:
    from finlib.analytics import customer_stats

    monkeypatch.setattr(customer_stats, "TIE_SLICE_PAIRS", slice_pairs)
    numbers_and_amounts = [("INV-1", 10.0), ("INV-2", 20.0), ("INV-3", 30.0), ("INV-10", 100.0), ("INV-9", 90.0)]
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": "2025-02-01", "invoice_number": number, "amount": amount}
            for number, amount in numbers_and_amounts
        ]
    )
    # The only pair out of order comes last: in natural order INV-10 is the latest invoice (file order: INV-9).
    assert one(compute_customer_stats(ledger, window=1))["moving_average"] == pytest.approx(100.0)


def test_fewer_invoices_than_the_window_average_all_of_them() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": "2025-01-01", "amount": 100.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-02-01", "amount": 200.0},
        ]
    )
    row = one(compute_customer_stats(ledger, window=3))
    assert row["moving_average"] == pytest.approx(150.0)
    assert row["trend"] == "stable"


@pytest.mark.parametrize(
    ("amounts", "threshold", "trend"),
    [
        ([100, 100], 0.05, "stable"),
        ([100, 111], 0.05, "increasing"),  # average 105.5, bound 110.775
        ([100, 110], 0.05, "stable"),  # average 105, bound 110.25
        ([100, 90], 0.05, "decreasing"),  # average 95, bound 90.25
        ([100, 91], 0.05, "stable"),  # average 95.5, bound 90.725
        ([100, 104], 0.0, "increasing"),
        ([100, 130], 0.2, "stable"),  # average 115, bound 138
        ([-100, -100], 0.05, "stable"),  # a negative average keeps its margin: |average| * threshold
        ([-100, -50], 0.05, "increasing"),
        ([-100, -150], 0.05, "decreasing"),
        ([-50, 50], 0.05, "increasing"),  # zero average
        ([50, -50], 0.05, "decreasing"),
        ([0, 0], 0.05, "stable"),
    ],
)
def test_trend_compares_the_moving_average_with_the_average(amounts: list[float], threshold: float, trend: str) -> None:
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": f"2025-0{month}-01", "amount": amount}
            for month, amount in enumerate(amounts, start=1)
        ]
    )
    assert one(compute_customer_stats(ledger, window=1, trend_threshold=threshold))["trend"] == trend


@pytest.mark.parametrize(
    ("delays", "average", "predicted"),
    [
        ([2, 3], 2.5, "2025-03-07"),  # halves round away from zero
        ([2, 2, 3], 7 / 3, "2025-03-06"),
        ([2, 3, 3], 8 / 3, "2025-03-07"),
        ([0], 0.0, "2025-03-01"),
    ],
)
def test_predicted_payment_date_is_last_payment_plus_the_rounded_average_delay(
    delays: list[int], average: float, predicted: str
) -> None:
    # The last invoice is dated 2025-03-01 and paid after delays[-1] days, the latest payment of all.
    invoice_dates = pd.date_range(end="2025-03-01", periods=len(delays), freq="7D")
    ledger = make_ledger(
        [
            {
                "customer_name": "ABC Company",
                "invoice_date": str(day.date()),
                "payment_date": str((day + pd.Timedelta(days=delay)).date()),
                "amount": 10.0,
            }
            for day, delay in zip(invoice_dates, delays, strict=True)
        ]
    )
    row = one(compute_customer_stats(ledger))
    assert row["avg_payment_delay_days"] == pytest.approx(average)
    assert row["last_payment_date"] == pd.Timestamp("2025-03-01") + pd.Timedelta(days=delays[-1])
    assert row["predicted_next_payment_date"] == pd.Timestamp(predicted)


def test_last_payment_date_is_the_latest_payment_whichever_invoice_it_settled() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": "2025-01-01", "payment_date": "2025-03-11", "amount": 1.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-02-01", "payment_date": "2025-02-11", "amount": 1.0},
        ]
    )
    row = one(compute_customer_stats(ledger))
    assert row["last_payment_date"] == pd.Timestamp("2025-03-11")
    assert row["avg_payment_delay_days"] == pytest.approx((69 + 10) / 2)
    assert row["predicted_next_payment_date"] == pd.Timestamp("2025-03-11") + pd.Timedelta(days=40)  # 39.5 -> 40


def test_customer_with_no_paid_invoice_gets_nulls() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "Never Pays LLC", "invoice_date": "2025-01-01", "amount": 100.0},
            {"customer_name": "Never Pays LLC", "invoice_date": "2025-02-01", "amount": 300.0},
        ]
    )
    row = one(compute_customer_stats(ledger), "never pays llc")
    for column in ("avg_payment_delay_days", "delay_std_days", "on_time_share"):
        assert math.isnan(row[column])
    for column in ("last_payment_date", "predicted_next_payment_date"):
        assert pd.isna(row[column])
    assert (row["paid_count"], row["unpaid_count"]) == (0, 2)
    assert row["moving_average"] == pytest.approx(200.0)
    assert row["outstanding_amount"] == pytest.approx(400.0)


def test_customer_with_one_invoice_is_stable_and_has_no_spread() -> None:
    ledger = make_ledger(
        [{"customer_name": "Once Ltd", "invoice_date": "2025-01-01", "payment_date": "2025-01-21", "amount": 50.0}]
    )
    row = one(compute_customer_stats(ledger), "once ltd")
    assert row["moving_average"] == pytest.approx(50.0)
    assert row["trend"] == "stable"
    assert row["avg_payment_delay_days"] == pytest.approx(20.0)
    assert math.isnan(row["delay_std_days"])
    assert row["predicted_next_payment_date"] == pd.Timestamp("2025-02-10")


def test_delay_spread_and_on_time_share_count_payment_on_the_due_date_as_on_time() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": "2025-01-01", "payment_date": "2025-01-11", "amount": 1.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-02-01", "payment_date": "2025-03-03", "amount": 1.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-03-01", "payment_date": "2025-04-20", "amount": 1.0},
        ],
        terms_days=30,
    )
    row = one(compute_customer_stats(ledger))
    # Delays 10, 30 (the due date itself), 50 days.
    assert row["delay_std_days"] == pytest.approx(20.0)
    assert row["on_time_share"] == pytest.approx(2 / 3)


def test_outstanding_and_overdue_are_taken_as_of_the_given_date() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": "2025-01-01", "due_date": "2025-01-31", "amount": 100.0},
            {"customer_name": "ABC Company", "invoice_date": "2025-01-15", "due_date": "2025-02-14", "amount": 20.0},
            {
                "customer_name": "ABC Company",
                "invoice_date": "2025-01-10",
                "due_date": "2025-01-20",
                "payment_date": "2025-02-20",
                "amount": 3.0,
            },
        ]
    )
    as_of = one(compute_customer_stats(ledger, as_of=pd.Timestamp("2025-02-14")))
    # Due on the as-of date is not yet overdue; paid after the as-of date is still open then.
    assert as_of["outstanding_amount"] == pytest.approx(123.0)
    assert as_of["overdue_amount"] == pytest.approx(103.0)
    latest = one(compute_customer_stats(ledger))  # as of 2025-02-20, the latest date in the ledger
    assert latest["outstanding_amount"] == pytest.approx(120.0)
    assert latest["overdue_amount"] == pytest.approx(120.0)


def test_spellings_of_one_customer_are_one_row_under_its_display_name() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "ABC Company", "invoice_date": "2025-01-01", "amount": 1.0},
            {"customer_name": "ABC Company ", "invoice_date": "2025-02-01", "amount": 2.0},
            {"customer_name": "abc  company", "invoice_date": "2025-03-01", "amount": 3.0},
        ]
    )
    ledger["customer_name"] = "ABC Company"  # parsing gives every row its key's display spelling
    stats = compute_customer_stats(ledger)
    assert stats[["customer", "customer_key", "invoice_count"]].values.tolist() == [["ABC Company", "abc company", 3]]


def test_alias_comes_from_the_customer_alias_column_when_present() -> None:
    rows = [{"customer_name": "ABC Company", "invoice_date": "2025-01-01", "amount": 1.0}]
    assert one(compute_customer_stats(make_ledger(rows)))["alias"] is None
    aliased = make_ledger([{**rows[0], "customer_alias": "CUST-7K3M9Q2X"}])
    assert one(compute_customer_stats(aliased))["alias"] == "CUST-7K3M9Q2X"


def test_an_empty_ledger_gives_an_empty_frame_with_the_contract_columns() -> None:
    ledger = make_ledger([{"customer_name": "x", "invoice_date": "2025-01-01", "amount": 1.0}]).iloc[:0]
    stats = compute_customer_stats(ledger)
    assert stats.empty
    assert tuple(stats.columns) == STATS_COLUMNS
    assert customer_stats_records(stats) == []


def test_stats_match_a_straightforward_per_customer_computation() -> None:
    rng = np.random.default_rng(3)
    size = 400
    invoice_dates = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 40, size), unit="D")
    delays = pd.to_timedelta(rng.integers(0, 60, size), unit="D")
    paid = rng.random(size) < 0.7
    ledger = make_ledger(
        [
            {
                "customer_name": f"Customer {rng.integers(0, 25)}",
                "invoice_date": str(day.date()),
                "invoice_number": f"N{number}",
                "payment_date": str((day + delay).date()) if is_paid else None,
                "amount": float(rng.integers(-50, 1000)),
            }
            for number, (day, delay, is_paid) in enumerate(zip(invoice_dates, delays, paid, strict=True))
        ]
    )
    stats = compute_customer_stats(ledger, window=3).set_index("customer_key")
    for key, rows in ledger.groupby("customer_key"):
        rows = rows.assign(length=rows["invoice_number"].str.len()).sort_values(
            ["invoice_date", "length", "invoice_number"], kind="stable"
        )
        payments = rows[rows["amount"] > 0]  # credit notes (negative amounts) are not payments
        delay_days = (payments["payment_date"] - payments["invoice_date"]).dt.days.dropna()
        row = stats.loc[key]
        assert row["moving_average"] == pytest.approx(rows["amount"].tail(3).mean())
        assert row["average_amount"] == pytest.approx(rows["amount"].mean())
        assert row["paid_count"] == rows["payment_date"].notna().sum()
        if len(delay_days):
            assert row["avg_payment_delay_days"] == pytest.approx(delay_days.mean())
            assert row["last_payment_date"] == payments["payment_date"].max()
        if len(delay_days) > 1:
            assert row["delay_std_days"] == pytest.approx(delay_days.std())


def test_records_are_json_safe_with_iso_dates_and_nulls() -> None:
    ledger = make_ledger(
        [
            {
                "customer_name": "ABC Company",
                "invoice_date": "2025-01-01",
                "payment_date": "2025-01-31",
                "amount": 10.0,
            },
            {"customer_name": "Never Pays LLC", "invoice_date": "2025-01-05", "amount": 5.0},
        ]
    )
    records = customer_stats_records(compute_customer_stats(ledger))
    json.dumps(records, allow_nan=False)
    abc, never = records
    assert abc["customer"] == "ABC Company"
    assert abc["last_payment_date"] == "2025-01-31"
    assert abc["predicted_next_payment_date"] == "2025-03-02"
    assert abc["invoice_count"] == 1 and isinstance(abc["invoice_count"], int)
    assert abc["total_amount"] == 10.0 and isinstance(abc["total_amount"], float)
    assert never["avg_payment_delay_days"] is None
    assert never["last_payment_date"] is None
    assert never["alias"] is None


def test_manager_stats_sum_each_managers_invoices() -> None:
    ledger = make_ledger(
        [
            {
                "customer_name": "ABC Company",
                "invoice_date": "2025-01-01",
                "payment_date": "2025-01-21",
                "amount": 100.0,
                "sales_manager": "Sara Khan",
            },
            {"customer_name": "Delta LLC", "invoice_date": "2025-01-02", "amount": 50.0, "sales_manager": "Sara Khan"},
            {"customer_name": "Delta LLC", "invoice_date": "2025-03-01", "amount": 7.0, "sales_manager": "Omar Ali"},
            {"customer_name": "Nobody", "invoice_date": "2025-03-01", "amount": 1.0},
        ]
    )
    managers = compute_manager_stats(ledger)
    assert tuple(managers.columns) == MANAGER_COLUMNS
    sara = managers.set_index("sales_manager").loc["Sara Khan"]
    assert sara["sales_manager_key"] == "sara khan"
    assert (sara["invoice_count"], sara["customer_count"]) == (2, 2)
    assert (sara["total_invoiced"], sara["total_collected"]) == (150.0, 100.0)
    assert (sara["outstanding"], sara["overdue"]) == (50.0, 50.0)  # as of 2025-03-01, due 2025-02-01
    assert sara["avg_payment_delay_days"] == pytest.approx(20.0)
    assert managers["sales_manager"].tolist() == ["Sara Khan", "Omar Ali"]
    assert managers["alias"].isna().all()


def test_a_credit_note_settled_later_does_not_move_the_last_payment_or_the_delay() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "Harbor", "invoice_date": "2026-01-01", "payment_date": "2026-01-31", "amount": 1000.0},
            {"customer_name": "Harbor", "invoice_date": "2026-02-01", "payment_date": "2026-03-03", "amount": 1000.0},
            {
                "customer_name": "Harbor",
                "invoice_date": "2026-04-20",
                "invoice_number": "CN-1",
                "payment_date": "2026-04-20",
                "amount": -400.0,
            },
        ]
    )
    row = compute_customer_stats(ledger).iloc[0]
    assert row["avg_payment_delay_days"] == pytest.approx(30.0)
    assert row["last_payment_date"] == pd.Timestamp("2026-03-03")
    assert row["predicted_next_payment_date"] == pd.Timestamp("2026-04-02")
    assert row["total_amount"] == pytest.approx(1600.0)  # the credit note still counts in amounts
    assert row["paid_count"] == 3 and row["unpaid_count"] == 0
