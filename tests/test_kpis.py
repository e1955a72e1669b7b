"""Balances, activity, CEI, DSO countback and the monthly trend, on a small ledger computed by hand.

The ledger (terms 30 days, so due = invoice date + 30), balances taken on 31 Mar 2025:

| customer | invoice | amount | due | paid | at 31 Mar |
|---|---|---|---|---|---|
| Alpha | 10 Jan | 1000 | 9 Feb | 5 Feb (26 days, on time) | paid |
| Alpha | 15 Feb | 600 | 17 Mar | 10 Apr (54 days, late) | open, 14 days past due |
| Beta | 5 Mar | 400 | 4 Apr | - | open, current |
| Beta | 20 Jan | 300 | 19 Feb | - | open, 40 days past due |
| Gamma | 10 Mar | -100 (credit note) | 9 Apr | - | open, current |
| Gamma | 20 Mar | -50 (credit note) | | settled 20 Mar | not open, not cash |
| Delta | 1 Dec 2024 | 250 | 31 Dec | - | open, 90 days past due |
| Echo | 20 Feb | 500 | 22 Mar | 15 Mar (23 days, on time) | paid |
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_frames import make_ledger

from finlib.analytics.activity import compute_activity
from finlib.analytics.balances import balance_trend, compute_balances, countback_days
from finlib.analytics.kpis import compute_kpis, kpis_payload, monthly_kpis
from finlib.analytics.periods import (
    Period,
    check_asked_as_of,
    month_ends,
    months_ending,
    resolve_view_dates,
    whole_months,
)
from finlib.errors import ProjectError

AS_OF = pd.Timestamp("2025-03-31")
ROWS = [
    ("Alpha", "2025-01-10", 1000.0, "2025-02-05"),
    ("Alpha", "2025-02-15", 600.0, "2025-04-10"),
    ("Beta", "2025-03-05", 400.0, None),
    ("Beta", "2025-01-20", 300.0, None),
    ("Gamma", "2025-03-10", -100.0, None),
    ("Gamma", "2025-03-20", -50.0, "2025-03-20"),
    ("Delta", "2024-12-01", 250.0, None),
    ("Echo", "2025-02-20", 500.0, "2025-03-15"),
]


@pytest.fixture
def ledger() -> pd.DataFrame:
    return make_ledger(
        [
            {"customer_name": name, "invoice_date": day, "amount": amount, "payment_date": paid}
            for name, day, amount, paid in ROWS
        ]
    )


def test_balances_count_what_is_open_at_the_date_including_a_payment_received_after_it(ledger: pd.DataFrame) -> None:
    balances = compute_balances(ledger, AS_OF)
    assert balances.outstanding == pytest.approx(600 + 400 + 300 - 100 + 250)
    assert balances.open_invoices == 5
    assert balances.overdue == pytest.approx(600 + 300 + 250)
    assert balances.overdue_invoices == 3
    assert balances.current == pytest.approx(400 - 100)
    assert balances.overdue_share == pytest.approx(1150 / 1450)


def test_aging_buckets_use_whole_days_past_due_and_ninety_days_is_still_61_to_90(ledger: pd.DataFrame) -> None:
    aging = compute_balances(ledger, AS_OF).aging
    assert aging.amounts() == pytest.approx((300, 600, 300, 250, 0))
    assert aging.overdue == pytest.approx(1150)
    later = compute_balances(ledger, AS_OF + pd.Timedelta(days=1)).aging
    assert later.over_90 == pytest.approx(250), "91 days past due is over 90"


def test_average_days_past_due_is_weighted_by_amount_over_overdue_invoices(ledger: pd.DataFrame) -> None:
    balances = compute_balances(ledger, AS_OF)
    assert balances.avg_days_past_due == pytest.approx((600 * 14 + 300 * 40 + 250 * 90) / 1150)


def test_dso_countback_walks_back_through_months_of_invoicing(ledger: pd.DataFrame) -> None:
    balances = compute_balances(ledger, AS_OF)
    # 1450 open: March invoiced 250 (31 days), February 1100 (28 days), then 100 of January's 1300 (31 days).
    assert balances.dso_countback == pytest.approx(31 + 28 + 100 / 1300 * 31)
    # 300 current: March's 250 (31 days), then 50 of February's 1100 (28 days).
    assert balances.best_possible_dso == pytest.approx(31 + 50 / 1100 * 28)
    assert balances.add == pytest.approx(balances.dso_countback - balances.best_possible_dso)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (1, 1.0),  # everything open on a one-day ledger: one day, not 90
        (5, 5.0),
        (40, 40.0),
    ],
)
def test_dso_of_a_short_ledger_with_nothing_paid_is_the_days_it_covers(days: int, expected: float) -> None:
    start = pd.Timestamp("2026-03-01")
    rows = [
        {"customer_name": "Only", "invoice_date": str((start + pd.Timedelta(days=day)).date()), "amount": 100.0}
        for day in range(days)
    ]
    ledger = make_ledger(rows)
    last = start + pd.Timedelta(days=days - 1)
    assert compute_balances(ledger, last).dso_countback == pytest.approx(expected)


def test_nothing_open_gives_zero_dso_and_no_shares() -> None:
    ledger = make_ledger(
        [{"customer_name": "Paid", "invoice_date": "2025-01-01", "amount": 10.0, "payment_date": "2025-01-05"}]
    )
    balances = compute_balances(ledger, pd.Timestamp("2025-01-31"))
    assert balances.outstanding == 0
    assert balances.dso_countback == 0
    assert balances.overdue_share is None
    assert balances.avg_days_past_due is None


def test_march_activity_counts_cash_received_in_march_and_not_a_settled_credit_note(ledger: pd.DataFrame) -> None:
    march = compute_activity(ledger, Period(pd.Timestamp("2025-03-01"), AS_OF))
    assert march.invoiced == pytest.approx(400 - 100 - 50)
    assert march.invoice_count == 3
    assert march.customer_count == 2
    assert march.collected == pytest.approx(500)
    assert march.paid_count == 1
    assert march.avg_days_to_pay == pytest.approx(23)
    assert march.on_time_share == pytest.approx(1.0)
    # Opening (28 Feb) 600 + 300 + 250 + 500 = 1650; closing 1450, of which 300 current.
    assert march.cei == pytest.approx((1650 + 250 - 1450) / (1650 + 250 - 300) * 100)


def test_february_cei_and_collections(ledger: pd.DataFrame) -> None:
    february = compute_activity(ledger, Period(pd.Timestamp("2025-02-01"), pd.Timestamp("2025-02-28")))
    assert february.invoiced == pytest.approx(1100)
    assert february.collected == pytest.approx(1000)
    # Opening (31 Jan) 1000 + 300 + 250 = 1550; closing 1650, of which 600 + 500 current.
    assert february.cei == pytest.approx((1550 + 1100 - 1650) / (1550 + 1100 - 1100) * 100)


def test_days_to_pay_average_weighted_average_and_on_time_share_over_invoices_paid_in_the_period(
    ledger: pd.DataFrame,
) -> None:
    spring = compute_activity(ledger, Period(pd.Timestamp("2025-02-01"), pd.Timestamp("2025-04-30")))
    assert spring.collected == pytest.approx(1000 + 500 + 600)
    assert spring.avg_days_to_pay == pytest.approx((26 + 23 + 54) / 3)
    assert spring.weighted_days_to_pay == pytest.approx((1000 * 26 + 500 * 23 + 600 * 54) / 2100)
    assert spring.on_time_share == pytest.approx(2 / 3)


def test_an_empty_period_has_zero_activity_and_no_averages(ledger: pd.DataFrame) -> None:
    june = compute_activity(ledger, Period(pd.Timestamp("2025-06-01"), pd.Timestamp("2025-06-30")))
    assert (june.invoiced, june.collected, june.invoice_count, june.paid_count) == (0, 0, 0, 0)
    assert june.avg_days_to_pay is None
    assert june.weighted_days_to_pay is None
    assert june.on_time_share is None
    assert june.cei == pytest.approx(0.0), "nothing invoiced, nothing collected, everything already due"


def test_the_view_defaults_to_the_ledgers_latest_date_and_compares_only_inside_the_ledger(
    ledger: pd.DataFrame,
) -> None:
    whole = resolve_view_dates(ledger)
    assert whole is not None
    assert whole.as_of == pd.Timestamp("2025-04-10")
    assert whole.period == Period(pd.Timestamp("2024-12-01"), pd.Timestamp("2025-04-10"))
    assert whole.previous is None and whole.why_no_comparison
    march = resolve_view_dates(ledger, pd.Timestamp("2025-03-01"), AS_OF)
    assert march is not None
    assert march.previous == Period(pd.Timestamp("2025-02-01"), pd.Timestamp("2025-02-28")), "a month: the one before"
    assert march.previous_as_of == pd.Timestamp("2025-03-10")
    days = resolve_view_dates(ledger, pd.Timestamp("2025-03-02"), AS_OF)
    assert days is not None
    assert days.previous == Period(pd.Timestamp("2025-01-31"), pd.Timestamp("2025-03-01")), "30 days: the 30 before"
    assert days.previous_as_of == pd.Timestamp("2025-04-10") - pd.Timedelta(days=30)


@pytest.mark.parametrize(
    ("first_invoice", "start", "end", "previous"),
    [
        # 12M of a two-year ledger: the 12 months before lie inside it, also when its first invoice is a 4 Nov
        ("2024-11-01", "2025-11-01", "2026-10-31", ("2024-11-01", "2025-10-31")),
        ("2024-11-04", "2025-11-01", "2026-10-31", ("2024-11-01", "2025-10-31")),
        ("2024-12-01", "2025-11-01", "2026-10-31", None),
        # 3M ending on the last day of February: the three months before, not the same number of days
        ("2024-01-10", "2025-11-29", "2026-02-28", ("2025-08-29", "2025-11-28")),
        # a year from 1 March over a leap day
        ("2023-03-01", "2024-03-01", "2025-02-28", ("2023-03-01", "2024-02-29")),
        # 40 days are not whole months: the first invoice's day counts
        ("2026-08-14", "2026-09-22", "2026-10-31", None),
        ("2026-08-13", "2026-09-22", "2026-10-31", ("2026-08-13", "2026-09-21")),
    ],
)
def test_a_period_is_compared_with_the_one_before_when_that_lies_inside_the_ledger(
    first_invoice: str, start: str, end: str, previous: tuple[str, str] | None
) -> None:
    ledger = make_ledger(
        [
            {"customer_name": "A", "invoice_date": first_invoice, "amount": 100.0},
            {"customer_name": "A", "invoice_date": end, "amount": 100.0},
        ]
    )
    dates = resolve_view_dates(ledger, pd.Timestamp(start), pd.Timestamp(end))
    assert dates is not None
    if previous is None:
        assert dates.previous is None and dates.previous_as_of is None
        assert dates.why_no_comparison and "before the ledger's first invoice" in dates.why_no_comparison
    else:
        assert dates.previous == Period(pd.Timestamp(previous[0]), pd.Timestamp(previous[1]))
        assert dates.why_no_comparison is None


def test_month_ends_cut_the_last_month_at_the_last_day() -> None:
    ends = month_ends(pd.Timestamp("2025-01-15"), pd.Timestamp("2025-03-10"))
    assert list(ends) == [pd.Timestamp("2025-01-31"), pd.Timestamp("2025-02-28"), pd.Timestamp("2025-03-10")]


@pytest.mark.parametrize(
    ("end", "months", "first", "start"),
    [
        ("2026-06-30", 3, "2025-01-04", "2026-04-01"),  # 3M ending on the balance date, not on the ledger's end
        ("2026-05-31", 3, "2025-01-04", "2026-03-01"),
        ("2026-06-30", 12, "2025-11-15", "2025-11-15"),  # cut at the first invoice
        ("2026-06-30", None, "2025-01-04", "2025-01-04"),  # All: first invoice to the balance date
    ],
)
def test_a_period_button_chooses_the_months_ending_on_the_balance_date(
    end: str, months: int | None, first: str, start: str
) -> None:
    period = months_ending(pd.Timestamp(end), months, pd.Timestamp(first))
    assert period == Period(pd.Timestamp(start), pd.Timestamp(end))
    if months is not None and start > first:
        assert whole_months(period) == months, "compared with the months before it"


def test_the_monthly_trend_matches_the_balances_and_activity_of_each_month(ledger: pd.DataFrame) -> None:
    monthly = monthly_kpis(ledger, Period(pd.Timestamp("2025-01-01"), AS_OF))
    assert [month.strftime("%Y-%m") for month in monthly["month"]] == ["2025-01", "2025-02", "2025-03"]
    march = monthly.iloc[-1]
    balances = compute_balances(ledger, AS_OF)
    assert march["outstanding"] == pytest.approx(balances.outstanding)
    assert march["dso_countback"] == pytest.approx(balances.dso_countback)
    assert march["over_90"] == pytest.approx(0)
    assert march["61-90"] == pytest.approx(250)
    assert march["collected"] == pytest.approx(500)
    assert march["cei"] == pytest.approx((1650 + 250 - 1450) / (1650 + 250 - 300) * 100)
    assert monthly.iloc[1]["cei"] == pytest.approx((1550 + 1100 - 1650) / (1550 + 1100 - 1100) * 100)


def test_the_kpis_document_has_the_documented_shape(ledger: pd.DataFrame) -> None:
    dates = resolve_view_dates(ledger, pd.Timestamp("2025-03-01"), AS_OF, as_of=AS_OF)
    assert dates is not None
    report = compute_kpis(ledger, dates)
    payload = kpis_payload("tiny", report, monthly_kpis(ledger, dates.period))
    assert set(payload) == {"project", "currency", "as_of", "period", "balances", "activity", "monthly"}
    assert payload["currency"] is None  # no currency given
    assert payload["as_of"] == "2025-03-31"
    assert payload["balances"]["aging"] == {"current": 300, "1-30": 600, "31-60": 300, "61-90": 250, "over_90": 0}
    assert set(payload["balances"]) == {
        "outstanding", "overdue", "open_invoices", "aging", "dso_countback", "best_possible_dso", "add",
    }  # fmt: skip
    assert set(payload["activity"]) == {"invoiced", "collected", "cei", "avg_days_to_pay", "on_time_share"}
    assert set(payload["monthly"][0]) == {
        "month", "invoiced", "collected", "outstanding", "overdue", "dso_countback", "cei",
    }  # fmt: skip


DAYS = st.integers(min_value=0, max_value=200)
ROW = st.tuples(
    st.sampled_from(["Alpha", "Beta", "Gamma"]),
    DAYS,
    st.floats(min_value=-500, max_value=5000, allow_nan=False).map(lambda x: round(x, 2)),
    st.one_of(st.none(), DAYS),
    st.sampled_from(["Oslo", "Bergen"]),
)


def _random_ledger(rows: list[tuple[str, int, float, int | None, str]]) -> pd.DataFrame:
    origin = pd.Timestamp("2025-01-01")

    def day(offset: int) -> str:
        return str((origin + pd.Timedelta(days=offset)).date())

    return make_ledger(
        [
            {
                "customer_name": name,
                "invoice_date": day(issued),
                "amount": amount,
                "payment_date": None if paid is None else day(issued + paid),
                "location": location,
            }
            for name, issued, amount, paid, location in rows
        ]
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=1, max_size=25), start=DAYS, length=DAYS)
def test_no_invoice_date_period_changes_a_balance(rows: list, start: int, length: int) -> None:
    ledger = _random_ledger(rows)
    origin = pd.Timestamp("2025-01-01")
    everything = resolve_view_dates(ledger)
    chosen = resolve_view_dates(ledger, origin + pd.Timedelta(days=start), origin + pd.Timedelta(days=start + length))
    assert everything is not None and chosen is not None
    assert compute_kpis(ledger, chosen).balances == compute_kpis(ledger, everything).balances


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=1, max_size=25), offsets=st.lists(DAYS, min_size=1, max_size=6))
def test_the_trend_of_many_dates_equals_the_balances_of_each_date(rows: list, offsets: list[int]) -> None:
    ledger = _random_ledger(rows)
    dates = pd.DatetimeIndex([pd.Timestamp("2025-01-01") + pd.Timedelta(days=offset) for offset in offsets])
    trend = balance_trend(ledger, dates)
    for row, day in zip(trend.itertuples(), dates, strict=True):
        one = compute_balances(ledger, day)
        assert row.outstanding == pytest.approx(one.outstanding, abs=1e-6)
        assert row.overdue == pytest.approx(one.overdue, abs=1e-6)
        assert row.open_invoices == one.open_invoices
        assert row.over_90 == pytest.approx(one.aging.over_90, abs=1e-6)
        assert trend.loc[row.Index, "1-30"] == pytest.approx(one.aging.days_1_30, abs=1e-6)
        if one.dso_countback is not None:
            assert row.dso_countback == pytest.approx(one.dso_countback, abs=1e-6)
        if one.avg_days_past_due is not None and abs(one.overdue) > 1:
            assert row.avg_days_past_due == pytest.approx(one.avg_days_past_due, rel=1e-6)


@pytest.mark.parametrize(
    "dates",
    [
        ["2024-12-31", "2025-01-01", "2025-01-11", "2025-01-21", "2025-06-30"],  # before, on and after the rows
        ["1700-01-01", "2025-01-11", "2025-01-21", "2262-01-01"],  # centuries apart: searched per row, no day table
    ],
)
def test_the_trend_equals_each_dates_balances_however_far_apart_the_dates(dates: list[str]) -> None:
    ledger = _random_ledger(
        [("Acme", 0, 100.0, 20, "Dubai"), ("Acme", 10, 50.0, None, "Dubai"), ("Beta", 40, 70.5, 100, "Abu Dhabi")]
    )
    asked = pd.DatetimeIndex(dates)
    trend = balance_trend(ledger, asked)
    for row, as_of in zip(trend.itertuples(), asked, strict=True):
        one = compute_balances(ledger, as_of)
        assert (row.outstanding, row.overdue, row.open_invoices) == (one.outstanding, one.overdue, one.open_invoices)
        assert (row.current, row.over_90) == (one.aging.current, one.aging.over_90)


def test_countback_of_a_date_before_the_ledger_is_unknown(ledger: pd.DataFrame) -> None:
    result = countback_days(ledger, pd.Series([100.0]).to_numpy(), pd.DatetimeIndex([pd.Timestamp("2020-01-01")]))
    assert pd.isna(result[0])


def test_a_balance_date_typed_after_the_ledgers_latest_date_is_refused_naming_that_date(ledger: pd.DataFrame) -> None:
    latest = pd.concat([ledger["invoice_date"], ledger["payment_date"]]).max().normalize()
    after = latest + pd.Timedelta(days=1)
    with pytest.raises(ProjectError, match=rf"^The balance date .* is after the ledger's latest date, {latest.day} "):
        check_asked_as_of(ledger, after)
    assert check_asked_as_of(ledger, latest) == latest
    assert resolve_view_dates(ledger, as_of=after) is not None  # the analytics take any day they are given


def test_a_balance_date_before_the_first_invoice_is_refused_naming_the_first_day(ledger: pd.DataFrame) -> None:
    with pytest.raises(ProjectError, match=r"^The balance date 30 Nov 2024 is before the ledger starts on 1 Dec 2024 "):
        resolve_view_dates(ledger, as_of=pd.Timestamp("2024-11-30"))
    assert resolve_view_dates(ledger, as_of=pd.Timestamp("2024-12-01")) is not None
