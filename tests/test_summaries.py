"""Figures stored at registration: `stats` reads them, and they equal what recomputing from the ledger gives."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.ledgers import LEDGER_CSV

from finlib import projects, summaries
from finlib.cli import main
from finlib.config import load_settings
from finlib.ingest.parsing import parse_ledger

# Amounts whose float sums carry binary noise: 0.1 + 0.2 is 0.30000000000000004 before rounding.
NOISY_CSV = """Customer Name,Invoice Date,Invoice No,Total Amount,Payment Date
Noise Ltd,2026-01-05,INV-1,0.10,
Noise Ltd,2026-01-06,INV-2,0.20,
Noise Ltd,2026-01-07,INV-3,298899.42,
Noise Ltd,2026-01-08,INV-4,0.30,2026-01-09
"""


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "summaries-test-salt"}


def register(environ: dict[str, str], tmp_path: Path, text: str = LEDGER_CSV, name: str = "p") -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    assert main(["register", name, str(path)], environ=environ) == 0


def stats_json(environ: dict[str, str], capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main(["stats", "p", *argv, "--json"], environ=environ) == 0
    return json.loads(capsys.readouterr().out)


def summary_files(environ: dict[str, str]) -> list[Path]:
    return sorted(Path(environ["FINLIB_HOME"]).rglob("*.summary-*.json"))


def test_registration_stores_the_figures_beside_the_parsed_ledger(environ, tmp_path) -> None:
    register(environ, tmp_path)
    assert len(summary_files(environ)) == 1


def test_stored_figures_equal_the_figures_recomputed_from_the_ledger_at_the_same_date(
    environ, tmp_path, capsys
) -> None:
    register(environ, tmp_path)
    stored = stats_json(environ, capsys)
    recomputed = stats_json(environ, capsys, "--as-of", stored["as_of"])
    assert stored == recomputed
    assert {c["customer"] for c in stored["customers"]} == {"ACME Corp", "Beta LLC"}


def test_stored_figures_equal_the_report_the_api_computes(environ, tmp_path, capsys) -> None:
    from finlib import reports

    register(environ, tmp_path)
    stored = stats_json(environ, capsys)
    settings = load_settings(environ, dotenv_path=None)
    loaded = projects.load_project(projects.Services(settings), "p")
    assert json.loads(json.dumps(reports.stats_report(loaded, settings))) == stored


def test_stats_shows_each_customer_alias_from_the_alias_table(environ, tmp_path, capsys) -> None:
    register(environ, tmp_path)
    payload = stats_json(environ, capsys)
    settings = load_settings(environ, dotenv_path=None)
    services = projects.Services(settings)
    book = projects.load_project(services, "p").aliases
    assert {c["alias"] for c in payload["customers"]} == {
        book.alias_for("ACME Corp", "customer"),
        book.alias_for("Beta LLC", "customer"),
    }
    assert all(c["alias"].startswith("CUST-") for c in payload["customers"])


@pytest.mark.parametrize("window", ["3", "1"])
def test_a_local_registration_takes_the_figures_the_parse_child_computed(
    environ, tmp_path, capsys, monkeypatch, window
) -> None:
    environ = {**environ, "MOVING_AVG_WINDOW": window}
    path = tmp_path / "p.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    settings = load_settings(environ, dotenv_path=None)
    expected = summaries.compute_summary(parse_ledger(path, settings=settings)[0], settings)

    def not_here(*_: object) -> None:
        raise AssertionError("the registering process computed the figures the child had computed")

    monkeypatch.setattr(summaries, "compute_summary", not_here)
    assert main(["register", "p", str(path)], environ=environ) == 0
    stored = stats_json(environ, capsys)
    assert stored["portfolio"] == expected.portfolio
    assert [{**c, "alias": None} for c in stored["customers"]] == expected.customers


def test_a_missing_summary_is_recomputed_and_stored_again(environ, tmp_path, capsys) -> None:
    register(environ, tmp_path)
    before = stats_json(environ, capsys)
    for path in summary_files(environ):
        path.unlink()
    assert stats_json(environ, capsys) == before
    assert len(summary_files(environ)) == 1


def test_a_changed_formula_setting_is_not_served_stale_figures(environ, tmp_path, capsys) -> None:
    register(environ, tmp_path)
    window_three = stats_json(environ, capsys)
    window_one = stats_json({**environ, "MOVING_AVG_WINDOW": "1"}, capsys)
    acme = {c["customer"]: c for c in window_one["customers"]}["ACME Corp"]
    assert acme["moving_average"] == 1400.0  # the last invoice only
    assert {c["customer"]: c for c in window_three["customers"]}["ACME Corp"]["moving_average"] == 1200.0


def test_an_unreadable_summary_is_ignored_and_recomputed(environ, tmp_path, capsys) -> None:
    register(environ, tmp_path)
    before = stats_json(environ, capsys)
    for path in summary_files(environ):
        path.write_bytes(b"{not json")
    assert stats_json(environ, capsys) == before


def test_deleting_the_project_removes_its_stored_figures(environ, tmp_path) -> None:
    register(environ, tmp_path)
    assert main(["delete", "p"], environ=environ) == 0
    assert summary_files(environ) == []


def test_json_figures_carry_no_float_noise(environ, tmp_path, capsys) -> None:
    register(environ, tmp_path, NOISY_CSV)
    capsys.readouterr()
    assert main(["stats", "p", "--json"], environ=environ) == 0
    text = capsys.readouterr().out
    assert "0000000" not in text and "9999999" not in text
    payload = json.loads(text)
    noise = payload["customers"][0]
    assert noise["total_amount"] == 298900.02
    assert noise["outstanding_amount"] == 298899.72
    assert payload["portfolio"]["outstanding"] == 298899.72


@pytest.mark.parametrize(
    ("name", "decimals"),
    [("total_amount", 2), ("avg_payment_delay_days", 2), ("on_time_share", 4), ("paid_on_time_share", 4)],
)
def test_figures_are_rounded_to_cents_and_shares_to_four_decimals(name, decimals) -> None:
    from finlib.analytics.customer_stats import decimals_for

    assert decimals_for(name) == decimals


def test_summary_version_is_part_of_the_key(environ, tmp_path, monkeypatch) -> None:
    register(environ, tmp_path)
    settings = load_settings(environ, dotenv_path=None)
    info = projects.get_project(projects.Services(settings), "p")
    assert summaries.read_summary(settings, info.source, info.etag, info.column_mapping) is not None
    monkeypatch.setattr(summaries, "SUMMARY_VERSION", "a later version")
    assert summaries.read_summary(settings, info.source, info.etag, info.column_mapping) is None


def test_a_customer_is_picked_by_normalised_name_and_a_miss_names_close_ones() -> None:
    from finlib.errors import ProjectError
    from finlib.summaries import customer_positions

    keys = ["acme corp", "acme holding", None, "zephyr"]
    labels = ["ACME Corp", "Acme Holding", "—", "Zephyr"]
    assert customer_positions(keys, labels, "  ACME   corp ") == [0]
    with pytest.raises(ProjectError, match=r"Did you mean: ACME Corp, Acme Holding\?"):
        customer_positions(keys, labels, "acme")
    with pytest.raises(ProjectError, match="No customer named 'Nobody'.*Leave the customer out"):
        customer_positions(keys, labels, "Nobody")


def test_stored_figures_read_back_as_the_stats_frame_the_pages_compute(environ, tmp_path) -> None:
    from finlib.analytics import customer_stats

    register(environ, tmp_path)
    services = projects.Services(load_settings(environ, dotenv_path=None))
    stored = customer_stats.customer_stats_frame(summaries.load_summary(services, "p").summary.customers)
    computed = customer_stats.compute_customer_stats(projects.load_project(services, "p").ledger)
    pd.testing.assert_frame_equal(stored, computed, check_exact=False, atol=0.005)
