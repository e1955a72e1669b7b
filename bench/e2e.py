"""Whole commands, as a user runs them, next to a polars floor measured in the same run (issue 11's table).

Each measurement is a fresh process (`python -m finlib ...`) in a fresh data home, timed from start to exit,
with its peak memory (the largest resident set of the process and of every process it waited for: the parser
server and its parse child included). The floor is `bench/floor.py`: one process with polars reading the same
file and computing the same per-customer figures. Medians of ``--repeat`` runs; the load average is printed
before and after, since the machine is shared.

    python bench/e2e.py [--repeat 3] [--only csv|xlsx] [--browser]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATA_DIR = BENCH / "data"
CSV_FILE = DATA_DIR / "ledger_1000000.csv"
XLSX_FILE = DATA_DIR / "ledger_100000.xlsx"
KB_PER_MB = 1024
# Targets from issue 11: (ratio to the floor for register + stats, stats alone in s) per file kind.
RATIO_TARGETS = {".csv": 3.0, ".xlsx": 2.0}
STATS_TARGET_S = 1.0
STARTUP_TARGET_S = 0.3
COMMAND_TARGET_S = 3.0
MEMORY_TARGET_MB = 600
PROJECT = "big"
# The other 1M-row commands, with what each needs after the project's name (`ask` answers offline: no model set).
EXTRA_COMMANDS = {"kpis": (), "forecast": (), "backtest": (), "ask": ("Who owes us the most?", "--json")}


@dataclass(frozen=True)
class Run:
    """One process: wall-clock seconds, CPU seconds (user + system, its children included), peak MB, exit code."""

    seconds: float
    cpu_s: float
    peak_mb: float
    returncode: int


def run_process(arguments: list[str], home: Path) -> Run:
    """Run one command to completion with stdout discarded; time it and read its peak memory from wait4."""
    environment = dict(os.environ, FINLIB_HOME=str(home), ALIAS_SALT="bench-salt-not-secret")
    for name in ("DATABASE_URL", "DB_HOST", "AWS_S3_BUCKET", "LITE_LLM_API_KEY", "LITE_LLM_API_BASE"):
        environment.pop(name, None)
    started = time.perf_counter()
    process = subprocess.Popen(arguments, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode not in (0, 2):
        print(f"   ! {' '.join(arguments[1:])} exited {process.returncode}: {stderr.strip()[:300]}", file=sys.stderr)
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / KB_PER_MB, process.returncode)


def finlib(*arguments: str) -> list[str]:
    """The command line of ``python -m finlib ARGUMENTS``."""
    return [sys.executable, "-m", "finlib", *arguments]


def median(runs: list[Run]) -> float:
    """Median seconds of the runs."""
    return statistics.median(run.seconds for run in runs)


def cpu(runs: list[Run]) -> float:
    """Median CPU seconds of the runs: less sensitive than wall-clock time to other work on a shared machine."""
    return statistics.median(run.cpu_s for run in runs)


def peak(runs: list[Run]) -> float:
    """Highest peak memory of the runs."""
    return max(run.peak_mb for run in runs)


def measure_file(path: Path, repeat: int) -> dict[str, list[Run]]:
    """register + stats --json in fresh homes, each `repeat` times, then the floor and the other 1M-row commands."""
    runs: dict[str, list[Run]] = {"register": [], "stats": [], "floor": []}
    for _ in range(repeat):
        home = Path(tempfile.mkdtemp(prefix="finlib-e2e-"))
        try:
            runs["register"].append(run_process(finlib("register", PROJECT, str(path)), home))
            runs["stats"].append(run_process(finlib("stats", PROJECT, "--json"), home))
            runs["floor"].append(run_process([sys.executable, str(BENCH / "floor.py"), str(path)], home))
            for command in _extra_commands():
                arguments = finlib(command, PROJECT, *EXTRA_COMMANDS[command])
                runs.setdefault(command, []).append(run_process(arguments, home))
        finally:
            shutil.rmtree(home, ignore_errors=True)
    return runs


def _extra_commands() -> list[str]:
    """`kpis`, `forecast`, `backtest`, `ask`, where this build has them (other issues add them)."""
    known = _help_text()
    return [command for command in EXTRA_COMMANDS if f" {command} " in known]


_HELP: list[str] = []


def _help_text() -> str:
    if not _HELP:
        _HELP.append(subprocess.run(finlib("--help"), cwd=ROOT, capture_output=True, text=True).stdout)
    return _HELP[0]


def measure_startup(repeat: int) -> dict[str, list[Run]]:
    """`--help` and `projects` (on an empty data home), `repeat` times each."""
    home = Path(tempfile.mkdtemp(prefix="finlib-e2e-"))
    try:
        run_process(finlib("init-db"), home)
        return {
            "--help": [run_process(finlib("--help"), home) for _ in range(repeat)],
            "projects": [run_process(finlib("projects"), home) for _ in range(repeat)],
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def print_file_table(path: Path, runs: dict[str, list[Run]]) -> None:
    """One file's rows: register, stats, both, floor, ratio; other commands; peak memory."""
    register, stats, floor = median(runs["register"]), median(runs["stats"]), median(runs["floor"])
    both = statistics.median(r.seconds + s.seconds for r, s in zip(runs["register"], runs["stats"], strict=True))
    ratio = both / median(runs["floor"])
    target = RATIO_TARGETS[path.suffix]
    print(f"\n{path.name} ({path.stat().st_size / 1e6:.0f} MB), median of {len(runs['floor'])}")
    print(f"   {'':<34}{'seconds':>9}{'peak MB':>9}{'CPU s':>8}")
    print(f"   {'register':<34}{register:9.2f}{peak(runs['register']):9.0f}{cpu(runs['register']):8.2f}")
    stats_ok = stats < STATS_TARGET_S or path.suffix != ".csv"
    note = f"   target < {STATS_TARGET_S:g} s: {_verdict(stats_ok)}" if path.suffix == ".csv" else ""
    print(f"   {'stats --json':<34}{stats:9.2f}{peak(runs['stats']):9.0f}{cpu(runs['stats']):8.2f}{note}")
    both_cpu = statistics.median(r.cpu_s + s.cpu_s for r, s in zip(runs["register"], runs["stats"], strict=True))
    print(f"   {'product: register + stats --json':<34}{both:9.2f}{'':>9}{both_cpu:8.2f}")
    print(f"   {'floor: polars, one process':<34}{floor:9.2f}{peak(runs['floor']):9.0f}{cpu(runs['floor']):8.2f}")
    cpu_ratio = both_cpu / cpu(runs["floor"])
    print(f"   {'ratio product / floor':<34}{ratio:8.1f}×{'':>9}{cpu_ratio:7.1f}×   target ≤ {target:g}×: "
          f"{_verdict(ratio <= target)}")  # fmt: skip
    for command in EXTRA_COMMANDS:
        if command in runs:
            seconds = median(runs[command])
            ok = seconds < COMMAND_TARGET_S
            figures = f"{seconds:9.2f}{peak(runs[command]):9.0f}{cpu(runs[command]):8.2f}"
            print(f"   {command:<34}{figures}   target < 3 s: {_verdict(ok)}")
    product = [run for name, group in runs.items() if name != "floor" for run in group]
    highest = max(run.peak_mb for run in product)
    print(f"   highest peak of any command: {highest:.0f} MB, target < {MEMORY_TARGET_MB} MB: "
          f"{_verdict(highest < MEMORY_TARGET_MB)}")  # fmt: skip


def print_startup_table(runs: dict[str, list[Run]]) -> None:
    """`--help` and `projects` medians against the start-up target."""
    print(f"\nstart-up, median of {len(runs['--help'])}")
    print(f"   {'':<34}{'seconds':>9}{'peak MB':>9}{'CPU s':>8}")
    for command, group in runs.items():
        seconds = median(group)
        print(f"   {command:<34}{seconds:9.2f}{peak(group):9.0f}{cpu(group):8.2f}   target < {STARTUP_TARGET_S:g} s: "
              f"{_verdict(seconds < STARTUP_TARGET_S)}")  # fmt: skip


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    """Print the table; generate the files first if they are missing."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("csv", "xlsx"))
    parser.add_argument("--browser", action="store_true", help="also time first pages in a real browser")
    args = parser.parse_args()
    if not (CSV_FILE.exists() and XLSX_FILE.exists()):
        subprocess.run([sys.executable, str(BENCH / "generate.py")], check=True)
    print(f"load average before: {_load()}  ({os.cpu_count()} CPUs)")
    print_startup_table(measure_startup(max(args.repeat, 3)))
    for path in (CSV_FILE, XLSX_FILE):
        if args.only is None or path.suffix == f".{args.only}":
            print_file_table(path, measure_file(path, args.repeat))
    if args.browser:
        subprocess.run([sys.executable, str(BENCH / "browser_timing.py")], check=False)
    print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main()
