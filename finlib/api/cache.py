"""The API's memory of loaded projects: one ledger per project version, its chat session, its finished reports.

The dashboard keeps its own copies in Streamlit's caches; both start from the same parsed-ledger cache on
disk, so a project is parsed once per file version whichever face asks first. Here a project is looked up
in the database on every request (a small read) and reloaded only when its version changed; concurrent
requests for the same cold project wait for one load instead of each loading it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from finlib import projects
from finlib.projects import LoadedProject, Services

MAX_PROJECTS = 2
MAX_REPORTS_PER_PROJECT = 64
T = TypeVar("T")


@dataclass
class CachedProject:
    """One loaded project version and what was computed from it."""

    loaded: LoadedProject
    lock: threading.Lock = field(default_factory=threading.Lock)
    chat_session: Any = None
    reports: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)

    def report(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """A finished report (response bytes, or a table several reports start from), built once per version."""
        with self.lock:
            cached = self.reports.get(key)
            if cached is not None:
                self.reports.move_to_end(key)
                return cast(T, cached)
        body = build()
        with self.lock:
            self.reports[key] = body
            while len(self.reports) > MAX_REPORTS_PER_PROJECT:
                self.reports.popitem(last=False)
        return body

    def session(self, build: Callable[[LoadedProject], Any]) -> Any:
        """The project's chat session, built on first use."""
        with self.lock:
            if self.chat_session is None:
                self.chat_session = build(self.loaded)
            return self.chat_session


class ProjectCache:
    """Loaded projects by name, the most recently used ``max_projects`` of them, reloaded on a new version."""

    def __init__(self, services: Services, max_projects: int = MAX_PROJECTS) -> None:
        self._services = services
        self._max_projects = max_projects
        self._entries: OrderedDict[str, CachedProject] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, name: str) -> CachedProject:
        """The project as stored now; ProjectNotFoundError when there is none."""
        version = projects.get_project(self._services, name).version
        entry = self._lookup(name, version)
        if entry is not None:
            return entry
        with self._lock:
            loading = self._loading.setdefault(name, threading.Lock())
        with loading:
            entry = self._lookup(name, version)
            if entry is not None:
                return entry
            entry = CachedProject(projects.load_project(self._services, name))
            with self._lock:
                self._entries[name] = entry
                self._entries.move_to_end(name)
                while len(self._entries) > self._max_projects:
                    self._entries.popitem(last=False)
            return entry

    def forget(self, name: str) -> None:
        """Drop a project (after a refresh or a delete), so the next request reloads it."""
        with self._lock:
            self._entries.pop(name, None)

    def _lookup(self, name: str, version: str) -> CachedProject | None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or entry.loaded.info.version != version:
                return None
            self._entries.move_to_end(name)
            return entry


class DocumentCache:
    """Finished documents built without a loaded ledger (the stored ``stats``), keyed with the project version."""

    def __init__(self, max_entries: int = MAX_REPORTS_PER_PROJECT) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], build: Callable[[], bytes]) -> bytes:
        """The document under ``key`` (which holds the project's version), built on first use."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        body = build()
        with self._lock:
            self._entries[key] = body
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return body
