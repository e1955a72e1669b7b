"""The chat answers 'when will X pay', 'what cash comes in' and 'which invoices will be late' from the forecast."""

from __future__ import annotations

import json

import pytest

from finlib.chat.facts import FactsPack, build_facts
from finlib.chat.offline import answer_offline
from finlib.chat.phrasing import readable_day
from finlib.chat.pipeline import ChatSession, build_chat_session
from finlib.privacy.scanner import NameScanner, find_real_names
from finlib.projects import Services, ensure_demo_project, load_project


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ChatSession, object]:
    from finlib.config import load_settings

    home = tmp_path_factory.mktemp("chat-forecast") / "home"
    settings = load_settings({"FINLIB_HOME": str(home), "ALIAS_SALT": "chat-forecast"}, dotenv_path=None)
    services = Services(settings)
    ensure_demo_project(services)
    loaded = load_project(services, "demo")
    return build_chat_session("demo", loaded.ledger, loaded.aliases, settings), loaded


def facts_for(session: ChatSession, question: str, customers: list[str] = ()) -> FactsPack:
    entries = [e for e in session.scanner.entries if e.kind == "customer" and e.real_name in customers]
    return build_facts(session.figures, entries, question, session.scanner)


QUESTIONS = [
    ("When will Al Noor Builders pay?", ["Al Noor Builders"]),
    ("What cash comes in next month?", []),
    ("Which invoices will be late?", []),
]


@pytest.mark.parametrize(("question", "customers"), QUESTIONS)
def test_the_forecast_facts_carry_no_real_name(demo, question: str, customers: list[str]) -> None:
    session, loaded = demo
    facts = facts_for(session, question, customers).to_json()
    assert "payment_forecast" in facts
    assert not find_real_names(json.dumps(facts), NameScanner.from_book(loaded.aliases))


def test_when_will_a_customer_pay_lists_its_open_invoices_predicted_dates_with_the_typical_error(demo) -> None:
    session, _ = demo
    question = "When will CUST-X pay?"
    pack = facts_for(session, "When will Al Noor Builders pay?", ["Al Noor Builders"])
    facts = pack.to_json()
    customer = facts["mentioned_customers"][0]
    forecast = customer["payment_forecast"]
    assert forecast["open_invoice_count"] > 0
    answer = answer_offline(question, pack)
    assert f"{forecast['open_invoice_count']} open invoices" in answer
    assert f"typical error ± {facts['payment_forecast']['typical_error_days']} days" in answer
    assert readable_day(forecast["largest_open_invoices"][0]["predicted_payment_date"]) in answer
    assert "Original formula" in answer  # the design's own figure stays, labelled


def test_what_cash_comes_in_next_month_is_the_next_four_weeks_expected(demo) -> None:
    session, _ = demo
    pack = facts_for(session, "What cash comes in next month?")
    facts = pack.to_json()
    weeks = facts["cash_in_forecast"]["weeks"]
    assert facts["cash_in_forecast"]["next_4_weeks_expected"] == pytest.approx(
        sum(w["expected"] for w in weeks[:4]), abs=0.05
    )
    answer = answer_offline("What cash comes in next month?", pack)
    assert f"{facts['cash_in_forecast']['next_4_weeks_expected']:,.2f} over the next 4 weeks" in answer
    assert "can't answer" not in answer  # "next month" is the forecast horizon here, not an unreadable period


def test_which_invoices_will_be_late_counts_those_predicted_past_due_plus_the_threshold(demo) -> None:
    session, _ = demo
    pack = facts_for(session, "Which invoices will be late?")
    late = pack.to_json()["predicted_late_invoices"]
    invoices = session.figures.forecast.forecast.invoices
    assert late["count"] == int((invoices["days_late"] > 14).sum()) > 0
    answer = answer_offline("Which invoices will be late?", pack)
    assert answer.startswith(f"{late['count']} open invoices")
    assert all(entry["alias"] in answer for entry in late["largest"])


def test_questions_that_do_not_ask_for_them_carry_no_cash_or_late_lists(demo) -> None:
    session, _ = demo
    facts = facts_for(session, "Who are the top customers?").to_json()
    assert "cash_in_forecast" not in facts and "predicted_late_invoices" not in facts
