"""Predicted-late alerts, delivered to a local HTTP server: signed, aliased by default, retried, never blocking."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from helpers.forecast_ledgers import generated_ledger

from finlib.config import Settings
from finlib.forecast.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, alert_payload, deliver, start_alerts
from finlib.forecast.outlook import Forecast, compute_forecast

SECRET = "webhook-secret"
AS_OF = pd.Timestamp("2025-06-30")


@dataclass
class Receiver:
    """A local webhook: answers each POST with the next status of ``statuses`` (then 200) and records it."""

    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delay_s)
            state.requests.append((dict(self.headers), body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()


@pytest.fixture
def webhook(make_settings: Callable[..., Settings], receiver: Receiver) -> Settings:
    return make_settings(ALERT_WEBHOOK_URL=receiver.url, ALERT_WEBHOOK_SECRET=SECRET, ALERT_LATE_DAYS="3")


@pytest.fixture(scope="module")
def forecast() -> Forecast:
    ledger = generated_ledger()
    ledger["customer_alias"] = "CUST-" + ledger["customer_key"].str[-2:].str.zfill(8)
    return compute_forecast(ledger, AS_OF, "segments")


def no_wait(seconds: float) -> None:
    pass


def test_the_alert_lists_only_invoices_predicted_later_than_due_plus_n_days_under_aliases(forecast) -> None:
    payload = alert_payload("acme", forecast, 3, real_names=False)
    assert payload is not None
    late = forecast.invoices[forecast.invoices["days_late"] > 3]
    assert [i["invoice_number"] for i in payload["invoices"]] == late["invoice_number"].tolist()
    assert all(i["customer"].startswith("CUST-") and i["days_late"] > 3 for i in payload["invoices"])
    assert "Customer" not in json.dumps(payload)
    real = alert_payload("acme", forecast, 3, real_names=True)
    assert real is not None and real["invoices"][0]["customer"].startswith("Customer ")


def test_no_alert_when_nothing_is_predicted_late(forecast) -> None:
    assert alert_payload("acme", forecast, 10_000, real_names=False) is None


def test_the_post_is_signed_over_timestamp_and_body(webhook, receiver, forecast) -> None:
    payload = alert_payload("acme", forecast, 3, real_names=False)
    assert payload is not None and deliver(webhook, payload)
    [(headers, body)] = receiver.requests
    expected = hmac.new(SECRET.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + body, hashlib.sha256)
    assert headers[SIGNATURE_HEADER] == "sha256=" + expected.hexdigest()
    assert json.loads(body) == payload


def test_server_errors_are_retried_with_backoff_and_client_errors_are_not(webhook, receiver, forecast) -> None:
    payload = alert_payload("acme", forecast, 3, real_names=False)
    waits: list[float] = []
    receiver.statuses = [503, 500]
    assert deliver(webhook, payload, sleep=waits.append)
    assert len(receiver.requests) == 3 and waits == [1.0, 2.0]
    receiver.statuses = [400]
    assert not deliver(webhook, payload, sleep=no_wait)
    assert len(receiver.requests) == 4


def test_an_unreachable_webhook_gives_up_after_the_retries(make_settings, forecast) -> None:
    settings = make_settings(
        ALERT_WEBHOOK_URL="http://127.0.0.1:9/hook", ALERT_WEBHOOK_SECRET=SECRET, ALERT_WEBHOOK_RETRIES="2"
    )
    waits: list[float] = []
    assert not deliver(settings, alert_payload("acme", forecast, 3, real_names=False), sleep=waits.append)
    assert waits == [1.0, 2.0]


def test_alerts_run_on_a_background_thread_and_never_block_the_caller(webhook, receiver, forecast) -> None:
    receiver.delay_s = 1.0
    started = time.perf_counter()
    thread = start_alerts(webhook, "acme", lambda: forecast)
    assert thread is not None and time.perf_counter() - started < 0.5
    thread.join(timeout=10)
    assert len(receiver.requests) == 1


def test_no_webhook_configured_means_no_thread(settings: Settings, forecast) -> None:
    assert start_alerts(settings, "acme", lambda: forecast) is None


def test_a_webhook_without_a_secret_is_refused_naming_the_variable(make_settings) -> None:
    from finlib.errors import ConfigError

    with pytest.raises(ConfigError, match="ALERT_WEBHOOK_SECRET"):
        make_settings(ALERT_WEBHOOK_URL="https://hooks.example/late")


def test_a_refresh_that_finds_a_new_file_posts_the_alert_with_aliases(webhook, receiver, tmp_path) -> None:
    from finlib.cli import main

    ledger = generated_ledger(customers=9)
    path = tmp_path / "ledger.csv"
    columns = {"customer_name": "Customer Name", "invoice_date": "Invoice Date", "invoice_number": "Invoice No"}
    frame = ledger.rename(columns=columns | {"amount": "Total Amount", "payment_date": "Payment Date"})
    frame[[*columns.values(), "Total Amount", "Payment Date"]].to_csv(path, index=False, date_format="%Y-%m-%d")
    environ = {"FINLIB_HOME": str(webhook.home), "ALIAS_SALT": "alerts-salt", "ALERT_WEBHOOK_URL": receiver.url}
    environ |= {"ALERT_WEBHOOK_SECRET": SECRET, "ALERT_LATE_DAYS": "0"}
    assert main(["register", "acme", str(path)], environ=environ) == 0
    assert receiver.requests == []  # registering is not a refresh
    path.write_text(path.read_text(encoding="utf-8") + "Customer 00,2025-12-30,INV-X,10.0,\n", encoding="utf-8")
    assert main(["refresh", "acme"], environ=environ) == 0
    deadline = time.monotonic() + 30
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    [(_, body)] = receiver.requests
    sent = json.loads(body)
    assert sent["project"] == "acme" and sent["invoices"]
    assert all(entry["customer"].startswith("CUST-") for entry in sent["invoices"])
    assert b"Customer 0" not in body
