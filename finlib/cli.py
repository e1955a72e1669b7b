"""The command line: a thin face over finlib's service layer (`python -m finlib ...`)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from finlib.config import Settings, load_settings
from finlib.errors import FinlibError, ProjectError
from finlib.lazy import deferred
from finlib.logs import configure_logging

# `--help` and `projects` must start in a fraction of a second: pandas and the services load on first use.
if TYPE_CHECKING:
    import pandas as pd

    from finlib import projects, reports, summaries
else:
    pd = deferred("pandas")
    projects = deferred("finlib.projects")
    reports = deferred("finlib.reports")
    summaries = deferred("finlib.summaries")

log = logging.getLogger("finlib")

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subcommand per action."""
    parser = argparse.ArgumentParser(
        prog="python -m finlib", description="Invoice ledger analytics with aliased names."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("init-db", help="create the database tables")
    demo = commands.add_parser(
        "demo", help="create the 'demo' project from the bundled sample ledger (again, if deleted)"
    )
    demo.add_argument("--force", action="store_true", help="re-create it even if it exists")

    register = commands.add_parser("register", help="register a ledger from S3 or a local file")
    register.add_argument("name")
    register.add_argument("source", help="s3://bucket/key, an S3 https URL, or a local path")
    register.add_argument("--mapping", help='explicit column mapping as JSON: {"Source header": "customer_name"}')

    upload = commands.add_parser("upload", help="store a local file in the object store, then register it")
    upload.add_argument("name")
    upload.add_argument("path", type=Path)

    refresh = commands.add_parser("refresh", help="re-fetch a project's source when it changed")
    refresh.add_argument("name")

    listing = commands.add_parser("projects", help="list projects")
    listing.add_argument("--json", action="store_true")

    stats = commands.add_parser("stats", help="portfolio and per-customer statistics and forecasts")
    stats.add_argument("name")
    stats.add_argument("--customer", help="only this customer (name as in the ledger, any case)")
    stats.add_argument("--as-of", help="the ledger as it stood on this date (YYYY-MM-DD); default: its latest date")
    stats.add_argument("--json", action="store_true")

    forecast = commands.add_parser("forecast", help="predicted payment date of every open invoice, 13-week cash-in")
    forecast.add_argument("name")
    forecast.add_argument("--as-of", help="forecast as of this date (YYYY-MM-DD); later payments are unknown to it")
    forecast.add_argument("--method", help="a date method (default: the best in the project's backtest)")
    forecast.add_argument("--json", action="store_true")

    backtest = commands.add_parser("backtest", help="rolling-origin backtest of every forecast method")
    backtest.add_argument("name")
    backtest.add_argument("--json", action="store_true")
    kpis = commands.add_parser("kpis", help="balances as of a date, activity over a period, and the monthly trend")
    kpis.add_argument("name")
    kpis.add_argument("--as-of", help="balances as of this date (YYYY-MM-DD); default: the ledger's latest date")
    kpis.add_argument("--from", dest="start", help="first day of the activity period (YYYY-MM-DD)")
    kpis.add_argument("--to", dest="end", help="last day of the activity period (YYYY-MM-DD)")
    kpis.add_argument("--json", action="store_true")

    delete = commands.add_parser("delete", help="delete a project and its aliases")
    delete.add_argument("name")

    rotate = commands.add_parser("rotate-salt", help="re-derive every alias of a project under a new salt")
    rotate.add_argument("name")

    erase = commands.add_parser("erase", help="erase a project for good: data, caches, uploads, its key")
    erase.add_argument("name")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    members = commands.add_parser("members", help="list, add or remove who may see a project (and their role)")
    members.add_argument("name")
    members.add_argument("action", nargs="?", choices=["add", "remove"])
    members.add_argument("principal", nargs="?", metavar="EMAIL", help="an e-mail address or group:NAME")
    members.add_argument("role", nargs="?", choices=["viewer", "analyst", "admin"])

    ask = commands.add_parser("ask", help="ask a question about a project in plain language")
    ask.add_argument("name")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")

    serve = commands.add_parser("serve", help="serve the dashboard at / and the HTTP API beside it (docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    serve.add_argument("--port", type=int, default=8501)

    token = commands.add_parser("token", help="create, list or revoke API tokens")
    token_actions = token.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = token_actions.add_parser("create", help="create a token for a user (shown once)")
    create.add_argument("user", help="the user the token acts for (their sign-in e-mail)")
    create.add_argument("--label", help="what the token is for, e.g. 'nightly refresh'")
    token_list = token_actions.add_parser("list", help="list tokens (never their secrets)")
    token_list.add_argument("--user")
    revoke = token_actions.add_parser("revoke", help="revoke a token by its shown prefix or id")
    revoke.add_argument("token", help="the prefix `token list` shows (fin_...) or the id")
    return parser


def main(argv: Sequence[str] | None = None, *, environ: dict[str, str] | None = None) -> int:
    """Run one command; 0 on success, 1 with one line on stderr on a known failure, 2 on bad usage."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(environ) if environ is not None else load_settings()
        configure_logging(settings, debug=args.debug)
        return COMMANDS[args.command](args, settings, sys.stdout)
    except FinlibError as exc:
        if args.debug:
            raise
        log.debug("command failed", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces the closed pipe for the interpreter's exit flush
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, details in app.log
        if args.debug:
            raise
        if logging.getLogger().handlers:  # without app.log, logging would print the traceback to stderr
            log.exception("unexpected failure in %s", args.command)
        print(f"error: unexpected {type(exc).__name__}; details are in app.log (rerun with --debug)", file=sys.stderr)
        return 1


def _services(settings: Settings) -> projects.Services:
    return projects.Services(settings)


def _init_db(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    _services(settings)
    print(f"database ready ({settings.database_backend})", file=out)
    return 0


def _demo(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    services = _services(settings)
    if not args.force and any(info.name == projects.DEMO_PROJECT for info in projects.list_projects(services)):
        print(f"project {projects.DEMO_PROJECT} exists already; use --force to re-create it", file=out)
        return 0
    _print_registered(projects.register_demo_project(services), out)
    return 0


def _register(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    mapping = _parse_mapping(args.mapping) if args.mapping else None
    info = projects.register_project(
        _services(settings), args.name, args.source, mapping=mapping, allow_local_paths=True
    )
    _print_registered(info, out)
    return 0


def _upload(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    try:
        data = args.path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"Cannot read {args.path}: {exc.strerror}. Check the path.") from exc
    info = projects.upload_project(_services(settings), args.name, args.path.name, data)
    _print_registered(info, out)
    return 0


def _refresh(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    services = _services(settings)
    info, changed = projects.refresh_project(services, args.name)
    if changed:
        _print_registered(info, out)
        if settings.alert_webhook_url:
            from finlib.alerting import notify_late_invoices

            notify_late_invoices(services, info.name)  # finishes on its own thread before the process exits
            print("  predicted-late alerts are being sent to ALERT_WEBHOOK_URL", file=out)
    else:
        print(f"{info.name}: unchanged (ETag {info.etag})", file=out)
    return 0


def _projects(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    infos = projects.list_projects(_services(settings))
    if args.json:
        json.dump([info.to_dict() for info in infos], out, indent=2)
        out.write("\n")
        return 0
    if not infos:
        print("no projects yet: try `python -m finlib demo`", file=out)
        return 0
    for info in infos:
        state = f"  [{info.status}]" if info.status else ""
        print(
            f"{info.name}\t{info.row_count} rows\t{info.customer_count} customers\t"
            f"{info.rejected_count} rejected\t{info.source}{state}",
            file=out,
        )
    return 0


def _stats(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    services = _services(settings)
    if args.as_of:
        loaded = projects.load_project(services, args.name)
        as_of = reports.parse_as_of(args.as_of)
        payload = reports.stats_report(loaded, settings, customer=args.customer, as_of=as_of)
    else:
        # As of the ledger's latest date: the figures stored at registration, without reading the ledger.
        summarized = summaries.load_summary(services, args.name)
        payload = summaries.stats_document(summarized.info.name, summarized.summary, customer=args.customer)
    if args.json:
        _write_json(payload, out)
        return 0
    print(f"project {payload['project']} as of {payload['as_of']}", file=out)
    for key, value in payload["portfolio"].items():
        print(f"  {key}: {_text_value(value)}", file=out)
    if payload["customers"]:
        table = pd.DataFrame(payload["customers"])[TEXT_COLUMNS]
        # Float columns show na_rep themselves; in text and date columns a missing value is None.
        text_columns = table.select_dtypes(exclude="number").columns
        table[text_columns] = table[text_columns].fillna(MISSING_TEXT)
        print(table.to_string(index=False, na_rep=MISSING_TEXT, float_format=lambda number: f"{number:,.2f}"), file=out)
    return 0


def _forecast(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib.forecast import outlook

    loaded = projects.load_project(_services(settings), args.name)
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
        shown = outlook.invoice_records(forecast).drop(columns=["alias"]).head(FORECAST_TEXT_ROWS)
        print(f"\nopen invoices by predicted payment date (first {len(shown)} of {len(forecast.invoices)}):", file=out)
        print(shown.to_string(index=False, float_format=lambda number: f"{number:,.2f}"), file=out)
    return 0


def _backtest(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    loaded = projects.load_project(_services(settings), args.name)
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


def _kpis(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    loaded = projects.load_project(_services(settings), args.name)
    as_of = reports.parse_as_of(args.as_of) if args.as_of else None
    start = reports.parse_as_of(args.start, "--from") if args.start else None
    end = reports.parse_as_of(args.end, "--to") if args.end else None
    payload = reports.kpis_report(loaded, start=start, end=end, as_of=as_of)
    if args.json:
        json.dump(payload, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    print(
        f"project {payload['project']}: balances as of {payload['as_of']}, "
        f"activity {payload['period']['from']} to {payload['period']['to']}",
        file=out,
    )
    for section in ("balances", "activity"):
        print(f"{section}:", file=out)
        for key, value in payload[section].items():
            shown = (
                ", ".join(f"{k} {_plain_number(v)}" for k, v in value.items())
                if isinstance(value, dict)
                else _plain_number(value)
            )
            print(f"  {key}: {shown}", file=out)
    print("monthly:", file=out)
    table = pd.DataFrame(payload["monthly"])
    if not table.empty:
        print(table.to_string(index=False, float_format=lambda number: f"{number:,.2f}"), file=out)
    return 0


def _plain_number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "n/a" if value is None else str(value)


def _delete(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    projects.delete_project(_services(settings), args.name)
    print(f"deleted project {args.name}", file=out)
    return 0


def _rotate_salt(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib.lifecycle import rotate_salt

    report = rotate_salt(_services(settings), args.name)
    print(
        f"{report.project}: salt version {report.salt_version}, {report.customers} customer and {report.people} "
        f"person aliases re-derived in {report.seconds:.2f} s; older audit rows keep the aliases they used",
        file=out,
    )
    return 0


def _erase(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib.lifecycle import erase_project

    services = _services(settings)
    projects.get_project(services, args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ProjectError(f"Erasing {args.name!r} cannot be undone; rerun with --yes to confirm.")
        typed = input(f"Erase project {args.name!r} and everything finlib keeps of it, for good? Type its name: ")
        if typed.strip() != args.name:
            print("not erased", file=out)
            return 1
    for line in erase_project(services, args.name).lines():
        print(line, file=out)
    return 0


def _members(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib import access

    services = _services(settings)
    projects.get_project(services, args.name)
    engine, user = services.engine, access.LOCAL_USER
    if args.action == "add":
        if not (args.principal and args.role):
            raise ProjectError("Usage: members PROJECT add EMAIL viewer|analyst|admin.")
        member = access.add_member(engine, settings, user, args.name, args.principal, args.role)
        print(f"{args.name}: {member.principal} is {member.role}", file=out)
    elif args.action == "remove":
        if not args.principal:
            raise ProjectError("Usage: members PROJECT remove EMAIL.")
        removed = access.remove_member(engine, settings, user, args.name, args.principal)
        print(f"{args.name}: {args.principal} {'removed' if removed else 'was not a member'}", file=out)
    else:
        found = access.list_members(engine, settings, user, args.name)
        for member in found:
            print(f"{member.principal}\t{member.role}", file=out)
        if not found:
            print(f"{args.name}: no members (only FINLIB_ADMINS and the local user can see it)", file=out)
    return 0


def _ask(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib.chat.pipeline import answer_question, build_chat_session

    services = _services(settings)
    loaded = projects.load_project(services, args.name)
    session = build_chat_session(loaded.info.name, loaded.ledger, loaded.aliases, settings)
    reply = answer_question(session, args.question, settings=settings, engine=services.engine, stream=not args.json)
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


def _parse_mapping(text: str) -> dict[str, str]:
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(f'--mapping is not valid JSON ({exc.msg}); write it as \'{{"Header": "field"}}\'.') from exc
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ProjectError('--mapping must be a JSON object of strings: {"Source header": "canonical_field"}.')
    return mapping


def _text_value(value: object) -> str:
    if value is None:
        return MISSING_TEXT
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _write_json(payload: Any, out: TextIO) -> None:
    """Indented JSON through orjson: the standard encoder falls back to pure Python when indenting (~2 s at 1M rows)."""
    import orjson

    out.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode("utf-8"))


def _print_registered(info: projects.ProjectInfo, out: TextIO) -> None:
    print(
        f"{info.name}: {info.row_count} rows, {info.customer_count} customers, "
        f"{info.rejected_count} rejected rows ({info.format}, ETag {info.etag})",
        file=out,
    )
    for example in info.report.rejected_examples[:5]:
        print(f"  rejected row {example['row']}: {example['reason']}", file=out)
    if info.report.extra_columns:
        print(f"  kept as categories: {', '.join(info.report.extra_columns)}", file=out)
    for warning in info.report.warnings:
        print(f"  warning: {warning}", file=out)


def _serve(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    import importlib.util

    from finlib.config import PROJECT_ROOT

    if importlib.util.find_spec("streamlit") is None or importlib.util.find_spec("fastapi") is None:
        raise ProjectError("Serving needs streamlit and fastapi: install requirements.txt into this environment.")
    if not 0 <= args.port <= 65535:
        raise ProjectError(f"--port must be between 0 and 65535, got {args.port}.")
    # server.py holds the dashboard and the API in one app; `streamlit run` serves it with the dashboard's config.
    command = [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "server.py")]
    command += ["--server.address", args.host, "--server.port", str(args.port)]
    log.info("serving the dashboard and the API on %s:%d", args.host, args.port)
    out.flush()
    os.execv(sys.executable, command)
    return 0  # not reached: execv replaces this process


def _token(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib import tokens

    services = _services(settings)
    if args.action == "create":
        created = tokens.create_token(services, args.user, args.label)
        print(created.secret, file=out)
        print(
            f"token {created.info.prefix}… for {created.info.user}: shown once, store it now "
            "(send it as 'Authorization: Bearer <token>')",
            file=sys.stderr,
        )
        return 0
    if args.action == "revoke":
        info = tokens.revoke_token(services, args.token)
        print(f"revoked token {info.prefix}… of {info.user}", file=out)
        return 0
    for info in tokens.list_tokens(services, args.user):
        state = "active" if info.active else f"revoked {info.revoked_at:%Y-%m-%d}"
        used = f"last used {info.last_used_at:%Y-%m-%d %H:%M}" if info.last_used_at else "never used"
        print(f"{info.id}\t{info.prefix}…\t{info.user}\t{info.label or ''}\t{state}\t{used}", file=out)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, TextIO], int]] = {
    "init-db": _init_db,
    "demo": _demo,
    "register": _register,
    "upload": _upload,
    "refresh": _refresh,
    "projects": _projects,
    "stats": _stats,
    "forecast": _forecast,
    "backtest": _backtest,
    "kpis": _kpis,
    "delete": _delete,
    "ask": _ask,
    "rotate-salt": _rotate_salt,
    "erase": _erase,
    "serve": _serve,
    "token": _token,
    "members": _members,
}
