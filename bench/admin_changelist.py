"""How fast is the admin lead list on a million leads? Run by hand, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_admin .venv/bin/python bench/admin_changelist.py
    ... bench/admin_changelist.py --rows 100000          # a quicker run
    ... bench/admin_changelist.py --reuse                # time again without reloading

Builds a fresh PostgreSQL database (dropped and created: the name must contain "bench"), loads
one workspace with `--rows` leads (and another workspace with `--other-rows`, so scoping has
something to leave out) in one set-based INSERT ... SELECT FROM generate_series, then requests
the lead changelist in-process with Django's test client, signed in as a manager and as a rep:

- the default list (newest first), a status filter, the hot band, "mine", and two searches
  (one person's email, and a common surname that matches thousands of leads);
- median server time over `--repeat` requests after two warm-ups (the whole request: middleware,
  session, queries, template, measured in-process), the CPU time the Django process spent on it
  (what the request costs without waiting for a core on a busy machine), the time its SQL took
  (one more request, queries captured), and the number of SQL queries;
- each at 20, 50 (the list's default) and 100 rows per page, to show the query count does not
  depend on the page size.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.databases import fresh_postgres  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_admin"
REPS = 10
SURNAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi",
    "Kowalski", "Nowak", "Novak", "Horvat", "Jensen", "Nielsen", "Hansen", "Larsen", "Andersen", "Pedersen",
    "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Almeida", "Ferreira", "Carvalho", "Gomes",
    "Tanaka", "Suzuki", "Sato", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato", "Yoshida",
]
FIRST_NAMES = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "John",
               "Katherine", "Tim", "Radia", "Vint", "Hedy", "Edsger", "Sophie", "Bjarne", "Lynn", "Guido"]
SOURCES = ["website_form", "facebook_lead_ad", "google_lead_form", "referral", "api", "import", "chat"]
CAMPAIGNS = ["", "", "", "spring-webinar", "summer-promo", "linkedin-abm", "partner-referral", "trade-show"]


def sql_array(values) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def load_leads(*, tenant, owners: list[int], rows: int, first_id_hint: str) -> float:
    """One INSERT ... SELECT over generate_series: names, emails, statuses, scores, owners, dates."""
    import json

    from django.db import connection

    from leads.models import Lead

    started = time.monotonic()
    generated = {
        "tenant_id": str(tenant.pk),
        "public_id": "gen_random_uuid()",  # one per row (the column's Python default would give them all one)
        "first_name": f"({sql_array(FIRST_NAMES)})[1 + g % {len(FIRST_NAMES)}]",
        "last_name": f"({sql_array(SURNAMES)})[1 + (g / 7) % {len(SURNAMES)}]",
        "email": f"'{first_id_hint}' || g || '@company' || (g % 50000) || '.example'",
        "phone": "'+1415' || lpad((g % 10000000)::text, 7, '0')",
        "company": "'Company ' || (g % 50000)",
        "job_title": "(ARRAY['VP of Sales', 'Head of Growth', 'Marketing Manager', 'Analyst', ''])[1 + g % 5]",
        "industry": "(ARRAY['Software', 'Retail', 'Healthcare', 'Manufacturing', ''])[1 + g % 5]",
        "country": "(ARRAY['US', 'GB', 'DE', 'FR', 'NL'])[1 + g % 5]",
        "source": f"({sql_array(SOURCES)})[1 + g % {len(SOURCES)}]",
        "campaign": f"({sql_array(CAMPAIGNS)})[1 + (g / 3) % {len(CAMPAIGNS)}]",
        "status": "CASE WHEN g % 100 < 45 THEN 'new' WHEN g % 100 < 75 THEN 'contacted' "
        "WHEN g % 100 < 87 THEN 'qualified' ELSE 'disqualified' END",
        "disqualification_reason": "CASE WHEN g % 100 >= 87 THEN 'Not a fit' ELSE '' END",
        "score_total": "(g * 7919) % 101",
        "score_band": "CASE WHEN (g * 7919) % 101 >= 70 THEN 'hot' WHEN (g * 7919) % 101 >= 40 THEN 'warm' "
        "ELSE 'cold' END",
        "grade": "CASE WHEN (g * 7919) % 101 >= 90 THEN 'A+' WHEN (g * 7919) % 101 >= 75 THEN 'A' "
        "WHEN (g * 7919) % 101 >= 60 THEN 'B' WHEN (g * 7919) % 101 >= 40 THEN 'C' "
        "WHEN (g * 7919) % 101 >= 20 THEN 'D' ELSE 'F' END",
        "score_version": "'bench'",
        # A year of leads, oldest first, so ids and dates rise together as they do in production.
        "created_at": f"now() - ({rows} - g) * interval '30 seconds'",
        "updated_at": "now()",
        "last_activity_at": f"CASE WHEN g % 3 = 0 THEN NULL ELSE now() - ({rows} - g) * interval '20 seconds' END",
        "owner_id": f"(ARRAY[{', '.join(map(str, owners))}]::bigint[])[1 + g % {len(owners) + 2}]",
        "assigned_at": f"CASE WHEN g % {len(owners) + 2} < {len(owners)} THEN now() END",
        "public_id": "gen_random_uuid()",  # one per row: the field's Python default would give every row the same
    }
    columns, expressions, params = [], [], []
    for field in Lead._meta.concrete_fields:
        if field.column == "id":
            continue
        columns.append(field.column)
        if field.column in generated:
            expressions.append(generated[field.column].replace("%", "%%"))  # modulo, not a placeholder
            continue
        default = field.get_default()
        if isinstance(default, (dict, list)):
            default = json.dumps(default)
        expressions.append("%s")
        params.append(default)
    sql = (
        f"INSERT INTO {Lead._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM generate_series(1::bigint, %s::bigint) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, rows])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="leads in the measured workspace")
    parser.add_argument("--other-rows", type=int, default=100_000, help="leads in another workspace")
    parser.add_argument("--repeat", type=int, default=9, help="timed requests per view (median reported)")
    parser.add_argument("--reuse", action="store_true", help="keep the database loaded by an earlier run")
    args = parser.parse_args()

    where = fresh_postgres(DEFAULT_URL, reuse=args.reuse)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.contrib import admin
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm.choices import Role
    from crm.models import Tenant, User
    from leads.models import Lead

    migration = importlib.import_module("leads.migrations.0005_lead_list_indexes")
    if not args.reuse:
        call_command("migrate", verbosity=0)
        tenant = Tenant.objects.create(slug="bench", name="Bench")
        other = Tenant.objects.create(slug="other", name="Other")
        manager = User.objects.create_user("manager", tenant=tenant, role=Role.MANAGER, is_staff=True)
        reps = [
            User.objects.create_user(f"rep{i}", tenant=tenant, role=Role.REP, is_staff=True, first_name=f"Rep{i}")
            for i in range(REPS)
        ]
        stranger = User.objects.create_user("stranger", tenant=other, role=Role.REP, is_staff=True)
        with connection.cursor() as cursor:
            # Build the trigram index once after the load: far faster than growing it row by row.
            cursor.execute(f"DROP INDEX IF EXISTS {migration.SEARCH_INDEX}")
            cursor.execute("SET maintenance_work_mem = '512MB'")
        seconds = load_leads(tenant=tenant, owners=[r.pk for r in reps], rows=args.rows, first_id_hint="lead")
        seconds += load_leads(tenant=other, owners=[stranger.pk], rows=args.other_rows, first_id_hint="other")
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE INDEX {migration.SEARCH_INDEX} ON leads_lead "
                f"USING gin (({migration.SEARCH_EXPRESSION}) gin_trgm_ops)"
            )
            cursor.execute("VACUUM (ANALYZE) leads_lead")
        print(f"{where}; {os.cpu_count()} CPUs")
        print(
            f"loaded {args.rows:,} + {args.other_rows:,} leads in {seconds:.1f} s; "
            f"search index and ANALYZE {time.monotonic() - started:.1f} s"
        )
    else:
        print(f"{where}; {os.cpu_count()} CPUs (reused)")
    tenant = Tenant.objects.get(slug="bench")
    manager = User.objects.get(username="manager")
    rep = User.objects.get(username="rep3")
    total = Lead.objects.filter(tenant=tenant).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('leads_lead'))")
        size = cursor.fetchone()[0]
    print(f"workspace 'bench': {total:,} leads; leads table with indexes: {size}")

    lead_admin = admin.site.get_model_admin(Lead)
    default_per_page = lead_admin.list_per_page
    probe_email = f"lead{args.rows // 2}@"
    views = [
        ("default (newest first)", ""),
        ("status = contacted", "?status__exact=contacted"),
        ("band = hot", "?score_band__exact=hot"),
        ("search one email", f"?q={probe_email}"),
        ("search a surname", "?q=nakamura"),
        ("mine, hot", f"?owner__id__exact={rep.pk}&score_band__exact=hot"),
        # The saved views (issue 19): one click each above the list.
        ("saved: My hot leads", "?view=my-hot"),
        ("saved: Unassigned", "?view=unassigned"),
        ("saved: Untouched for 24 h", "?view=untouched-24h"),
    ]

    def measure(client, query, per_page):
        lead_admin.list_per_page = per_page
        url = "/admin/leads/lead/" + query
        for _ in range(2):
            warm = client.get(url)
            assert warm.status_code == 200, (url, warm.status_code, warm.content[:2000])
        times, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        cl = response.context_data["cl"]
        shown = f"{'about ' if cl.paginator.is_estimate else ''}{cl.result_count:,}"
        db_ms = sum(float(query["time"]) for query in queries.captured_queries) * 1000
        return statistics.median(times), statistics.median(cpu), db_ms, len(queries), len(cl.result_list), shown

    print()
    print("| user | view | rows per page | median ms | Django CPU ms | SQL ms | queries | rows shown | leads found |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    worst = 0.0
    for who, user in (("manager", manager), ("rep", rep)):
        client = Client()
        client.force_login(user)
        for label, query in views:
            counts = set()
            for per_page in (20, default_per_page, 100):
                ms, cpu_ms, db_ms, queries, shown_rows, found = measure(client, query, per_page)
                counts.add(queries)
                worst = max(worst, ms)
                print(
                    f"| {who} | {label} | {per_page} | {ms:.0f} | {cpu_ms:.0f} | {db_ms:.0f} | {queries} | {shown_rows} "
                    f"| {found} |"
                )
            if len(counts) != 1:
                print(f"  !! query count differs with the page size: {sorted(counts)}")
    print()
    print(f"slowest median: {worst:.0f} ms ({'under' if worst < 300 else 'OVER'} the 300 ms budget)")
    print(f"load average while measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
