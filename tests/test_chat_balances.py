"""The chat follows the pages' definitions: balances as of a date, DSO countback and its trend, aging, breakdowns.

One hand-computed ledger, balance date 31 Oct 2026 (the last payment), 30-day terms:

    #  customer  manager   invoiced    amount  due         paid        at 31 Oct 2026
    1  Alpha     Jane Doe  2026-07-01    1000  2026-07-31  2026-08-15  paid
    2  Alpha     Jane Doe  2026-08-01    2000  2026-08-31  -           61 days past due  (61-90)
    3  Alpha     Jane Doe  2026-10-10     500  2026-11-09  -           not yet due       (current)
    4  Beta      John Roe  2026-09-15     800  2026-10-15  -           16 days past due  (1-30)
    5  Beta      John Roe  2026-06-01     300  2026-07-01  -           122 days past due (over 90)
    6  Beta      John Roe  2026-09-01    1300  2026-10-01  2026-10-31  paid on the balance date

Outstanding 3,600 (2000 + 500 + 800 + 300); overdue 3,100 in 3 invoices; current 500.
Invoiced per month: Jun 300, Jul 1000, Aug 2000, Sep 2100, Oct 500.
DSO countback at 31 Oct: Oct takes 500 (31 days), Sep 2100 (30 days), 1000 of Aug's 2000 (15.5 of 31 days)
= 76.5 days; best possible (the 500 current) = 500/500 of October = 31.0 days; ADD = 45.5 days.
At 31 Jul: open 1300 (invoices 1 and 5) = July's 1000 (31 days) + June's 300 (30 days) = 61.0 days.
Jane Doe's customers owe 2,000 overdue of 2,500 outstanding; John Roe's 1,100 of 1,100.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from finlib.chat.facts import build_facts, compute_project_figures
from finlib.chat.kpi_facts import KpiMonthFacts, quarter_facts, trend_facts, worklist_facts
from finlib.chat.mentions import MentionResolver
from finlib.chat.numbers import unverified_numbers
from finlib.chat.offline import OFFLINE_LABEL, answer_offline
from finlib.chat.period_answers import requested_periods
from finlib.chat.pipeline import ChatSession, answer_question, prepare
from finlib.config import Settings
from finlib.currency import parse_currency
from finlib.privacy.aliasing import AliasBook
from finlib.privacy.scanner import NameScanner, find_real_names
from tests.ledger_frames import make_ledger

ALPHA, BETA, JANE, JOHN = "CUST-AAAA0001", "CUST-BBBB0002", "PERS-JJJJ0001", "PERS-RRRR0002"
ROWS = [
    ("Alpha", "Jane Doe", "2026-07-01", 1000.0, "2026-08-15"),
    ("Alpha", "Jane Doe", "2026-08-01", 2000.0, None),
    ("Alpha", "Jane Doe", "2026-10-10", 500.0, None),
    ("Beta", "John Roe", "2026-09-15", 800.0, None),
    ("Beta", "John Roe", "2026-06-01", 300.0, None),
    ("Beta", "John Roe", "2026-09-01", 1300.0, "2026-10-31"),
]
ALIASES = {"Alpha": ALPHA, "Beta": BETA, "Jane Doe": JANE, "John Roe": JOHN}


@pytest.fixture(scope="module")
def session() -> ChatSession:
    ledger = make_ledger(
        [
            {"customer_name": customer, "sales_manager": manager, "invoice_date": day, "amount": amount,
             "payment_date": paid, "customer_alias": ALIASES[customer], "sales_manager_alias": ALIASES[manager]}
            for customer, manager, day, amount, paid in ROWS
        ]
    )  # fmt: skip
    book = AliasBook(
        pd.DataFrame(
            [
                {"kind": "customer" if alias.startswith("CUST") else "person", "real_name": name,
                 "key": name.casefold(), "alias": alias}
                for name, alias in ALIASES.items()
            ]
        )
    )  # fmt: skip
    scanner = NameScanner.from_book(book)
    figures = compute_project_figures(ledger)
    return ChatSession("hand", scanner, MentionResolver(scanner), book.lookup, figures, parse_currency("EUR"))


def ask(session: ChatSession, question: str) -> str:
    prepared = prepare(session, question)
    assert prepared.facts is not None
    return answer_offline(prepared.question_aliased, prepared.facts)


def test_the_facts_carry_the_balances_as_of_the_balance_date(session: ChatSession) -> None:
    facts = build_facts(session.figures, [], "how are we doing", session.scanner)
    balances = facts.balances
    assert balances is not None
    assert (balances.as_of, balances.outstanding, balances.overdue, balances.current) == (
        "2026-10-31",
        3600.0,
        3100.0,
        500.0,
    )
    assert (balances.open_invoices, balances.overdue_invoices) == (4, 3)
    assert (balances.dso_countback, balances.best_possible_dso, balances.add) == (76.5, 31.0, 45.5)
    aging = {row.bucket: (row.invoice_count, row.amount) for row in facts.aging_of_open_invoices}
    assert aging == {"current": (1, 500.0), "1-30": (1, 800.0), "31-60": (0, 0.0), "61-90": (1, 2000.0),
                     "over_90": (1, 300.0)}  # fmt: skip


def test_the_kpi_trend_holds_dso_as_of_each_month_end(session: ChatSession) -> None:
    facts = build_facts(session.figures, [], "how did DSO move", session.scanner)
    trend = {row.as_of: row.dso_countback for row in facts.kpi_trend or ()}
    assert trend == {"2026-06-30": 30.0, "2026-07-31": 61.0, "2026-08-31": 40.3, "2026-09-30": 70.3,
                     "2026-10-31": 76.5}  # fmt: skip


def test_the_worklist_lists_customers_largest_overdue_first_by_alias(session: ChatSession) -> None:
    facts = build_facts(session.figures, [], "who should we chase first", session.scanner)
    rows = [(row.alias, row.overdue, row.outstanding, row.open_invoices) for row in facts.worklist or ()]
    assert rows == [(ALPHA, 2000.0, 2500.0, 2), (BETA, 1100.0, 1100.0, 2)]


def test_the_trend_and_the_worklist_are_computed_when_a_question_first_asks_for_them(session: ChatSession) -> None:
    figures = compute_project_figures(session.figures.ledger)
    kpis = figures.kpis
    assert kpis is not None and kpis.as_of == pd.Timestamp("2026-10-31")
    plain = build_facts(figures, [], "how are we doing", session.scanner)
    assert (plain.kpi_trend, plain.worklist) == (None, None)
    assert {"trend", "quarters", "worklist"}.isdisjoint(vars(kpis))
    trend = build_facts(figures, [], "how did DSO move", session.scanner).kpi_trend
    assert {"trend", "quarters"} <= set(vars(kpis)) and "worklist" not in vars(kpis)
    assert trend and trend == trend_facts(figures.ledger, kpis.as_of)
    worklist = build_facts(figures, [], "who should we chase first", session.scanner).worklist
    assert worklist and worklist == worklist_facts(figures.ledger, kpis.as_of, window=3, trend_threshold=0.05)


def test_dso_trend_over_the_last_three_months_is_answered_month_end_by_month_end(session: ChatSession) -> None:
    answer = ask(session, "How did DSO move over the last 3 months?")
    assert "As of 31 Oct 2026: DSO (countback) 76.5 days, best-possible DSO 31.0 days, ADD" in answer
    assert "DSO moved from 61.0 days on 31 Jul 2026 to 76.5 days on 31 Oct 2026 (up 15.5 days)" in answer
    assert "- 31 Aug 2026: DSO 40.3 days, outstanding €2,300.00" in answer
    assert "30 Jun 2026" not in answer  # three months back from October starts at the end of July
    assert "can't answer" not in answer and answer.endswith(OFFLINE_LABEL)


def test_aging_answer_gives_every_bucket_and_an_overdue_total_without_current(session: ChatSession) -> None:
    answer = ask(session, "Show the overdue by aging bucket")
    assert "- current (not yet due, not overdue): 1 invoice, €500.00" in answer
    assert "- 61-90 days past due: 1 invoice, €2,000.00" in answer
    assert "- over 90 days past due: 1 invoice, €300.00" in answer
    assert "Overdue in total (1 day or more past due): €3,100.00 in 3 invoices, of €3,600.00 outstanding" in answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who owes us the most?", ["in 4 open invoices", f"1. {ALPHA}: €2,500.00", f"2. {BETA}: €1,100.00"]),
        ("Which customers have the largest balances?", [f"1. {ALPHA}: €2,500.00"]),
        ("How many invoices are still open?", ["€3,600.00 in 4 open invoices, of which overdue €3,100.00"]),
        ("How much is overdue more than 90 days?", ["More than 90 days past due as of 31 Oct 2026: €300.00 in 1"]),
        ("What is outstanding over 60 days?", ["More than 60 days past due as of 31 Oct 2026: €2,300.00 in 2"]),
        ("Open invoices older than 30 days?", ["More than 30 days past due as of 31 Oct 2026: €2,300.00 in 2"]),
        ("What's our average invoice size?", ["Average invoice as of 31 Oct 2026: €983.33 (€5,900.00 invoiced over 6"]),
        ("Compare Q2 and Q3 invoicing", ["Q2 2026 (1 Jun 2026 to 30 Jun 2026): invoiced €300.00, collected €0.00.",
                                         "Q3 2026 (1 Jul 2026 to 30 Sep 2026): invoiced €5,100.00, collected €1,000"]),
        ("How did the third quarter go?", ["Q3 2026 (1 Jul 2026 to 30 Sep 2026): invoiced €5,100.00"]),
    ],
)  # fmt: skip
def test_balances_thresholds_averages_and_quarters_without_a_year_are_answered_offline(
    session: ChatSession, question: str, expected: list[str]
) -> None:
    answer = ask(session, question)
    for text in expected:
        assert text in answer
    assert "can't answer" not in answer and answer.endswith(OFFLINE_LABEL)


LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def lines_markdown_joins(markdown: str) -> list[str]:
    """Unindented text lines right after another line: Markdown runs them into it (a soft break, or a lazy
    continuation of a list item); only a list item or a nested line may follow without a blank line."""
    lines = markdown.splitlines()
    return [
        line for before, line in zip(lines, lines[1:], strict=False)
        if before.strip() and line.strip() and not line.startswith(" ") and not LIST_ITEM.match(line)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("question", "paragraphs"),
    [
        ("Show the overdue by aging bucket", "€300.00\n\nOverdue in total"),
        ("Which sales manager has the most overdue?", "(as of 31 Oct 2026).\n\nBy sales manager, most overdue first:"),
    ],
)
def test_answers_end_a_paragraph_or_list_with_a_blank_line_so_markdown_keeps_the_lines_apart(
    session: ChatSession, question: str, paragraphs: str
) -> None:
    answer = ask(session, question)
    assert lines_markdown_joins(answer) == []
    assert paragraphs in answer


def test_the_sales_manager_with_the_most_overdue_is_named_by_alias_and_shown_by_name(session: ChatSession) -> None:
    prepared = prepare(session, "Which sales manager has the most overdue?")
    assert prepared.facts is not None
    answer = answer_offline(prepared.question_aliased, prepared.facts)
    assert f"The sales manager with the most overdue is {JANE}: €2,000.00 overdue of €2,500.00 outstanding" in answer
    assert answer.index(JANE) < answer.index(JOHN)
    assert "can't answer" not in answer
    sent = json.dumps(prepared.messages, ensure_ascii=False)
    assert find_real_names(sent, session.scanner) == []


def test_a_name_that_is_no_customer_is_said_to_be_none(session: ChatSession) -> None:
    answer = ask(session, "When will Foobar Trading pay?")
    assert answer.startswith("Foobar Trading is not a customer in this project.")
    assert "Name a customer" not in answer


def test_an_unknown_name_as_the_first_question_is_not_taken_for_a_follow_up_and_is_said_once(
    session: ChatSession,
) -> None:
    answer = answer_question(session, "What about Foobar Ltd?", settings=Settings(), engine=None).finish()
    assert answer.offline
    assert answer.answer.startswith("Foobar Ltd is not a customer in this project.")
    assert "follow-up" not in answer.answer
    said = [text for text in [answer.answer, *answer.notes] if "Foobar Ltd" in text]
    assert said == [answer.answer]


def test_amounts_are_written_in_full_with_the_project_currency(session: ChatSession) -> None:
    answer = ask(session, "How much is overdue?")
    assert (
        "Outstanding in total as of 31 Oct 2026: €3,600.00 in 4 open invoices, of which overdue €3,100.00 (3 invoices)"
        in answer
    )


# Activity over the whole ledger (1 Jun to 31 Oct 2026): invoice 1 took 45 days (paid 15 days after due), invoice 6
# 60 days (30 after due): average 52.5 days, weighted (45 x 1000 + 60 x 1300) / 2300 = 53.5 days, none on time.
# CEI = (opening 0 + invoiced 5900 - closing 3600) / (0 + 5900 - closing current 500) = 2300 / 5400 = 42.6%.
# Q3 2026: invoiced 1000 + 2000 + 2100 = 5100, collected 0 + 1000 + 0 = 1000.
# September: invoiced 2100, nothing collected; at 30 Sep open 2000 + 800 + 300 + 1300 = 4400, overdue 2000 + 300;
# CEI = (2300 + 2100 - 4400) / (2300 + 2100 - 2100) = 0.0%. At 31 Aug: open 2000 (due that day, not overdue) + 300.
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the average days to pay?", "From 1 Jun 2026 to 31 Oct 2026, the 2 invoices paid took on average "
         "52.5 days from invoice date to payment date (53.5 days weighted by amount); 0.0% were paid by their due "
         "date."),
        ("What is the CEI?", "CEI (collection effectiveness index) from 1 Jun 2026 to 31 Oct 2026: 42.6% of what was "
         "collectible was collected."),
        ("How much did we collect in September 2026?", "- Sep 2026: invoiced €2,100.00, collected €0.00, CEI 0.0%, "
         "average days to pay n/a; as of 30 Sep 2026 outstanding €4,400.00, of which overdue €2,300.00; DSO "
         "(countback) 70.3 days."),
        ("What was invoiced last quarter?", "Q3 2026 (1 Jul 2026 to 30 Sep 2026): invoiced €5,100.00, collected "
         "€1,000.00.\n- Jul 2026: invoiced €1,000.00, collected €0.00\n- Aug 2026: invoiced €2,000.00, collected "
         "€1,000.00\n- Sep 2026: invoiced €2,100.00, collected €0.00"),
        ("What was invoiced in Q3 2026?", "Q3 2026 (1 Jul 2026 to 30 Sep 2026): invoiced €5,100.00, collected "
         "€1,000.00."),
        ("What was invoiced in Q4 2026?", "Q4 2026 so far (1 Oct 2026 to 31 Oct 2026): invoiced €500.00, collected "
         "€1,300.00."),
        ("How much was overdue as of 31 August 2026?", "As of 31 Aug 2026: outstanding €2,300.00, of which overdue "
         "€300.00 (13.0% of the outstanding); DSO (countback) 40.3 days."),
    ],
)  # fmt: skip
def test_activity_and_dated_questions_are_answered_offline_from_the_facts(
    session: ChatSession, question: str, expected: str
) -> None:
    prepared = prepare(session, question)
    assert prepared.facts is not None
    answer = answer_offline(prepared.question_aliased, prepared.facts)
    assert expected in answer
    assert "can't answer" not in answer
    assert unverified_numbers(answer, prepared.facts.to_json()) == []
    assert lines_markdown_joins(answer) == []


def test_a_day_that_is_no_month_end_is_said_to_be_unavailable_and_the_figures_say_their_date(
    session: ChatSession,
) -> None:
    answer = ask(session, "How much was overdue as of 15 August 2026?")
    assert answer.startswith(
        "Balances as of 15 Aug 2026 are not available offline: the ledger's figures are as of 31 Oct 2026 and at each "
        "month end from 30 Jun 2026 to 31 Oct 2026. The figures below are as of 31 Oct 2026.\n\n"
        "Outstanding in total as of 31 Oct 2026: €3,600.00 in 4 open invoices, of which overdue €3,100.00"
    )


def test_the_facts_carry_the_whole_ledgers_activity_and_the_quarters_for_the_model(session: ChatSession) -> None:
    facts = build_facts(session.figures, [], "What was invoiced last quarter?", session.scanner).to_json()
    activity = facts["activity"]
    assert isinstance(activity, dict)
    assert (activity["avg_days_to_pay"], activity["weighted_days_to_pay"], activity["cei"]) == (52.5, 53.5, 42.6)
    assert facts["kpi_quarters"] == [
        {"quarter": "2026-Q2", "start": "2026-06-01", "end": "2026-06-30", "invoiced": 300.0, "collected": 0.0},
        {"quarter": "2026-Q3", "start": "2026-07-01", "end": "2026-09-30", "invoiced": 5100.0, "collected": 1000.0},
        {"quarter": "2026-Q4", "start": "2026-10-01", "end": "2026-10-31", "invoiced": 500.0, "collected": 1300.0},
    ]


@pytest.mark.parametrize(
    ("first", "quarters"),
    [
        ("2024-03-15", ["2026-Q1 2026-01-01 2026-03-31 9.0 90.0", "2026-Q2 2026-04-01 2026-04-30 5.0 50.0"]),
        ("2025-12-10", ["2025-Q4 2025-12-10 2025-12-31 1.0 10.0", "2026-Q1 2026-01-01 2026-03-31 9.0 90.0",
                        "2026-Q2 2026-04-01 2026-04-30 5.0 50.0"]),
    ],
)  # fmt: skip
def test_a_quarter_the_trend_starts_in_the_middle_of_is_left_out_unless_the_ledger_starts_there(
    first: str, quarters: list[str]
) -> None:
    # Dec 2025 to Apr 2026 invoiced 1, 2, 3, 4, 5 and collected ten times that: Q1 = 2 + 3 + 4 = 9; balance date 30 Apr.
    months = ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    ends = ["2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    trend = tuple(
        KpiMonthFacts(month=m, as_of=e, invoiced=float(i), collected=10.0 * i)
        for i, (m, e) in enumerate(zip(months, ends, strict=True), start=1)
    )
    found = [
        f"{q.quarter} {q.start} {q.end} {q.invoiced} {q.collected}" for q in quarter_facts(trend, pd.Timestamp(first))
    ]
    assert found == quarters


@pytest.mark.parametrize(
    ("question", "as_of", "quarters"),
    [
        ("How was Q4?", "2026-10-31", ("2026-Q4",)),
        ("How was Q1?", "2026-10-31", ("2026-Q1",)),
        ("How was Q3?", "2026-02-15", ("2025-Q3",)),
        ("Compare Q2 and Q3 2025", "2026-10-31", ("2025-Q3", "2025-Q2")),
        ("the first quarter against the second quarter", "2026-10-31", ("2026-Q1", "2026-Q2")),
        ("Q1 2025 against Q1 2026", "2026-10-31", ("2025-Q1", "2026-Q1")),
    ],
)
def test_a_quarter_named_without_a_year_is_the_latest_begun_or_the_year_the_question_names(
    question: str, as_of: str, quarters: tuple[str, ...]
) -> None:
    assert requested_periods(question, as_of).quarters == quarters
