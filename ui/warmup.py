"""A served process's warm-up at start: the first page's imports, the services and the demo, before a browser asks."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from finlib.errors import FinlibError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
# The frame and the default page: what every session's first run imports.
FIRST_RUN_SCRIPTS = (ROOT / "app.py", ROOT / "pages" / "overview.py")
# Imported inside functions during a first run: Streamlit's check of the page icon (0.13 s for its emoji table),
# plotly's and narwhals' for the charts. Their libraries' own modules, so a missing one is skipped, not an error.
FIRST_RUN_LIBRARY_MODULES = (
    "streamlit.emojis",
    "streamlit.material_icon_names",
    "plotly.offline",
    "narwhals._pandas_like.namespace",
    "narwhals._pandas_like.dataframe",
)


def start_warm_up(get_services: Callable[[], object]) -> threading.Thread:
    """Warm this process in a daemon thread (the caller never waits for it) and return the thread."""
    thread = threading.Thread(target=warm_up, args=(get_services,), name="finlib-warm-up", daemon=True)
    thread.start()
    return thread


def warm_up(get_services: Callable[[], object]) -> None:
    """Import what a first page imports, then call ``get_services`` (cached process-wide); log, never raise.

    A failure leaves the work to the first page, which does it as it always did (and shows any error there).
    """
    started = time.perf_counter()
    try:
        for name in first_run_modules():
            importlib.import_module(name)
        for name in FIRST_RUN_LIBRARY_MODULES:
            _import_if_present(name)
        warm_libraries()
        imported = time.perf_counter()
        get_services()
    except FinlibError as error:  # a setting or a service the first page will name to its visitor as well
        log.warning("start-up warm-up stopped (the first page will try again): %s", error)
        return
    except Exception:  # noqa: BLE001 - the server must keep serving; the first page then does the work itself
        log.warning("start-up warm-up failed; the first page will import and register itself", exc_info=True)
        return
    finished = time.perf_counter()
    log.info("start-up warm-up: imports %.2f s, services %.2f s", imported - started, finished - imported)


def warm_libraries() -> None:
    """Pay the libraries' once-per-process costs of a first page: plotly's first figure, Streamlit's first element."""
    import plotly.graph_objects as go
    import plotly.io as pio

    # plotly builds a property's validator when it is first set (0.1-0.15 s for a first figure): these are the
    # trace types and layout properties ui.charts sets.
    figure = go.Figure([go.Bar(x=[0], y=[0], marker_color="#000000"), go.Scatter(x=[0], y=[0], mode="lines")])
    figure.update_layout(
        height=10,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1, "xanchor": "left", "x": 0, "title_text": ""},
        hovermode="x unified",
        bargap=0.25,
    )
    figure.update_xaxes(title_text=None, type="date", tickformat="%b %Y")
    figure.update_yaxes(title_text="", exponentformat="B", separatethousands=True, rangemode="tozero")
    pio.to_json(figure, validate=False)
    # A process's first element runs inspect.stack() to tell a REPL (0.15-0.2 s with the app's modules loaded, as
    # it reads every frame's source): its once-only check, run here instead of in a first session.
    from streamlit import delta_generator

    check = getattr(delta_generator, "_maybe_print_use_warning", None)
    if callable(check):
        check()


def first_run_modules(scripts: tuple[Path, ...] = FIRST_RUN_SCRIPTS) -> list[str]:
    """The modules the scripts import at their top level, in order (importing the packages named by ``from``).

    ``from ui import charts`` names ``ui`` and ``ui.charts``; ``from finlib.errors import FinlibError`` names
    ``finlib.errors`` only.
    """
    names: dict[str, None] = {}
    for script in scripts:
        for name in _top_level_imports(ast.parse(script.read_text(encoding="utf-8"))):
            names.setdefault(name, None)
    return list(names)


def _top_level_imports(tree: ast.Module) -> Iterator[str]:
    for node in tree.body:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
            yield node.module
            if hasattr(importlib.import_module(node.module), "__path__"):  # a package: its names may be modules
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    if importlib.util.find_spec(submodule) is not None:
                        yield submodule


def _import_if_present(name: str) -> None:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        log.debug("start-up warm-up: no module %s in this environment", name)
