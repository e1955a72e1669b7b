"""Portfolio analytics: KPIs, filters, period deltas, monthly series, delays, aging and rankings."""

from __future__ import annotations

import pandas as pd
import pytest
from ledger_frames import make_ledger

from finlib.analytics.customer_stats import compute_customer_stats
from finlib.analytics.measures import (
    AGING_BUCKETS,
    aging_buckets,
    breakdown,
    compute_portfolio,
    customer_invoices,
    delay_distribution,
    filter_ledger,
    invoice_number_rank,
    monthly_series,
    resolve_as_of,
    top_customers,
)
from finlib.analytics.periods import period_before


@pytest.fixture
def ledger() -> pd.DataFrame:
    """Three customers over Jan-Mar 2025; terms 30 days; latest date 2025-03-20 (a payment)."""
    return make_ledger(
        [
            {
                "customer_name": "ABC Company",
                "invoice_date": "2025-01-05",
                "invoice_number": "INV-1",
                "payment_date": "2025-02-04",
                "amount": 1000.0,
                "service_type": "Freight",
                "location": "Dubai",
                "sales_manager": "Sara Khan",
            },
            {
                "customer_name": "ABC Company",
                "invoice_date": "2025-02-10",
                "invoice_number": "INV-2",
                "payment_date": "2025-03-20",
                "amount": 500.0,
                "service_type": "Freight",
                "location": "Dubai",
                "sales_manager": "Sara Khan",
            },
            {
                "customer_name": "Delta LLC",
                "invoice_date": "2025-01-20",
                "invoice_number": "INV-3",
                "amount": 300.0,
                "service_type": "Storage",
                "location": "Abu Dhabi",
                "sales_manager": "Omar Ali",
            },
            {
                "customer_name": "Delta LLC",
                "invoice_date": "2025-03-01",
                "invoice_number": "INV-4",
                "amount": 200.0,
                "service_type": "Storage",
                "location": "Sharjah",
                "sales_manager": "Omar Ali",
            },
            {
                "customer_name": "Gamma Trading",
                "invoice_date": "2025-03-10",
                "invoice_number": "CN-1",
                "payment_date": "2025-03-10",
                "amount": -50.0,
                "service_type": "Freight",
                "location": "Dubai",
            },
        ]
    )


def test_as_of_is_the_latest_invoice_or_payment_date(ledger: pd.DataFrame) -> None:
    assert resolve_as_of(ledger) == pd.Timestamp("2025-03-20")
    assert resolve_as_of(ledger.iloc[:0]) is None


def test_portfolio_kpis_by_hand(ledger: pd.DataFrame) -> None:
    kpis = compute_portfolio(ledger)
    assert kpis.as_of == pd.Timestamp("2025-03-20")
    assert (kpis.invoice_count, kpis.customer_count) == (5, 3)
    assert kpis.total_invoiced == pytest.approx(1950.0)
    assert kpis.total_collected == pytest.approx(1500.0)  # cash: the settled credit note CN-1 is not cash
    assert kpis.outstanding == pytest.approx(500.0)
    # INV-3 was due 2025-02-19; INV-4 is due 2025-03-31.
    assert (kpis.overdue, kpis.overdue_count) == (pytest.approx(300.0), 1)
    assert kpis.avg_payment_delay_days == pytest.approx((30 + 38) / 2)  # the credit note CN-1 is no payment
    # Countback of 500: 1-20 March invoiced 150 (20 days), then 350 of February's 500 (28 days).
    assert kpis.dso == pytest.approx(20 + 350 / 500 * 28)
    assert kpis.paid_on_time_share == pytest.approx(1 / 2)  # INV-1 on time, INV-2 late; CN-1 is no payment
    assert kpis.first_invoice_date == pd.Timestamp("2025-01-05")
    assert kpis.last_invoice_date == pd.Timestamp("2025-03-10")


def test_portfolio_as_of_an_earlier_date_counts_later_payments_as_open(ledger: pd.DataFrame) -> None:
    kpis = compute_portfolio(ledger, as_of=pd.Timestamp("2025-02-28"))
    # Issued by then: INV-1 (paid), INV-2 (paid later, so open), INV-3 (open, overdue since 2025-02-19).
    assert kpis.outstanding == pytest.approx(800.0)
    assert kpis.overdue == pytest.approx(300.0)
    assert kpis.total_collected == pytest.approx(1000.0)


def test_an_empty_ledger_gives_zeros_and_nones() -> None:
    empty = make_ledger([{"customer_name": "x", "invoice_date": "2025-01-01", "amount": 1.0}]).iloc[:0]
    kpis = compute_portfolio(empty)
    assert kpis.invoice_count == 0 and kpis.total_invoiced == 0.0
    assert kpis.as_of is None and kpis.dso is None and kpis.avg_payment_delay_days is None
    assert compute_portfolio(empty, as_of=pd.Timestamp("2025-01-01")).first_invoice_date is None
    assert monthly_series(empty).empty
    assert delay_distribution(empty).empty
    assert aging_buckets(empty)["invoice_count"].tolist() == [0] * 5
    assert breakdown(empty).empty
    assert customer_invoices(empty, "x").empty
    assert top_customers(compute_customer_stats(empty)).empty


def test_filters_combine_dates_inclusive_of_whole_days_and_categories(ledger: pd.DataFrame) -> None:
    january = filter_ledger(ledger, start=pd.Timestamp("2025-01-05"), end=pd.Timestamp("2025-01-20"))
    assert january["invoice_number"].tolist() == ["INV-1", "INV-3"]
    assert filter_ledger(ledger, service_types=["Storage"])["invoice_number"].tolist() == ["INV-3", "INV-4"]
    assert filter_ledger(ledger, locations=["Dubai"], service_types=["Freight"]).shape[0] == 3
    assert filter_ledger(ledger, managers=["  sara KHAN"])["invoice_number"].tolist() == ["INV-1", "INV-2"]
    assert len(filter_ledger(ledger, service_types=[], managers=None)) == 5


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    assert period_before(pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-31")) == (
        pd.Timestamp("2025-01-29"),
        pd.Timestamp("2025-02-28"),
    )


def test_monthly_series_fills_every_month_and_averages_invoiced(ledger: pd.DataFrame) -> None:
    months = monthly_series(ledger, window=2)
    assert months["month"].dt.strftime("%Y-%m").tolist() == ["2025-01", "2025-02", "2025-03"]
    assert months["invoiced"].tolist() == [1300.0, 500.0, 150.0]
    assert months["collected"].tolist() == [0.0, 1000.0, 450.0]
    assert months["invoice_count"].tolist() == [2, 1, 2]
    assert months["invoiced_moving_average"].tolist() == [1300.0, 900.0, 325.0]


def test_monthly_series_keeps_months_without_invoices() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "a", "invoice_date": "2025-01-15", "amount": 10.0},
            {"customer_name": "a", "invoice_date": "2025-04-15", "amount": 20.0, "payment_date": "2025-06-01"},
        ]
    )
    months = monthly_series(ledger)
    assert len(months) == 6
    assert months["invoiced"].tolist() == [10.0, 0.0, 0.0, 20.0, 0.0, 0.0]
    assert months["collected"].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 20.0]


def test_delay_distribution_has_one_row_per_paid_invoice(ledger: pd.DataFrame) -> None:
    delays = delay_distribution(ledger)
    assert delays["delay_days"].tolist() == [30.0, 38.0]  # not the credit note settled the day it was issued


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [(-5, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
     (90, "61-90"), (91, "over_90"), (400, "over_90")],
)  # fmt: skip
def test_aging_buckets_boundaries(days_past_due: int, bucket: str) -> None:
    as_of = pd.Timestamp("2025-06-30")
    due = as_of - pd.Timedelta(days=days_past_due)
    ledger = make_ledger(
        [{"customer_name": "a", "invoice_date": "2024-01-01", "due_date": str(due.date()), "amount": 70.0}]
    )
    aging = aging_buckets(ledger, as_of=as_of)
    assert aging["bucket"].tolist() == list(AGING_BUCKETS)
    assert aging.set_index("bucket")["amount"].to_dict() == {
        name: 70.0 if name == bucket else 0.0 for name in AGING_BUCKETS
    }
    assert aging["invoice_count"].sum() == 1


def test_aging_counts_only_open_invoices(ledger: pd.DataFrame) -> None:
    aging = aging_buckets(ledger).set_index("bucket")
    assert aging.loc["current", "amount"] == 200.0
    assert aging.loc["1-30", "amount"] == 300.0  # INV-3: 29 days past due on 2025-03-20
    assert aging["invoice_count"].sum() == 2


def test_top_customers_rank_by_a_column_and_skip_missing_values(ledger: pd.DataFrame) -> None:
    stats = compute_customer_stats(ledger)
    assert top_customers(stats, by="total_amount")["customer"].tolist() == ["ABC Company", "Delta LLC", "Gamma Trading"]
    assert top_customers(stats, by="avg_payment_delay_days", n=1)["customer"].tolist() == ["ABC Company"]
    assert top_customers(stats, by="overdue_amount")["customer"].tolist() == ["Delta LLC"]
    with pytest.raises(ValueError, match="Cannot rank"):
        top_customers(stats, by="shoe_size")


def test_breakdown_totals_per_value_largest_first(ledger: pd.DataFrame) -> None:
    by_service = breakdown(ledger, by="service_type").set_index("service_type")
    assert by_service.index.tolist() == ["Freight", "Storage"]
    assert by_service.loc["Freight", "total_invoiced"] == 1450.0
    assert by_service.loc["Freight", "customer_count"] == 2
    assert by_service.loc["Storage", "overdue"] == 300.0
    by_manager = breakdown(ledger, by="sales_manager")
    assert by_manager["sales_manager"].tolist() == ["Sara Khan", "Omar Ali", None]


def test_customer_invoices_are_in_forecast_order_with_delay_and_days_overdue(ledger: pd.DataFrame) -> None:
    delta = customer_invoices(ledger, "delta llc")
    assert delta["invoice_number"].tolist() == ["INV-3", "INV-4"]
    assert delta["days_overdue"].tolist() == [29.0, 0.0]
    assert delta["status"].tolist() == ["overdue", "open"]
    abc = customer_invoices(ledger, "abc company")
    assert abc["delay_days"].tolist() == [30.0, 38.0]
    assert abc["days_overdue"].isna().all()
    assert abc["status"].tolist() == ["paid", "paid"]


def test_invoice_numbers_rank_shorter_first_then_as_text_with_missing_last() -> None:
    numbers = pd.Series(["INV-10", None, "INV-9", "INV-100", "CN-7"], dtype="str")
    assert invoice_number_rank(numbers).tolist() == [2, 4, 1, 3, 0]


def test_invoices_without_numbers_keep_file_order_on_equal_dates() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "a", "invoice_date": "2025-01-02", "amount": 1.0},
            {"customer_name": "a", "invoice_date": "2025-01-01", "amount": 2.0},
            {"customer_name": "a", "invoice_date": "2025-01-02", "amount": 3.0},
        ]
    )
    assert invoice_number_rank(ledger["invoice_number"]).tolist() == [0, 0, 0]
    assert customer_invoices(ledger, "a")["amount"].tolist() == [2.0, 1.0, 3.0]
    assert compute_customer_stats(ledger, window=1)["moving_average"].tolist() == [3.0]


def test_a_prepayment_waited_zero_days_in_activity_and_customer_stats() -> None:
    from finlib.analytics.activity import compute_activity
    from finlib.analytics.periods import Period

    ledger = make_ledger(
        [
            # Paid 10 days before its invoice: 0 days to pay, on time. The other waited 20 days (due after 30).
            {"customer_name": "Acme", "invoice_date": "2025-03-11", "amount": 100.0, "payment_date": "2025-03-01"},
            {"customer_name": "Acme", "invoice_date": "2025-03-01", "amount": 300.0, "payment_date": "2025-03-21"},
        ]
    )
    activity = compute_activity(ledger, Period(pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-31")))
    assert activity.avg_days_to_pay == pytest.approx((0 + 20) / 2)  # not (-10 + 20) / 2
    assert activity.weighted_days_to_pay == pytest.approx((100 * 0 + 300 * 20) / 400)
    assert activity.on_time_share == 1.0
    stats = compute_customer_stats(ledger).set_index("customer")
    assert stats.loc["Acme", "avg_payment_delay_days"] == pytest.approx(10.0)
