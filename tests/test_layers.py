"""The layering rules: finlib is the product logic, never imports Streamlit, and its layers import downwards only.

faces        finlib.cli, finlib.__main__, finlib.api.* (and ui/, pages/, app.py outside finlib)
services     finlib.projects, finlib.demo, finlib.export, finlib.audit, finlib.alerting, finlib.lifecycle,
             finlib.access, finlib.reports, finlib.tokens, finlib.documents
chat         finlib.chat.*           (may use privacy, analytics and forecast, never ingest or the services)
forecast     finlib.forecast.*       (may use analytics)
ingest       finlib.ingest.*    privacy  finlib.privacy.*    analytics  finlib.analytics.*  (siblings, independent)
foundation   finlib.errors, finlib.config, finlib.logs, finlib.names, finlib.db, finlib.lazy,
             finlib.jsonable, finlib.currency, finlib.code_version
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FINLIB = Path(__file__).resolve().parents[1] / "finlib"


FOUNDATION = {
    "finlib.errors",
    "finlib.config",
    "finlib.logs",
    "finlib.names",
    "finlib.db",
    "finlib.lazy",
    "finlib.jsonable",
    "finlib.currency",
    "finlib.code_version",
}
SERVICES = {
    "finlib.registry",
    "finlib.projects",
    "finlib.project_info",
    "finlib.uploads",
    "finlib.demo",
    "finlib.export",
    "finlib.audit",
    "finlib.alerting",
    "finlib.lifecycle",
    "finlib.access",
    "finlib.reports",
    "finlib.tokens",
    "finlib.documents",
    "finlib.summaries",
}
# What each layer may import from finlib, besides itself.
ALLOWED = {
    "foundation": {"foundation"},
    "ingest": {"foundation"},
    "privacy": {"foundation"},
    "analytics": {"foundation"},
    "forecast": {"foundation", "analytics"},
    "chat": {"foundation", "privacy", "analytics", "forecast"},
    "services": {"foundation", "ingest", "privacy", "analytics", "forecast", "services"},
    "faces": {"foundation", "ingest", "privacy", "analytics", "forecast", "chat", "services", "faces"},
}


def _layer(module: str) -> str:
    """The layer a finlib module (dotted name) belongs to."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in {"ingest", "privacy", "analytics", "forecast", "chat"}:
        return parts[1]
    if module in FOUNDATION or module == "finlib":
        return "foundation"
    if module in SERVICES:
        return "services"
    return "faces"


def _is_module(dotted: str) -> bool:
    path = FINLIB.parent / dotted.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _finlib_imports(path: Path) -> set[str]:
    """The finlib modules a file imports: ``from finlib.x import y`` is ``finlib.x.y`` when y is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "finlib")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "finlib":
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if _is_module(submodule) else node.module)
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(FINLIB.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _violations(path: Path) -> list[str]:
    layer = _layer(_module_name(path))
    allowed = ALLOWED[layer] | {layer}
    return [
        f"{_module_name(path)} ({layer}) imports {target} ({_layer(target)})"
        for target in sorted(_finlib_imports(path))
        if _layer(target) not in allowed
    ]


@pytest.mark.parametrize("path", sorted(FINLIB.rglob("*.py")), ids=lambda p: _module_name(p))
def test_finlib_module_imports_only_from_its_own_or_lower_layers(path: Path) -> None:
    assert _violations(path) == []


def test_the_layer_check_sees_chat_reaching_into_the_services(tmp_path: Path) -> None:
    offender = FINLIB / "chat" / "_layer_probe.py"
    offender.write_text("from finlib.projects import load_project\nfrom finlib import projects\n", encoding="utf-8")
    try:
        assert _violations(offender) == [
            "finlib.chat._layer_probe (chat) imports finlib.projects (services)",
        ]
    finally:
        offender.unlink()


def test_every_finlib_subpackage_init_is_only_a_docstring() -> None:
    """Subpackage __init__ files stay empty so importing one module (e.g. in the parse child) loads no others."""
    for init in FINLIB.glob("*/__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr), init


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted(FINLIB.rglob("*.py")), ids=lambda p: p.name)
def test_finlib_module_does_not_import_streamlit(path: Path) -> None:
    assert "streamlit" not in _imported_modules(path)


# config reads the environment; llm sets LiteLLM's offline switches before importing it; __main__ sets OpenBLAS's
# thread wait before numpy loads it.
ENVIRONMENT_READERS = {"config.py", "llm.py", "__main__.py"}


@pytest.mark.parametrize(
    "path", sorted(p for p in FINLIB.rglob("*.py") if p.name not in ENVIRONMENT_READERS), ids=lambda p: p.name
)
def test_finlib_module_reads_no_environment_outside_config(path: Path) -> None:
    assert "os.environ" not in path.read_text(encoding="utf-8")
    assert "os.getenv" not in path.read_text(encoding="utf-8")


def test_the_layer_check_sees_a_streamlit_import(tmp_path: Path) -> None:
    offender = tmp_path / "bad.py"
    offender.write_text("from streamlit import session_state\n", encoding="utf-8")
    assert "streamlit" in _imported_modules(offender)


def _product_files() -> list[Path]:
    root = FINLIB.parent
    return sorted(
        [root / "app.py", *(p for folder in ("finlib", "ui", "pages") for p in (root / folder).rglob("*.py"))]
    )


def test_only_finlib_llm_imports_litellm_so_one_function_sends_to_a_model() -> None:
    importers = [p.relative_to(FINLIB.parent).as_posix() for p in _product_files() if "litellm" in _imported_modules(p)]
    assert importers == ["finlib/chat/llm.py"]


@pytest.mark.parametrize("path", _product_files(), ids=lambda p: p.relative_to(FINLIB.parent).as_posix())
def test_faces_import_downwards_only(path: Path) -> None:
    """finlib never imports ui or pages; ui never imports pages; a page never imports another page."""
    top = path.relative_to(FINLIB.parent).parts[0]
    forbidden = {"finlib": {"ui", "pages", "app"}, "ui": {"pages", "app"}, "pages": {"pages", "app"}}.get(top, set())
    assert not (_imported_modules(path) & forbidden)
