"""Dashboard timings on a 100,000-row project: first Overview render after registration, page switches, filters.

Targets (issue "dashboard"): first render of Overview for a 100k-row project after registration < 5 s;
a page switch or a filter change on a cached project < 0.5 s of server time. Runs the real app in AppTest
(the same script run a browser session triggers, without the websocket) in a temporary data home.

    python bench/ui_timing.py [--rows 100000] [--file bench/data/ledger_100000.xlsx]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIRST_RENDER_TARGET_S = 5.0
INTERACTION_TARGET_S = 0.5
REPEATS = 5


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _ensure_file(rows: int, path: Path | None) -> Path:
    if path is not None:
        return path
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import DATA_DIR, build_ledger, write_xlsx  # type: ignore[import-not-found]

    target = DATA_DIR / f"ledger_{rows}.xlsx"
    if not target.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        print(f"generating {target} …", flush=True)
        write_xlsx(build_ledger(rows, min(rows // 50, 2_000)), target)
    return target


def main() -> None:
    """Print the timings and whether each meets its target."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", type=Path, default=None, help="an existing ledger file to register instead")
    args = parser.parse_args()
    ledger_file = _ensure_file(args.rows, args.file)

    home = Path(tempfile.mkdtemp(prefix="finlib-ui-timing-"))
    os.environ.update(
        FINLIB_HOME=str(home),
        ALIAS_SALT="ui-timing-salt",
        DATABASE_URL="",
        DB_HOST="",
        AWS_S3_BUCKET="",
        LITE_LLM_API_KEY="",
        LITE_LLM_API_BASE="",
    )
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_MODE", "PRODUCTION")

    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    # AppTest re-detects pages/ before every run and would then run a page without app.py (see
    # tests/test_app_pages.py::keep_navigation_mode); pin the st.navigation mode a real server keeps.
    original_init = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]

    from finlib import projects
    from finlib.config import load_settings

    services = projects.Services(load_settings())
    started = time.perf_counter()
    info = projects.upload_project(services, "big", ledger_file.name, ledger_file.read_bytes())
    registration_s = time.perf_counter() - started
    services.engine.dispose()
    print(
        f"registered {info.row_count:,} invoices, {info.customer_count:,} customers in {registration_s:.2f} s "
        f"(upload + isolated parse + aliases)"
    )

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["project"] = "big"
    first_s = _timed(at.run)
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="sidebar_project").value == "big", "the URL opened the big project"
    assert len(at.metric) == 12  # six balance cards, six activity cards

    def switch(page: str) -> Callable[[], object]:
        return lambda: at.switch_page(page).run()

    switches: dict[str, list[float]] = {}
    for page in ("pages/customers.py", "pages/overview.py", "pages/privacy.py", "pages/projects.py"):
        switches[page] = [_timed(switch(page))]
    for _ in range(REPEATS):
        for page in ("pages/customers.py", "pages/overview.py"):
            switches[page].append(_timed(switch(page)))

    location = at.multiselect(key="sidebar_location")
    choice = location.options[0]
    filter_first_s = _timed(lambda: at.multiselect(key="sidebar_location").select(choice).run())
    assert not at.exception
    filter_clear_s = _timed(lambda: at.multiselect(key="sidebar_location").unselect(choice).run())
    filter_again_s = _timed(lambda: at.multiselect(key="sidebar_location").select(choice).run())

    rows = [
        ("first Overview render after registration (cold caches)", first_s, FIRST_RENDER_TARGET_S),
        ("switch to Customers, first time", switches["pages/customers.py"][0], INTERACTION_TARGET_S),
        ("switch to Overview, cached", min(switches["pages/overview.py"][1:]), INTERACTION_TARGET_S),
        ("switch to Customers, cached", min(switches["pages/customers.py"][1:]), INTERACTION_TARGET_S),
        ("switch to Privacy, first time", switches["pages/privacy.py"][0], INTERACTION_TARGET_S),
        ("switch to Projects, first time", switches["pages/projects.py"][0], INTERACTION_TARGET_S),
        ("filter change on Overview, new filter (computes)", filter_first_s, INTERACTION_TARGET_S),
        ("filter cleared (cached)", filter_clear_s, INTERACTION_TARGET_S),
        ("same filter again (cached)", filter_again_s, INTERACTION_TARGET_S),
    ]
    print(f"\n{'measurement':<52} {'seconds':>8}  target")
    for label, seconds, target in rows:
        verdict = "ok" if seconds < target else "SLOW"
        print(f"{label:<52} {seconds:>8.3f}  < {target:g} s {verdict}")


if __name__ == "__main__":
    main()
