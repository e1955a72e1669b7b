"""Administration commands: members, salt rotation, erasure, API tokens and the server."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, TextIO

from finlib.commands.projects import services_for
from finlib.config import Settings
from finlib.errors import ProjectError
from finlib.lazy import deferred

if TYPE_CHECKING:
    from finlib import projects
else:
    projects = deferred("finlib.projects")

log = logging.getLogger("finlib")


def rotate_salt_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib.lifecycle import rotate_salt

    report = rotate_salt(services_for(settings), args.name)
    print(
        f"{report.project}: salt version {report.salt_version}, {report.customers} customer and {report.people} "
        f"person aliases re-derived in {report.seconds:.2f} s; older audit rows keep the aliases they used",
        file=out,
    )
    return 0


def erase_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib.lifecycle import erase_project

    services = services_for(settings)
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


def members_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib import access

    services = services_for(settings)
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


def serve_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
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


def token_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from finlib import tokens

    services = services_for(settings)
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
