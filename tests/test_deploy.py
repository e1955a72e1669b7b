"""The compose.yaml team deployment, read as files (no docker here): replicas agree, and the balancer is sticky."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from finlib.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
APPS = ("app1", "app2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def app_environment(compose: dict[str, Any], app: str) -> dict[str, str]:
    environment = dict(compose["services"][app]["environment"])
    assert environment["ALIAS_SALT"].startswith("${ALIAS_SALT:?")  # required: every replica needs the same one
    return {**environment, "ALIAS_SALT": "compose-test-salt"}


def test_both_replicas_share_one_database_one_bucket_and_one_salt(compose, tmp_path: Path) -> None:
    first, second = (app_environment(compose, app) for app in APPS)
    assert first == second
    settings = load_settings({**first, "FINLIB_HOME": str(tmp_path)}, dotenv_path=None)
    assert settings.shared_cache and settings.database_backend == "postgresql"
    created = re.search(r"mc mb --ignore-existing local/(\S+)", " ".join(compose["services"]["bucket"]["entrypoint"]))
    assert created is not None and created.group(1) == settings.aws_s3_bucket


def test_the_balancer_sends_a_client_to_one_replica_and_passes_websockets(compose) -> None:
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    upstream = re.search(r"upstream finlib \{(.*?)\}", nginx, re.S)
    assert upstream is not None and "ip_hash;" in upstream.group(1)
    assert re.findall(r"server (\w+):(\d+);", upstream.group(1)) == [(app, "8501") for app in APPS]
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert '"--host", "0.0.0.0", "--port", "8501"' in dockerfile
    published = [compose["services"][app]["ports"][0] for app in APPS]
    assert all(port.startswith("127.0.0.1:") and port.endswith(":8501") for port in published)
