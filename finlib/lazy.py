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

import gc
import importlib
import sys
import threading
from collections.abc import Sequence
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
        """The real module (imported now if it was not yet; waited for while another thread imports it)."""
        loaded = sys.modules.get(self._name)
        spec = getattr(loaded, "__spec__", None)
        if loaded is not None and not getattr(spec, "_initializing", False):
            return loaded
        # Missing, or still running its code in another thread (sys.modules holds it from the start): the import
        # system waits for that thread's import to finish instead of answering from a half-made module.
        return import_uncollected(self._name)

    def __repr__(self) -> str:
        return f"<deferred module {self._name!r}>"


def deferred(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on first attribute access."""
    return DeferredModule(name)


def import_uncollected(name: str) -> ModuleType:
    """Import module ``name`` with the garbage collector paused; in a process of one thread, freeze what it made.

    An import makes objects that live as long as the process (pandas' ~100k), among which a collection finds no
    garbage, yet every collection walked them: ~0.1 s of a command's start. In a process of one thread (a
    command, which exits when done) they are frozen (``gc.freeze``) so that no later collection walks them
    either; in a server, other threads hold objects of the moment that must stay collectable.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        module = importlib.import_module(name)
        if threading.active_count() == 1:
            gc.freeze()
        return module
    finally:
        if collecting:
            gc.enable()


def import_in_background(modules: Sequence[str]) -> None:
    """Import third-party ``modules`` in a thread while this one waits (a parse child): later reads find them.

    Third-party only: finlib's own modules import each other, and two threads importing a cycle of modules can
    see a half-initialised one.
    """
    missing = [name for name in modules if name not in sys.modules]
    if missing:
        threading.Thread(target=_import_all, args=(missing,), name="finlib-imports", daemon=True).start()


def _import_all(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the main thread's own import of it reports the problem
