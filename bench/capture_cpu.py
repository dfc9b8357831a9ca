"""CPU time and SQL statements per request: the capture endpoint against the bare create, in one process.

    .venv/bin/python bench/capture_cpu.py [--requests 200] [--reps 3 [--open-per-rep 10000]] [--verbose] [--profile]

A steadier measure than wrk's throughput on a shared machine: CPU time does not count waiting
for a core. Uses a fresh PostgreSQL database (DATABASE_URL, else crm_bench_capture_cpu on 127.0.0.1:5432), one
workspace as create_tenant makes it, and Django's test client with bench.settings. Prints the SQL
statements of one capture (with --verbose), the statement counts, and per request the wall and
CPU milliseconds of each endpoint (200 requests each, alternating blocks), and their ratio.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = "crm_bench_capture_cpu"
# DATABASE_URL, when set, names another database (with "bench" in its name), e.g. one per worktree.
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.update({
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "ALLOWED_HOSTS": "testserver", "SECRET_KEY": "bench-only", "DEBUG": "0", "ALLOW_HTTP": "1", "LOG_LEVEL": "ERROR",
})
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_postgres  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--verbose", action="store_true", help="print the SQL of one capture")
    parser.add_argument("--profile", action="store_true", help="cProfile 300 captures, by cumulative time")
    parser.add_argument("--reps", type=int, default=0, help="reps in the workspace: with any, every capture is routed")
    parser.add_argument("--open-per-rep", type=int, default=0,
                        help="open leads each rep already holds (routing counts them for fairness)")
    args = parser.parse_args()

    fresh_postgres(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm.models import User
    from leads.workspaces import create_tenant
    from leads.models import Channel

    call_command("migrate", verbosity=0)
    tenant = create_tenant(slug="cpu", admin_username="cpu-admin", admin_password="bench-pass-2026-x").tenant
    channel = Channel.objects.get(tenant=tenant)
    Channel.objects.filter(pk=channel.pk).update(rate_limit_per_hour=10**9)
    reps = [User.objects.create_user(f"cpu-rep{i}", tenant=tenant, role="rep") for i in range(args.reps)]
    if reps and args.open_per_rep:
        from bench.admin_changelist import load_leads

        load_leads(tenant=tenant, owners=[r.pk for r in reps], rows=args.open_per_rep * (len(reps) + 2),
                   first_id_hint="held")
        from leads.models import Lead

        with connection.cursor() as cursor:  # every held lead open, as a rep's backlog is
            cursor.execute(f"UPDATE {Lead._meta.db_table} SET status = 'contacted', disqualification_reason = ''")
            cursor.execute(f"VACUUM ANALYZE {Lead._meta.db_table}")
        print(f"{len(reps)} reps holding {args.open_per_rep:,} open leads each")
    client, sent = Client(), [0]

    def post(path: str) -> None:
        sent[0] += 1
        key = f"{time.time_ns()}-{sent[0]}"
        body = {"first_name": "Bench", "last_name": f"User {key}", "email": f"cpu-{key}@example.com",
                "company": f"Bench Co {sent[0] % 500}", "utm_source": "bench"}
        response = client.post(path, json.dumps(body), content_type="application/json",
                               HTTP_X_FORM_KEY=channel.form_key, HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code in (200, 201), (path, response.status_code, response.content)

    paths = {"capture": "/api/v1/leads", "bare": "/bench/bare-leads"}
    for _ in range(30):  # warm caches, connections and query plans
        for path in paths.values():
            post(path)
    for name, path in paths.items():
        with CaptureQueriesContext(connection) as queries:
            post(path)
        print(f"{name}: {len(queries.captured_queries)} SQL statements per request")
        if args.verbose and name == "capture":
            for query in queries.captured_queries:
                print(f"    {float(query['time']) * 1000:6.2f} ms  {query['sql'][:150]}")
    cost = {}
    for name, path in paths.items():
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            post(path)
        cost[name] = ((time.perf_counter() - wall) / args.requests * 1000, (time.process_time() - cpu) / args.requests * 1000)
        print(f"{name}: {args.requests} requests, {cost[name][0]:.2f} ms wall, {cost[name][1]:.2f} ms CPU per request")
    print(f"bare / capture: wall {cost['bare'][0] / cost['capture'][0]:.2f}, CPU {cost['bare'][1] / cost['capture'][1]:.2f}")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(300):
            post(paths["capture"])
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(int(os.environ.get("TOP", "40")))


if __name__ == "__main__":
    main()
