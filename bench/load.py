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

import os  # noqa: E402

from helpers.browser import cpu_seconds_by_process, isolated_environ, memory_kb, running_app  # noqa: E402
from helpers.load import drive_sessions  # noqa: E402

SALT = "load-test-salt"
MEMORY_SAMPLE_S = 1.0


def _sample(pid: int, stop: threading.Event, peak: list[int], cpu: dict[int, float]) -> None:
    """Peak memory of the server; CPU time of every process under this one (the server, the browser), kept
    per process so that a browser process that ended still counts."""
    while not stop.wait(MEMORY_SAMPLE_S):
        peak[0] = max(peak[0], memory_kb(pid))
        cpu.update(cpu_seconds_by_process(os.getpid()))


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
        started_cpu = cpu_seconds_by_process(os.getpid())
        server = set(cpu_seconds_by_process(app.pid))
        cpu = dict(started_cpu)
        load = os.getloadavg()[0]
        sampler = threading.Thread(target=_sample, args=(app.pid, stop, peak, cpu), daemon=True)
        sampler.start()
        report = drive_sessions(app.url, args.sessions, args.duration)
        stop.set()
        sampler.join()
        used = {pid: seconds - started_cpu.get(pid, 0.0) for pid, seconds in cpu.items() if pid != os.getpid()}
        server_cpu = sum(seconds for pid, seconds in used.items() if pid in server)
        browser_cpu = sum(seconds for pid, seconds in used.items() if pid not in server)
        after = memory_kb(app.pid)
    print(report.summary())
    print(f"median/max settle per step: {report.breakdown()}")
    print(f"server memory: {before / 1024:.0f} MB before, {peak[0] / 1024:.0f} MB peak, {after / 1024:.0f} MB after")
    # The browser (Chromium and Playwright's driver) is everything under this process but the server.
    print(
        f"CPU during the sessions: server {server_cpu:.0f} s, browser {browser_cpu:.0f} s; "
        f"machine load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    for error in report.errors[:20]:
        print(f"  error: {error}")
    print(f"log: {home.parent / 'streamlit.log'}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
