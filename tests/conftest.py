"""Shared fixtures: isolated settings, real databases (SQLite and PostgreSQL), a real S3 endpoint over HTTP."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Keep LiteLLM offline and deaf to .env files in every test process, before anything can import it.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_MODE", "PRODUCTION")

from helpers.environment import TEST_SALT  # noqa: E402
from helpers.llm_server import LLMServer, start_llm_server  # noqa: E402

from finlib.config import Settings, load_settings  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
# Everything that could point the app at machine-wide services is blanked, so the app uses the temporary home.
ISOLATING_VARIABLES = (
    "DATABASE_URL", "DB_HOST", "AWS_S3_BUCKET", "S3_ALLOWED_BUCKETS", "AWS_ENDPOINT_URL",
    "LITE_LLM_API_KEY", "LITE_LLM_API_BASE",
)  # fmt: skip


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings factory over a temporary data home; keyword arguments are environment variables."""

    def factory(**env: str) -> Settings:
        environ = {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": TEST_SALT}
        environ.update(env)
        return load_settings(environ, dotenv_path=None)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Default settings: SQLite and the local object store inside a temporary data home."""
    return make_settings()


def _postgres_base_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    try:
        import psycopg2

        psycopg2.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=2).close()
    except Exception:
        return None
    return DEFAULT_PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, then a private schema on the machine's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base = _postgres_base_url()
    if base is None:
        reason = "PostgreSQL not reachable: set TEST_DATABASE_URL or start it on 127.0.0.1:5432"
        if os.environ.get("FINLIB_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    with _postgres_schema(base) as url:
        yield url


@contextmanager
def _postgres_schema(base: str) -> Iterator[str]:
    """The URL of a private, empty schema of the PostgreSQL at ``base``, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP endpoint on 127.0.0.1 (moto's threaded server)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    """A plain boto3 client of the moto endpoint: the test's own hands on the bucket, outside finlib."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def s3_settings(make_settings: Callable[..., Settings], s3_endpoint: str, s3_client: Any) -> Settings:
    """Settings pointing at the moto endpoint with a fresh bucket created for this test."""
    bucket = f"ledgers-{uuid.uuid4().hex[:10]}"
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    s3_client.create_bucket(Bucket=bucket)
    return make_settings(
        AWS_S3_BUCKET=bucket,
        AWS_ENDPOINT_URL=s3_endpoint,
        AWS_REGION="us-east-1",
        **credentials,
    )


@pytest.fixture
def make_shared_services(
    make_settings: Callable[..., Settings], tmp_path: Path, s3_settings: Settings
) -> Iterator[Callable[[str], Any]]:
    """``factory(process)``: the Services of one app process, with its own data home, on one PostgreSQL schema
    and one moto bucket shared by every process of the test (the deployment with several app replicas)."""
    from finlib.projects import Services

    base = _postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL not reachable: set TEST_DATABASE_URL or start it on 127.0.0.1:5432")
    made: list[Services] = []
    with _postgres_schema(base) as database:

        def factory(process: str) -> Services:
            settings = s3_settings.with_overrides(
                home=make_settings(FINLIB_HOME=str(tmp_path / f"home-{process}")).home, database_url=database
            )
            made.append(Services(settings))
            return made[-1]

        yield factory
        for services in made:
            services.engine.dispose()


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    """An OpenAI-compatible chat server on 127.0.0.1 that records every request body (see tests/llm_server.py)."""
    server = start_llm_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def llm_settings(make_settings: Callable[..., Settings], llm_server: LLMServer) -> Settings:
    """Settings whose model is the local test server (LiteLLM's ``openai/`` provider with an api_base)."""
    return make_settings(
        LITE_LLM_MODEL="openai/test-model",
        LITE_LLM_API_BASE=llm_server.url,
        LITE_LLM_API_KEY="test-key",
        LITE_LLM_TIMEOUT="5",
        LITE_LLM_MAX_RETRIES="2",
    )


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data home for the app (AppTest), with Streamlit's caches emptied before and after."""
    import streamlit as st

    home = tmp_path / "home"
    monkeypatch.setenv("FINLIB_HOME", str(home))
    monkeypatch.setenv("ALIAS_SALT", "app-test-salt")
    for variable in ISOLATING_VARIABLES:
        monkeypatch.setenv(variable, "")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield home
    st.cache_data.clear()
    st.cache_resource.clear()
