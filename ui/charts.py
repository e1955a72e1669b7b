"""Plotly figures for the dashboard, built from frames finlib computed; no numbers are computed here."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from finlib.currency import Currency
from ui.format import amount_header, format_compact, with_currency

INVOICED_COLOR = "#1f5fa8"
COLLECTED_COLOR = "#2ca58d"
AVERAGE_COLOR = "#f2a541"
FORECAST_COLOR = "#d1495b"
AGING_COLORS = ("#2ca58d", "#f2c14e", "#f2a541", "#e0703a", "#d1495b")
AGING_LABELS = {"current": "Not yet due", "1-30": "1–30", "31-60": "31–60", "61-90": "61–90", "over_90": "Over 90"}
CHART_HEIGHT_PX = 340
FEW_INVOICES = 10
# A customer's charts draw its latest invoices only: a browser draws a few thousand SVG markers at once, not the
# quarter of a million a large account has (the page's table and CSV still hold every invoice).
MAX_CUSTOMER_POINTS = 2_000
RANKING_BAR_PX = 30
RANKING_MIN_HEIGHT_PX = 200
SINGLE_DATE_PADDING = pd.Timedelta(days=7)


# Margins that already hold what plotly's automatic margins make room for on the Overview's charts (amount ticks
# and the axis title on the left, month ticks below, the legend on top): plotly then draws a chart once, not again
# after growing them (a cached "back to Overview" 1.57-1.62 -> 0.93-1.30 s on a 2-core machine; at 44/72 px the
# monthly charts still grew by 1-2 px). A ranking's left margin is sized for its longest name. The customer charts
# keep small margins that grow: with fixed ones a click on one of their points stopped selecting it
# (docs/PERFORMANCE.md).
CHART_MARGIN = dict(l=80, r=16, t=48, b=80)
GROWING_MARGIN = dict(l=8, r=8, t=36, b=8)
# A ranking's left margin starts wide enough for its longest name at about this many pixels per character (plotly's
# 12 px font averages 5.5-6.5), and its right margin holds the value labels printed outside the bars.
RANKING_NAME_PX_PER_CHAR = 7
RANKING_NAME_PAD_PX = 20
RANKING_MAX_LEFT_PX = 320
RANKING_RIGHT_PX = 28


def _layout(figure: go.Figure, *, height: int = CHART_HEIGHT_PX, y_title: str | None = None) -> go.Figure:
    figure.update_layout(
        height=height,
        margin=CHART_MARGIN,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text=""),
        hovermode="x unified",
        bargap=0.25,
    )
    figure.update_yaxes(title_text=y_title, exponentformat="B", separatethousands=True, rangemode="tozero")
    figure.update_xaxes(title_text=None)
    return figure


def _pad_single_date(figure: go.Figure, dates: pd.Series) -> go.Figure:
    """One date on a time axis: plotly zooms to a millisecond around it; show a week either side instead."""
    days = pd.to_datetime(dates).dropna().dt.normalize().unique()
    if len(days) == 1:
        day = pd.Timestamp(days[0])
        figure.update_xaxes(
            type="date",
            range=[day - SINGLE_DATE_PADDING, day + SINGLE_DATE_PADDING],
            tickformat="%d %b %Y",
        )
    return figure


MAX_MONTH_TICKS = 18


def month_ticks(months: pd.Series) -> list[pd.Timestamp]:
    """Month labels to draw: all of them up to 18, else every 2nd/3rd/... counted back from the latest month,
    so the latest month always has its label."""
    step = max(1, -(-len(months) // MAX_MONTH_TICKS))
    return list(months.iloc[::-1].iloc[::step].iloc[::-1])


def _money_hover(currency: Currency | None, axis: str = "y") -> str:
    """A hover template for an amount, with the currency's symbol: ``€%{y:,.0f}``."""
    return with_currency(f"%{{{axis}:,.0f}}", currency)


def monthly_figure(monthly: pd.DataFrame, currency: Currency | None = None) -> go.Figure:
    """Invoiced and collected (cash received) per month as grouped bars; selectable, a bar drills down.

    ``monthly`` has ``month``, ``invoiced``, ``collected`` and, optionally, ``invoiced_moving_average``.
    """
    figure = go.Figure()
    figure.add_bar(
        x=monthly["month"],
        y=monthly["invoiced"],
        name="Invoiced",
        marker_color=INVOICED_COLOR,
        hovertemplate=_money_hover(currency),
    )
    figure.add_bar(
        x=monthly["month"],
        y=monthly["collected"],
        name="Collected",
        marker_color=COLLECTED_COLOR,
        hovertemplate=_money_hover(currency),
    )
    if "invoiced_moving_average" in monthly.columns:
        figure.add_scatter(
            x=monthly["month"],
            y=monthly["invoiced_moving_average"],
            name="Invoiced, moving average",
            mode="lines",
            line=dict(color=AVERAGE_COLOR, width=3),
            hovertemplate=_money_hover(currency),
        )
    figure.update_xaxes(tickvals=month_ticks(monthly["month"]), tickformat="%b %Y")
    return _layout(figure, y_title=amount_header("Amount", currency))


def trend_figure(monthly: pd.DataFrame, column: str, label: str, *, share: bool = False) -> go.Figure:
    """One KPI per month (as of each month end, or over each month) as a line with markers."""
    values = monthly[column] * (100 if share else 1)
    figure = go.Figure()
    figure.add_scatter(
        x=monthly["month"],
        y=values,
        name=label,
        mode="lines+markers",
        line=dict(color=INVOICED_COLOR, width=3),
        hovertemplate="%{x|%b %Y}: %{y:,.1f}" + ("%" if share else "") + "<extra></extra>",
    )
    _layout(figure, y_title=label)
    figure.update_layout(hovermode="closest", showlegend=False)
    figure.update_xaxes(tickvals=month_ticks(monthly["month"]), tickformat="%b %Y")
    return figure


def delay_histogram_figure(bins: pd.DataFrame, average: float | None) -> go.Figure:
    """Distribution of days from invoice to payment over paid invoices, with the average marked.

    ``bins`` is ``analytics.drilldown.delay_bins``: ``start``, ``end`` (whole days, end excluded) and
    ``invoice_count``; each bar carries its range, so a click drills into the invoices behind it.
    """
    figure = go.Figure(
        go.Bar(
            x=(bins["start"] + bins["end"]) / 2,
            y=bins["invoice_count"],
            width=(bins["end"] - bins["start"]).tolist(),
            marker_color=INVOICED_COLOR,
            name="Paid invoices",
            customdata=list(zip(bins["start"], bins["end"] - 1, strict=True)),
            hovertemplate="%{customdata[0]}–%{customdata[1]} days: %{y:,} invoices<extra></extra>",
        )
    )
    if average is not None and not pd.isna(average):
        figure.add_vline(
            x=average,
            line=dict(color=FORECAST_COLOR, dash="dash", width=2),
            annotation_text=f"average {average:.0f} days",
            annotation_position="top right",
        )
    _layout(figure, y_title="Invoices")
    figure.update_layout(hovermode="closest", showlegend=False, bargap=0.05)
    figure.update_xaxes(title_text="Days from invoice to payment")  # _layout clears axis titles
    if bins["invoice_count"].max() <= FEW_INVOICES:
        # A handful of invoices: whole-number ticks, not "0.2 invoices".
        figure.update_yaxes(dtick=1, tick0=0)
    return figure


def aging_figure(aging: pd.DataFrame, currency: Currency | None = None) -> go.Figure:
    """Open amount per aging bucket (not yet due, 1–30, …, over 90 days past due), greener to redder.

    ``aging`` is ``analytics.aging_buckets``: ``bucket`` (in order), ``invoice_count`` and ``amount``.
    """
    labels = [AGING_LABELS.get(bucket, bucket) for bucket in aging["bucket"]]
    colors = list(AGING_COLORS[: len(aging)]) + [AGING_COLORS[-1]] * max(0, len(aging) - len(AGING_COLORS))
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=aging["amount"],
            marker_color=colors,
            customdata=list(zip(aging["invoice_count"], aging["bucket"], strict=True)),
            hovertemplate=f"%{{x}}: {_money_hover(currency)} in %{{customdata[0]:,}} invoices<extra></extra>",
            text=[with_currency(format_compact(v), currency) for v in aging["amount"]],
            textposition="outside",
            cliponaxis=False,
        )
    )
    _layout(figure, y_title=amount_header("Open amount", currency))
    figure.update_layout(hovermode="closest", showlegend=False)
    figure.update_xaxes(type="category", title_text="Days past due")
    return figure


def ranking_figure(
    ranking: pd.DataFrame, *, value_label: str, days: bool = False, currency: Currency | None = None
) -> go.Figure:
    """Horizontal bars, largest at the top. ``ranking``: ``name``, ``value``, maybe ``alias`` (drill-down)."""
    ordered = ranking.iloc[::-1]
    hover = "%{y}: %{x:,.1f} days<extra></extra>" if days else f"%{{y}}: {_money_hover(currency, 'x')}<extra></extra>"
    labels = [f"{v:,.0f} d" if days else with_currency(format_compact(v), currency) for v in ordered["value"]]
    value_label = value_label if days else amount_header(value_label, currency)
    figure = go.Figure(
        go.Bar(
            x=ordered["value"],
            y=ordered["name"],
            orientation="h",
            marker_color=INVOICED_COLOR,
            hovertemplate=hover,
            customdata=ordered["alias"] if "alias" in ordered.columns else None,
            text=labels,
            textposition="outside",
            cliponaxis=False,
        )
    )
    # Height follows the number of bars, so two customers do not get two slabs.
    height = max(RANKING_MIN_HEIGHT_PX, RANKING_BAR_PX * len(ordered) + 100)
    _layout(figure, height=height)
    longest = max((len(str(name)) for name in ordered["name"]), default=0)
    left = RANKING_NAME_PAD_PX + RANKING_NAME_PX_PER_CHAR * longest
    figure.update_layout(
        margin=dict(l=min(max(CHART_MARGIN["l"], left), RANKING_MAX_LEFT_PX), r=RANKING_RIGHT_PX),
        hovermode="closest",
        showlegend=False,
    )
    largest = float(ordered["value"].max()) if len(ordered) else 0.0
    # Room on the right for the value labels printed outside the bars.
    figure.update_xaxes(
        title_text=value_label, exponentformat="B", separatethousands=True, range=[0, max(largest, 1.0) * 1.18]
    )
    figure.update_yaxes(title_text=None, automargin=True, rangemode=None)
    return figure


def customer_amounts_figure(
    invoices: pd.DataFrame, *, predicted_amount: float | None, currency: Currency | None = None
) -> go.Figure:
    """A customer's invoice amounts over time with their moving average and the predicted next amount.

    ``invoices`` has ``invoice_date``, ``amount`` and ``moving_average`` (computed by finlib), in date order.
    The prediction has no date of its own; it is drawn one typical invoice gap after the last invoice. Only the
    latest ``MAX_CUSTOMER_POINTS`` invoices are drawn.
    """
    invoices = invoices.tail(MAX_CUSTOMER_POINTS)
    figure = go.Figure()
    figure.add_scatter(
        x=invoices["invoice_date"],
        y=invoices["amount"],
        customdata=invoices["chart_row"].tolist() if "chart_row" in invoices else None,  # a click picks the row
        name="Invoice amount",
        mode="markers+lines",
        line=dict(color=INVOICED_COLOR, width=1),
        marker=dict(size=7),
        hovertemplate=_money_hover(currency),
    )
    figure.add_scatter(
        x=invoices["invoice_date"],
        y=invoices["moving_average"],
        name="Moving average",
        mode="lines",
        line=dict(color=AVERAGE_COLOR, width=3),
        hovertemplate=_money_hover(currency),
    )
    if predicted_amount is not None and not pd.isna(predicted_amount) and len(invoices):
        last = invoices.iloc[-1]
        gaps = invoices["invoice_date"].diff().dropna()
        gap = gaps.median() if len(gaps) and gaps.median() > pd.Timedelta(0) else pd.Timedelta(days=30)
        placed_at = last["invoice_date"] + gap
        figure.add_scatter(
            x=[last["invoice_date"], placed_at],
            y=[last["moving_average"], predicted_amount],
            mode="lines",
            line=dict(color=FORECAST_COLOR, dash="dot", width=2),
            showlegend=False,
            hoverinfo="skip",
        )
        figure.add_scatter(
            x=[placed_at],
            y=[predicted_amount],
            name="Predicted next invoice",
            mode="markers",
            marker=dict(color=FORECAST_COLOR, size=15, symbol="star"),
            hovertemplate=f"Predicted next invoice: {_money_hover(currency)}<extra></extra>",
        )
        return _selectable(_layout(figure, y_title=amount_header("Amount", currency)))
    return _selectable(
        _pad_single_date(_layout(figure, y_title=amount_header("Amount", currency)), invoices["invoice_date"])
    )


def _selectable(figure: go.Figure) -> go.Figure:
    """Hover and click pick one invoice (a unified hover would pick a date, and a click would select nothing);
    margins that grow (``GROWING_MARGIN``)."""
    figure.update_layout(hovermode="closest", margin=GROWING_MARGIN)
    return figure


def customer_delays_figure(paid: pd.DataFrame, average: float | None) -> go.Figure:
    """Days to pay for each paid invoice of a customer, with the average as a line.

    ``paid`` has ``invoice_date`` and ``delay_days``, in date order; the latest ``MAX_CUSTOMER_POINTS`` are drawn.
    """
    paid = paid.tail(MAX_CUSTOMER_POINTS)
    figure = go.Figure()
    figure.add_scatter(
        x=paid["invoice_date"],
        y=paid["delay_days"],
        customdata=paid["chart_row"].tolist() if "chart_row" in paid else None,
        name="Days to pay",
        mode="markers",
        marker=dict(color=COLLECTED_COLOR, size=10, line=dict(color="white", width=1)),
        hovertemplate="Invoice of %{x|%d %b %Y}: paid after %{y:,.0f} days<extra></extra>",
    )
    if average is not None and not pd.isna(average):
        figure.add_hline(
            y=average,
            line=dict(color=FORECAST_COLOR, dash="dash", width=2),
            annotation_text=f"average {average:.0f} days",
            annotation_position="top left",
        )
    _layout(figure, y_title="Days to pay")
    figure.update_layout(showlegend=False)
    return _selectable(_pad_single_date(figure, paid["invoice_date"]))
