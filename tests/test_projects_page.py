"""The Projects page in AppTest: the project list, refresh, delete through the dialog, the load report and mappings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from helpers.app import SMALL_CSV, run_app, services
from sqlalchemy import func, select

from finlib import db, projects
from finlib.currency import parse_currency
from finlib.ingest import storage

PROJECTS = "pages/projects.py"
GERMAN_HEADERS_CSV = (
    b"Kunde Name,Invoice Date,Wert brutto\n"
    b"Zephyr Widgets,2025-01-05,1200.00\n"
    b"Zephyr Widgets,2025-02-05,1300.00\n"
    b"Quasar Foods,2025-01-20,800.00\n"
)
REGION_CSV = (
    b"Customer,Invoice Date,Amount,Office\n"
    b"Zephyr Widgets,2025-01-05,1200.00,North\n"
    b"Quasar Foods,2025-01-20,800.00,South\n"
)
BAD_ROWS_CSV = (
    b"Customer,Invoice Date,Amount\n"
    b"Zephyr Widgets,2025-01-05,1200.00\n"
    b"Zephyr Widgets,not a date,1300.00\n"
    b"Quasar Foods,2025-01-20,800.00\n"
)


def messages(at: object) -> str:
    return "\n".join(str(e.value) for kind in ("success", "info", "warning", "error") for e in getattr(at, kind))


def upload_through_the_page(at: object, name: str, data: bytes) -> object:
    at.file_uploader(key="projects_upload_file").upload(f"{name}.csv", data, "text/csv")
    at.run()
    at.text_input(key="projects_upload_name").input(name)
    return at.button(key="projects_upload_submit").click().run()


def table(at: object, column: str) -> pd.DataFrame:
    """The table on the page that has ``column`` (st.dataframe keys reach AppTest only for selectable tables)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def manage(name: str) -> object:
    at = run_app(PROJECTS)
    at.selectbox(key="projects_manage").set_value(name).run()
    return at


def stored_file(name: str) -> Path:
    """The local object-store file behind an uploaded project."""
    settings = services().settings
    location = storage.parse_source(projects.get_project(services(), name).source, settings, allow_local_paths=True)
    return storage.LocalStore(settings.store_dir).path_for(location)


def test_the_project_list_shows_source_rows_customers_last_refresh_and_warnings(app_home: Path) -> None:
    run_app()
    projects.upload_project(services(), "zephyr", "zephyr.csv", SMALL_CSV)
    at = run_app(PROJECTS)
    listed = table(at, "Last loaded (UTC)").set_index("Project")
    assert {"Source", "Invoices", "Customers", "Last loaded (UTC)", "Warnings", "Rejected rows"} <= set(listed.columns)
    assert listed.loc["zephyr", "Invoices"] == 3
    assert listed.loc["zephyr", "Customers"] == 2
    assert listed.loc["zephyr", "Source"] == "Uploaded file zephyr.csv"
    assert listed.loc["demo", "Source"] == "Uploaded file demo-invoice-register.xlsx"
    assert listed.loc["zephyr", "Last loaded (UTC)"].date() == pd.Timestamp.now("UTC").date()


def test_refresh_of_an_unchanged_file_says_it_is_up_to_date(app_home: Path) -> None:
    at = manage("demo")
    at.button(key="projects_refresh").click().run()
    assert not at.exception and not at.error
    assert "demo is up to date: the source has not changed." in messages(at)


def test_refresh_after_the_file_changed_reloads_it_and_shows_the_new_row_count(app_home: Path) -> None:
    projects.upload_project(services(), "zephyr", "zephyr.csv", SMALL_CSV)
    at = manage("zephyr")
    stored_file("zephyr").write_bytes(SMALL_CSV + b"Quasar Foods,2025-03-01,Q-2,900.00,,Bergen\n")
    at.button(key="projects_refresh").click().run()
    assert not at.exception and not at.error
    assert "zephyr reloaded: 4 invoices, 2 customers." in messages(at)
    listed = table(at, "Last loaded (UTC)").set_index("Project")
    assert listed.loc["zephyr", "Invoices"] == 4
    assert projects.get_project(services(), "zephyr").row_count == 4


def test_cancelling_the_delete_dialog_keeps_the_project(app_home: Path) -> None:
    at = manage("demo")
    at.button(key="projects_delete").click().run()
    assert "Delete **demo**?" in " ".join(m.value for m in at.markdown)
    at.button(key="projects_delete_cancel").click().run()
    assert not at.exception
    assert [info.name for info in projects.list_projects(services())] == ["demo"]


def test_confirming_the_delete_dialog_removes_the_project_and_its_aliases(app_home: Path) -> None:
    run_app()
    projects.upload_project(services(), "zephyr", "zephyr.csv", SMALL_CSV)
    engine = services().engine
    with db.session_scope(engine) as session:
        project_id = session.scalar(select(db.Project.id).where(db.Project.name == "zephyr"))
    at = manage("zephyr")
    at.button(key="projects_delete").click().run()
    at.button(key="projects_delete_confirm").click().run()
    assert not at.exception and not at.error
    assert "Project zephyr deleted." in messages(at)
    assert [info.name for info in projects.list_projects(services())] == ["demo"]
    with db.session_scope(engine) as session:
        left = session.scalar(select(func.count()).select_from(db.Alias).where(db.Alias.project_id == project_id))
    assert left == 0
    assert at.selectbox(key="projects_manage").value == "demo"


def test_a_load_lists_rejected_rows_with_their_row_numbers(app_home: Path) -> None:
    at = upload_through_the_page(run_app(PROJECTS), "bad", BAD_ROWS_CSV)
    assert not at.exception and not at.error
    assert "1 rows could not be read" in messages(at) or "1 row could not be read" in messages(at)
    rejected = table(at, "Why it was rejected")
    assert rejected["Row"].tolist() == [3]
    assert "date" in rejected["Why it was rejected"].iloc[0].lower()


def test_a_file_whose_amount_column_is_not_recognised_can_be_mapped_by_hand(app_home: Path) -> None:
    at = upload_through_the_page(run_app(PROJECTS), "german", GERMAN_HEADERS_CSV)
    assert not at.exception
    assert "Wert brutto" in at.error[0].value, "the error lists the columns found"
    assert projects.list_projects(services())[0].name == "demo", "nothing stored yet"
    amount = at.selectbox(key="projects_upload_map_amount")
    assert "Wert brutto" in amount.options
    amount.set_value("Wert brutto").run()
    at.selectbox(key="projects_upload_map_customer_name").set_value("Kunde Name").run()
    at.button(key="projects_upload_map_submit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    info = projects.get_project(services(), "german")
    assert info.row_count == 3
    assert info.column_mapping == {"Kunde Name": "customer_name", "Wert brutto": "total_amount"}
    assert at.selectbox(key="sidebar_project").value == "german"


def test_correcting_the_mapping_in_the_editor_reparses_the_project_with_it(app_home: Path) -> None:
    projects.upload_project(services(), "regions", "regions.csv", REGION_CSV)
    info = projects.get_project(services(), "regions")
    assert "Office" in info.report.unmapped_columns
    at = manage("regions")
    editor_key = f"projects_mapping_regions_{info.etag}"
    editor = at.data_editor(key=editor_key).value
    row = editor.index[editor["Column in the file"] == "Office"][0]
    at.session_state[editor_key] = {
        "edited_rows": {int(row): {"Read as": "Location"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="projects_mapping_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    saved = projects.get_project(services(), "regions")
    assert saved.column_mapping is not None and saved.column_mapping["Office"] == "location"
    ledger = projects.load_project(services(), "regions").ledger
    assert sorted(ledger["location"]) == ["North", "South"]
    assert "Re-read regions" in messages(at)


def dialog_text(at: object) -> str:
    return " ".join(m.value for m in at.markdown)


def test_the_delete_dialog_of_an_upload_says_the_stored_file_is_deleted_and_it_is(app_home: Path) -> None:
    run_app()
    projects.upload_project(services(), "zephyr", "zephyr.csv", SMALL_CSV)
    stored = stored_file("zephyr")
    at = manage("zephyr")
    at.button(key="projects_delete").click().run()
    text = dialog_text(at)
    assert "stays where it is" not in text
    assert "uploaded file stored for it is deleted too" in text
    at.button(key="projects_delete_confirm").click().run()
    assert not at.exception and not at.error
    assert not stored.exists()


def test_the_delete_dialog_of_a_registered_file_says_the_file_stays_and_it_does(app_home: Path) -> None:
    run_app()
    ledger = app_home / "outside.csv"
    ledger.write_bytes(SMALL_CSV)
    projects.register_project(services(), "outside", str(ledger), allow_local_paths=True)
    at = manage("outside")
    at.button(key="projects_delete").click().run()
    assert "The source file stays where it is" in dialog_text(at)
    at.button(key="projects_delete_confirm").click().run()
    assert not at.exception and not at.error
    assert ledger.read_bytes() == SMALL_CSV


def test_a_failed_refresh_shows_the_status_in_the_project_list_at_once(app_home: Path) -> None:
    run_app()
    projects.upload_project(services(), "zephyr", "zephyr.csv", SMALL_CSV)
    at = manage("zephyr")
    stored_file("zephyr").unlink()
    at.button(key="projects_refresh").click().run()
    assert not at.exception
    assert at.error, "the failed refresh says why"
    listed = table(at, "Status").set_index("Project")
    assert listed.loc["zephyr", "Status"] == "⚠ source missing"
    assert any("Last refresh failed" in str(e.value) for e in at.error)


def test_ignoring_a_column_in_the_editor_keeps_it_out_after_the_reload(app_home: Path) -> None:
    csv = b"Customer,Invoice Date,Due Date,Amount\nZephyr Widgets,2025-01-05,2025-07-05,1200.00\n"
    projects.upload_project(services(), "terms", "terms.csv", csv)
    info = projects.get_project(services(), "terms")
    at = manage("terms")
    editor_key = f"projects_mapping_terms_{info.etag}"
    editor = at.data_editor(key=editor_key).value
    row = editor.index[editor["Column in the file"] == "Due Date"][0]
    at.session_state[editor_key] = {
        "edited_rows": {int(row): {"Read as": "(ignore)"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="projects_mapping_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert projects.get_project(services(), "terms").column_mapping["Due Date"] == ""
    ledger = projects.load_project(services(), "terms").ledger
    assert (ledger["due_date"] - ledger["invoice_date"]).dt.days.tolist() == [30]


def test_the_currency_set_on_the_projects_page_is_used_on_the_overview_cards(app_home: Path) -> None:
    at = manage("demo")
    at.text_input(key="projects_currency_code_demo").input("eur")
    at.button(key="FormSubmitter:projects_currency_form_demo-Save currency").click().run()
    assert not at.exception and not at.error
    assert "demo: amounts are shown in EUR (€)." in messages(at)
    assert projects.get_project(services(), "demo").currency == parse_currency("EUR")
    at.switch_page("pages/overview.py").run()
    # The cards' amounts go without the currency (six share a row); the headings above them name it.
    headings = [header.value for header in at.subheader]
    assert any(h.startswith("Balances as of ") and h.endswith(", in EUR") for h in headings)
    assert any(h.startswith("Activity, ") and h.endswith(", in EUR") for h in headings)
    assert any("in EUR (€)" in caption.value for caption in at.caption), "the Overview's caption names it"


def test_a_currency_code_that_is_not_one_is_refused_on_the_page(app_home: Path) -> None:
    at = manage("demo")
    stated = projects.get_project(services(), "demo").currency
    assert stated == parse_currency("AED"), "the demo ledger states AED"
    at.text_input(key="projects_currency_code_demo").input("euro")
    at.button(key="FormSubmitter:projects_currency_form_demo-Save currency").click().run()
    assert "'euro' is not a currency code" in messages(at)
    assert projects.get_project(services(), "demo").currency == stated
