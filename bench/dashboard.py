"""How fast is the sales dashboard on a million leads with their activities? Run by hand, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_dashboard .venv/bin/python bench/dashboard.py
    ... bench/dashboard.py --rows 100000          # a quicker run
    ... bench/dashboard.py --reuse                # time again without reloading

Builds a fresh PostgreSQL database (dropped and created: the name must contain "bench"), loads one
workspace with `--rows` leads spread over a year (bench/admin_changelist.py's set-based INSERT ... SELECT,
each lead its own public id) and another workspace with `--other-rows`, then gives every lead about three
timeline entries, set-based too: a note or a call, a status change or an email, and a task (a tenth of them
still open). Leads that were reached get a first_contacted_at from their timeline (the backfill's
definition), qualified ones a qualified_at.

Then it rebuilds the dashboard's stored figures (`manage.py refresh_dashboard --rebuild`, timed) and requests
/admin/dashboard/ in-process (Django's test client) for each period, 7, 30 and 90 days and a year (the last 365
days, as custom dates), signed in as a manager (the whole workspace) and as a rep (their own leads), and the lead
list (/admin/leads/lead/) as the baseline measured in the same run: median server time over `--repeat` requests
after two warm-ups, the Django process's CPU time, the SQL time of one more request and its query count, and
the slowest query of it. Then it changes `--stale` leads spread over the year (a status change, a new owner, a
call: what a day of work does) without refreshing, measures again (those leads are read live), and times the
refresh that stores them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.admin_changelist import REPS, load_leads  # noqa: E402
from bench.databases import fresh_postgres  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_dashboard"


def load_activities(*, tenant_ids: list[int]) -> tuple[float, int]:
    """About three entries per lead, in three INSERT ... SELECTs over the leads themselves."""
    from django.db import connection

    started = time.monotonic()
    common = (
        "tenant_id, public_id, lead_id, contact_id, deal_id, kind, subject, body, actor_id, occurred_at, "
        "due_at, done_at, data"
    )
    tenants = ", ".join(map(str, tenant_ids))
    statements = [
        # 1. Everyone: a note (still new) or a call (reached), some hours after creation.
        f"""INSERT INTO crm_activity ({common})
        SELECT l.tenant_id, gen_random_uuid(), l.id, NULL, NULL,
               CASE WHEN l.status = 'new' THEN 'note' ELSE 'call' END, 'First touch', '', l.owner_id,
               LEAST(now(), l.created_at + (1 + l.id % 72) * interval '1 hour'), NULL, NULL, '{{}}'::jsonb
        FROM leads_lead l WHERE l.tenant_id IN ({tenants})""",
        # 2. A status change to contacted (everyone reached, and half the disqualified), else an email.
        f"""INSERT INTO crm_activity ({common})
        SELECT l.tenant_id, gen_random_uuid(), l.id, NULL, NULL,
               CASE WHEN l.status IN ('contacted', 'qualified') OR (l.status = 'disqualified' AND l.id % 2 = 0)
                    THEN 'status_changed' ELSE 'email' END,
               '', '', l.owner_id,
               LEAST(now(), l.created_at + (2 + l.id % 96) * interval '1 hour'), NULL, NULL,
               CASE WHEN l.status IN ('contacted', 'qualified') OR (l.status = 'disqualified' AND l.id % 2 = 0)
                    THEN '{{"from": "new", "to": "contacted"}}'::jsonb ELSE '{{}}'::jsonb END
        FROM leads_lead l WHERE l.tenant_id IN ({tenants})""",
        # 3. A task for the owner; one in ten still open, due around now.
        f"""INSERT INTO crm_activity ({common})
        SELECT l.tenant_id, gen_random_uuid(), l.id, NULL, NULL, 'task', 'Follow up', '', l.owner_id,
               l.created_at, l.created_at + interval '3 days',
               CASE WHEN l.id % 10 = 0 THEN NULL ELSE l.created_at + interval '2 days' END, '{{}}'::jsonb
        FROM leads_lead l WHERE l.tenant_id IN ({tenants})""",
        # What the services would have stored: the first contact (the backfill's definition) and qualified_at.
        # One pass over the leads (every qualified one was reached, so all are in f).
        f"""UPDATE leads_lead l SET first_contacted_at = f.first,
            qualified_at = CASE WHEN l.status = 'qualified' OR (l.status = 'disqualified' AND l.id % 4 = 0)
                                THEN LEAST(now(), l.created_at + interval '5 days') END
        FROM (
            SELECT a.lead_id, min(a.occurred_at) AS first FROM crm_activity a
            WHERE a.tenant_id IN ({tenants}) AND (a.kind IN ('call', 'email', 'meeting', 'converted')
                  OR (a.kind = 'status_changed' AND a.data->>'to' IN ('contacted', 'qualified')))
            GROUP BY a.lead_id) f
        WHERE l.id = f.lead_id AND f.first >= l.created_at""",
    ]
    with connection.cursor() as cursor:
        # Row by row, the deferred foreign-key checks and ten indexes (random UUIDs among them) take over ten
        # minutes per million rows: skip the checks (every id comes from the rows just read) and build the
        # secondary indexes once, after the load.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'crm_activity' "
            "AND indexname NOT IN ('crm_activity_pkey', 'activity_public_id_unique')"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        try:
            for sql in statements:
                cursor.execute(sql)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SELECT count(*) FROM crm_activity")
        count = cursor.fetchone()[0]
    return time.monotonic() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="leads in the measured workspace")
    parser.add_argument("--other-rows", type=int, default=100_000, help="leads in another workspace")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per view (median reported)")
    parser.add_argument("--reuse", action="store_true", help="keep the database loaded by an earlier run")
    parser.add_argument("--keep-leads", action="store_true", help="keep the leads of an earlier run, reload the rest")
    parser.add_argument("--stale", type=int, default=1000, help="leads changed after the rebuild, read live")
    args = parser.parse_args()

    where = fresh_postgres(DEFAULT_URL, reuse=args.reuse or args.keep_leads)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from crm.choices import Role
    from crm.models import Activity, Tenant, User
    from leads.models import Lead

    if args.keep_leads:
        call_command("migrate", verbosity=0)
        tenant, other = Tenant.objects.get(slug="bench"), Tenant.objects.get(slug="other")
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE crm_activity")
        seconds = 0.0
    if not args.reuse and not args.keep_leads:
        call_command("migrate", verbosity=0)
        tenant = Tenant.objects.create(slug="bench", name="Bench")
        other = Tenant.objects.create(slug="other", name="Other")
        User.objects.create_user("manager", tenant=tenant, role=Role.MANAGER, is_staff=True)
        reps = [
            User.objects.create_user(f"rep{i}", tenant=tenant, role=Role.REP, is_staff=True, first_name=f"Rep{i}")
            for i in range(REPS)
        ]
        stranger = User.objects.create_user("stranger", tenant=other, role=Role.REP, is_staff=True)
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
        seconds = load_leads(tenant=tenant, owners=[r.pk for r in reps], rows=args.rows, first_id_hint="lead")
        seconds += load_leads(tenant=other, owners=[stranger.pk], rows=args.other_rows, first_id_hint="other")
    if not args.reuse:
        activity_seconds, _ = load_activities(tenant_ids=[tenant.pk, other.pk])
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) leads_lead")
            cursor.execute("VACUUM (ANALYZE) crm_activity")
        vacuum_seconds = time.monotonic() - started
        print(f"{where}; {os.cpu_count()} CPUs")
        print(
            f"loaded {args.rows:,} + {args.other_rows:,} leads in {seconds:.1f} s, their activities in "
            f"{activity_seconds:.1f} s; VACUUM ANALYZE {vacuum_seconds:.1f} s"
        )
    else:
        print(f"{where}; {os.cpu_count()} CPUs (reused)")
    tenant = Tenant.objects.get(slug="bench")
    manager = User.objects.get(username="manager")
    rep = User.objects.get(username="rep3")
    leads = Lead.objects.filter(tenant=tenant).count()
    activities = Activity.objects.filter(tenant=tenant).count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('leads_lead')), "
            "pg_size_pretty(pg_total_relation_size('crm_activity'))"
        )
        lead_size, activity_size = cursor.fetchone()
    print(
        f"workspace 'bench': {leads:,} leads ({lead_size} with indexes), {activities:,} activities "
        f"({activity_size})"
    )

    today = timezone.localdate()
    year_start = today - dt.timedelta(days=364)
    pages = [
        ("lead list (baseline)", "/admin/leads/lead/"),
        ("dashboard, 7 days", "/admin/dashboard/?period=7"),
        ("dashboard, 30 days", "/admin/dashboard/?period=30"),
        ("dashboard, 90 days", "/admin/dashboard/?period=90"),
        ("dashboard, a year", f"/admin/dashboard/?period=custom&start={year_start:%Y-%m-%d}&end={today:%Y-%m-%d}"),
    ]

    from leads import dashboard_rollup

    started = time.monotonic()
    counted = dashboard_rollup.rebuild()
    rebuild_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) leads_dashboard_lead")
        cursor.execute("VACUUM (ANALYZE) leads_dashboard_day")
        cursor.execute("VACUUM (ANALYZE) leads_dashboard_wait")
        cursor.execute("VACUUM (ANALYZE) leads_dashboard_stale")  # the rebuild emptied it: autovacuum would, later
        cursor.execute(
            "SELECT (SELECT count(*) FROM leads_dashboard_day), (SELECT count(*) FROM leads_dashboard_wait), "
            "pg_size_pretty(pg_total_relation_size('leads_dashboard_lead')), "
            "pg_size_pretty(pg_total_relation_size('leads_dashboard_day') + pg_total_relation_size('leads_dashboard_wait'))"
        )
        day_rows, wait_rows, facts_size, rollup_size = cursor.fetchone()
    print(
        f"rebuilt the stored figures of {counted:,} leads in {rebuild_seconds:.1f} s: {day_rows:,} day rows, "
        f"{wait_rows:,} wait-bucket rows ({rollup_size}), facts per lead {facts_size}"
    )

    worst = table(pages, manager, rep, repeat=args.repeat, title="stored figures fresh (no lead marked stale)")

    with connection.cursor() as cursor:
        # A day's work spread over the year: every n-th lead of the workspace is rescored, and moves on a step,
        # changes owner or gets its first contact; the triggers mark each, and the page reads them live.
        step = max(1, leads // max(1, args.stale))
        offset = int(time.time()) % step  # other leads on each run, so a --reuse run changes some too
        cursor.execute(
            "UPDATE leads_lead SET status = CASE status WHEN 'new' THEN 'contacted' WHEN 'contacted' THEN 'qualified' "
            "ELSE status END, owner_id = CASE WHEN id %% 3 = 0 THEN %s ELSE owner_id END, "
            "score_band = CASE score_band WHEN 'cold' THEN 'warm' WHEN 'warm' THEN 'hot' ELSE 'cold' END, "
            "first_contacted_at = COALESCE(first_contacted_at, created_at + interval '90 minutes') "
            "WHERE id IN (SELECT id FROM leads_lead WHERE tenant_id = %s AND id %% %s = %s ORDER BY id LIMIT %s)",
            [rep.pk, tenant.pk, step, offset, args.stale],
        )
        changed = cursor.rowcount
        cursor.execute("SELECT count(DISTINCT lead_id) FROM leads_dashboard_stale")
        marked = cursor.fetchone()[0]
    print(f"\nchanged {changed:,} leads across the year; {marked:,} marked stale (read live until refreshed)")
    worst = max(worst, table(pages, manager, rep, repeat=args.repeat, title=f"{marked:,} leads stale"))
    started = time.monotonic()
    refreshed = dashboard_rollup.refresh_stale()
    print(f"refreshed {refreshed:,} stale leads in {time.monotonic() - started:.2f} s")
    print()
    print(f"slowest dashboard median: {worst:.0f} ms ({'under' if worst < 300 else 'OVER'} the 300 ms budget)")
    print(f"load average while measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def table(pages, manager, rep, *, repeat: int, title: str) -> float:
    """The pages for a manager and a rep, as a Markdown table; returns the slowest dashboard median (ms)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def measure(client, url):
        for _ in range(2):
            warm = client.get(url)
            assert warm.status_code == 200, (url, warm.status_code, warm.content[:2000])
        times, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        captured = queries.captured_queries
        db_ms = sum(float(query["time"]) for query in captured) * 1000
        slowest = max(float(query["time"]) for query in captured) * 1000
        return statistics.median(times), statistics.median(cpu), db_ms, len(captured), slowest

    print()
    print(f"{title}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print("| user | page | median ms | Django CPU ms | SQL ms | queries | slowest query ms | ratio to baseline |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    worst = 0.0
    for who, user in (("manager", manager), ("rep", rep)):
        client = Client()
        client.force_login(user)
        baseline = None
        for label, url in pages:
            ms, cpu_ms, db_ms, count, slowest = measure(client, url)
            baseline = baseline or ms
            if label.startswith("dashboard"):
                worst = max(worst, ms)
            print(
                f"| {who} | {label} | {ms:.0f} | {cpu_ms:.0f} | {db_ms:.0f} | {count} | {slowest:.0f} "
                f"| {ms / baseline:.2f} |"
            )
    return worst


if __name__ == "__main__":
    main()
