"""The command line: each command's output, exit codes, and one clear line on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.ledgers import LEDGER_CSV

from finlib.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "cli-test-salt"}


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "march.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    return path


def run(environ: dict[str, str], *argv: str) -> int:
    return main(list(argv), environ=environ)


def test_register_then_stats_json_gives_the_formulas_results(environ, ledger, capsys) -> None:
    assert run(environ, "register", "local2", str(ledger)) == 0
    capsys.readouterr()
    assert run(environ, "stats", "local2", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["project"] == "local2"
    customers = {c["customer"]: c for c in payload["customers"]}
    acme = customers["ACME Corp"]
    assert acme["invoice_count"] == 3
    assert acme["total_amount"] == pytest.approx(3600.0)
    assert acme["moving_average"] == pytest.approx(1200.0)
    assert acme["predicted_next_amount"] == pytest.approx(1200.0)
    assert acme["trend"] == "stable"
    assert acme["avg_payment_delay_days"] == pytest.approx(31.5)  # 30 and 33 days
    assert acme["last_payment_date"] == "2026-03-10"
    assert acme["predicted_next_payment_date"] == "2026-04-11"  # + 32 days
    assert acme["alias"].startswith("CUST-")
    beta = customers["Beta LLC"]
    assert beta["total_amount"] == pytest.approx(450.0)  # the credit note (50.00) stays negative
    assert payload["portfolio"]["invoice_count"] == 5
    assert payload["portfolio"]["outstanding"] == pytest.approx(1400.0)


def test_stats_for_one_customer_matches_any_spelling(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "stats", "local2", "--customer", "  acme   CORP", "--json") == 0
    customers = json.loads(capsys.readouterr().out)["customers"]
    assert [c["customer"] for c in customers] == ["ACME Corp"]


def test_stats_for_an_unknown_customer_fails_with_a_hint(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "stats", "local2", "--customer", "acme") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Did you mean: ACME Corp" in err[0]


def test_projects_json_lists_registered_projects(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "projects", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(p["name"], p["rows"], p["customers"]) for p in listed] == [("local2", 5, 2)]


def test_delete_removes_the_project(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    assert run(environ, "delete", "local2") == 0
    capsys.readouterr()
    run(environ, "projects", "--json")
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stats", "nope"], "no project named 'nope'"),
        (["register", "x", "/does/not/exist.csv"], "no file at /does/not/exist.csv"),
        (["register", "x", "http://169.254.169.254/latest/meta-data"], "not"),
        (["register", "x", "s3://not-allowed/ledger.csv"], "not-allowed"),
        (["register", "x", "./ledger.csv", "--mapping", "{not json"], "not valid JSON"),
        (["stats", "nope", "--as-of", "yesterday-ish"], "no project named 'nope'"),
    ],
)
def test_failures_exit_non_zero_with_one_line_on_stderr(environ, capsys, argv, message) -> None:
    assert run(environ, *argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: ")
    assert message.lower() in err[0].lower()


@pytest.mark.parametrize("command", ["kpis", "stats", "forecast"])
def test_a_balance_date_before_the_first_invoice_is_refused_in_one_line(environ, ledger, capsys, command) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, command, "local2", "--as-of", "2026-01-04") == 1  # the first invoice is of 5 Jan 2026
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "error: The balance date 4 Jan 2026 is before the ledger starts on 5 Jan 2026 (its first invoice): give a "
        "date on or after it."
    ]
    assert captured.out == ""
    if command != "forecast":  # a forecast on the first day has no payment history yet: another message
        assert run(environ, command, "local2", "--as-of", "2026-01-05") == 0


@pytest.mark.parametrize("command", ["kpis", "stats", "forecast"])
def test_a_balance_date_after_the_ledger_is_refused_in_one_line(environ, ledger, capsys, command) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, command, "local2", "--as-of", "2099-01-01") == 1
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert line.startswith("error: The balance date 1 Jan 2099 is after the ledger's latest date, ")
    assert "payments after it are not in the ledger" in line and captured.out == ""


def test_a_blank_question_is_refused_in_one_line(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "ask", "local2", "  ") == 1
    assert capsys.readouterr().err.strip() == (
        'error: The question is empty: ask one in plain language, e.g. "Who owes us the most?".'
    )


def test_a_load_note_on_what_the_totals_mean_is_said_under_every_chat_answer(environ, tmp_path, capsys) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "Customer,Invoice Date,Amount,Currency,Payment Date\nA,2025-01-05,100,USD,2025-02-01\nB,2025-01-06,50,EUR,\n",
        encoding="utf-8",
    )
    run(environ, "register", "mixed", str(path))
    capsys.readouterr()
    assert run(environ, "ask", "mixed", "How much did we invoice?") == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: Column 'Currency'")]
    assert notes == [
        "note: Column 'Currency' names 2 currencies (USD: 1 row, 100.00; EUR: 1 row, 50.00). Every total adds the "
        "amounts as one currency: right only if they are already converted to one. If they are not, export one file "
        "per currency and register each as its own project."
    ]


def test_python_dash_m_finlib_prints_no_traceback_on_failure(environ) -> None:
    env = {**os.environ, **environ}
    result = subprocess.run(
        [sys.executable, "-m", "finlib", "stats", "missing"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")


def test_python_dash_m_finlib_demo_creates_the_demo_project(environ) -> None:
    env = {**os.environ, **environ}
    result = subprocess.run([sys.executable, "-m", "finlib", "demo"], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("demo: ")
    listed = subprocess.run(
        [sys.executable, "-m", "finlib", "projects", "--json"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert [p["name"] for p in json.loads(listed.stdout)] == ["demo"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "foo://bar", "DATABASE_URL"),
        ("MOVING_AVG_WINDOW", "three", "MOVING_AVG_WINDOW"),
        ("ALIAS_LENGTH", "1", "ALIAS_LENGTH"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_variable(environ, capsys, variable, value, message) -> None:
    assert run({**environ, variable: value}, "projects") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_an_unusable_data_home_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    env = {**os.environ, "FINLIB_HOME": str(blocker / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "finlib", "projects"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "FINLIB_HOME" in result.stderr and "Traceback" not in result.stderr


def test_stats_as_of_a_date_sees_the_ledger_as_it_stood_then(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "stats", "local2", "--as-of", "2026-02-28", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    acme = next(c for c in payload["customers"] if c["customer"] == "ACME Corp")
    assert payload["as_of"] == "2026-02-28"
    assert payload["portfolio"]["invoice_count"] == 4  # INV-3 (5 March) was not issued yet
    assert acme["invoice_count"] == 2
    assert acme["last_payment_date"] == "2026-02-04"  # INV-2 was paid on 10 March, after the date
    assert payload["portfolio"]["outstanding"] == pytest.approx(1200.0)


@pytest.mark.parametrize("text", ["1/2/2026", "2026-13-01", "yesterday"])
def test_stats_as_of_accepts_only_iso_dates(environ, ledger, capsys, text: str) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "stats", "local2", "--as-of", text) == 1
    assert "--as-of must be a date like" in capsys.readouterr().err


def test_kpis_json_has_the_documented_shape_and_hand_computed_balances(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "kpis", "local2", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"project", "currency", "as_of", "period", "balances", "activity", "monthly"}
    assert payload["currency"] is None  # this ledger states none
    assert payload["as_of"] == "2026-03-10"
    assert payload["period"] == {"from": "2026-01-05", "to": "2026-03-10"}
    balances = payload["balances"]
    # Only INV-3 (1,400, issued 5 March, due 4 April) is open: DSO = 1,400 of March's 1,400 over 10 days.
    assert balances["outstanding"] == pytest.approx(1400.0)
    assert balances["overdue"] == 0
    assert balances["aging"] == {"current": 1400.0, "1-30": 0, "31-60": 0, "61-90": 0, "over_90": 0}
    assert balances["dso_countback"] == pytest.approx(10.0)
    assert balances["add"] == pytest.approx(0.0)
    assert [month["month"] for month in payload["monthly"]] == ["2026-01", "2026-02", "2026-03"]


def test_kpis_balances_are_the_same_whatever_the_period(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    run(environ, "kpis", "local2", "--json")
    everything = json.loads(capsys.readouterr().out)
    assert run(environ, "kpis", "local2", "--from", "2026-02-01", "--to", "2026-02-28", "--json") == 0
    february = json.loads(capsys.readouterr().out)
    assert february["balances"] == everything["balances"]
    assert february["activity"]["invoiced"] == pytest.approx(1150.0)  # 1,200 less the 50 credit note
    assert february["activity"]["collected"] == pytest.approx(1000.0)  # cash: INV-1 paid 4 February
    assert run(environ, "kpis", "local2", "--as-of", "2026-02-15", "--json") == 0
    earlier = json.loads(capsys.readouterr().out)
    assert earlier["balances"]["outstanding"] == pytest.approx(1200.0)  # INV-2, paid only on 10 March


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-03-01", "--to", "2026-02-01"], "The period ends (2026-02-01) before it starts"),
        (["--as-of", "31/03/2026"], "--as-of must be a date like 2026-03-31"),
        (["--from", "March"], "--from must be a date like 2026-03-31"),
    ],
)
def test_kpis_refuses_bad_dates_in_one_line(environ, ledger, capsys, argv: list[str], message: str) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "kpis", "local2", *argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_kpis_prints_a_readable_summary(environ, ledger, capsys) -> None:
    run(environ, "register", "local2", str(ledger))
    capsys.readouterr()
    assert run(environ, "kpis", "local2") == 0
    out = capsys.readouterr().out
    assert "balances as of 2026-03-10" in out
    assert "dso_countback: 10.00" in out


def test_demo_re_creates_a_deleted_demo_project_while_other_projects_exist(environ, ledger, capsys) -> None:
    assert run(environ, "demo") == 0
    run(environ, "register", "local2", str(ledger))
    run(environ, "delete", "demo")
    capsys.readouterr()
    assert run(environ, "demo") == 0
    assert capsys.readouterr().out.startswith("demo: 481 rows, 30 customers")
    run(environ, "projects", "--json")
    assert sorted(p["name"] for p in json.loads(capsys.readouterr().out)) == ["demo", "local2"]


def test_demo_says_the_demo_project_exists_and_force_re_creates_it(environ, capsys) -> None:
    run(environ, "demo")
    capsys.readouterr()
    assert run(environ, "demo") == 0
    assert capsys.readouterr().out == "project demo exists already; use --force to re-create it\n"
    assert run(environ, "demo", "--force") == 0
    assert capsys.readouterr().out.startswith("demo: 481 rows")


NEVER_PAID_AND_NOISY_CSV = (
    "Customer,Invoice Date,Amount,Payment Date\n"
    "Never Paid Ltd,2026-01-05,100.10,\n"
    "Noise Ltd,2026-01-05,0.10,2026-01-20\n"
    "Noise Ltd,2026-02-05,0.20,2026-02-25\n"
)


def test_stats_text_shows_a_dash_where_a_value_does_not_exist(environ, tmp_path, capsys) -> None:
    path = tmp_path / "never.csv"
    path.write_text(NEVER_PAID_AND_NOISY_CSV, encoding="utf-8")
    run(environ, "register", "never", str(path))
    capsys.readouterr()
    assert run(environ, "stats", "never", "--customer", "Never Paid Ltd") == 0
    out = capsys.readouterr().out
    assert "None" not in out and "NaN" not in out and "nan" not in out
    row = next(line for line in out.splitlines() if line.strip().startswith("Never Paid Ltd"))
    # average delay, last payment date and predicted payment date: never paid, so none of them exists
    assert row.split()[-3:] == ["—", "—", "—"]


def test_stats_json_carries_no_float_noise(environ, tmp_path, capsys) -> None:
    path = tmp_path / "noise.csv"
    path.write_text(NEVER_PAID_AND_NOISY_CSV, encoding="utf-8")
    run(environ, "register", "noise", str(path))
    capsys.readouterr()
    assert run(environ, "stats", "noise", "--json") == 0
    raw = capsys.readouterr().out
    assert 0.1 + 0.2 == 0.30000000000000004  # what a plain float sum of the two invoices gives
    assert "0.30000000000000004" not in raw
    noise = next(c for c in json.loads(raw)["customers"] if c["customer"] == "Noise Ltd")
    assert noise["total_amount"] == 0.3 and noise["average_amount"] == 0.15
    assert noise["avg_payment_delay_days"] == 17.5  # 15 and 20 days
