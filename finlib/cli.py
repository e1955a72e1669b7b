"""The command line: a thin face over finlib's service layer (`python -m finlib ...`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from finlib.commands import admin, analysis
from finlib.commands import projects as project_commands
from finlib.config import Settings, load_settings
from finlib.errors import FinlibError
from finlib.logs import configure_logging

log = logging.getLogger("finlib")


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
    register.add_argument(
        "--currency", help="ISO code amounts are in, e.g. EUR (default: the ledger's, if it states one)"
    )

    upload = commands.add_parser("upload", help="store a local file in the object store, then register it")
    upload.add_argument("name")
    upload.add_argument("path", type=Path)

    refresh = commands.add_parser("refresh", help="re-fetch a project's source when it changed")
    refresh.add_argument("name")

    currency = commands.add_parser("currency", help="show or set the currency a project's amounts are shown in")
    currency.add_argument("name")
    currency.add_argument("code", nargs="?", help="ISO 4217 code, e.g. EUR; 'none' for bare numbers")
    currency.add_argument("--symbol", help="the symbol to write amounts with (default: the code's usual one, e.g. €)")

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


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, TextIO], int]] = {
    "init-db": project_commands.init_db_command,
    "demo": project_commands.demo_command,
    "register": project_commands.register_command,
    "upload": project_commands.upload_command,
    "refresh": project_commands.refresh_command,
    "projects": project_commands.projects_command,
    "currency": project_commands.currency_command,
    "delete": project_commands.delete_command,
    "stats": analysis.stats_command,
    "forecast": analysis.forecast_command,
    "backtest": analysis.backtest_command,
    "kpis": analysis.kpis_command,
    "ask": analysis.ask_command,
    "rotate-salt": admin.rotate_salt_command,
    "erase": admin.erase_command,
    "serve": admin.serve_command,
    "token": admin.token_command,
    "members": admin.members_command,
}
