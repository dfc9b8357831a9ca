"""Wall and CPU time of each stage of an import (parse, decide, route, COPY, commit, ANALYZE), without a profiler.

    .venv/bin/python bench/import_stages.py 200000 on      # as configured: parse ahead, write behind
    .venv/bin/python bench/import_stages.py 200000 ahead   # parse ahead, batches written in the run's thread
    .venv/bin/python bench/import_stages.py 200000 off     # one thread

Imports a generated file of N rows (bench/import_file.py, kept in /tmp) into a fresh PostgreSQL bench
database (DATABASE_URL, default crm_bench_importspeed_prof). A stage whose wall time is well above its
CPU time waited: for PostgreSQL, or for the GIL while the parse-ahead thread ran.
"""

import collections
import os
import sys
import time

sys.path.insert(0, os.getcwd())
from pathlib import Path  # noqa: E402

from bench.databases import fresh_postgres  # noqa: E402
from bench.import_file import generate  # noqa: E402

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
mode = sys.argv[2] if len(sys.argv) > 2 else "on"
assert mode in ("on", "ahead", "off"), mode
fresh_postgres("postgres://postgres@127.0.0.1:5432/crm_bench_importspeed_prof")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db.backends.base import base  # noqa: E402

from bench.import_leads import workspace  # noqa: E402
from leads.importers import ImportOptions, engine, import_leads  # noqa: E402
from leads.importers.insights import BatchInsights  # noqa: E402
from leads.routing.service import BatchRouter  # noqa: E402

call_command("migrate", verbosity=0)
tenant = workspace("bench")
path = Path(f"/tmp/import-profile-{rows}.csv")
if not path.exists():
    generate(path, rows=rows)
if mode != "on":
    engine.WRITE_BEHIND_BYTES = None
if mode == "off":
    engine.PARSE_AHEAD_BYTES = None
wall: collections.Counter = collections.Counter()
cpu: collections.Counter = collections.Counter()


def timed(owner, name: str, label: str) -> None:
    inner = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started, used = time.monotonic(), time.thread_time()
        try:
            return inner(*args, **kwargs)
        finally:
            wall[label] += time.monotonic() - started
            cpu[label] += time.thread_time() - used

    setattr(owner, name, wrapper)


for owner, name, label in [
    (engine._Run, "_parse", "parse (its thread, or the run's)"),
    (engine._Run, "_prepare", "prepare (the run's thread)"), (engine._Run, "_decide", "  dedupe"),
    (BatchInsights, "apply", "  scoring"), (BatchRouter, "route", "  routing"),
    (engine._Run, "_store", "store (write-behind thread, or the run's)"), (engine._Run, "_write", "  write"),
    (engine._Run, "_contacts_for_converted", "    contacts of converted"),
    (engine, "insert", "    COPY (build rows, send)"), (engine._Run, "_keep_statistics", "    ANALYZE"),
    (base.BaseDatabaseWrapper, "commit", "  commit (FK checks)"),
    (engine.WriteBehind, "wait", "the run waiting for the write-behind"),
]:
    timed(owner, name, label)
started, used = time.monotonic(), time.process_time()
job = import_leads(tenant=tenant, path=path, options=ImportOptions())
print(f"{mode}: {rows:,} rows in {time.monotonic() - started:.1f} s, process CPU "
      f"{time.process_time() - used:.1f} s; created {job.created:,}; load average {os.getloadavg()[0]:.2f}")
for label in wall:
    print(f"  {label:<34} wall {wall[label]:6.2f} s  CPU {cpu[label]:6.2f} s")
