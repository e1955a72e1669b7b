"""The API's routes: the original design's /upload and /query, and the read endpoints under /api.

Every route calls the same service functions as the CLI and returns what the matching ``--json`` command prints.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from finlib import projects, reports
from finlib.api.cache import CachedProject
from finlib.api.guards import Caller, Grant
from finlib.api.state import AliasesParam, ApiState, CallerParam, StateParam
from finlib.config import Settings
from finlib.privacy.scanner import redact_strings

if TYPE_CHECKING:
    from finlib.chat.pipeline import ChatSession

MAX_QUESTION_CHARS = 2000
GZIP_MIN_BYTES = 8 * 1024
GZIP_LEVEL = 5


class QueryRequest(BaseModel):
    """A question about one project, as the original design's /query took it."""

    project_name: str = Field(min_length=1, max_length=63, examples=["demo"])
    query: str = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        examples=["What is the expected payment amount and date for ABC Company?"],
    )


router = APIRouter()


@router.post("/upload", tags=["original design"], summary="Register a ledger from S3 under a project name")
def upload(
    state: StateParam,
    caller: CallerParam,
    s3_url: Annotated[str, Form(max_length=2048, description="s3://bucket/key or an S3 https URL")],
    project_name: Annotated[str, Form(max_length=63)],
) -> dict[str, Any]:
    """Fetch, parse and register the file (the same allow-list and checks as the dashboard and the CLI)."""
    grant = state.options.policy.check(state.services, caller, project_name.strip(), "write")
    info = projects.register_project(state.services, project_name, s3_url, allow_local_paths=False, user=grant.user)
    state.cache.forget(info.name)
    return {
        "message": "uploaded",
        "project_name": info.name,
        "s3_url": s3_url,
        "rows": info.row_count,
        "rejected_rows": info.rejected_count,
        "customers": info.customer_count,
    }


@router.post("/query", tags=["original design"], summary="Ask a question about a project")
def query(state: StateParam, caller: CallerParam, body: QueryRequest, aliases: AliasesParam = False) -> Response:
    """The answer and what ``ask --json`` gives: offline or the model, notes, numbers not found in the data."""
    from finlib.chat.pipeline import answer_question

    wait_s = state.limiter.acquire(caller.rate_key)
    if wait_s > 0:
        raise HTTPException(
            429,
            f"Too many questions from this client; ask again in {max(1, round(wait_s))} s.",
            headers={"Retry-After": str(max(1, round(wait_s)))},
        )
    if not body.query.strip():
        raise HTTPException(422, 'The question is empty: ask one in plain language, e.g. "Who owes us the most?".')
    grant = state.options.policy.check(state.services, caller, body.project_name, "ask")
    entry = state.cache.get(body.project_name)
    settings = state.services.settings
    session = entry.session(partial(_chat_session, settings=settings))
    answer = answer_question(
        session, body.query, settings=settings, engine=state.services.engine, stream=False, user_email=grant.user.email
    ).finish()
    payload = {"project_name": entry.loaded.info.name, **answer.to_json()}
    if aliases or grant.aliases_only:
        payload = redact_strings({**payload, "answer": answer.answer_aliased or answer.answer}, session.scanner)
    elif grant.log_names_shown:
        summary = f"API /query: {answer.question_aliased[:300]}"
        _log_names_shown(state, grant, body.project_name, "chat", summary, {"question": body.query})
    return _json(payload)


@router.get("/api/projects", tags=["projects"], summary="Every project (as `projects --json`)")
def list_projects(state: StateParam, caller: CallerParam) -> list[dict[str, Any]]:
    """Registered projects the caller may read, by name."""
    grant = state.options.policy.check(state.services, caller, None, "list")
    return [info.to_dict() for info in projects.list_projects(state.services, user=grant.user)]


@router.get("/api/projects/{name}", tags=["projects"], summary="One project (an entry of `projects --json`)")
def get_project(state: StateParam, caller: CallerParam, name: str) -> dict[str, Any]:
    """A project's source, version, row counts and parse warnings."""
    grant = state.options.policy.check(state.services, caller, name, "read")
    return projects.get_project(state.services, name, user=grant.user).to_dict()


@router.post("/api/projects/{name}/refresh", tags=["projects"], summary="Re-fetch the source when it changed")
def refresh(state: StateParam, caller: CallerParam, name: str) -> dict[str, Any]:
    """Re-read the project's file when its ETag changed; says whether it did (and then sends predicted-late alerts)."""
    grant = state.options.policy.check(state.services, caller, name, "write")
    info, changed = projects.refresh_project(state.services, name, user=grant.user)
    alerts = changed and bool(state.services.settings.alert_webhook_url)
    if changed:
        state.cache.forget(name)
    if alerts:
        from finlib.alerting import notify_late_invoices

        notify_late_invoices(state.services, info.name)  # as `refresh` does; sent on its own thread
    return {"changed": changed, "alerts_sent_to_webhook": alerts, "project": info.to_dict()}


@router.get("/api/projects/{name}/stats", tags=["reports"], summary="Portfolio and per-customer statistics")
def stats(
    request: Request,
    state: StateParam,
    caller: CallerParam,
    name: str,
    customer: Annotated[str | None, Query(max_length=300, description="only this customer")] = None,
    as_of: Annotated[str | None, Query(description="the ledger as it stood on this date, YYYY-MM-DD")] = None,
    aliases: AliasesParam = False,
) -> Response:
    """Exactly what ``python -m finlib stats NAME --json`` prints."""
    date = reports.parse_as_of(as_of, "as_of") if as_of else None
    if date is None:
        grant = state.options.policy.check(state.services, caller, name, "read")
        if not (aliases or grant.aliases_only):
            return _stored_stats(request, state, grant, name, customer)
    return _report(
        request,
        state,
        caller,
        name,
        ("stats", customer, as_of, aliases),
        aliases,
        lambda entry, aliases_only: reports.stats_document(
            # One table per date and view; each customer asked for is then a row of it.
            entry.report(
                ("stats table", as_of, aliases_only),
                lambda: reports.compute_stats_table(
                    entry.loaded, state.services.settings, as_of=date, aliases_only=aliases_only
                ),
            ),
            customer,
        ),
    )


@router.get("/api/projects/{name}/kpis", tags=["reports"], summary="Balances as of a date, activity over a period")
def kpis(
    request: Request,
    state: StateParam,
    caller: CallerParam,
    name: str,
    as_of: Annotated[str | None, Query(description="balances as of this date, YYYY-MM-DD")] = None,
    start: Annotated[str | None, Query(alias="from", description="first day of the period, YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(alias="to", description="last day of the period, YYYY-MM-DD")] = None,
    aliases: AliasesParam = False,
) -> Response:
    """Exactly what ``python -m finlib kpis NAME --json`` prints."""
    dates = {
        field: reports.parse_as_of(text, label) if text else None
        for field, text, label in (("as_of", as_of, "as_of"), ("start", start, "from"), ("end", end, "to"))
    }
    return _report(
        request,
        state,
        caller,
        name,
        ("kpis", as_of, start, end),
        aliases,
        lambda entry, aliases_only: reports.kpis_report(entry.loaded, **dates, aliases_only=aliases_only),
    )


@router.get("/api/projects/{name}/forecast", tags=["reports"], summary="Payment dates and 13-week cash-in")
def forecast(
    request: Request,
    state: StateParam,
    caller: CallerParam,
    name: str,
    as_of: Annotated[str | None, Query(description="forecast as of this date, YYYY-MM-DD")] = None,
    method: Annotated[
        str | None, Query(max_length=40, description="a date method (default: the backtest's best)")
    ] = None,
    aliases: AliasesParam = False,
) -> Response:
    """Exactly what ``python -m finlib forecast NAME --json`` prints."""
    date = reports.parse_as_of(as_of, "as_of") if as_of else None
    settings = state.services.settings
    return _report(
        request,
        state,
        caller,
        name,
        ("forecast", as_of, method),
        aliases,
        lambda entry, aliases_only: (
            reports.forecast_report(
                entry.loaded, settings, as_of=date, method=method, aliases_only=aliases_only
            ).document
        ),
    )


@router.get("/api/projects/{name}/backtest", tags=["reports"], summary="How well each forecast method did")
def backtest(
    request: Request, state: StateParam, caller: CallerParam, name: str, aliases: AliasesParam = False
) -> Response:
    """Exactly what ``python -m finlib backtest NAME --json`` prints (computed once per file version)."""
    settings = state.services.settings
    return _report(
        request,
        state,
        caller,
        name,
        ("backtest",),
        aliases,
        # Method names and error figures only: the same document with or without aliases.
        lambda entry, _: reports.backtest_report(entry.loaded, settings).document,
    )


@router.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown(rest: str) -> Response:
    """A JSON 404 for any other /api path (instead of the dashboard's page)."""
    raise HTTPException(404, "No such API endpoint; the endpoints are listed at /docs.")


def _chat_session(loaded: projects.LoadedProject, settings: Settings) -> ChatSession:
    from finlib.chat.pipeline import build_chat_session

    return build_chat_session(
        loaded.info.name, loaded.ledger, loaded.aliases, settings, loaded.info.currency, loaded.report.figure_notes
    )


def _stored_stats(request: Request, state: ApiState, grant: Grant, name: str, customer: str | None) -> Response:
    """``stats`` as of the ledger's latest date, from the figures stored at registration: no ledger is loaded."""
    from finlib import summaries

    def build() -> bytes:
        summarized = summaries.load_summary(state.services, name, user=grant.user)
        document = summaries.stats_document(
            summarized.info.name, summarized.summary, customer=customer, currency=summarized.info.currency
        )
        return _encode(document)

    # Kept per project version (and customer): a read parses every customer's stored figures.
    version = projects.get_project(state.services, name, user=grant.user).version
    body = state.documents.get(("stats", name, version, customer), build)
    if grant.log_names_shown:
        _log_names_shown(state, grant, name, "view", "API stats report", {"parameters": ["stats", str(customer)]})
    return _send(
        request,
        body,
        lambda: state.documents.get(
            ("stats", name, version, customer, "gzip"), lambda: gzip.compress(body, GZIP_LEVEL)
        ),
    )


def _report(
    request: Request,
    state: ApiState,
    caller: Caller,
    name: str,
    key: tuple[Any, ...],
    aliases: bool,
    build: Callable[[CachedProject, bool], Any],
) -> Response:
    """A report of one project: access checked, built once per project version and parameters, sent as JSON."""
    grant: Grant = state.options.policy.check(state.services, caller, name, "read")
    aliases_only = aliases or grant.aliases_only
    entry = state.cache.get(name)
    body = entry.report((*key, aliases_only), lambda: _encode(build(entry, aliases_only)))
    if not aliases_only and grant.log_names_shown:
        _log_names_shown(state, grant, name, "view", f"API {key[0]} report", {"parameters": [str(k) for k in key]})
    # A big report is compressed once per version and sent compressed to every client that accepts it.
    return _send(
        request, body, lambda: entry.report((*key, aliases_only, "gzip"), lambda: gzip.compress(body, GZIP_LEVEL))
    )


def _send(request: Request, body: bytes, packed: Callable[[], bytes]) -> Response:
    """A JSON body, gzip-compressed (``packed``) when it is big and the client accepts that."""
    if len(body) < GZIP_MIN_BYTES or "gzip" not in request.headers.get("accept-encoding", ""):
        return Response(body, media_type="application/json", headers={"Vary": "Accept-Encoding"})
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(packed(), media_type="application/json", headers=headers)


def _log_names_shown(
    state: ApiState, grant: Grant, project: str, action: str, summary: str, detail: dict[str, Any]
) -> None:
    """Append to the project's access log that this user was shown real names (``detail`` is sealed)."""
    from finlib import access

    access.record_access(state.services.engine, grant.user, project, action, summary, detail)


def _encode(payload: Any) -> bytes:
    # default=str as the CLI's backtest --json: a few figures are dates.
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")


def _json(payload: Any) -> Response:
    return Response(_encode(payload), media_type="application/json")
