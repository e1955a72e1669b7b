"""Sign-in: who is using this session (OpenID Connect via st.login, or a trusted proxy's headers, or nobody).

With an ``[auth]`` section in ``.streamlit/secrets.toml`` every page requires a signed-in user; with
``server.trustedUserHeaders`` the proxy in front (oauth2-proxy and the like) names the user; with neither,
the app keeps its single-user local mode and says so in the sidebar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from finlib import access
from finlib.access import LOCAL_USER, User
from finlib.errors import FinlibError

USER_STATE = "auth_user"
ROLE_STATE = "auth_role"
SEEN_STATE = "auth_seen_views"


def sign_in_mode() -> str:
    """'oidc', 'proxy' or 'local'."""
    try:
        if "auth" in st.secrets:
            return "oidc"
    except Exception:  # noqa: BLE001 - a missing or malformed secrets.toml means no sign-in configured
        pass
    if st.get_option("server.trustedUserHeaders"):
        return "proxy"
    return "local"


def _groups(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [part for part in raw.replace(";", ",").split(",") if part.strip()]
    if isinstance(raw, list | tuple):
        return [str(part) for part in raw]
    return []


def require_user() -> User:
    """The acting user of this session; without one, draws the sign-in screen and stops the run."""
    mode = sign_in_mode()
    if mode == "local":
        user = LOCAL_USER
    elif mode == "oidc" and not st.user.is_logged_in:
        _render_sign_in()
        st.stop()
    else:
        email = st.user.get("email")
        if not email:
            st.title("Invoice analytics")
            st.error(
                "The sign-in did not name an e-mail address, so access cannot be checked. Ask your administrator to "
                "send the e-mail claim (OIDC scope 'email') or header."
            )
            st.stop()
        try:
            user = User.signed_in(str(email), _groups(st.user.get("groups")))
        except FinlibError as error:
            st.error(str(error))
            st.stop()
    st.session_state[USER_STATE] = user
    return user


def session_user() -> User:
    """The user ``require_user`` found for this run (the frame always runs it first)."""
    user = st.session_state.get(USER_STATE)
    return user if isinstance(user, User) else LOCAL_USER


def _render_sign_in() -> None:
    st.title("Invoice analytics")
    st.write("This dashboard shows your team's receivables. Sign in with your company account to continue.")
    st.button("Sign in", key="auth_sign_in", type="primary", on_click=st.login, icon=":material/login:")


def render_account(user: User, role: str | None) -> None:
    """The sidebar's account line: who is signed in and their role, or that no sign-in is configured."""
    if user.operator:
        st.caption(
            ":material/person: Single-user local mode: no sign-in is configured, so whoever reaches this address "
            "sees every project. See .streamlit/secrets.toml.example to require sign-in."
        )
        return
    st.caption(f":material/person: **{user.email}** · {role or 'no access to this project'}")
    if sign_in_mode() == "oidc":
        st.button("Sign out", key="auth_sign_out", on_click=st.logout, icon=":material/logout:")


def render_no_access(user: User) -> None:
    """Deny by default: a signed-in user without any membership sees this and nothing else."""
    st.title("Invoice analytics")
    st.info(
        f"You are signed in as {user.email}, but no project is shared with you yet. "
        "Ask an admin of the project to add you (python -m finlib members PROJECT add EMAIL ROLE).",
        icon=":material/lock:",
    )


def record_view(services: Any, user: User, project: str | None, version: str, page: str, names_shown: bool) -> None:
    """Log once per session, page and project version that the user (local mode: "local") saw real names."""
    if project is None or not names_shown:
        return
    seen: set[tuple[str, str, str]] = st.session_state.setdefault(SEEN_STATE, set())
    if (project, version, page) in seen:
        return
    access.record_access(services.engine, user, project, "view", f"{page} page with real names", {"page": page})
    seen.add((project, version, page))


def record_export(
    services: Any, user: User, project: str, filename: str, names: list[str] | Callable[[], list[str]]
) -> None:
    """Log an export that carries real names (``names``, or a function giving them: sealed; empty: aliases only)."""
    names = names() if callable(names) else names
    if not names:
        return
    summary = f"{filename}: {len(names)} customers with real names"
    access.record_access(services.engine, user, project, "export", summary, {"file": filename, "customers": names})


def names_in(table: Any, column: str, context: Any) -> list[str]:
    """The distinct names in an export's column, or none when the export shows aliases (presentation mode)."""
    if context.presentation or column not in table.columns:
        return []
    return sorted({str(value) for value in table[column].dropna()})


def record_chat(services: Any, user: User, project: str, answer: Any) -> None:
    """Log a chat answer shown with real names: the question as typed and the answer as shown are sealed."""
    summary = f"chat answer (audit entry {answer.audit_id}): {answer.question_aliased[:200]}"
    detail = {"question": answer.question, "answer": answer.answer}
    access.record_access(services.engine, user, project, "chat", summary, detail)
