"""The dashboard's pure helpers: number formats, CSV escaping, presentation mode and chart builders."""

from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go
import pytest

from finlib.analytics.drilldown import delay_bins
from finlib.export import escape_formula, export_csv
from finlib.privacy.aliasing import AliasBook
from finlib.privacy.presentation import present_ledger
from ui import charts, tables, wording
from ui.format import (
    format_amount,
    format_compact,
    format_date,
    format_days,
    format_delta_amount,
    format_delta_days,
    format_share,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (950, "950"),
        (12_400, "12.4K"),
        (3_254_000, "3.25M"),
        (-1_500_000, "-1.50M"),
        (1_100_000_000, "1.10B"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_compact_amounts_read_like_a_finance_report(value: float | None, expected: str) -> None:
    assert format_compact(value) == expected


def test_full_amounts_have_thousands_separators() -> None:
    assert format_amount(1234567.891, decimals=2) == "1,234,567.89"


@pytest.mark.parametrize(("value", "expected"), [(1, "1 day"), (23.0, "23 days"), (23.44, "23.4 days"), (None, "—")])
def test_days_are_counted_in_words(value: float | None, expected: str) -> None:
    assert format_days(value) == expected


def test_dates_are_unambiguous_for_day_first_and_month_first_readers() -> None:
    assert format_date(pd.Timestamp("2025-03-04")) == "4 Mar 2025"
    assert format_date(pd.NaT) == "—"


def test_shares_are_percentages() -> None:
    assert format_share(0.825) == "82.5%"


def test_deltas_show_the_change_and_the_percentage() -> None:
    assert format_delta_amount(1_200_000, 1_000_000) == "+200K (+20.0%)"
    assert format_delta_amount(900, None) is None
    assert format_delta_days(30.0, 32.5) == "-2.5 days"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("ACME Ltd", "ACME Ltd"),
        (-42.0, -42.0),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_escaped(value: object, expected: object) -> None:
    assert escape_formula(value) == expected


def test_exported_csv_escapes_formulas_but_keeps_numbers_numeric() -> None:
    frame = pd.DataFrame({"Customer": ["=cmd|' /C calc'!A0", "Fine Co"], "Amount": [-10.5, 20.0]})
    text = export_csv(frame).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text))
    assert back["Customer"].tolist() == ["'=cmd|' /C calc'!A0", "Fine Co"]
    assert back["Amount"].tolist() == [-10.5, 20.0]


def _ledger() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_name": ["Acme Corp", "Müller & Söhne GmbH"],
            "customer_key": ["acme corp", "müller & söhne gmbh"],
            "customer_alias": ["CUST-AAAAAAAA", "CUST-BBBBBBBB"],
            "sales_manager": ["Jane Doe", None],
            "sales_manager_key": ["jane doe", None],
            "sales_manager_alias": ["PERS-CCCCCCCC", None],
            "service_type": ["Support for Acme Corp", "Consulting"],
            "location": ["Berlin", None],
            "pay_terms": [None, None],
            "invoice_number": ["INV-1", "INV-2"],
            "sales_order_number": [None, None],
        }
    )


def _book() -> AliasBook:
    return AliasBook(
        pd.DataFrame(
            {
                "kind": ["customer", "customer", "person"],
                "real_name": ["Acme Corp", "Müller & Söhne GmbH", "Jane Doe"],
                "key": ["acme corp", "müller & söhne gmbh", "jane doe"],
                "alias": ["CUST-AAAAAAAA", "CUST-BBBBBBBB", "PERS-CCCCCCCC"],
            }
        )
    )


def test_presentation_mode_replaces_names_and_names_inside_free_text() -> None:
    presented = present_ledger(_ledger(), _book())
    assert presented["customer_name"].tolist() == ["CUST-AAAAAAAA", "CUST-BBBBBBBB"]
    assert presented["sales_manager"].tolist()[0] == "PERS-CCCCCCCC"
    assert pd.isna(presented["sales_manager"].tolist()[1])
    assert presented["service_type"].tolist() == ["Support for CUST-AAAAAAAA", "Consulting"]
    text = presented.drop(columns=["customer_key", "sales_manager_key"]).astype(str).to_string()
    for name in ("Acme", "Müller", "Jane"):
        assert name not in text


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("invoice_number", "ACME-CORP-0001", "CUST-AAAAAAAA-0001"),
        ("sales_order_number", "SO 2025 Jane Doe 17", "SO 2025 PERS-CCCCCCCC 17"),
        ("location", "Muller and Sohne depot 7", "CUST-BBBBBBBB depot 7"),
        ("invoice_number", "INV-2025-000017", "INV-2025-000017"),
    ],
)
def test_presentation_mode_finds_names_inside_invoice_numbers_and_free_text(column, value, expected) -> None:
    ledger = _ledger()
    ledger[column] = [value, "INV-2025-000018"]
    assert present_ledger(ledger, _book())[column].tolist() == [expected, "INV-2025-000018"]


@pytest.mark.parametrize("dtype", ["object", "category"])
def test_presentation_mode_aliases_names_inside_the_ledgers_extra_category_columns(dtype: str) -> None:
    ledger = _ledger()
    ledger["extra:Key Account Owner"] = pd.Series(["Jane Doe", "Web shop"], dtype=dtype)
    presented = present_ledger(ledger, _book())
    assert presented["extra:Key Account Owner"].tolist() == ["PERS-CCCCCCCC", "Web shop"]


def test_presentation_mode_leaves_the_original_ledger_alone() -> None:
    ledger = _ledger()
    present_ledger(ledger, _book())
    assert ledger["customer_name"].tolist()[0] == "Acme Corp"


def test_monthly_figure_has_invoiced_and_collected_bars_and_the_moving_average_line() -> None:
    monthly = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "invoiced": [100.0, 200.0, 300.0],
            "collected": [50.0, 150.0, 250.0],
            "invoice_count": [1, 2, 3],
            "invoiced_moving_average": [100.0, 150.0, 200.0],
        }
    )
    figure = charts.monthly_figure(monthly)
    assert [trace.type for trace in figure.data] == ["bar", "bar", "scatter"]
    assert list(figure.data[2].y) == [100.0, 150.0, 200.0]


def test_aging_figure_labels_buckets_in_words_and_in_order() -> None:
    aging = pd.DataFrame(
        {
            "bucket": ["current", "1-30", "31-60", "61-90", "over_90"],
            "invoice_count": [1, 0, 2, 0, 1],
            "amount": [10.0, 0.0, 20.0, 0.0, 5.0],
        }
    )
    figure = charts.aging_figure(aging)
    assert list(figure.data[0].x) == ["Not yet due", "1–30", "31–60", "61–90", "Over 90"]


def test_ranking_figure_puts_the_largest_value_at_the_top() -> None:
    ranking = pd.DataFrame({"name": ["Big", "Small"], "value": [100.0, 10.0]})
    figure = charts.ranking_figure(ranking, value_label="Invoiced")
    assert list(figure.data[0].y) == ["Small", "Big"]  # plotly draws the last category at the top


@pytest.mark.parametrize(("longest", "left"), [(3, charts.CHART_MARGIN["l"]), (27, 20 + 7 * 27), (80, 320)])
def test_a_rankings_left_margin_starts_wide_enough_for_its_longest_name(longest: int, left: int) -> None:
    # Plotly would grow a narrower margin after drawing and draw the chart again; very long names stop at 320 px.
    ranking = pd.DataFrame({"name": ["B" * longest, "Small"], "value": [100.0, 10.0]})
    margin = charts.ranking_figure(ranking, value_label="Invoiced").layout.margin
    assert (margin.l, margin.r, margin.t, margin.b) == (left, 28, charts.CHART_MARGIN["t"], charts.CHART_MARGIN["b"])


def test_customer_amounts_figure_marks_the_predicted_next_invoice() -> None:
    invoices = pd.DataFrame(
        {
            "invoice_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "amount": [100.0, 200.0, 300.0],
            "moving_average": [100.0, 150.0, 200.0],
        }
    )
    figure = charts.customer_amounts_figure(invoices, predicted_amount=200.0)
    names = [trace.name for trace in figure.data]
    assert "Predicted next invoice" in names
    star = figure.data[names.index("Predicted next invoice")]
    assert list(star.y) == [200.0]
    assert pd.Timestamp(star.x[0]) > pd.Timestamp("2025-03-01")


def test_a_customers_charts_draw_only_its_latest_invoices() -> None:
    count = charts.MAX_CUSTOMER_POINTS + 500
    dates = pd.date_range("2020-01-01", periods=count, freq="D")
    invoices = pd.DataFrame({"invoice_date": dates, "amount": 1.0, "moving_average": 1.0, "delay_days": 30.0})
    amounts = charts.customer_amounts_figure(invoices, predicted_amount=1.0)
    delays = charts.customer_delays_figure(invoices, 30.0)
    for trace in (amounts.data[0], amounts.data[1], delays.data[0]):
        assert len(trace.x) == charts.MAX_CUSTOMER_POINTS
        assert pd.Timestamp(trace.x[0]) == dates[500] and pd.Timestamp(trace.x[-1]) == dates[-1]


def test_customer_with_one_invoice_still_gets_a_chart() -> None:
    invoices = pd.DataFrame(
        {"invoice_date": pd.to_datetime(["2025-01-01"]), "amount": [100.0], "moving_average": [100.0]}
    )
    assert isinstance(charts.customer_amounts_figure(invoices, predicted_amount=100.0), go.Figure)


@pytest.mark.parametrize(
    ("trend", "count", "expected"),
    [("increasing", 5, "Trend **increasing**"), ("stable", 1, "No trend yet (one invoice)")],
)
def test_one_invoice_has_no_trend(trend: str, count: int, expected: str) -> None:
    assert wording.describe_trend(trend, count) == expected


@pytest.mark.parametrize(
    ("paid", "average", "spread", "on_time", "expected"),
    [
        (0, None, None, None, "Steadiness: nothing paid yet, so there is no payment pattern."),
        (
            1,
            25.0,
            float("nan"),
            1.0,
            "Steadiness: one paid invoice so far (25 days to pay); a spread needs at least two.",
        ),
        (
            4,
            30.0,
            5.0,
            0.75,
            "Steadiness: usually pays within ±5 days of the average (standard deviation), "
            "and pays 75.0% of invoices by the due date.",
        ),
    ],
)
def test_steadiness_says_what_it_can(
    paid: int, average: float | None, spread: float | None, on_time: float | None, expected: str
) -> None:
    assert wording.describe_steadiness(paid, average, spread, on_time) == expected


def test_counts_and_spans_read_naturally() -> None:
    assert wording.plural(1, "invoice") == "1 invoice"
    assert wording.plural(1204, "invoice") == "1,204 invoices"
    day = pd.Timestamp("2025-01-20")
    assert wording.describe_span(day, day) == "on 20 Jan 2025"
    assert wording.describe_span(day, pd.Timestamp("2025-03-01")) == "from 20 Jan 2025 to 1 Mar 2025"


def test_missing_payments_are_explained_only_when_nothing_is_paid() -> None:
    assert wording.describe_missing_payments(4, 0).startswith("No invoice in this selection has a payment date")
    assert wording.describe_missing_payments(4, 1) is None
    assert wording.describe_missing_payments(0, 0) is None


def test_invoice_table_keeps_every_column_typed_so_it_sorts_by_value() -> None:
    table = pd.DataFrame(
        {
            "Invoice date": pd.to_datetime(["2025-01-05", "2025-02-05"]),
            "Amount": [1200.0, -50.0],
            "Paid on": pd.to_datetime(["2025-02-01", None]),
            "Days to pay": [27.0, float("nan")],
            "Location": ["Oslo", None],
        }
    )
    shown, config = tables.invoice_display(table)
    assert pd.api.types.is_datetime64_any_dtype(shown["Paid on"])
    assert pd.api.types.is_numeric_dtype(shown["Days to pay"])
    assert shown["Amount"].tolist() == [1200.0, -50.0]
    assert set(config) == {"Invoice date", "Amount", "Paid on", "Days to pay"}


def test_a_handful_of_delays_gets_whole_number_ticks() -> None:
    figure = charts.delay_histogram_figure(delay_bins(pd.Series([27.0, 33.0, 43.0])), 34.3)
    assert figure.layout.yaxis.dtick == 1
    assert sum(figure.data[0].y) == 3 and list(figure.data[0].customdata[0]) == [27, 27], "bars carry their days"
    assert figure.layout.xaxis.title.text == "Days from invoice to payment"


@pytest.mark.parametrize("figure_of", ["delays", "amounts"])
def test_a_single_date_gets_a_date_axis_of_a_few_days_not_milliseconds(figure_of: str) -> None:
    day = pd.Timestamp("2026-04-13")
    if figure_of == "delays":
        paid = pd.DataFrame({"invoice_date": [day], "delay_days": [27.0]})
        figure = charts.customer_delays_figure(paid, 27.0)
    else:
        invoices = pd.DataFrame({"invoice_date": [day], "amount": [100.0], "moving_average": [100.0]})
        figure = charts.customer_amounts_figure(invoices, predicted_amount=None)
    low, high = (pd.Timestamp(end) for end in figure.layout.xaxis.range)
    assert low < day < high
    assert pd.Timedelta(days=2) <= high - low <= pd.Timedelta(days=60)
    assert figure.layout.xaxis.type == "date"


def test_several_dates_keep_plotly_s_own_axis_range() -> None:
    paid = pd.DataFrame({"invoice_date": pd.to_datetime(["2025-01-01", "2025-03-01"]), "delay_days": [20.0, 30.0]})
    assert charts.customer_delays_figure(paid, 25.0).layout.xaxis.range is None


@pytest.mark.parametrize(
    ("predicted", "outstanding", "overdue", "expected"),
    [
        ("2026-10-23", 0.0, 0.0, "already past: no open invoice"),
        ("2026-10-23", 12_400.0, 3_000.0, "already past: 12.4K open, 3.00K overdue"),
        ("2026-10-31", 500.0, 0.0, None),
        ("2026-11-20", 500.0, 0.0, None),
        (None, 500.0, 0.0, None),
    ],
)
def test_a_predicted_payment_behind_the_ledger_date_says_it_is_already_past(
    predicted: str | None, outstanding: float, overdue: float, expected: str | None
) -> None:
    as_of = pd.Timestamp("2026-10-31")
    stamp = pd.Timestamp(predicted) if predicted else pd.NaT
    assert wording.describe_past_prediction(stamp, as_of, outstanding, overdue) == expected


def test_points_selected_on_the_customer_charts_name_the_invoice_rows_they_carry() -> None:
    from types import SimpleNamespace

    from ui.drill import selected_rows

    def event(*points: dict[str, object]) -> object:
        return SimpleNamespace(selection=SimpleNamespace(points=list(points)))

    amounts = event({"curve_number": 0, "customdata": 3}, {"curve_number": 1, "customdata": 9}, {"curve_number": 0})
    delays = event({"curve_number": 0, "customdata": 1}, {"curve_number": 0, "customdata": 3})
    assert selected_rows(amounts, delays) == [1, 3], "moving-average points and points without a row are left out"
    assert selected_rows(None, event()) == []
    figure = charts.customer_amounts_figure(
        pd.DataFrame({"invoice_date": pd.to_datetime(["2026-01-05", "2026-02-05"]), "amount": [10.0, 20.0],
                      "moving_average": [10.0, 15.0], "chart_row": [4, 7]}),
        predicted_amount=None,
    )  # fmt: skip
    assert list(figure.data[0].customdata) == [4, 7]


def test_amount_charts_write_the_projects_currency_on_axis_bars_and_hover() -> None:
    from finlib.currency import parse_currency

    aging = pd.DataFrame({"bucket": ["current", "1-30"], "invoice_count": [2, 1], "amount": [1250.0, -80.0]})
    figure = charts.aging_figure(aging, parse_currency("EUR"))
    assert figure.layout.yaxis.title.text == "Open amount (€)"
    assert list(figure.data[0].text) == ["€1.25K", "-€80"]
    assert "€%{y:,.0f}" in figure.data[0].hovertemplate
    ranking = pd.DataFrame({"name": ["A"], "value": [2500.0]})
    bars = charts.ranking_figure(ranking, value_label="Overdue", currency=parse_currency("CHF"))
    assert bars.layout.xaxis.title.text == "Overdue (CHF)" and list(bars.data[0].text) == ["CHF 2.50K"]
    assert charts.aging_figure(aging).layout.yaxis.title.text == "Open amount"
