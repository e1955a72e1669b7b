"""finlib.lazy: a deferred module is imported on first use, without garbage collections, and frozen in a command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter: whether the module was imported yet, and the threads running, are its own.
PROBE = """
import gc, json, sys, threading
from finlib.lazy import deferred

if {thread}:
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
if {disabled}:
    gc.disable()
assert "fractions" not in sys.modules
collections = []
gc.callbacks.append(lambda phase, info: collections.append(phase) if phase == "start" else None)
frozen = gc.get_freeze_count()
fractions = deferred("fractions")
half = fractions.Fraction(1, 2)
print(json.dumps({{
    "value": str(half),
    "collections": len(collections),
    "frozen": gc.get_freeze_count() > frozen,
    "enabled": gc.isenabled(),
}}))
"""


def probe(*, thread: bool, disabled: bool) -> dict[str, object]:
    code = PROBE.format(thread=thread, disabled=disabled)
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


@pytest.mark.parametrize("disabled", [False, True])
def test_a_deferred_import_collects_no_garbage_and_leaves_the_collector_as_it_was(disabled: bool) -> None:
    answer = probe(thread=False, disabled=disabled)
    assert answer["value"] == "1/2"
    assert answer["collections"] == 0
    assert answer["enabled"] is not disabled


@pytest.mark.parametrize(("thread", "frozen"), [(False, True), (True, False)])
def test_what_a_deferred_import_made_is_frozen_only_in_a_process_of_one_thread(thread: bool, frozen: bool) -> None:
    assert probe(thread=thread, disabled=False)["frozen"] is frozen


def test_a_deferred_module_read_while_another_thread_imports_it_waits_for_the_whole_module(tmp_path: Path) -> None:
    """Registrations in threads read one deferred module at once: the second must not see it half made."""
    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(0.5)\nANSWER = 42\n", encoding="utf-8")
    code = (
        "import sys, threading, time\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from finlib.lazy import deferred\n"
        "slow = deferred('slow_to_import')\n"
        "first = threading.Thread(target=lambda: slow.ANSWER)\n"
        "first.start()\n"
        "while 'slow_to_import' not in sys.modules:\n"
        "    time.sleep(0.001)\n"
        "print(slow.ANSWER)\n"
        "first.join()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "42"
