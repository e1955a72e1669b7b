"""Load test: 20 concurrent browser sessions (one Chromium, one context each) against a fresh server for 60 s.

Reports the settle time of every step (p50, p95, max), the errors (must be zero), and the server's resident
memory (the Streamlit process and its children: the parser server) before the sessions, at its peak, and after.

    python bench/load.py [--sessions 20] [--duration 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers.browser import isolated_environ, memory_kb, running_app  # noqa: E402
from helpers.load import drive_sessions  # noqa: E402

SALT = "load-test-salt"
MEMORY_SAMPLE_S = 1.0


def _sample_peak(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.wait(MEMORY_SAMPLE_S):
        peak[0] = max(peak[0], memory_kb(pid))


def main() -> int:
    """Start the app on a fresh data home with the demo project, drive the sessions, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load after the sessions open")
    args = parser.parse_args()

    from finlib import projects
    from finlib.config import load_settings

    home = Path(tempfile.mkdtemp(prefix="finlib-load-")) / "home"
    environ = isolated_environ(home, SALT)
    services = projects.Services(load_settings(environ, dotenv_path=None))
    projects.ensure_demo_project(services)
    services.engine.dispose()
    with running_app(environ, home.parent / "streamlit.log") as app:
        with urllib.request.urlopen(app.url, timeout=30):
            pass
        before = memory_kb(app.pid)
        peak = [before]
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_peak, args=(app.pid, stop, peak), daemon=True)
        sampler.start()
        report = drive_sessions(app.url, args.sessions, args.duration)
        stop.set()
        sampler.join()
        after = memory_kb(app.pid)
    print(report.summary())
    print(f"median/max settle per step: {report.breakdown()}")
    print(f"server memory: {before / 1024:.0f} MB before, {peak[0] / 1024:.0f} MB peak, {after / 1024:.0f} MB after")
    for error in report.errors[:20]:
        print(f"  error: {error}")
    print(f"log: {home.parent / 'streamlit.log'}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
