"""Specification of finlib.ingest.schema: header normalisation and column mapping with type checks."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from finlib.errors import MissingColumnsError, ParseError
from finlib.ingest import schema


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("CUSTOMER NAME", "customer_name"),
        ("Customer", "customer_name"),
        ("client", "customer_name"),
        ("Account", "customer_name"),
        ("Customer ID", "customer_name"),
        ("INVOICE DATE", "invoice_date"),
        ("Invoice No", "invoice_number"),
        ("Invoice #", "invoice_number"),
        ("SALES ORDER NO", "sales_order_number"),
        ("PAY TERMS", "pay_terms"),
        ("DUE DATE", "due_date"),
        ("NET AMOUNT", "net_amount"),
        ("VAT (5%)", "vat_amount"),
        ("TOTAL INVOICE AMT", "total_amount"),
        ("Amount", "total_amount"),
        ("Amount including tax", "total_amount"),
        ("Gross Amount", "total_amount"),
        ("PAYMENT DATE", "payment_date"),
        ("Paid on", "payment_date"),
        ("Settled date", "payment_date"),
        ("Clearing Date", "payment_date"),
        ("Receipt date", "payment_date"),
        ("SALES MANAGER NAME", "sales_manager"),
        ("Account Manager", "sales_manager"),
        ("SERVICE TYPE", "service_type"),
        ("LOCATION", "location"),
        ("Region", "location"),
        ("  invoice-date ", "invoice_date"),
    ],
)
def test_synonyms_ignore_case_spacing_and_punctuation(header: str, canonical: str) -> None:
    mapping = schema.detect_mapping([header])
    assert mapping.columns == {header: canonical}


# Header rows as European ERP and accounting exports write them (SAP in German, Sage in French, ...).
EUROPEAN_HEADERS = [
    (
        ["Kunde", "Rechnungsnummer", "Rechnungsdatum", "Fälligkeitsdatum", "Nettobetrag", "MwSt", "Bruttobetrag"]
        + ["Zahlungsdatum", "Vertriebsmitarbeiter", "Standort"],
        ["customer_name", "invoice_number", "invoice_date", "due_date", "net_amount", "vat_amount", "total_amount"]
        + ["payment_date", "sales_manager", "location"],
    ),
    (
        ["Nom du client", "N° facture", "Date de facture", "Date d'échéance", "Montant HT", "TVA", "Montant TTC"]
        + ["Date de règlement", "Commercial", "Conditions de paiement"],
        ["customer_name", "invoice_number", "invoice_date", "due_date", "net_amount", "vat_amount", "total_amount"]
        + ["payment_date", "sales_manager", "pay_terms"],
    ),
    (
        ["Cliente", "Nº Factura", "Fecha de emisión", "Fecha de vencimiento", "Base imponible", "IVA", "Importe total"]
        + ["Fecha de cobro", "Vendedor", "Sucursal"],
        ["customer_name", "invoice_number", "invoice_date", "due_date", "net_amount", "vat_amount", "total_amount"]
        + ["payment_date", "sales_manager", "location"],
    ),
    (
        ["Ragione sociale", "Numero fattura", "Data fattura", "Data scadenza", "Imponibile", "Importo IVA"]
        + ["Totale fattura", "Data pagamento", "Agente", "Sede"],
        ["customer_name", "invoice_number", "invoice_date", "due_date", "net_amount", "vat_amount", "total_amount"]
        + ["payment_date", "sales_manager", "location"],
    ),
    (
        ["Klantnaam", "Factuurnummer", "Factuurdatum", "Vervaldatum", "Bedrag excl. BTW", "BTW", "Factuurbedrag"]
        + ["Betaaldatum", "Verkoper", "Vestiging"],
        ["customer_name", "invoice_number", "invoice_date", "due_date", "net_amount", "vat_amount", "total_amount"]
        + ["payment_date", "sales_manager", "location"],
    ),
    (
        ["Nome do cliente", "Número da fatura", "Data de emissão", "Data de vencimento", "Valor líquido", "Valor IVA"]
        + ["Valor total", "Data de pagamento", "Vendedor", "Região"],
        ["customer_name", "invoice_number", "invoice_date", "due_date", "net_amount", "vat_amount", "total_amount"]
        + ["payment_date", "sales_manager", "location"],
    ),
]


@pytest.mark.parametrize(("headers", "canonicals"), EUROPEAN_HEADERS, ids=["de", "fr", "es", "it", "nl", "pt"])
def test_european_export_headers_are_recognised_whatever_their_accents(
    headers: list[str], canonicals: list[str]
) -> None:
    mapping = schema.detect_mapping(headers)
    assert mapping.columns == dict(zip(headers, canonicals, strict=True))
    assert schema.score_header(headers) == len(headers)


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Date d'echeance", "due_date"),
        ("DATE D'ÉCHÉANCE", "due_date"),
        ("Numero de factura", "invoice_number"),
        ("Fecha de emision", "invoice_date"),
        ("Faelligkeit", "due_date"),
        ("Verkaufer", "sales_manager"),
        (unicodedata.normalize("NFD", "Date de règlement"), "payment_date"),
        ("Aussendienst", "sales_manager"),
    ],
)
def test_a_header_written_without_its_accents_or_with_decomposed_ones_is_still_recognised(
    header: str, canonical: str
) -> None:
    assert schema.detect_mapping([header]).columns == {header: canonical}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["Kunde", "Kundennummer", "Datum", "Betrag"], {"Kunde": "customer_name"}),
        (["Kundennummer", "Kundenname", "Datum", "Betrag"], {"Kundenname": "customer_name"}),
        (["Rechnungsdatum", "Datum", "Kunde", "Betrag"], {"Rechnungsdatum": "invoice_date"}),
        (["Customer", "Kunde", "Invoice Date", "Amount"], {"Customer": "customer_name"}),
    ],
)
def test_a_stronger_name_wins_within_a_language_and_english_wins_in_a_mixed_file(
    headers: list[str], expected: dict[str, str]
) -> None:
    columns = schema.detect_mapping(headers).columns
    assert {h: c for h, c in columns.items() if c in expected.values()} == expected


def test_no_header_name_stands_for_two_different_columns() -> None:
    from finlib.ingest.synonyms import SYNONYMS

    claimed: dict[str, set[str]] = {}
    for canonical, names in SYNONYMS.items():
        for name in names:
            claimed.setdefault(schema.normalise_header(name), set()).add(canonical)
    assert {key: owners for key, owners in claimed.items() if len(owners) > 1} == {}


def test_entity_legal_name_is_only_a_fallback_for_the_customer() -> None:
    both = schema.detect_mapping(["Entity Legal Name", "CUSTOMER NAME"])
    alone = schema.detect_mapping(["Entity Legal Name"])
    assert both.columns == {"CUSTOMER NAME": "customer_name"}
    assert both.fallbacks == {"customer_name": "Entity Legal Name"}
    assert both.unmapped == []
    assert alone.columns == {"Entity Legal Name": "customer_name"}
    assert alone.fallbacks == {}


def test_an_explicitly_mapped_customer_column_also_gets_the_entity_fallback() -> None:
    mapping = schema.detect_mapping(["Kunde", "Entity Legal Name"], explicit={"Kunde": "customer_name"})
    assert mapping.fallbacks == {"customer_name": "Entity Legal Name"}


def test_a_numeric_paid_column_is_not_taken_as_the_payment_date() -> None:
    headers = ["Customer", "Invoice Date", "Amount", "Paid As of Now"]
    sample = pd.DataFrame(
        {
            "Customer": ["A", "B"],
            "Invoice Date": ["2024-01-01", "2024-01-02"],
            "Amount": ["10", "20"],
            "Paid As of Now": ["1500.50", "0.75"],
        }
    )
    mapping = schema.detect_mapping(headers, sample)
    assert "payment_date" not in mapping.columns.values()
    assert "Paid As of Now" in mapping.unmapped
    assert any("Paid As of Now" in w for w in mapping.warnings)


def test_a_paid_column_with_dates_is_taken_as_the_payment_date() -> None:
    sample = pd.DataFrame({"Paid As of Now": ["2024-02-01", None, "2024-03-01"]})
    assert schema.detect_mapping(["Paid As of Now"], sample).columns == {"Paid As of Now": "payment_date"}


def test_an_amount_column_must_hold_numbers() -> None:
    sample = pd.DataFrame({"Amount": ["pending", "n/a yet", "ask Bob"]})
    assert schema.detect_mapping(["Amount"], sample).columns == {}


def test_an_explicit_mapping_overrides_detection() -> None:
    mapping = schema.detect_mapping(["Kunde", "Customer", "Datum"], explicit={"Kunde": "customer_name"})
    assert mapping.columns["Kunde"] == "customer_name"
    assert "Customer" in mapping.unmapped


@pytest.mark.parametrize(
    ("explicit", "message"),
    [({"Nope": "customer_name"}, "does not have"), ({"Kunde": "shoe_size"}, "not a ledger column")],
)
def test_an_explicit_mapping_naming_unknown_things_is_refused(explicit: dict[str, str], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        schema.detect_mapping(["Kunde"], explicit=explicit)


@pytest.mark.parametrize(
    ("explicit", "canonical"),
    [
        ({"Kunde": "customer_name", "Firma": "customer_name"}, "customer_name"),
        ({"Kunde": "customer_name", "Betrag": "total_amount", "Brutto": "total_amount"}, "total_amount"),
    ],
)
def test_an_explicit_mapping_that_reads_two_columns_as_one_field_is_refused_naming_both(
    explicit: dict[str, str], canonical: str
) -> None:
    first, second = [source for source, target in explicit.items() if target == canonical]
    with pytest.raises(ParseError) as caught:
        schema.detect_mapping(["Kunde", "Firma", "Betrag", "Brutto"], explicit=explicit)
    assert repr(first) in str(caught.value) and repr(second) in str(caught.value) and canonical in str(caught.value)


def test_missing_required_columns_are_listed_with_the_columns_found() -> None:
    headers = ["Customer", "Notes"]
    with pytest.raises(MissingColumnsError) as caught:
        schema.require_columns(schema.detect_mapping(headers), headers)
    assert caught.value.missing == ["invoice date", "amount"]
    assert "'Notes'" in str(caught.value)


def test_net_amount_alone_satisfies_the_amount_requirement() -> None:
    assert schema.missing_required(["customer_name", "invoice_date", "net_amount"]) == []


def test_header_scores_count_known_names() -> None:
    assert schema.score_header(["CUSTOMER NAME", "INVOICE DATE", None, "Whatever"]) == 2
    assert schema.score_header(["ACME export 2024", None]) == 0


def test_a_column_the_user_ignores_is_not_claimed_back_by_detection() -> None:
    headers = ["Customer", "Invoice Date", "Due Date", "Amount"]
    detected = schema.detect_mapping(headers, explicit={"Due Date": schema.IGNORED})
    assert "Due Date" not in detected.columns
    assert "due_date" not in detected.columns.values()
    assert "Due Date" in detected.unmapped
    assert detected.columns["Customer"] == "customer_name"


@pytest.mark.parametrize(
    ("chosen", "problem"),
    [
        ({"Kunde": "customer_name", "Datum": "invoice_date", "Betrag": "total_amount"}, None),
        ({"A": "customer_name", "B": "customer_name", "C": "invoice_date"}, "Customer name is chosen twice"),
        ({"A": "customer_name", "B": "invoice_date"}, "needs a column for amount"),
        ({"A": "customer_name", "B": "total_amount"}, "needs a column for invoice date"),
    ],
)
def test_a_mapping_with_a_field_twice_or_a_required_one_missing_cannot_be_saved(
    chosen: dict[str, str], problem: str | None
) -> None:
    found = schema.mapping_problem(chosen, {"customer_name": "Customer name"})
    assert found == problem if problem is None else problem in (found or "")
