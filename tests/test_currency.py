"""A project's currency: how an amount is written, what a ledger states, and where the project keeps it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.ledgers import LEDGER_CSV

from finlib.cli import main
from finlib.currency import Currency, changed_currency, format_amount, parse_currency, stated_currency
from finlib.errors import CurrencyError

EUR, CHF = Currency("EUR", "€"), Currency("CHF", "CHF")


@pytest.mark.parametrize(
    ("value", "currency", "written"),
    [
        (494123.451, EUR, "€494,123.45"),
        (-12.5, EUR, "-€12.50"),
        (80.0, CHF, "CHF 80.00"),
        (1234567.0, None, "1,234,567.00"),
        (-0.001, EUR, "€0.00"),
        (None, EUR, "n/a"),
        (float("nan"), EUR, "n/a"),
    ],
)
def test_an_amount_is_written_in_full_with_its_currency(
    value: float | None, currency: Currency | None, written: str
) -> None:
    assert format_amount(value, currency) == written


@pytest.mark.parametrize(
    ("code", "symbol", "expected"),
    [("eur", None, EUR), (" usd ", None, Currency("USD", "$")), ("AED", None, Currency("AED", "AED")),
     ("XOF", None, Currency("XOF", "XOF")), ("EUR", "EUR", Currency("EUR", "EUR")),
     ("GBP", " £ ", Currency("GBP", "£"))],
)  # fmt: skip
def test_a_currency_is_read_from_its_code_with_the_usual_symbol_unless_one_is_given(
    code: str, symbol: str | None, expected: Currency
) -> None:
    assert parse_currency(code, symbol) == expected


@pytest.mark.parametrize(
    ("code", "symbol", "previous", "expected"),
    [("eur", "AED", Currency("AED", "AED"), Currency("EUR", "€")),  # the old symbol left in the form
     ("EUR", "EU€", Currency("AED", "AED"), Currency("EUR", "EU€")),  # a symbol the user typed
     ("AED", "Dh", Currency("AED", "AED"), Currency("AED", "Dh")),  # the same code, a new symbol
     ("usd", None, None, Currency("USD", "$"))],
)  # fmt: skip
def test_a_new_code_in_the_currency_form_takes_its_own_symbol_unless_the_user_gave_one(
    code: str, symbol: str | None, previous: Currency | None, expected: Currency
) -> None:
    assert changed_currency(code, symbol, previous) == expected


@pytest.mark.parametrize(("code", "symbol"), [("EURO", None), ("€", None), ("", None), ("EUR", "euros!")])
def test_a_currency_that_cannot_be_used_is_refused_with_what_to_give(code: str, symbol: str | None) -> None:
    with pytest.raises(CurrencyError, match="three-letter ISO code|at most 5 characters"):
        parse_currency(code, symbol)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"extra:Currency": ["EUR", "EUR", None]}, EUR),
        ({"extra:Invoice Currency": ["€", "€"]}, EUR),
        ({"extra:CCY": ["chf"]}, CHF),
        ({"extra:Currency": ["EUR", "USD"]}, None),
        ({"extra:Currency": ["EUR"], "extra:Währung": ["CHF"]}, None),
        ({"extra:Region": ["EUR"]}, None),
        ({"extra:Currency": ["Euro zone"]}, None),
    ],
)
def test_a_ledger_states_a_currency_only_with_one_code_in_a_currency_column(
    columns: dict[str, list[object]], expected: Currency | None
) -> None:
    assert stated_currency(columns) == expected


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "currency-test-salt"}


def run(environ: dict[str, str], *argv: str) -> int:
    return main(list(argv), environ=environ)


def test_registration_takes_the_currency_the_ledger_states(environ, tmp_path, capsys) -> None:
    rows = LEDGER_CSV.strip().splitlines()
    text = "\n".join([rows[0] + ",Currency", *(row + ",EUR" for row in rows[1:])]) + "\n"
    (tmp_path / "eur.csv").write_text(text, encoding="utf-8")
    assert run(environ, "register", "eur", str(tmp_path / "eur.csv")) == 0
    assert "amounts in EUR (€)" in capsys.readouterr().out
    assert run(environ, "projects", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["currency"] == {"code": "EUR", "symbol": "€"}
    # The JSON documents programs read say which currency their amounts are in (stored and computed stats alike).
    for argv in (["stats", "eur"], ["stats", "eur", "--as-of", "2026-03-10"], ["kpis", "eur"]):
        assert run(environ, *argv, "--json") == 0
        assert json.loads(capsys.readouterr().out)["currency"] == {"code": "EUR", "symbol": "€"}, argv


def test_the_currency_command_sets_it_and_the_text_output_writes_amounts_with_it(environ, tmp_path, capsys) -> None:
    (tmp_path / "march.csv").write_text(LEDGER_CSV, encoding="utf-8")
    assert run(environ, "register", "acme", str(tmp_path / "march.csv")) == 0
    assert run(environ, "currency", "acme") == 0
    assert "currency none stated" in capsys.readouterr().out
    assert run(environ, "currency", "acme", "gbp") == 0
    assert capsys.readouterr().out.strip() == "acme: currency GBP (£)"
    assert run(environ, "kpis", "acme") == 0
    out = capsys.readouterr().out
    # INV-3 (1,400.00) is the one open invoice on 10 Mar 2026; collected 1,000 + 1,200 + 500 (a credit note is not cash)
    assert "(amounts in GBP (£))" in out and "  outstanding: £1,400.00" in out and "  collected: £2,700.00" in out
    assert "  dso_countback: " in out and "dso_countback: £" not in out
    assert run(environ, "stats", "acme") == 0
    assert "  outstanding: £1,400.00" in capsys.readouterr().out
    assert run(environ, "currency", "acme", "none") == 0
    assert run(environ, "kpis", "acme") == 0
    assert "  outstanding: 1,400.00" in capsys.readouterr().out


def test_a_bad_currency_code_is_one_line_saying_what_to_give(environ, tmp_path, capsys) -> None:
    (tmp_path / "march.csv").write_text(LEDGER_CSV, encoding="utf-8")
    assert run(environ, "register", "acme", str(tmp_path / "march.csv")) == 0
    capsys.readouterr()
    assert run(environ, "currency", "acme", "euro") == 1
    assert capsys.readouterr().err.strip() == (
        "error: 'euro' is not a currency code: give the three-letter ISO code, for example EUR, USD or GBP."
    )
