"""The worklist, drill-down and view invoices: one row per customer, the invoices behind a bar, overdue first."""

from __future__ import annotations

import pandas as pd
import pytest
from ledger_frames import make_ledger

from finlib.analytics.breakdowns import compute_breakdown
from finlib.analytics.customer_stats import compute_customer_stats
from finlib.analytics.drilldown import delay_bins, drill_invoices, overdue_first, view_invoices, with_status
from finlib.analytics.periods import resolve_view_dates
from finlib.analytics.worklist import compute_worklist, payer_rating, search_worklist

AS_OF = pd.Timestamp("2025-03-31")


@pytest.fixture
def ledger() -> pd.DataFrame:
    """Terms 30 days. Alpha pays on time; Beta pays late and owes; Gamma has never paid."""
    rows = [
        ("Alpha", "2025-01-10", 1000.0, "2025-02-05"),
        ("Alpha", "2025-02-10", 1000.0, "2025-03-08"),
        ("Alpha", "2025-03-10", 500.0, None),
        ("Beta", "2025-01-05", 300.0, "2025-03-20"),
        ("Beta", "2025-01-20", 700.0, None),
        ("Beta", "2025-02-01", 200.0, None),
        ("Gamma", "2025-03-25", 50.0, None),
    ]
    return make_ledger([{"customer_name": n, "invoice_date": d, "amount": a, "payment_date": p} for n, d, a, p in rows])


def test_invoices_without_a_customer_count_for_no_customer(ledger: pd.DataFrame) -> None:
    nameless = make_ledger(
        [
            {"customer_name": None, "invoice_date": "2025-01-05", "amount": 300.0, "payment_date": None},
            {"customer_name": None, "invoice_date": "2025-01-06", "amount": 300.0, "payment_date": "2025-03-30"},
        ]
    )
    both = pd.concat([nameless, ledger], ignore_index=True)
    pd.testing.assert_frame_equal(compute_worklist(both, AS_OF), compute_worklist(ledger, AS_OF))


@pytest.mark.parametrize("as_of", ["2025-03-25", "2025-03-01", "2025-02-06"])
def test_stats_handed_in_give_the_worklist_computed_without_them(ledger: pd.DataFrame, as_of: str) -> None:
    # The whole ledger's stats (as of its latest date, 25 Mar) hold only for that date: at an earlier one the
    # worklist must compute its own, or it would show payments and invoices made after its date.
    stats = compute_customer_stats(ledger)
    expected = compute_worklist(ledger, pd.Timestamp(as_of))
    pd.testing.assert_frame_equal(compute_worklist(ledger, pd.Timestamp(as_of), stats=stats), expected)


def test_the_worklist_lists_every_customer_largest_overdue_first(ledger: pd.DataFrame) -> None:
    table = compute_worklist(ledger, AS_OF)
    assert table["customer"].tolist() == ["Beta", "Alpha", "Gamma"]
    beta = table.iloc[0]
    assert beta["outstanding"] == pytest.approx(900)
    assert beta["overdue"] == pytest.approx(900)
    assert beta["open_invoices"] == 2
    assert beta["oldest_open_invoice"] == pd.Timestamp("2025-01-20")
    assert beta["days_past_due"] == 40  # due 19 Feb
    assert beta["avg_days_to_pay"] == pytest.approx(74)
    assert beta["avg_days_late"] == pytest.approx(44)
    assert beta["rating"] == "poor"
    alpha = table.iloc[1]
    assert alpha["overdue"] == 0 and alpha["outstanding"] == pytest.approx(500)
    assert alpha["avg_days_to_pay"] == pytest.approx(26)
    assert alpha["rating"] == "good"
    gamma = table.iloc[2]
    assert gamma["rating"] is None, "no payment yet: no rating"


@pytest.mark.parametrize(
    ("as_of", "past"),
    [
        ("2025-03-31", {"Alpha": False, "Beta": False, "Gamma": False}),
        ("2025-04-30", {"Alpha": True, "Beta": False, "Gamma": False}),
    ],
)
def test_the_next_payment_is_the_original_formula_and_one_before_the_balance_date_is_marked_past(
    ledger: pd.DataFrame, as_of: str, past: dict[str, bool]
) -> None:
    table = compute_worklist(ledger, pd.Timestamp(as_of)).set_index("customer")
    # last payment + average days to pay: Alpha 8 Mar + 26, Beta 20 Mar + 74, Gamma never paid
    assert table.loc["Alpha", "next_payment_date"] == pd.Timestamp("2025-04-03")
    assert table.loc["Beta", "next_payment_date"] == pd.Timestamp("2025-06-02")
    assert pd.isna(table.loc["Gamma", "next_payment_date"])
    assert table["next_payment_past"].to_dict() == past


@pytest.mark.parametrize(
    ("on_time", "days_late", "expected"),
    [
        (0.8, 5.0, "good"),
        (0.95, 6.0, "average"),
        (0.79, 0.0, "average"),
        (0.5, 30.0, "average"),
        (0.49, 0.0, "poor"),
        (1.0, 31.0, "poor"),
        (None, None, None),
    ],
)
def test_the_payer_rating_rule(on_time: float | None, days_late: float | None, expected: str | None) -> None:
    rating = payer_rating(pd.Series([on_time], dtype="float64"), pd.Series([days_late], dtype="float64"))
    assert rating.iloc[0] == expected


def test_search_finds_customers_by_part_of_the_name_in_any_case(ledger: pd.DataFrame) -> None:
    table = compute_worklist(ledger, AS_OF)
    assert search_worklist(table, "ETA")["customer"].tolist() == ["Beta"]
    assert len(search_worklist(table, "  ")) == 3


def test_invoices_read_overdue_first_then_open_then_paid(ledger: pd.DataFrame) -> None:
    rows = overdue_first(with_status(ledger, AS_OF))
    assert rows["status"].tolist() == ["overdue", "overdue", "open", "open", "paid", "paid", "paid"]
    assert rows["days_overdue"].iloc[:2].tolist() == [40, 28]


@pytest.mark.parametrize(
    ("kind", "value", "expected_amounts"),
    [
        ("invoiced", "2025-01-01", [300.0, 700.0, 1000.0]),
        ("collected", "2025-03-15", [300.0, 1000.0]),
        ("aging", "31-60", [700.0]),
        ("aging", "1-30", [200.0]),
        ("aging", "current", [500.0, 50.0]),
        ("overdue", "beta", [700.0, 200.0]),
    ],
)
def test_a_drill_down_returns_exactly_the_invoices_behind_the_bar(
    ledger: pd.DataFrame, kind: str, value: str, expected_amounts: list[float]
) -> None:
    rows = drill_invoices(ledger, AS_OF, kind, value)
    assert sorted(rows["amount"].tolist()) == sorted(expected_amounts)


def test_an_unknown_drill_down_is_refused_in_words(ledger: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="choose one of"):
        drill_invoices(ledger, AS_OF, "aging", "90+")


def test_the_views_invoices_are_those_of_the_period_and_those_open(ledger: pd.DataFrame) -> None:
    dates = resolve_view_dates(ledger, pd.Timestamp("2025-03-01"), AS_OF, AS_OF)
    assert dates is not None
    rows = view_invoices(ledger, dates)
    # Open at 31 Mar: 500, 700, 200, 50; dated in March: 500, 50.
    assert sorted(rows["amount"].tolist()) == [50.0, 200.0, 500.0, 700.0]


def test_a_breakdown_puts_balances_at_the_date_beside_activity_in_the_period() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "A", "invoice_date": "2025-01-10", "amount": 100.0, "location": "Oslo"},
            {"customer_name": "B", "invoice_date": "2025-02-10", "amount": 50.0, "location": "Oslo",
             "payment_date": "2025-03-01"},
            {"customer_name": "C", "invoice_date": "2025-03-10", "amount": 80.0, "location": "Bergen"},
            {"customer_name": "D", "invoice_date": "2025-03-12", "amount": 20.0},
        ]
    )  # fmt: skip
    dates = resolve_view_dates(ledger, pd.Timestamp("2025-03-01"), AS_OF, AS_OF)
    assert dates is not None
    table = compute_breakdown(ledger, dates, "location").set_index("value")
    assert table.index.tolist() == ["Oslo", "Bergen", "(none)"]
    oslo = table.loc["Oslo"]
    assert (oslo["outstanding"], oslo["overdue"], oslo["open_invoices"]) == (100.0, 100.0, 1)
    assert oslo["invoiced"] == 0.0, "nothing dated in March"
    assert oslo["collected"] == 50.0 and oslo["avg_days_to_pay"] == 19.0
    assert table.loc["Bergen", "invoiced"] == 80.0 and table.loc["Bergen", "overdue"] == 0.0
    with pytest.raises(ValueError, match="choose one of"):
        compute_breakdown(ledger, dates, "colour")


def test_the_days_to_pay_histogram_bins_every_paid_invoice_once_in_whole_day_ranges() -> None:
    bins = delay_bins(pd.Series([0.0, 5.0, 9.0, 10.0, 61.0, float("nan")]), bins=3)
    # From day 0 to day 61: 62 days in at most 3 bins of 21 days.
    assert bins.to_dict("list") == {"start": [0, 21, 42], "end": [21, 42, 63], "invoice_count": [4, 0, 1]}
    assert delay_bins(pd.Series([12.0, 12.0])).to_dict("list") == {"start": [12], "end": [13], "invoice_count": [2]}
    assert delay_bins(pd.Series([], dtype="float64")).empty


def test_a_days_to_pay_bar_drills_into_the_invoices_paid_in_the_period_that_took_that_long() -> None:
    ledger = make_ledger(
        [
            {"customer_name": "A", "invoice_date": "2025-02-01", "amount": 100.0, "payment_date": "2025-03-03"},
            {"customer_name": "B", "invoice_date": "2025-03-01", "amount": 40.0, "payment_date": "2025-03-11"},
            {"customer_name": "C", "invoice_date": "2025-03-05", "amount": 70.0, "payment_date": "2025-03-25"},
            {"customer_name": "D", "invoice_date": "2025-01-20", "amount": 30.0, "payment_date": "2025-02-19"},
            {"customer_name": "E", "invoice_date": "2025-03-01", "amount": -20.0, "payment_date": "2025-03-15"},
        ]
    )  # fmt: skip
    period = resolve_view_dates(ledger, pd.Timestamp("2025-03-01"), AS_OF, AS_OF)
    assert period is not None
    # Days to pay: A 30 (paid in March), B 10, C 20, D 30 (paid in February), E a credit note (not a payment).
    rows = drill_invoices(ledger, AS_OF, "days_to_pay", "20:31", period.period)
    assert sorted(rows["customer_name"]) == ["A", "C"]
    assert drill_invoices(ledger, AS_OF, "days_to_pay", "0:20", period.period)["customer_name"].tolist() == ["B"]
    with pytest.raises(ValueError, match="START:END"):
        drill_invoices(ledger, AS_OF, "days_to_pay", "20-31", period.period)
