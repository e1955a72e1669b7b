"""Designed states of the dashboard in AppTest: no project, no paid invoice, a one-invoice customer, a dead database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers.app import PAGES, run_app, services

from finlib import projects
from finlib.chat.offline import OFFLINE_LABEL
from finlib.errors import ObjectNotFoundError

NOTHING_PAID_CSV = (
    b"Customer,Invoice Date,Invoice No,Amount,Payment Date,Location\n"
    b"Zephyr Widgets,2025-01-05,Z-1,1200.00,,Oslo\n"
    b"Zephyr Widgets,2025-02-05,Z-2,1300.00,,Oslo\n"
    b"Zephyr Widgets,2025-03-05,Z-3,1250.00,,Oslo\n"
    b"Quasar Foods,2025-01-20,Q-1,800.00,,Bergen\n"
)
ONE_INVOICE_CSV = (
    b"Customer,Invoice Date,Invoice No,Amount,Payment Date\n"
    b"Zephyr Widgets,2025-01-05,Z-1,1200.00,2025-02-01\n"
    b"Zephyr Widgets,2025-02-05,Z-2,1300.00,2025-03-10\n"
    b"Quasar Foods,2025-01-20,Q-1,800.00,2025-02-14\n"
)
CLOSED_PORT_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:1/x"


def shown_text(at: object) -> str:
    """Every message, caption, markdown and metric value on the page, as one string."""
    parts: list[str] = []
    for kind in ("info", "warning", "success", "caption", "markdown", "subheader"):
        parts.extend(str(element.value) for element in getattr(at, kind))
    parts.extend(f"{metric.label}: {metric.value}" for metric in at.metric)
    return "\n".join(parts)


def upload(name: str, data: bytes) -> None:
    projects.upload_project(services(), name, f"{name}.csv", data)


def open_project(name: str, page: str) -> object:
    at = run_app()
    at.selectbox(key="sidebar_project").set_value(name).run()
    at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_with_no_project_every_page_says_how_to_add_a_ledger_without_an_error(app_home: Path, page: str) -> None:
    run_app()
    projects.delete_project(services(), "demo")
    at = run_app(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "sidebar_project" not in [box.key for box in at.selectbox]
    if page == "pages/projects.py":
        assert at.file_uploader(key="projects_upload_file")
        assert "No projects yet" in shown_text(at)
    elif page == "pages/api.py":  # the API page needs no ledger: it explains the API and manages tokens
        assert "python -m finlib serve" in shown_text(at)
        assert "Add a ledger" in [link.proto.label for link in at.get("page_link")]
    else:
        assert "No ledger yet" in shown_text(at)
        links = [link.proto.page for link in at.get("page_link")]
        assert "projects" in links, links


def test_with_no_project_the_sidebar_links_to_adding_a_ledger(app_home: Path) -> None:
    run_app()
    projects.delete_project(services(), "demo")
    at = run_app()
    labels = [link.proto.label for link in at.get("page_link")]
    assert "Add a ledger" in labels


def test_with_no_paid_invoice_the_overview_shows_the_amounts_and_says_why_delays_are_missing(app_home: Path) -> None:
    upload("unpaid", NOTHING_PAID_CSV)
    at = open_project("unpaid", "pages/overview.py")
    assert not at.exception and not at.error
    values = {metric.label: metric.value for metric in at.metric}
    assert values["Invoiced"] == "4.55K"
    assert values["Collected"] == "0"
    assert values["Outstanding"] == "4.55K"
    assert values["Avg days to pay"] == "—"
    text = shown_text(at)
    assert "nan" not in text.lower().split()
    assert "No invoice in this selection has a payment date yet" in text
    chart_keys = [chart.proto.id for chart in at.get("plotly_chart")]
    assert not any("delay" in key for key in chart_keys), "no empty delay charts"


NO_PAYMENT_COLUMN_CSV = (
    b"ContactName,InvoiceNumber,InvoiceDate,DueDate,Total\n"
    b"Zephyr Widgets,INV-1,05/01/2025,04/02/2025,1200.00\n"
    b"Quasar Foods,INV-2,20/01/2025,19/02/2025,800.00\n"
)


@pytest.mark.parametrize(
    "page",
    ["pages/overview.py", "pages/worklist.py", "pages/customers.py", "pages/forecast.py", "pages/breakdown.py",
     "pages/chat.py"],
)  # fmt: skip
def test_an_export_without_payment_dates_says_so_on_every_page_that_needs_them(app_home: Path, page: str) -> None:
    upload("xero", NO_PAYMENT_COLUMN_CSV)
    at = open_project("xero", page)
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    notes = [str(info.value) for info in at.info if "has no payment dates" in str(info.value)]
    assert notes == [
        "Project xero has no payment dates (Xero and QuickBooks Online invoice exports carry none): days to pay, "
        "on-time share, payment delays and payment forecasts are not available, and every invoice counts as open. "
        "Load an export with a payment date column to see them."
    ]


def test_a_ledger_with_payment_dates_shows_no_such_note(app_home: Path) -> None:
    upload("paid", ONE_INVOICE_CSV)
    at = open_project("paid", "pages/overview.py")
    assert not [info for info in at.info if "has no payment dates" in str(info.value)]


MIXED_CURRENCY_CSV = (
    b"Customer,Invoice Date,Invoice No,Amount,Currency,Payment Date\n"
    b"Zephyr Widgets,2025-01-05,Z-1,1200.00,USD,2025-02-01\n"
    b"Quasar Foods,2025-01-20,Q-1,800.00,EUR,2025-02-14\n"
)


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/worklist.py", "pages/breakdown.py"])
def test_a_note_that_changes_what_the_totals_mean_is_shown_on_the_analysis_pages(app_home: Path, page: str) -> None:
    upload("mixed", MIXED_CURRENCY_CSV)
    at = open_project("mixed", page)
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    notes = [str(w.value) for w in at.warning if "currencies" in str(w.value)]
    assert notes == [
        "Project mixed: Column 'Currency' names 2 currencies (USD: 1 row, 1,200.00; EUR: 1 row, 800.00). Every "
        "total adds the amounts as one currency: right only if they are already converted to one. If they are "
        "not, export one file per currency and register each as its own project."
    ]
    upload("paid", ONE_INVOICE_CSV)
    at = open_project("paid", page)
    assert not [w for w in at.warning if "currencies" in str(w.value)]


def test_with_no_paid_invoice_a_customer_shows_why_there_is_no_payment_forecast(app_home: Path) -> None:
    upload("unpaid", NOTHING_PAID_CSV)
    at = open_project("unpaid", "pages/customers.py")
    assert not at.exception and not at.error
    values = {metric.label: metric.value for metric in at.metric}
    assert values["Total invoiced"] == "3.75K"
    assert values["Next payment, predicted"] == "—"
    assert values["Avg days to pay"] == "—"
    text = shown_text(at)
    assert "No paid invoice yet" in text
    assert "nan" not in text.lower().split()


def test_a_customer_with_one_invoice_reads_sensibly(app_home: Path) -> None:
    upload("single", ONE_INVOICE_CSV)
    at = open_project("single", "pages/customers.py")
    stats = projects.load_project(services(), "single").ledger
    quasar = stats.loc[stats["customer_name"] == "Quasar Foods", "customer_key"].iloc[0]
    at.selectbox(key="customers_select").set_value(quasar).run()
    assert not at.exception and not at.error
    text = shown_text(at)
    assert "Trend **stable**" not in text, "one invoice has no trend"
    assert "one invoice so far" in text.lower()
    assert "a spread needs at least two" in text
    assert at.get("plotly_chart"), "the amount chart still shows the invoice"


def test_a_database_that_is_down_shows_what_to_do_instead_of_a_traceback(
    app_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT_DATABASE)
    at = run_app()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error, "the failure is shown"
    message = at.error[0].value
    assert "database" in message.lower()
    assert "DATABASE_URL" in message, message


def test_the_privacy_audit_log_does_not_claim_offline_questions_were_sent(app_home: Path) -> None:
    at = run_app("pages/chat.py")
    at.chat_input(key="chat_input").set_value("Who are the slowest payers?").run()
    at.switch_page("pages/privacy.py").run()
    assert not at.exception and not at.error
    headings = [header.value for header in at.subheader]
    assert "What was sent to the language model" not in headings
    assert any("would have been sent" in heading for heading in headings), headings
    log = next(frame.value for frame in at.dataframe if "Verdict" in frame.value.columns)
    assert log["Verdict"].tolist() == ["offline"]
    assert "nothing left the app" in at.expander[0].label


def test_an_unknown_name_as_the_first_chat_question_is_said_to_be_no_customer_once(app_home: Path) -> None:
    at = run_app("pages/chat.py")
    at.chat_input(key="chat_input").set_value("What about Foobar Ltd?").run()
    assert not at.exception and not at.error
    shown = [element.value for element in [*at.markdown, *at.caption]]
    said = [text for text in shown if "Foobar Ltd" in text and "What about" not in text]
    assert said == ["Foobar Ltd is not a customer in this project.\n\n" + OFFLINE_LABEL]
    assert not any("follow-up" in text for text in shown)


def test_the_chat_pages_aging_answer_keeps_the_overdue_total_out_of_the_last_bucket(app_home: Path) -> None:
    at = run_app("pages/chat.py")
    at.chat_input(key="chat_input").set_value("Show the aging of open invoices").run()
    assert not at.exception and not at.error
    (answer,) = [m.value for m in at.markdown if "Overdue in total" in m.value]
    before, _, after = answer.partition("Overdue in total")
    assert before.endswith("\n\n") and before.rstrip().splitlines()[-1].startswith("- over 90 days past due")


PAST_PREDICTION_CSV = (
    b"Customer,Invoice Date,Invoice No,Amount,Payment Date\n"
    b"Zephyr Widgets,2025-01-05,Z-1,1200.00,2025-02-01\n"
    b"Zephyr Widgets,2025-02-05,Z-2,1300.00,2025-03-10\n"
    b"Quasar Foods,2025-01-20,Q-1,800.00,2025-02-14\n"
    b"Quasar Foods,2025-05-20,Q-2,900.00,\n"
    b"Nova Ltd,2025-06-01,N-1,500.00,\n"
)


@pytest.mark.parametrize(("customer", "caveat"), [("Zephyr Widgets", "no open invoice"), ("Quasar Foods", "900 open")])
def test_a_predicted_payment_date_before_the_ledger_date_is_marked_as_already_past(
    app_home: Path, customer: str, caveat: str
) -> None:
    upload("past", PAST_PREDICTION_CSV)
    at = open_project("past", "pages/customers.py")
    ledger = projects.load_project(services(), "past").ledger
    key = ledger.loc[ledger["customer_name"] == customer, "customer_key"].iloc[0]
    at.selectbox(key="customers_select").set_value(key).run()
    assert not at.exception and not at.error
    card = next(metric for metric in at.metric if metric.label == "Next payment, predicted")
    assert pd.Timestamp(card.value) < pd.Timestamp("2025-06-01")
    assert card.delta is not None and card.delta.startswith("already past: ")
    assert caveat in card.delta


def test_a_predicted_payment_date_after_the_ledger_date_has_no_caveat(app_home: Path) -> None:
    upload("single", ONE_INVOICE_CSV)
    at = open_project("single", "pages/customers.py")
    card = next(metric for metric in at.metric if metric.label == "Next payment, predicted")
    assert not card.delta


@pytest.mark.parametrize("page", ["overview", "customers", "chat", "privacy"])
def test_a_project_whose_refresh_failed_says_so_on_every_page_while_its_ledger_is_cached(
    app_home: Path, page: str
) -> None:
    upload("zephyr", ONE_INVOICE_CSV)
    at = open_project("zephyr", f"pages/{page}.py")
    assert not at.warning
    for path in (app_home / "store").rglob("*"):
        if path.is_file() and "zephyr" in str(path):
            path.unlink()
    with pytest.raises(ObjectNotFoundError, match="no longer in the store"):
        projects.refresh_project(services(), "zephyr")
    at.run()
    assert not at.exception
    warning = " ".join(str(w.value) for w in at.warning)
    assert "source missing" in warning
    assert "The figures below are from the last successful load" in warning
    assert at.button(key=f"{page}_status_refresh")
    at.button(key=f"{page}_status_delete").click().run()
    assert "Delete **zephyr**?" in " ".join(m.value for m in at.markdown)
