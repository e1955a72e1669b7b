"""Specification of finlib.code_version: the source fingerprint in every cache key."""

from __future__ import annotations

import shutil
from pathlib import Path

from finlib import code_version


def test_the_fingerprint_changes_with_any_module_and_only_then(tmp_path: Path) -> None:
    copy = tmp_path / "finlib"
    shutil.copytree(code_version.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    first = code_version.fingerprint_of(copy)
    assert code_version.fingerprint_of(copy) == first == code_version.code_fingerprint()
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "notes.txt").write_text("not code", encoding="utf-8")
    assert code_version.fingerprint_of(copy) == first
    module = copy / "ingest" / "values.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n# a changed rule\n", encoding="utf-8")
    assert code_version.fingerprint_of(copy) != first


def test_a_parse_kept_by_other_code_is_not_served(monkeypatch, make_settings) -> None:
    from finlib.ingest import parsed_cache

    settings = make_settings()
    base = parsed_cache.entry_base(settings, "file:///ledger.csv", "etag-1", None)
    monkeypatch.setattr(parsed_cache, "code_fingerprint", lambda: "0123456789abcdef")
    assert parsed_cache.entry_base(settings, "file:///ledger.csv", "etag-1", None) != base
