"""The Chat page in AppTest: suggestions, an offline answer with the numbers `stats` gives, what the model saw."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from helpers.app import run_app, services

from finlib import projects
from finlib.analytics import customer_stats, measures

CHAT = "pages/chat.py"


def test_the_chat_page_offers_suggested_questions_and_shows_offline_status(app_home: Path) -> None:
    at = run_app(CHAT)
    assert not at.exception and not at.error
    assert at.button(key="chat_suggestion_0").label.startswith("What is the expected payment amount and date for")
    assert any("Offline" in c.value for c in at.caption)


def test_the_readme_question_gets_an_offline_answer_with_the_stats_numbers(app_home: Path) -> None:
    at = run_app(CHAT)
    at.chat_input(key="chat_input").set_value("What is the expected payment amount and date for ABC Company?").run()
    assert not at.exception and not at.error
    loaded = projects.load_project(services(), "demo")
    stats = customer_stats.compute_customer_stats(loaded.ledger).set_index("customer").loc["ABC Company"]
    answer = " ".join(m.value for m in at.markdown)
    assert f"{stats['predicted_next_amount']:,.2f}" in answer
    next_date = stats["predicted_next_payment_date"]
    assert f"{next_date.day} {next_date:%b %Y}" in answer
    assert "ABC Company" in answer and "without a language model" in answer
    assert any("What the model would have seen" in e.label for e in at.expander)
    assert "CUST-" in str(at.json[0].value)


def test_in_presentation_mode_the_question_and_answer_show_aliases_only(app_home: Path) -> None:
    from helpers.app import page_strings

    from finlib.privacy.scanner import NameScanner, find_real_names

    at = run_app(CHAT)
    at.toggle(key="sidebar_presentation_mode").set_value(True).run()
    at.chat_input(key="chat_input").set_value("What is the expected payment amount and date for ABC Company?").run()
    assert not at.exception and not at.error
    book = projects.load_project(services(), "demo").aliases
    shown = "\n".join(page_strings(at))
    assert find_real_names(shown, NameScanner.from_book(book)) == []
    assert book.alias_for("ABC Company") in shown


def test_an_offline_answer_carries_one_short_note_and_the_settings_are_named_once_at_the_top(app_home: Path) -> None:
    at = run_app(CHAT)
    at.chat_input(key="chat_input").set_value("Who are the slowest payers?").run()
    at.chat_input(key="chat_input").set_value("How much is overdue, and with whom?").run()
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    naming = [c for c in captions if "LITE_LLM_API_KEY" in c]
    assert len(naming) == 1 and naming[0].startswith("Offline"), captions
    answers = " ".join(m.value for m in at.markdown)
    assert answers.count("without a language model") == 2  # one short note per answer, in the answer
    assert not any(c.startswith("No model is configured") for c in captions)


def test_the_chat_page_says_its_answers_cover_the_whole_project_whatever_the_sidebar_says(app_home: Path) -> None:
    at = run_app()
    at.date_input(key="sidebar_as_of").set_value(date(2026, 6, 30)).run()
    at.switch_page(CHAT).run()
    latest = measures.resolve_as_of(projects.load_project(services(), "demo").ledger)
    scope = [c.value for c in at.caption if "whole project" in c.value]
    assert scope == [
        f"Answers cover the whole project as of {latest.day} {latest:%b %Y}; the sidebar's filters and balance date "
        "do not apply to chat."
    ]
