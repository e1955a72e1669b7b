"""Project commands: create the database, register, upload, refresh, list and delete projects."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, TextIO

from finlib.config import Settings
from finlib.currency import parse_currency
from finlib.errors import ProjectError
from finlib.lazy import deferred

if TYPE_CHECKING:
    from finlib import projects
else:
    projects = deferred("finlib.projects")


def services_for(settings: Settings) -> projects.Services:
    """The service layer for one command."""
    return projects.Services(settings)


def init_db_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    services_for(settings)
    print(f"database ready ({settings.database_backend})", file=out)
    return 0


def demo_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    services = services_for(settings)
    if not args.force and any(info.name == projects.DEMO_PROJECT for info in projects.list_projects(services)):
        print(f"project {projects.DEMO_PROJECT} exists already; use --force to re-create it", file=out)
        return 0
    print_registered(projects.register_demo_project(services), out)
    return 0


def register_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    mapping = parse_mapping(args.mapping) if args.mapping else None
    currency = parse_currency(args.currency) if args.currency else None
    services = services_for(settings)
    info = projects.register_project(services, args.name, args.source, mapping=mapping, allow_local_paths=True)
    if currency is not None:
        info = projects.set_currency(services, info.name, currency)
    print_registered(info, out)
    return 0


def upload_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    try:
        data = args.path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"Cannot read {args.path}: {exc.strerror}. Check the path.") from exc
    info = projects.upload_project(services_for(settings), args.name, args.path.name, data)
    print_registered(info, out)
    return 0


def refresh_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    services = services_for(settings)
    info, changed = projects.refresh_project(services, args.name)
    if changed:
        print_registered(info, out)
        if settings.alert_webhook_url:
            from finlib.alerting import notify_late_invoices

            notify_late_invoices(services, info.name)  # finishes on its own thread before the process exits
            print("  predicted-late alerts are being sent to ALERT_WEBHOOK_URL", file=out)
    else:
        print(f"{info.name}: unchanged (ETag {info.etag})", file=out)
    return 0


def projects_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    infos = projects.list_projects(services_for(settings))
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


def currency_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    services = services_for(settings)
    if args.code is None:
        info = projects.get_project(services, args.name)
    else:
        chosen = None if args.code.casefold() == "none" else parse_currency(args.code, args.symbol)
        info = projects.set_currency(services, args.name, chosen)
    shown = info.currency.label if info.currency else "none stated (amounts are shown as bare numbers)"
    print(f"{info.name}: currency {shown}", file=out)
    return 0


def delete_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    projects.delete_project(services_for(settings), args.name)
    print(f"deleted project {args.name}", file=out)
    return 0


def parse_mapping(text: str) -> dict[str, str]:
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(f'--mapping is not valid JSON ({exc.msg}); write it as \'{{"Header": "field"}}\'.') from exc
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ProjectError('--mapping must be a JSON object of strings: {"Source header": "canonical_field"}.')
    return mapping


def print_registered(info: projects.ProjectInfo, out: TextIO) -> None:
    print(
        f"{info.name}: {info.row_count} rows, {info.customer_count} customers, "
        f"{info.rejected_count} rejected rows ({info.format}, ETag {info.etag})",
        file=out,
    )
    if info.currency is not None:
        print(f"  amounts in {info.currency.label}", file=out)
    for example in info.report.rejected_examples[:5]:
        print(f"  rejected row {example['row']}: {example['reason']}", file=out)
    if info.report.extra_columns:
        print(f"  kept as categories: {', '.join(info.report.extra_columns)}", file=out)
    for warning in info.report.warnings:
        print(f"  warning: {warning}", file=out)
