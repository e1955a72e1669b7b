"""Analysis commands: stats, kpis, forecast, backtest and ask, as text for people or JSON for programs."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO

from finlib.commands.projects import services_for
from finlib.config import Settings
from finlib.currency import Currency, format_amount
from finlib.errors import ProjectError
from finlib.lazy import deferred

# pandas and the services load on first use, so `--help` and `projects` stay light.
if TYPE_CHECKING:
    import pandas as pd

    from finlib import projects, reports, summaries
else:
    pd = deferred("pandas")
    projects = deferred("finlib.projects")
    reports = deferred("finlib.reports")
    summaries = deferred("finlib.summaries")

TEXT_COLUMNS = [
    "customer",
    "alias",
    "invoice_count",
    "total_amount",
    "moving_average",
    "trend",
    "avg_payment_delay_days",
    "last_payment_date",
    "predicted_next_payment_date",
]

MISSING_TEXT = "—"  # a value that does not exist (never paid, no trend yet), not zero
JSON_INDENT_LIMIT = 5_000  # beyond this many invoices `forecast --json` is written compact (it is for programs)
FORECAST_TEXT_ROWS = 50
# Figures of the stats and kpis documents that are amounts (written with the project's currency in text output).
AMOUNT_KEYS = frozenset(
    "outstanding overdue invoiced collected total_invoiced total_collected current 1-30 31-60 61-90 over_90".split()
)


def stats_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    services = services_for(settings)
    if args.as_of:
        loaded = projects.load_project(services, args.name)
        as_of = reports.parse_as_of(args.as_of)
        payload = reports.stats_report(loaded, settings, customer=args.customer, as_of=as_of)
    else:
        # As of the ledger's latest date: the figures stored at registration, without reading the ledger.
        summarized = summaries.load_summary(services, args.name)
        payload = summaries.stats_document(
            summarized.info.name, summarized.summary, customer=args.customer, currency=summarized.info.currency
        )
    if args.json:
        _write_json(payload, out)
        return 0
    currency = (loaded.info if args.as_of else summarized.info).currency
    print(f"project {payload['project']} as of {payload['as_of']}{_amounts_in(currency)}", file=out)
    for key, value in payload["portfolio"].items():
        print(f"  {key}: {_text_value(value, currency if key in AMOUNT_KEYS else None)}", file=out)
    if payload["customers"]:
        table = pd.DataFrame(payload["customers"])[TEXT_COLUMNS]
        # Float columns show na_rep themselves; in text and date columns a missing value is None.
        text_columns = table.select_dtypes(exclude="number").columns
        table[text_columns] = table[text_columns].fillna(MISSING_TEXT)
        print(table.to_string(index=False, na_rep=MISSING_TEXT, float_format=lambda number: f"{number:,.2f}"), file=out)
    return 0


def forecast_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib.forecast import outlook

    loaded = projects.load_project(services_for(settings), args.name, columns=reports.FORECAST_COLUMNS)
    as_of = reports.parse_as_of(args.as_of) if args.as_of else None
    report = reports.forecast_report(loaded, settings, as_of=as_of, method=args.method)
    forecast, kept = report.forecast, report.backtest
    method = forecast.method
    if args.json:
        large = len(forecast.invoices) > JSON_INDENT_LIMIT
        outlook.write_forecast_json(forecast, loaded.info.name, out, indent=None if large else 2)
        out.write("\n")
        return 0
    score = kept.date_score(method) if kept else None
    error = f"typical error ± {score.mae_days:.0f} days" if score else "run `backtest` for its typical error"
    print(
        f"project {loaded.info.name} as of {forecast.as_of:%Y-%m-%d}: {len(forecast.invoices)} open invoices", file=out
    )
    print(f"method: {forecast.method_label} ({error})", file=out)
    print("\ncash-in per week (expected, 10th-90th percentile band):", file=out)
    weeks = outlook.week_records(forecast)
    print(weeks.to_string(index=False, float_format=lambda number: f"{number:,.0f}"), file=out)
    if len(forecast.invoices):
        first = replace(forecast, invoices=forecast.invoices.head(FORECAST_TEXT_ROWS))  # not 200k rows to show 50
        shown = outlook.invoice_records(first).drop(columns=["alias"])
        print(f"\nopen invoices by predicted payment date (first {len(shown)} of {len(forecast.invoices)}):", file=out)
        print(shown.to_string(index=False, float_format=lambda number: f"{number:,.2f}"), file=out)
    return 0


def backtest_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    loaded = projects.load_project(services_for(settings), args.name, columns=reports.BACKTEST_COLUMNS)
    report = reports.backtest_report(loaded, settings)
    if args.json:
        json.dump(report.document, out, indent=2, allow_nan=False, default=str)
        out.write("\n")
        return 0
    result = report.result
    print(
        f"project {loaded.info.name}: {len(result.origins)} origins {result.origins[0]} .. {result.origins[-1]}, "
        f"{result.seconds:.1f} s",
        file=out,
    )
    for title, rows in (
        ("payment dates", result.dates),
        ("next invoice amount", result.amounts),
        ("weekly cash-in", result.cash),
    ):
        print(f"\n{title}:", file=out)
        frame = pd.DataFrame([vars(row) for row in rows])
        print(frame.to_string(index=False, float_format=lambda number: f"{number:,.3f}"), file=out)
    print(f"\nbest date method: {result.best_date_method}; best amount method: {result.best_amount_method}", file=out)
    for note in result.notes:
        print(f"note: {note}", file=out)
    return 0


def kpis_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    loaded = projects.load_project(services_for(settings), args.name, columns=reports.KPI_COLUMNS)
    as_of = reports.parse_as_of(args.as_of) if args.as_of else None
    start = reports.parse_as_of(args.start, "--from") if args.start else None
    end = reports.parse_as_of(args.end, "--to") if args.end else None
    payload = reports.kpis_report(loaded, start=start, end=end, as_of=as_of)
    if args.json:
        json.dump(payload, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    currency = loaded.info.currency
    print(
        f"project {payload['project']}: balances as of {payload['as_of']}, "
        f"activity {payload['period']['from']} to {payload['period']['to']}{_amounts_in(currency)}",
        file=out,
    )
    for section in ("balances", "activity"):
        print(f"{section}:", file=out)
        for key, value in payload[section].items():
            shown = (
                ", ".join(f"{k} {_plain_number(v, currency)}" for k, v in value.items())
                if isinstance(value, dict)
                else _plain_number(value, currency if key in AMOUNT_KEYS else None)
            )
            print(f"  {key}: {shown}", file=out)
    print("monthly:", file=out)
    table = pd.DataFrame(payload["monthly"])
    if not table.empty:
        print(table.to_string(index=False, float_format=lambda number: f"{number:,.2f}"), file=out)
    return 0


def ask_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib.access import LOCAL_USER
    from finlib.chat.pipeline import answer_question, build_chat_session

    if not args.question.strip():
        raise ProjectError('The question is empty: ask one in plain language, e.g. "Who owes us the most?".')
    services = services_for(settings)
    loaded = projects.load_project(services, args.name, columns=reports.CHAT_COLUMNS, compact=True)
    session = build_chat_session(
        loaded.info.name, loaded.ledger, loaded.aliases, settings, loaded.info.currency, loaded.report.figure_notes
    )
    reply = answer_question(
        session,
        args.question,
        settings=settings,
        engine=services.engine,
        stream=not args.json,
        user_email=LOCAL_USER.email,
    )
    if args.json:
        answer = reply.finish()
        json.dump(answer.to_json(), out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    for chunk in reply:
        out.write(chunk)
        out.flush()
    out.write("\n")
    answer = reply.result
    for note in answer.notes:
        print(f"note: {note}", file=out)
    if answer.unverified:
        print(f"\nnot from the data: {', '.join(answer.unverified)}", file=out)
    return 1 if answer.blocked else 0


def _amounts_in(currency: Currency | None) -> str:
    return f" (amounts in {currency.label})" if currency else ""


def _plain_number(value: object, currency: Currency | None = None) -> str:
    if isinstance(value, float):
        return format_amount(value, currency)
    return "n/a" if value is None else str(value)


def _text_value(value: object, currency: Currency | None = None) -> str:
    if value is None:
        return MISSING_TEXT
    if isinstance(value, float):
        return format_amount(value, currency)
    return str(value)


def _write_json(payload: Any, out: TextIO) -> None:
    """Indented JSON through orjson: the standard encoder falls back to pure Python when indenting (~2 s at 1M rows)."""
    import orjson

    out.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode("utf-8"))
