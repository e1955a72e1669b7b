"""Time ``rotate-salt`` on a project with 20,000 customers and 500 sales managers (SQLite, and PostgreSQL if given).

python bench/rotation.py [--customers 20000] [--database-url postgresql+psycopg2://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from finlib import db, projects  # noqa: E402
from finlib.config import load_settings  # noqa: E402
from finlib.lifecycle import rotate_salt  # noqa: E402
from finlib.privacy import aliasing  # noqa: E402


def seed(services: projects.Services, customers: int, people: int) -> None:
    """One project whose alias table holds ``customers`` customers and ``people`` people."""
    with db.session_scope(services.engine) as session:
        session.execute(sa.delete(db.Project).where(db.Project.name == "bench"))
        row = db.Project(name="bench", source="store://uploads/bench/x.csv")
        session.add(row)
        session.flush()
        for kind, count, label in (("customer", customers, "Customer"), ("person", people, "Manager")):
            names = pd.Series([f"{label} {i:06d} GmbH" for i in range(count)])
            names.index = names.str.lower()
            aliasing.assign_aliases(session, row.id, "bench", kind, names, salt=services.settings.alias_salt, length=8)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        environ = {"FINLIB_HOME": home, "ALIAS_SALT": "bench"}
        if args.database_url:
            environ["DATABASE_URL"] = args.database_url
        services = projects.Services(load_settings(environ, dotenv_path=None))
        seed(services, args.customers, args.people)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = rotate_salt(services, "bench")
            times.append(time.perf_counter() - started)
        with db.session_scope(services.engine) as session:
            session.execute(sa.delete(db.Project).where(db.Project.name == "bench"))
        print(
            f"{services.settings.database_backend}: rotate-salt of {report.customers} customers + {report.people} "
            f"people: median {statistics.median(times):.2f} s over {args.runs} runs "
            f"({', '.join(f'{t:.2f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
