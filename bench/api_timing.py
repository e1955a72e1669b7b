"""Times the HTTP API under `python -m finlib serve` on a big project: /query offline and stats, cold and cached,
and stats requests per second with 20 concurrent clients.

    python bench/generate.py            # once: bench/data/ledger_1000000.csv
    python bench/api_timing.py [--csv bench/data/ledger_1000000.csv] [--clients 20] [--seconds 15]

The project is registered in a temporary data home first (not timed); the server is started fresh, so the first
stats request loads the parsed ledger from the on-disk cache and computes (cold), the next ones are served from
the API's per-version report cache (cached).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finlib import projects  # noqa: E402
from finlib.config import load_settings  # noqa: E402

QUESTION = "What is the expected payment amount and date for Customer 00001 Trading LLC?"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _timed(client: httpx.Client, method: str, path: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
    return elapsed


def _load(
    base: str, path: str, clients: int, seconds: float, headers: dict[str, str] | None = None
) -> tuple[int, float, list[float]]:
    done: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
            while time.monotonic() < stop:
                took = _timed(client, "GET", path)
                with lock:
                    done.append(took)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done), time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, default=ROOT / "bench" / "data" / "ledger_1000000.csv")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--home", type=Path, help="a data home to reuse (registers the project only once)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="finlib-api-bench-"))
    environ = {**os.environ, "FINLIB_HOME": str(home), "ALIAS_SALT": "bench-salt", "DATABASE_URL": "",
               "AWS_S3_BUCKET": "", "LITE_LLM_API_KEY": "", "LITE_LLM_API_BASE": ""}  # fmt: skip
    services = projects.Services(load_settings(environ, dotenv_path=None))
    started = time.perf_counter()
    if "big" in {p.name for p in projects.list_projects(services)}:
        info = projects.get_project(services, "big")
    else:
        info = projects.register_project(services, "big", str(args.csv.resolve()), allow_local_paths=True)
        took = time.perf_counter() - started
        print(f"registered {info.row_count:,} rows, {info.customer_count:,} customers in {took:.1f} s")
    services.engine.dispose()

    port = _free_port()
    log = (home / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "finlib", "serve", "--port", str(port)], cwd=ROOT, env=environ,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=300) as client:
            while True:
                try:
                    if client.get("/_stcore/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            client.get("/api/projects")  # builds the services (engine, parser server): not part of a project's time
            stats_cold = _timed(client, "GET", "/api/projects/big/stats")
            stats_cached = statistics.median(_timed(client, "GET", "/api/projects/big/stats") for _ in range(5))
            one_cold = _timed(
                client, "GET", "/api/projects/big/stats", params={"customer": "Customer 00001 Trading LLC"}
            )
            body = {"project_name": "big", "query": QUESTION}
            query_cold = _timed(client, "POST", "/query", json=body)
            query_warm = statistics.median(_timed(client, "POST", "/query", json=body) for _ in range(5))
        customers = f"{info.customer_count:,} customers"
        print(f"stats (all {customers}): cold {stats_cold:.2f} s, cached {stats_cached * 1000:.0f} ms")
        print(f"stats for one customer once the table is cached: {one_cold * 1000:.0f} ms")
        print(f"/query offline: first {query_cold:.2f} s (builds the chat session), then {query_warm * 1000:.0f} ms")
        one = "/api/projects/big/stats?customer=Customer%2000002%20Trading%20LLC"
        for label, path, headers in (
            ("all customers, gzip", "/api/projects/big/stats", None),
            ("all customers, uncompressed", "/api/projects/big/stats", {"Accept-Encoding": "identity"}),
            ("one customer", one, None),
        ):
            count, elapsed, latencies = _load(base, path, args.clients, args.seconds, headers)
            latencies.sort()
            median, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
            print(
                f"stats ({label}) with {args.clients} concurrent clients: {count / elapsed:.1f} requests/s "
                f"(median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    main()
