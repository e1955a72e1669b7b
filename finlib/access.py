"""Access: the acting user, per-project roles from the memberships table (deny by default), and the access log.

Roles rank viewer < analyst < admin. Viewers see aliases only (presentation mode everywhere, no de-aliasing,
no exports with real names); analysts see names, chat and exports; admins also register, refresh, delete,
rotate, erase and manage members. A principal is a lower-cased e-mail or ``group:NAME``; a user's role in a
project is the highest any of their principals holds there, and a user with none sees nothing of it. Users in
``FINLIB_ADMINS`` are admins of every project and may create new ones. ``LOCAL_USER`` is the single user of
an install without sign-in, and the operator at the command line (who holds the database credentials anyway):
admin of every project.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from finlib import db
from finlib.config import Settings
from finlib.errors import AccessDeniedError, ProjectError

log = logging.getLogger(__name__)

ROLE_RANK = {"viewer": 1, "analyst": 2, "admin": 3}
GROUP_PREFIX = "group:"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GROUP = re.compile(r"^group:[^\s]{1,200}$")


@dataclass(frozen=True)
class User:
    """Who is acting: a signed-in e-mail with its groups, or the local operator."""

    email: str
    groups: tuple[str, ...] = field(default=())
    operator: bool = False

    @classmethod
    def signed_in(cls, email: str, groups: Sequence[str] = ()) -> User:
        """A user as the identity provider named them (e-mail and groups compared case-insensitively)."""
        principal = normalise_principal(email)
        if principal.startswith(GROUP_PREFIX):
            raise AccessDeniedError("A signed-in user needs an e-mail address; the identity provider sent none.")
        return cls(principal, tuple(sorted({group.strip().lower() for group in groups if group.strip()})))

    @property
    def principals(self) -> tuple[str, ...]:
        """The e-mail and ``group:NAME`` for each group: what memberships may name."""
        return (self.email, *(GROUP_PREFIX + group for group in self.groups))


LOCAL_USER = User("local", operator=True)


def normalise_principal(text: str) -> str:
    """A lower-cased e-mail or ``group:name``; ProjectError when it is neither."""
    principal = (text or "").strip().lower()
    if _EMAIL.match(principal) or _GROUP.match(principal):
        return principal
    raise ProjectError(f"{text!r} is neither an e-mail address nor group:NAME; name a user as ana@example.com.")


def validate_role(role: str) -> str:
    """The role, or ProjectError listing the roles."""
    if role not in ROLE_RANK:
        raise ProjectError(f"{role!r} is not a role; use one of {', '.join(ROLE_RANK)}.")
    return role


def is_global_admin(settings: Settings, user: User) -> bool:
    """The operator, or a user named in FINLIB_ADMINS."""
    return user.operator or user.email in settings.admins


def role_in(engine: Engine, settings: Settings, user: User, project: str) -> str | None:
    """The user's role in a project (None: no access, or no such project)."""
    with db.session_scope(engine) as session:
        project_id = session.scalar(sa.select(db.Project.id).where(db.Project.name == project))
        if project_id is None:
            return None
        if is_global_admin(settings, user):
            return "admin"
        roles = session.scalars(
            sa.select(db.Membership.role).where(
                db.Membership.project_id == project_id, db.Membership.principal.in_(user.principals)
            )
        ).all()
    return max(roles, key=ROLE_RANK.__getitem__, default=None)


def require_role(engine: Engine, settings: Settings, user: User, project: str, needed: str) -> str:
    """The user's role in the project if it is at least ``needed``, else AccessDeniedError.

    A missing project is the same refusal as one without a membership, so names do not leak to outsiders;
    the operator gets ProjectNotFoundError from the caller instead.
    """
    role = role_in(engine, settings, user, project)
    if role is None:
        if user.operator:
            return "admin"  # the caller reports the missing project
        raise AccessDeniedError(
            f"You ({user.email}) have no access to project {project!r}; ask one of its admins to add you."
        )
    if ROLE_RANK[role] < ROLE_RANK[validate_role(needed)]:
        raise AccessDeniedError(f"Your role in project {project!r} is {role}; this needs {needed} or above.")
    return role


def visible_project_names(engine: Engine, settings: Settings, user: User) -> set[str] | None:
    """Names of the projects the user may see; None means all of them."""
    if is_global_admin(settings, user):
        return None
    with db.session_scope(engine) as session:
        names = session.scalars(
            sa.select(db.Project.name)
            .join(db.Membership, db.Membership.project_id == db.Project.id)
            .where(db.Membership.principal.in_(user.principals))
        ).all()
    return set(names)


@dataclass(frozen=True)
class Member:
    """One membership of a project."""

    principal: str
    role: str
    created_at: datetime
    created_by: str | None


def list_members(engine: Engine, settings: Settings, user: User, project: str) -> list[Member]:
    """A project's memberships (admins only)."""
    require_role(engine, settings, user, project, "admin")
    with db.session_scope(engine) as session:
        rows = session.scalars(
            sa.select(db.Membership)
            .join(db.Project, db.Project.id == db.Membership.project_id)
            .where(db.Project.name == project)
            .order_by(db.Membership.principal)
        ).all()
        return [Member(row.principal, row.role, row.created_at, row.created_by) for row in rows]


def add_member(engine: Engine, settings: Settings, user: User, project: str, principal: str, role: str) -> Member:
    """Give a user or group a role in a project (an existing membership changes role)."""
    principal, role = normalise_principal(principal), validate_role(role)
    require_role(engine, settings, user, project, "admin")
    with db.session_scope(engine) as session:
        project_id = _project_id(session, project)
        row = session.scalar(
            sa.select(db.Membership).where(db.Membership.project_id == project_id, db.Membership.principal == principal)
        )
        if row is None:
            row = db.Membership(project_id=project_id, principal=principal, role=role, created_by=user.email)
            session.add(row)
        row.role = role
        session.flush()
        return Member(row.principal, row.role, row.created_at, row.created_by)


def remove_member(engine: Engine, settings: Settings, user: User, project: str, principal: str) -> bool:
    """Remove a membership; whether there was one. The last admin cannot be removed by a non-operator."""
    principal = normalise_principal(principal)
    require_role(engine, settings, user, project, "admin")
    with db.session_scope(engine) as session:
        project_id = _project_id(session, project)
        row = session.scalar(
            sa.select(db.Membership).where(db.Membership.project_id == project_id, db.Membership.principal == principal)
        )
        if row is None:
            return False
        admins = session.scalar(
            sa.select(sa.func.count()).where(db.Membership.project_id == project_id, db.Membership.role == "admin")
        )
        if row.role == "admin" and admins == 1 and not is_global_admin(settings, user):
            raise ProjectError(f"{principal} is the last admin of {project!r}; add another admin first.")
        session.delete(row)
        return True


def _project_id(session: Any, project: str) -> int:
    project_id = session.scalar(sa.select(db.Project.id).where(db.Project.name == project))
    if project_id is None:
        raise ProjectError(f"There is no project named {project!r}.")
    return int(project_id)


def record_access(
    engine: Engine, user: User, project: str, action: str, summary: str, detail: dict[str, Any]
) -> int | None:
    """Append who saw real names: ``summary`` must hold aliases only; ``detail`` (real names) is sealed.

    Returns the event's id, or None when the project no longer exists.
    """
    from finlib.privacy import keys  # cryptography loads only when a real name is shown

    if action not in db.ACCESS_ACTIONS:
        raise ValueError(f"unknown access action {action!r}")
    with db.session_scope(engine) as session:
        row = session.scalar(sa.select(db.Project).where(db.Project.name == project))
        if row is None:
            return None
        key = keys.project_key(session, row.id)
        event = db.AccessEvent(
            project_id=row.id,
            project_name=project,
            user_email=user.email,
            action=action,
            salt_version=row.salt_version or 0,
            summary=summary,
            sealed=keys.seal(key.data_key, detail),
        )
        session.add(event)
        session.flush()
        return int(event.id)


@dataclass(frozen=True)
class AccessRecord:
    """One access event as an admin reads it; ``detail`` is None once the project's key is destroyed."""

    id: int
    created_at: datetime
    user_email: str
    action: str
    salt_version: int
    summary: str
    detail: dict[str, Any] | None


def read_access_log(
    engine: Engine, settings: Settings, user: User, project: str, limit: int = 200
) -> list[AccessRecord]:
    """The newest access events of a project with their sealed details opened (admins only)."""
    from finlib.privacy import keys

    require_role(engine, settings, user, project, "admin")
    with db.session_scope(engine) as session:
        project_id = _project_id(session, project)
        key = session.get(db.ProjectKey, project_id)
        rows = session.scalars(
            sa.select(db.AccessEvent)
            .where(db.AccessEvent.project_id == project_id)
            .order_by(db.AccessEvent.id.desc())
            .limit(limit)
        ).all()
        return [
            AccessRecord(
                row.id,
                row.created_at,
                row.user_email,
                row.action,
                row.salt_version,
                row.summary,
                keys.unseal(key.data_key, row.sealed) if key is not None and row.sealed else None,
            )
            for row in rows
        ]
