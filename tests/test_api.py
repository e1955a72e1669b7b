"""The HTTP API over real HTTP: uvicorn on 127.0.0.1, httpx as the client, the same answers as the CLI's --json."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.api_server import serve_app
from helpers.environment import TEST_SALT
from helpers.ledgers import LEDGER_CSV

from finlib import projects, tokens
from finlib.api.app import ApiOptions, create_api
from finlib.api.guards import Caller, Grant
from finlib.chat.phrasing import readable_day
from finlib.cli import main
from finlib.config import Settings, load_settings
from finlib.privacy.scanner import NameScanner, find_real_names
from finlib.projects import Services

EXAMPLE_QUESTION = "What is the expected payment amount and date for ABC Company?"


@dataclass
class Api:
    """A running API: its client, the services behind it, and the environment the CLI sees the same data with."""

    client: httpx.Client
    services: Services
    environ: dict[str, str]

    def cli_json(self, *argv: str, capsys: pytest.CaptureFixture[str]) -> Any:
        """What ``python -m finlib ARGV`` prints, parsed."""
        capsys.readouterr()
        assert main(list(argv), environ=self.environ) == 0
        return json.loads(capsys.readouterr().out)

    def name_scanner(self, project: str = "demo") -> NameScanner:
        """The scanner of every real customer and person name of a project (all their spellings and parts)."""
        return NameScanner.from_book(projects.load_project(self.services, project).aliases)


@pytest.fixture
def start_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Start the API over the demo project; keyword arguments are environment variables, ``options`` ApiOptions."""
    servers: list[Any] = []

    def start(options: ApiOptions | None = None, *, demo: bool = True, **env: str) -> Api:
        environ = {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": TEST_SALT, **env}
        services = Services(load_settings(environ, dotenv_path=None))
        if demo:
            projects.ensure_demo_project(services)
        server = serve_app(create_api(lambda: services, options))
        url = server.__enter__()
        servers.append(server)
        return Api(httpx.Client(base_url=url, timeout=120), services, environ)

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def api(start_api: Callable[..., Api]) -> Api:
    """The API on SQLite and the local store, offline answers, no tokens."""
    return start_api()


def test_projects_lists_what_projects_json_prints(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    response = api.client.get("/api/projects")
    assert response.status_code == 200
    assert response.json() == api.cli_json("projects", "--json", capsys=capsys)
    assert [p["name"] for p in response.json()] == ["demo"]


@pytest.mark.parametrize(
    ("query", "argv"),
    [
        ({}, []),
        ({"customer": "abc   COMPANY"}, ["--customer", "abc   COMPANY"]),
        ({"as_of": "2026-03-31"}, ["--as-of", "2026-03-31"]),
        ({"customer": "ABC Company", "as_of": "2026-06-30"}, ["--customer", "ABC Company", "--as-of", "2026-06-30"]),
    ],
)
def test_stats_returns_exactly_what_stats_json_prints(
    api: Api, capsys: pytest.CaptureFixture[str], query: dict[str, str], argv: list[str]
) -> None:
    response = api.client.get("/api/projects/demo/stats", params=query)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == api.cli_json("stats", "demo", "--json", *argv, capsys=capsys)


def test_stats_asked_twice_gives_the_same_document_from_the_cache(api: Api) -> None:
    first = api.client.get("/api/projects/demo/stats")
    second = api.client.get("/api/projects/demo/stats")
    assert first.content == second.content
    assert len(first.json()["customers"]) == 30


def test_stats_of_the_latest_date_is_read_from_the_figures_stored_at_registration(api: Api) -> None:
    settings = api.services.settings
    # Without the parsed ledger and the file it came from, only the stored figures can answer.
    for path in [*(settings.cache_dir / "parsed").rglob("*.arrow"), *settings.store_dir.rglob("*")]:
        if path.is_file():
            path.unlink()
    response = api.client.get("/api/projects/demo/stats")
    assert response.status_code == 200
    assert len(response.json()["customers"]) == 30
    assert api.client.get("/api/projects/demo/kpis").status_code != 200  # the ledger is really gone


def test_stats_with_aliases_holds_no_real_name_anywhere(api: Api) -> None:
    response = api.client.get("/api/projects/demo/stats", params={"aliases": "true"})
    assert response.status_code == 200
    names = api.name_scanner()
    assert names and find_real_names(response.text, names) == []
    customers = response.json()["customers"]
    assert all(c["customer"].startswith("CUST-") and c["customer_key"] == c["customer"].lower() for c in customers)
    named = api.client.get("/api/projects/demo/stats").json()["customers"]
    # The same figures, only the names differ.
    assert sorted(c["total_amount"] for c in customers) == sorted(c["total_amount"] for c in named)


def test_stats_with_aliases_finds_a_customer_by_alias_but_not_by_real_name(api: Api) -> None:
    alias = api.client.get("/api/projects/demo/stats", params={"customer": "ABC Company"}).json()["customers"][0]
    by_alias = api.client.get("/api/projects/demo/stats", params={"customer": alias["alias"], "aliases": "true"})
    assert by_alias.status_code == 200
    assert by_alias.json()["customers"][0]["total_amount"] == alias["total_amount"]
    by_name = api.client.get("/api/projects/demo/stats", params={"customer": "ABC Company", "aliases": "true"})
    assert by_name.status_code == 400 and "ABC Company" in by_name.json()["detail"]


@pytest.mark.parametrize(
    ("query", "argv"),
    [
        ({}, []),
        ({"as_of": "2026-06-30"}, ["--as-of", "2026-06-30"]),
        ({"from": "2026-01-01", "to": "2026-03-31"}, ["--from", "2026-01-01", "--to", "2026-03-31"]),
    ],
)
def test_kpis_returns_exactly_what_kpis_json_prints(
    api: Api, capsys: pytest.CaptureFixture[str], query: dict[str, str], argv: list[str]
) -> None:
    response = api.client.get("/api/projects/demo/kpis", params=query)
    assert response.status_code == 200, response.text
    assert response.json() == api.cli_json("kpis", "demo", "--json", *argv, capsys=capsys)


def test_kpis_with_aliases_hold_no_real_name_and_a_reversed_period_is_a_400(api: Api) -> None:
    response = api.client.get("/api/projects/demo/kpis", params={"aliases": "true"})
    assert response.status_code == 200 and find_real_names(response.text, api.name_scanner()) == []
    reversed_period = api.client.get("/api/projects/demo/kpis", params={"from": "2026-03-01", "to": "2026-01-01"})
    assert reversed_period.status_code == 400 and "before it starts" in reversed_period.json()["detail"]


@pytest.mark.parametrize("route", ["kpis", "stats", "forecast"])
def test_a_balance_date_before_the_ledger_starts_is_a_400_naming_its_first_day(api: Api, route: str) -> None:
    response = api.client.get(f"/api/projects/demo/{route}", params={"as_of": "2024-01-01"})
    assert response.status_code == 400
    assert "before the ledger starts on 1 May 2025" in response.json()["detail"]
    response = api.client.get(f"/api/projects/demo/{route}", params={"as_of": "2099-01-01"})
    assert response.status_code == 400
    assert "after the ledger's latest date, 31 Oct 2026" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "argv"),
    [
        ({}, []),
        ({"as_of": "2026-06-30"}, ["--as-of", "2026-06-30"]),
        ({"method": "original"}, ["--method", "original"]),
    ],
)
def test_forecast_returns_exactly_what_forecast_json_prints(
    api: Api, capsys: pytest.CaptureFixture[str], query: dict[str, str], argv: list[str]
) -> None:
    response = api.client.get("/api/projects/demo/forecast", params=query)
    assert response.status_code == 200, response.text
    assert response.json() == api.cli_json("forecast", "demo", "--json", *argv, capsys=capsys)
    assert response.json()["invoices"] and len(response.json()["weeks"]) == 13


def test_forecast_with_aliases_holds_no_real_name_anywhere(api: Api) -> None:
    named = api.client.get("/api/projects/demo/forecast").json()
    response = api.client.get("/api/projects/demo/forecast", params={"aliases": "true"})
    assert response.status_code == 200
    assert find_real_names(response.text, api.name_scanner()) == []
    aliased = response.json()
    assert [i["customer"] for i in aliased["invoices"]] == [i["alias"] for i in named["invoices"]]
    assert aliased["weeks"] == named["weeks"]


def test_an_unknown_forecast_method_says_which_exist(api: Api) -> None:
    response = api.client.get("/api/projects/demo/forecast", params={"method": "crystal-ball"})
    assert response.status_code == 422 and response.json()["error"] == "cannot forecast"
    assert "Unknown forecast method 'crystal-ball'" in response.json()["detail"]


def test_backtest_returns_exactly_what_backtest_json_prints(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    response = api.client.get("/api/projects/demo/backtest")
    assert response.status_code == 200, response.text
    assert response.json() == api.cli_json("backtest", "demo", "--json", capsys=capsys)
    assert find_real_names(response.text, api.name_scanner()) == []


def test_query_offline_names_the_original_formula_figures(api: Api) -> None:
    response = api.client.post("/query", json={"project_name": "demo", "query": EXAMPLE_QUESTION})
    assert response.status_code == 200
    payload = response.json()
    assert payload["offline"] is True and payload["sent"] == [] and payload["blocked"] is False
    assert set(payload) >= {"answer", "offline", "model", "notes", "unverified_numbers", "error"}
    stats = api.client.get("/api/projects/demo/stats", params={"customer": "ABC Company"}).json()["customers"][0]
    assert "ABC Company" in payload["answer"]
    assert f"{stats['moving_average']:,.2f}" in payload["answer"]
    assert readable_day(stats["predicted_next_payment_date"]) in payload["answer"]


@pytest.mark.parametrize("query", ["   ", "\n\t"])
def test_a_blank_question_is_refused_saying_what_to_ask(api: Api, query: str) -> None:
    response = api.client.post("/query", json={"project_name": "demo", "query": query})
    assert response.status_code == 422 and "The question is empty" in response.json()["detail"]


def test_query_gives_what_ask_json_prints(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    response = api.client.post("/query", json={"project_name": "demo", "query": EXAMPLE_QUESTION}).json()
    printed = api.cli_json("ask", "demo", EXAMPLE_QUESTION, "--json", capsys=capsys)
    assert response == {"project_name": "demo", **printed}


def test_query_through_the_model_sends_no_real_name_and_shows_names_back(
    start_api: Callable[..., Api], llm_server: Any
) -> None:
    api = start_api(
        LITE_LLM_MODEL="openai/test-model",
        LITE_LLM_API_BASE=llm_server.url,
        LITE_LLM_API_KEY="test-key",
        LITE_LLM_TIMEOUT="5",
    )
    alias = projects.load_project(api.services, "demo").aliases.alias_for("ABC Company", "customer")
    llm_server.behaviour.answer = f"{alias} should pay next."
    response = api.client.post("/query", json={"project_name": "demo", "query": EXAMPLE_QUESTION})
    assert response.status_code == 200
    payload = response.json()
    assert payload["offline"] is False and payload["model"] == "openai/test-model"
    assert payload["answer"].startswith("ABC Company should pay next")
    assert len(llm_server.bodies) == 1
    assert find_real_names(llm_server.bodies[0].decode("utf-8"), api.name_scanner()) == []
    assert alias in llm_server.bodies[0].decode("utf-8")

    aliased = api.client.post("/query?aliases=true", json={"project_name": "demo", "query": EXAMPLE_QUESTION})
    assert aliased.json()["answer"].startswith(f"{alias} should pay next")
    assert find_real_names(aliased.text, api.name_scanner()) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://{bucket}/exports/ar.csv", 200),
        ("https://{bucket}.s3.amazonaws.com/exports/ar.csv", 200),
        ("https://{bucket}.s3.us-east-1.amazonaws.com/exports/ar.csv", 200),
        ("https://s3.amazonaws.com/{bucket}/exports/ar.csv", 200),
        ("{endpoint}/{bucket}/exports/ar.csv", 200),
        ("s3://{bucket}/exports/ar.csv?X-Amz-Signature=secret", 200),
        ("s3://someone-elses-bucket/exports/ar.csv", 400),
        ("https://evil.example.com/{bucket}/exports/ar.csv", 400),
        ("s3://{bucket}/exports/missing.csv", 404),
        ("s3://{bucket}/exports/", 400),
        ("s3://{bucket}/../private.csv", 400),
        ("/etc/passwd", 400),
        ("file:///etc/passwd", 400),
        ("store://uploads/demo/x.xlsx", 400),
        ("", 422),
    ],
)
def test_upload_accepts_every_s3_url_form_and_refuses_the_rest(
    start_api: Callable[..., Api], s3_settings: Settings, s3_client: Any, url: str, expected: int
) -> None:
    bucket = s3_settings.aws_s3_bucket
    api = start_api(
        demo=False,
        AWS_S3_BUCKET=bucket or "",
        AWS_ENDPOINT_URL=s3_settings.aws_endpoint_url or "",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    s3_client.put_object(Bucket=bucket, Key="exports/ar.csv", Body=LEDGER_CSV.encode())
    s3_url = url.format(bucket=bucket, endpoint=s3_settings.aws_endpoint_url)
    response = api.client.post("/upload", data={"s3_url": s3_url, "project_name": "acme"})
    assert response.status_code == expected, response.text
    payload = response.json()
    if expected == 200:
        assert payload == {
            "message": "uploaded",
            "project_name": "acme",
            "s3_url": s3_url,
            "rows": 5,
            "rejected_rows": 0,
            "customers": 2,
        }
        stats = api.client.get("/api/projects/acme/stats").json()
        assert stats["portfolio"]["invoice_count"] == 5
    else:
        assert set(payload) == {"error", "detail"} and payload["detail"]
        assert "secret" not in response.text and str(api.services.settings.home) not in response.text
        assert api.client.get("/api/projects").json() == []


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"s3_url": "s3://b/k.csv"}, 422, "invalid request"),
        ({"project_name": "x"}, 422, "invalid request"),
        ({"s3_url": "s3://b/k.csv", "project_name": "no spaces allowed"}, 400, "invalid request"),
        ({"s3_url": "s3://b/" + "k" * 3000, "project_name": "x"}, 422, "invalid request"),
    ],
)
def test_upload_with_bad_fields_says_which(api: Api, form: dict[str, str], status: int, error: str) -> None:
    response = api.client.post("/upload", data=form)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_upload_of_a_file_that_is_not_a_ledger_is_refused_in_one_clear_line(
    start_api: Callable[..., Api], s3_settings: Settings, s3_client: Any
) -> None:
    api = start_api(
        demo=False,
        AWS_S3_BUCKET=s3_settings.aws_s3_bucket or "",
        AWS_ENDPOINT_URL=s3_settings.aws_endpoint_url or "",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    s3_client.put_object(Bucket=s3_settings.aws_s3_bucket, Key="notes.csv", Body=b"colour,size\nred,3\n")
    response = api.client.post(
        "/upload", data={"s3_url": f"s3://{s3_settings.aws_s3_bucket}/notes.csv", "project_name": "notes"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "file not readable"
    assert "\n" not in response.json()["detail"] and "Traceback" not in response.text


def test_refresh_reloads_a_changed_s3_file_and_the_stats_follow(
    start_api: Callable[..., Api], s3_settings: Settings, s3_client: Any
) -> None:
    bucket = s3_settings.aws_s3_bucket
    api = start_api(
        demo=False,
        AWS_S3_BUCKET=bucket or "",
        AWS_ENDPOINT_URL=s3_settings.aws_endpoint_url or "",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    s3_client.put_object(Bucket=bucket, Key="ar.csv", Body=LEDGER_CSV.encode())
    api.client.post("/upload", data={"s3_url": f"s3://{bucket}/ar.csv", "project_name": "acme"})
    assert api.client.get("/api/projects/acme/stats").json()["portfolio"]["invoice_count"] == 5
    unchanged = api.client.post("/api/projects/acme/refresh")
    assert unchanged.status_code == 200 and unchanged.json()["changed"] is False
    s3_client.put_object(
        Bucket=bucket, Key="ar.csv", Body=(LEDGER_CSV + "Gamma AG,2026-03-01,INV-6,10.00,,\n").encode()
    )
    changed = api.client.post("/api/projects/acme/refresh").json()
    assert changed["changed"] is True and changed["project"]["rows"] == 6
    assert api.client.get("/api/projects/acme/stats").json()["portfolio"]["invoice_count"] == 6


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/projects/nope", None),
        ("GET", "/api/projects/nope/stats", None),
        ("POST", "/api/projects/nope/refresh", None),
        ("GET", "/api/projects/nope/forecast", None),
        ("GET", "/api/projects/nope/backtest", None),
        ("GET", "/api/projects/nope/kpis", None),
        ("POST", "/query", {"project_name": "nope", "query": "Who pays slowest?"}),
    ],
)
def test_an_unknown_project_is_a_404_that_says_how_to_list_them(
    api: Api, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = api.client.request(method, path, json=body)
    assert response.status_code == 404
    assert response.json() == {
        "error": "project not found",
        "detail": "There is no project named 'nope'. List projects with `python -m finlib projects` "
        "or register one first.",
    }


@pytest.mark.parametrize(
    ("content", "status", "error"),
    [
        (b"{not json", 400, "invalid JSON"),
        (b"[1, 2]", 422, "invalid request"),
        (b'{"project_name": "demo"}', 422, "invalid request"),
        (b'{"project_name": "demo", "query": ""}', 422, "invalid request"),
        (json.dumps({"project_name": "demo", "query": "x" * 2001}).encode(), 422, "invalid request"),
    ],
)
def test_a_bad_query_body_gets_a_clear_error(api: Api, content: bytes, status: int, error: str) -> None:
    response = api.client.post("/query", content=content, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"] == error
    assert "Traceback" not in response.text and "pydantic" not in response.text


@pytest.mark.parametrize("chunked", [False, True], ids=["declared length", "chunked"])
def test_an_oversized_body_is_refused_with_413(start_api: Callable[..., Api], chunked: bool) -> None:
    api = start_api(ApiOptions(max_body_bytes=1000))
    body = json.dumps({"project_name": "demo", "query": "x" * 1500}).encode()
    content: Any = iter([body[:700], body[700:]]) if chunked else body
    response = api.client.post("/query", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {
        "error": "request too large",
        "detail": "The request body is larger than 1,000 bytes. Send a smaller request.",
    }


@pytest.mark.parametrize(
    ("origin", "status"), [("http://evil.example", 403), ("null", 403), (None, 422), ("{base}", 422)]
)
def test_a_post_from_another_web_site_is_refused(api: Api, origin: str | None, status: int) -> None:
    headers = {"Origin": origin.format(base=str(api.client.base_url).rstrip("/"))} if origin else {}
    response = api.client.post("/upload", data={"s3_url": "s3://x/y.csv"}, headers=headers)
    assert response.status_code == status  # 422: got past the origin check to the missing project_name
    if status == 403:
        assert response.json()["error"] == "forbidden"
    assert api.client.get("/api/projects", headers=headers).status_code == 200


def test_query_is_rate_limited_per_client(start_api: Callable[..., Api]) -> None:
    api = start_api(ApiOptions(query_burst=2, query_per_minute=1))
    question = {"project_name": "demo", "query": "Who pays slowest?"}
    assert [api.client.post("/query", json=question).status_code for _ in range(2)] == [200, 200]
    limited = api.client.post("/query", json=question)
    assert limited.status_code == 429
    assert limited.json()["error"] == "too many requests"
    assert int(limited.headers["retry-after"]) >= 1
    assert api.client.get("/api/projects/demo/stats").status_code == 200  # reads are not limited


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/nothing"), ("GET", "/api/projects/demo/stats/extra"), ("PUT", "/query")]
)
def test_an_unknown_endpoint_or_method_is_json_not_the_dashboard(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path)
    assert response.status_code in (404, 405)
    assert set(response.json()) == {"error", "detail"}


def test_an_unexpected_failure_is_a_500_without_details(start_api: Callable[..., Api]) -> None:
    class BrokenPolicy:
        def check(self, services: Services, caller: Caller, project: str | None, action: str) -> Grant:
            raise RuntimeError("/srv/secret/path exploded")

    api = start_api(ApiOptions(policy=BrokenPolicy()))
    response = api.client.get("/api/projects/demo/stats")
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal error",
        "detail": "The server failed unexpectedly; the details are in its app.log.",
    }


def test_a_policy_that_grants_aliases_only_hides_names_without_the_option(start_api: Callable[..., Api]) -> None:
    class ViewerPolicy:
        def check(self, services: Services, caller: Caller, project: str | None, action: str) -> Grant:
            return Grant(aliases_only=True)

    api = start_api(ApiOptions(policy=ViewerPolicy()))
    names = api.name_scanner()
    stats = api.client.get("/api/projects/demo/stats")
    answer = api.client.post("/query", json={"project_name": "demo", "query": EXAMPLE_QUESTION})
    assert stats.status_code == answer.status_code == 200
    assert find_real_names(stats.text, names) == [] and find_real_names(answer.text, names) == []
    assert "CUST-" in answer.json()["answer"]


def test_tokens_are_required_when_configured(start_api: Callable[..., Api]) -> None:
    api = start_api(ApiOptions(require_token=True))
    created = tokens.create_token(api.services, "ana@example.com", "tests")
    missing = api.client.get("/api/projects")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert "token create" in missing.json()["detail"]
    for header in ("Bearer fin_wrong", "Basic abc", f"Bearer {created.secret}x"):
        assert api.client.get("/api/projects", headers={"Authorization": header}).status_code == 401
    good = {"Authorization": f"Bearer {created.secret}"}
    assert api.client.get("/api/projects", headers=good).status_code == 200
    assert api.client.post("/query", headers=good, json={"project_name": "demo", "query": "Totals?"}).status_code == 200
    tokens.revoke_token(api.services, created.info.prefix)
    revoked = api.client.get("/api/projects", headers=good)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_the_rate_limit_counts_per_token_user(start_api: Callable[..., Api]) -> None:
    api = start_api(ApiOptions(require_token=True, query_burst=1, query_per_minute=1))
    first, second = (tokens.create_token(api.services, user).secret for user in ("a@example.com", "b@example.com"))
    question = {"project_name": "demo", "query": "Totals?"}
    for secret in (first, second):
        assert api.client.post("/query", json=question, headers={"Authorization": f"Bearer {secret}"}).is_success
    assert api.client.post("/query", json=question, headers={"Authorization": f"Bearer {first}"}).status_code == 429


def test_every_call_is_logged_without_names_or_questions(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="finlib"):
        api.client.get("/api/projects/demo/stats", params={"customer": "ABC Company"})
        api.client.post("/query", json={"project_name": "demo", "query": EXAMPLE_QUESTION})
        api.client.get("/api/projects/nope/stats")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("finlib.api")]
    assert any("GET /api/projects/demo/stats -> 200 in " in line and line.endswith("(user local)") for line in lines)
    assert any("POST /query -> 200" in line for line in lines)
    assert any("GET /api/projects/nope/stats -> 404" in line for line in lines)
    assert len([line for line in lines if " -> " in line]) == 3  # one line per call
    everything = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert find_real_names(everything, api.name_scanner()) == [] and "expected payment" not in everything


def test_a_token_users_calls_are_logged_with_their_user(
    start_api: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    api = start_api(ApiOptions(require_token=True))
    secret = tokens.create_token(api.services, "a@example.com").secret
    with caplog.at_level(logging.INFO, logger="finlib.api"):
        api.client.get("/api/projects", headers={"Authorization": f"Bearer {secret}"})
        api.client.get("/api/projects")
    lines = [record.getMessage() for record in caplog.records if record.name == "finlib.api"]
    assert any(
        line.startswith("api GET /api/projects -> 200 in ") and line.endswith("(user a@example.com)") for line in lines
    )
    assert any(line.startswith("api GET /api/projects -> 401 in ") for line in lines)


def test_the_openapi_description_lists_every_endpoint(api: Api) -> None:
    description = api.client.get("/openapi.json").json()
    assert set(description["paths"]) >= {
        "/upload",
        "/query",
        "/api/projects",
        "/api/projects/{name}",
        "/api/projects/{name}/stats",
        "/api/projects/{name}/refresh",
        "/api/projects/{name}/forecast",
        "/api/projects/{name}/backtest",
        "/api/projects/{name}/kpis",
    }
    docs = api.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_a_refresh_through_the_api_sends_the_predicted_late_alerts(
    start_api: Callable[..., Api], s3_settings: Settings, s3_client: Any
) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from helpers.forecast_ledgers import generated_ledger

    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    Thread(target=hook.serve_forever, daemon=True).start()
    bucket = s3_settings.aws_s3_bucket or ""
    api = start_api(
        demo=False,
        AWS_S3_BUCKET=bucket,
        AWS_ENDPOINT_URL=s3_settings.aws_endpoint_url or "",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        ALERT_WEBHOOK_URL=f"http://127.0.0.1:{hook.server_address[1]}/hook",
        ALERT_WEBHOOK_SECRET="webhook-secret",
        ALERT_LATE_DAYS="0",
    )
    columns = {"customer_name": "Customer Name", "invoice_date": "Invoice Date", "invoice_number": "Invoice No"}
    frame = generated_ledger(customers=9).rename(columns=columns | {"amount": "Total Amount", "payment_date": "Paid"})
    text = frame[[*columns.values(), "Total Amount", "Paid"]].to_csv(index=False, date_format="%Y-%m-%d")
    s3_client.put_object(Bucket=bucket, Key="ar.csv", Body=text.encode())
    assert api.client.post("/upload", data={"s3_url": f"s3://{bucket}/ar.csv", "project_name": "acme"}).is_success
    s3_client.put_object(Bucket=bucket, Key="ar.csv", Body=(text + "Customer 00,2025-12-30,INV-X,10.0,\n").encode())
    try:
        refreshed = api.client.post("/api/projects/acme/refresh").json()
        assert refreshed["changed"] is True and refreshed["alerts_sent_to_webhook"] is True
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        hook.shutdown()
    [body] = received
    sent = json.loads(body)
    assert sent["project"] == "acme" and sent["invoices"]
    assert all(entry["customer"].startswith("CUST-") for entry in sent["invoices"]) and b"Customer 0" not in body


@pytest.mark.parametrize("accept", ["gzip", "identity"])
def test_a_big_report_is_sent_compressed_to_clients_that_accept_it(api: Api, accept: str) -> None:
    response = api.client.get("/api/projects/demo/forecast", headers={"Accept-Encoding": accept})
    assert response.status_code == 200 and response.headers["vary"] == "Accept-Encoding"
    assert response.headers.get("content-encoding") == (accept if accept == "gzip" else None)
    assert response.json()["project"] == "demo"  # httpx decompresses: the document is the same


def test_with_sign_in_each_token_acts_with_its_users_role(start_api: Callable[..., Api]) -> None:
    from finlib import access
    from finlib.api.guards import MembershipPolicy

    api = start_api(ApiOptions(require_token=True, policy=MembershipPolicy()), FINLIB_ADMINS="boss@example.com")
    for email, role in (("vera@example.com", "viewer"), ("ana@example.com", "analyst")):
        access.add_member(api.services.engine, api.services.settings, access.LOCAL_USER, "demo", email, role)
    headers = {
        who: {"Authorization": f"Bearer {tokens.create_token(api.services, f'{who}@example.com').secret}"}
        for who in ("vera", "ana", "olga", "boss")
    }
    names = api.name_scanner()
    question = {"project_name": "demo", "query": EXAMPLE_QUESTION}

    viewer_stats = api.client.get("/api/projects/demo/stats", headers=headers["vera"])
    viewer_answer = api.client.post("/query", json=question, headers=headers["vera"])
    assert viewer_stats.status_code == viewer_answer.status_code == 200
    assert find_real_names(viewer_stats.text + viewer_answer.text, names) == []
    assert api.client.post("/api/projects/demo/refresh", headers=headers["vera"]).status_code == 403

    analyst = api.client.get("/api/projects/demo/stats", params={"customer": "ABC Company"}, headers=headers["ana"])
    assert analyst.status_code == 200 and analyst.json()["customers"][0]["customer"] == "ABC Company"
    log = access.read_access_log(api.services.engine, api.services.settings, access.LOCAL_USER, "demo")
    assert [(event.user_email, event.action) for event in log] == [("ana@example.com", "view")]
    assert "ABC Company" not in log[0].summary and "ABC Company" in json.dumps(log[0].detail)

    outsider = api.client.get("/api/projects/demo/stats", headers=headers["olga"])
    assert outsider.status_code == 403 and outsider.json()["error"] == "forbidden"
    assert api.client.get("/api/projects", headers=headers["olga"]).json() == []
    assert [p["name"] for p in api.client.get("/api/projects", headers=headers["vera"]).json()] == ["demo"]
    new = {"s3_url": "s3://nowhere/x.csv", "project_name": "fresh"}
    assert api.client.post("/upload", data=new, headers=headers["ana"]).status_code == 403
    assert api.client.post("/upload", data=new, headers=headers["boss"]).json()["error"] == "source not allowed"


def test_a_stored_document_is_built_once_per_key_and_the_oldest_leaves_first() -> None:
    from finlib.api.cache import DocumentCache

    built: list[str] = []

    def build(text: str) -> Callable[[], bytes]:
        return lambda: built.append(text) or text.encode()

    documents = DocumentCache(max_entries=2)
    assert documents.get(("stats", "p", "v1", None), build("a")) == b"a"
    assert documents.get(("stats", "p", "v1", None), build("again")) == b"a"
    documents.get(("stats", "p", "v2", None), build("b"))  # a new version is a new document
    documents.get(("stats", "p", "v3", None), build("c"))
    assert documents.get(("stats", "p", "v1", None), build("a2")) == b"a2"  # evicted, built anew
    assert built == ["a", "b", "c", "a2"]
