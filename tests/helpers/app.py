"""The dashboard under AppTest: the app file, its pages, a small ledger and what a page shows."""

from __future__ import annotations

import json
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from finlib import projects
from finlib.config import load_settings

APP = Path(__file__).parents[2] / "app.py"
PAGES = (
    "pages/overview.py",
    "pages/worklist.py",
    "pages/customers.py",
    "pages/forecast.py",
    "pages/breakdown.py",
    "pages/chat.py",
    "pages/projects.py",
    "pages/privacy.py",
    "pages/api.py",
)
TIMEOUT_S = 90
SMALL_CSV = (
    b"Customer,Invoice Date,Invoice No,Amount,Payment Date,Location\n"
    b"Zephyr Widgets,2025-01-05,Z-1,1200.00,2025-02-01,Oslo\n"
    b"Zephyr Widgets,2025-02-05,Z-2,1300.00,2025-03-10,Oslo\n"
    b"Quasar Foods,2025-01-20,Q-1,800.00,,Bergen\n"
)


def run_app(page: str | None = None) -> AppTest:
    """The app after its first run, optionally switched to a page."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def services() -> projects.Services:
    return projects.Services(load_settings())


def page_strings(at: AppTest) -> list[str]:
    """Every string the page sends to the browser: text, labels, options, table cells and chart specs."""
    found: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
            if value[:1] in "{[":
                try:
                    collect(json.loads(value))
                except ValueError:
                    pass
        elif isinstance(value, dict):
            for key, item in value.items():
                collect(key)
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    def walk(node: object) -> None:
        if type(node).__name__ == "Dataframe":
            frame = node.value  # type: ignore[attr-defined]
            found.extend(map(str, frame.columns))
            found.append(frame.astype(str).to_csv(index=False))
        else:
            proto = getattr(node, "proto", None)
            if proto is not None and hasattr(proto, "DESCRIPTOR"):
                collect(MessageToDict(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found
