"""The benchmarks' database: a PostgreSQL database named in DATABASE_URL, dropped and created fresh."""

from __future__ import annotations

import os


def fresh_postgres(default_url: str, *, reuse: bool = False) -> str:
    """Recreate the DATABASE_URL database (default_url when unset; keep it with `reuse`); returns what it is.

    Refuses a database whose name lacks "bench", so a benchmark never drops real data.
    """
    url = os.environ.setdefault("DATABASE_URL", default_url)
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit(f"This benchmark needs PostgreSQL: set DATABASE_URL={default_url}")
    name = config["NAME"]
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop database {name!r}: use a database whose name contains 'bench'.")
    admin = psycopg.connect(
        host=config["HOST"] or None, port=config["PORT"] or None, user=config["USER"] or None,
        password=config["PASSWORD"] or None, dbname="postgres", autocommit=True,
    )
    with admin:
        if not reuse:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version.split()[0]} ({name})"
