"""A second app process serving a big project from the bucket's shared parse cache, next to a fresh fetch and parse.

One PostgreSQL schema (``BENCH_DATABASE_URL``, else ``TEST_DATABASE_URL``, else the local test database) and one
bucket on moto's S3 server over HTTP. Process A registers the 1M-row CSV of ``bench/generate.py`` from the bucket.
Then, each in a fresh process with an empty data home:

- ``serve``: ``load_project`` with the shared cache (what a second app replica does);
- ``fresh``: ``load_project`` with the shared cache switched off, so it fetches and parses (what it did before);
- ``stats``: ``summaries.load_summary`` (what ``stats`` reads) with the shared cache.

Each child prints its seconds inside the process, its parses and fetches (counted), and its peak memory (the app
process's own; the parser server's child that parses in ``fresh`` is not included).

    python bench/shared_cache.py [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA_DIR = ROOT / "bench" / "data"
PROJECT = "big"
DEFAULT_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def child(mode: str) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    from finlib import projects, summaries
    from finlib.config import load_settings
    from finlib.ingest import sandbox, storage

    counts = {"parses": 0, "fetches": 0}
    parse, fetch = sandbox.PendingParse.result, storage.fetch_source

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        counts["parses"] += 1
        return parse(*args, **kwargs)

    def counting_fetch(*args: Any, **kwargs: Any) -> Any:
        counts["fetches"] += 1
        return fetch(*args, **kwargs)

    sandbox.PendingParse.result, storage.fetch_source = counting_parse, counting_fetch  # type: ignore[method-assign]
    services = projects.Services(load_settings(dotenv_path=None))
    if mode == "fresh":
        services.shared_cache = lambda: None  # type: ignore[method-assign]
    started = time.perf_counter()
    if mode == "register":
        projects.register_project(services, PROJECT, os.environ["BENCH_SOURCE"])
        rows = projects.get_project(services, PROJECT).row_count
    elif mode == "stats":
        rows = len(summaries.load_summary(services, PROJECT).summary.customers)
    else:
        rows = len(projects.load_project(services, PROJECT).ledger)
    seconds = time.perf_counter() - started
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec (the parent holds moto's bucket).
    status = Path("/proc/self/status").read_text(encoding="ascii")
    peak_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    print(json.dumps({"mode": mode, "seconds": seconds, "rows": rows, "peak_mb": peak_mb, **counts}))


def run_child(mode: str, env: dict[str, str]) -> dict[str, Any]:
    """One child in a fresh data home; its JSON line, with the process's wall time."""
    with tempfile.TemporaryDirectory(prefix="bench-home-") as home:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode],
            env={**env, "FINLIB_HOME": home},
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        result["process_s"] = time.perf_counter() - started
        return result


def main() -> None:
    """Set up the database schema, bucket and file, then time register once and each mode ``--repeat`` times."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    import boto3
    import sqlalchemy as sa
    from moto.server import ThreadedMotoServer

    csv_path = DATA_DIR / f"ledger_{args.rows}.csv"
    if not csv_path.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--csv-rows", str(args.rows)], check=True)
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_DATABASE
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint, bucket = f"http://{host}:{port}", "bench-ledgers"
        credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_boto(credentials))
        client.create_bucket(Bucket=bucket)
        client.upload_file(str(csv_path), bucket, "exports/big.csv")
        env = {
            **os.environ,
            **credentials,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}",
            "AWS_S3_BUCKET": bucket,
            "AWS_ENDPOINT_URL": endpoint,
            "ALIAS_SALT": "bench-salt",
            "BENCH_SOURCE": f"s3://{bucket}/exports/big.csv",
        }
        print(f"{csv_path.name}: {csv_path.stat().st_size / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f}")
        _report([run_child("register", env)])
        for item in client.list_objects_v2(Bucket=bucket, Prefix="cache/").get("Contents", []):
            print(f"  shared entry {item['Key'].rsplit('/', 1)[-1][-40:]}: {item['Size'] / 1e6:.1f} MB")
        for mode in ("fresh", "serve", "stats"):
            _report([run_child(mode, env) for _ in range(args.repeat)])
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def _boto(credentials: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
    }


def _report(runs: list[dict[str, Any]]) -> None:
    first = runs[0]
    seconds = statistics.median(run["seconds"] for run in runs)
    process = statistics.median(run["process_s"] for run in runs)
    print(
        f"{first['mode']:>8}: {seconds:6.2f} s in the call, {process:6.2f} s whole process, "
        f"peak {max(run['peak_mb'] for run in runs):5.0f} MB, rows {first['rows']:,}, "
        f"parses {first['parses']}, fetches {first['fetches']} (median of {len(runs)})"
    )


if __name__ == "__main__":
    main()
