"""The layering rules: finlib is the product logic and never imports Streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FINLIB = Path(__file__).resolve().parents[1] / "finlib"


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


# config reads the environment; llm sets LiteLLM's offline switches before importing it.
ENVIRONMENT_READERS = {"config.py", "llm.py"}


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
    assert importers == ["finlib/llm.py"]
