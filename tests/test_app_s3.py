"""The Projects page in AppTest with S3 configured: register objects of the allowed bucket, refuse the rest, upload.

The app reads its settings from the environment, pointed here at moto's S3 server over real HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from helpers.app import SMALL_CSV, run_app, services
from streamlit.testing.v1 import AppTest

from finlib import projects
from finlib.config import Settings

PROJECTS = "pages/projects.py"
LEDGER_KEY = "ledgers/zephyr.csv"


@pytest.fixture
def s3_app(app_home: Path, s3_settings: Settings, s3_client: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The app's environment points at the moto bucket of ``s3_settings``; one ledger object is in it."""
    bucket = s3_settings.aws_s3_bucket
    assert bucket and s3_settings.aws_endpoint_url
    monkeypatch.setenv("AWS_S3_BUCKET", bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_settings.aws_endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    st.cache_data.clear()
    st.cache_resource.clear()
    s3_client.put_object(Bucket=bucket, Key=LEDGER_KEY, Body=SMALL_CSV)
    return s3_settings


def register(name: str, url: str) -> AppTest:
    at = run_app(PROJECTS)
    at.text_input(key="projects_s3_name").input(name)
    at.text_input(key="projects_s3_url").input(url)
    return at.button(key="projects_s3_register").click().run()


def stored_names() -> list[str]:
    return [info.name for info in projects.list_projects(services())]


def messages(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("success", "info", "warning", "error") for e in getattr(at, kind))


@pytest.mark.parametrize("form", ["s3", "path-style http"])
def test_an_object_in_the_allowed_bucket_registered_by_url_becomes_a_project_the_sidebar_opens(
    s3_app: Settings, form: str
) -> None:
    bucket = s3_app.aws_s3_bucket
    url = f"s3://{bucket}/{LEDGER_KEY}" if form == "s3" else f"{s3_app.aws_endpoint_url}/{bucket}/{LEDGER_KEY}"
    at = register("zephyr", url)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "Registered zephyr: 3 invoices, 2 customers." in messages(at)
    info = projects.get_project(services(), "zephyr")
    assert info.source == f"s3://{bucket}/{LEDGER_KEY}"
    assert (info.row_count, info.customer_count) == (3, 2)
    listed = next(f.value for f in at.dataframe if "Last loaded (UTC)" in f.value.columns).set_index("Project")
    assert (listed.loc["zephyr", "Invoices"], listed.loc["zephyr", "Customers"]) == (3, 2)

    at.selectbox(key="sidebar_project").set_value("demo").run()
    at.selectbox(key="sidebar_project").set_value("zephyr").run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="sidebar_project").value == "zephyr"
    assert [metric.label for metric in at.metric][:1] == ["Outstanding"]


def test_a_url_naming_another_bucket_is_refused_inline_and_stores_nothing(s3_app: Settings) -> None:
    at = register("elsewhere", f"s3://not-{s3_app.aws_s3_bucket}/{LEDGER_KEY}")
    assert not at.exception
    assert any("S3_ALLOWED_BUCKETS" in error.value for error in at.error), [e.value for e in at.error]
    assert stored_names() == ["demo"]


def test_a_missing_key_in_the_allowed_bucket_says_it_does_not_exist_and_stores_nothing(s3_app: Settings) -> None:
    at = register("missing", f"s3://{s3_app.aws_s3_bucket}/ledgers/no-such-file.csv")
    assert not at.exception
    errors = " ".join(error.value for error in at.error)
    assert "does not exist" in errors and "Check the bucket and key" in errors, errors
    assert stored_names() == ["demo"]


def test_the_status_block_says_the_storage_is_s3(s3_app: Settings) -> None:
    at = run_app(PROJECTS)
    assert any("Storage: **S3**" in caption.value for caption in at.sidebar.caption)


def test_an_upload_with_s3_configured_is_stored_in_the_bucket_under_uploads(s3_app: Settings, s3_client: Any) -> None:
    at = run_app(PROJECTS)
    at.file_uploader(key="projects_upload_file").upload("zephyr.csv", SMALL_CSV, "text/csv")
    at.run()
    at.text_input(key="projects_upload_name").input("zephyr")
    at.button(key="projects_upload_submit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    listing = s3_client.list_objects_v2(Bucket=s3_app.aws_s3_bucket, Prefix="uploads/zephyr/")
    keys = [item["Key"] for item in listing.get("Contents", [])]
    assert len(keys) == 1 and keys[0].endswith("zephyr.csv"), keys
    assert listing["Contents"][0]["Size"] == len(SMALL_CSV)
    info = projects.get_project(services(), "zephyr")
    assert info.source == f"s3://{s3_app.aws_s3_bucket}/{keys[0]}"
    assert info.row_count == 3
