"""Modules imported on first use, so each command loads only the libraries it touches.

`python -m finlib --help` must answer in a fraction of a second, yet pandas, pyarrow and SQLAlchemy take most of
a second to import. Modules that serve both light and heavy commands (``cli``, ``projects``) name their heavy
dependencies with ``deferred`` instead of importing them; the real import happens when an attribute is first
read, and Python's module cache makes every later read a dictionary lookup. For the type checker the same names
are imported normally under ``TYPE_CHECKING``, which also keeps them visible to tests/test_layers.py::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = deferred("pandas")
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class DeferredModule:
    """Stands for a module until one of its attributes is read, then imports it and answers from it."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.module(), attribute)

    def module(self) -> ModuleType:
        """The real module (imported now if it was not yet)."""
        return importlib.import_module(self._name)

    def __repr__(self) -> str:
        return f"<deferred module {self._name!r}>"


def deferred(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on first attribute access."""
    return DeferredModule(name)
