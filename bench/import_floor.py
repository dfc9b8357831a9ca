"""The floor under any import: how long PostgreSQL alone takes to write what an import must write.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_floor .venv/bin/python bench/import_floor.py
    ... bench/import_floor.py --rows 200000          # quicker

Builds a fresh PostgreSQL database with the project's schema (every index and constraint the lead,
activity and event tables have, the trigram search index included), one workspace with 10 reps,
and then times, each as one set-based `INSERT ... SELECT FROM generate_series` (no Python per row,
no parsing, no validation, no network round trips per row):

1. the leads themselves (bench/admin_changelist.py's realistic generator);
2. one "imported" activity per lead;
3. one LeadCreated event per lead;
4. for each routed lead (one with an owner), the "assigned" activity and the LeadAssigned event the
   import writes for it (added 2026-12-02: before, the floor left them out, so it was lower than what
   an import must write; `--without-assignments` measures that old floor);
5. the commit, where the deferred foreign-key checks run (after an ANALYZE of the lead table, which
   the import does too: without statistics PostgreSQL may plan those checks as full index scans).

Whatever an importer does in Python, it cannot finish faster than this sum on the same machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.admin_changelist import load_leads  # noqa: E402
from bench.databases import fresh_postgres  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_floor"


def timed(label: str, rows: int, run) -> float:
    started = time.monotonic()
    run()
    seconds = time.monotonic() - started
    print(f"{label:<44} {rows:>10,} rows {seconds:8.1f} s {rows / seconds:10,.0f} rows/s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-search-index", action="store_true",
                        help="drop the trigram search index first, to see what it costs")
    parser.add_argument("--without-assignments", action="store_true",
                        help="the floor as it was before 2026-12-02: no 'assigned' activity or LeadAssigned event")
    args = parser.parse_args()

    where = fresh_postgres(DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from crm.choices import Role
    from crm.models import Activity, Event, Tenant, User
    from leads.models import Lead

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    reps = [User.objects.create_user(f"rep{i}", tenant=tenant, role=Role.REP) for i in range(10)]
    if args.no_search_index:
        search_index = importlib.import_module("leads.migrations.0005_lead_list_indexes").SEARCH_INDEX
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {search_index}")
    print(f"{where}: {args.rows:,} leads into the {'schema without the search index' if args.no_search_index else 'full schema'}, "
          f"{'without' if args.without_assignments else 'with'} the routed leads' assignments, one transaction", flush=True)

    total = 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [Lead._meta.db_table])
        indexes = cursor.fetchone()[0]
        total += timed(f"leads ({indexes} indexes)" if args.no_search_index else
                       f"leads (all {indexes} indexes, trigram included)", args.rows,
                       lambda: load_leads(tenant=tenant, owners=[r.pk for r in reps], rows=args.rows, first_id_hint="lead"))
        # As the import does (leads/importers/engine.py, ANALYZE_AFTER_ROWS): without statistics the
        # commit's foreign-key checks may be planned as full scans of another index, quadratic.
        total += timed("ANALYZE of the lead table", args.rows, lambda: cursor.execute(f"ANALYZE {Lead._meta.db_table}"))
        total += timed("an 'imported' activity per lead", args.rows, lambda: cursor.execute(
            f"INSERT INTO {Activity._meta.db_table} (public_id, tenant_id, lead_id, kind, subject, body, occurred_at, data) "
            f"SELECT gen_random_uuid(), tenant_id, id, 'imported', 'Imported from leads.csv', '', created_at, "
            f"'{{\"job\": 1}}'::jsonb FROM {Lead._meta.db_table} WHERE tenant_id = %s", [tenant.pk]))
        total += timed("a LeadCreated event per lead", args.rows, lambda: cursor.execute(
            f"INSERT INTO {Event._meta.db_table} (tenant_id, type, payload, created_at) "
            f"SELECT tenant_id, 'LeadCreated', jsonb_build_object('lead_id', id, 'source', source), now() "
            f"FROM {Lead._meta.db_table} WHERE tenant_id = %s", [tenant.pk]))
        if not args.without_assignments:
            # As the import's round robin leaves them (leads/assignment.py): who, why, the rep's public id.
            cursor.execute(f"SELECT count(*) FROM {Lead._meta.db_table} WHERE tenant_id = %s AND owner_id IS NOT NULL",
                           [tenant.pk])
            routed = cursor.fetchone()[0]
            reason = "round robin: 14654 open leads, longest wait"
            total += timed("an 'assigned' activity per routed lead", routed, lambda: cursor.execute(
                f"INSERT INTO {Activity._meta.db_table} (public_id, tenant_id, lead_id, kind, subject, body, occurred_at, data) "
                f"SELECT gen_random_uuid(), l.tenant_id, l.id, 'assigned', 'Assigned to ' || u.username, %s, l.assigned_at, "
                f"jsonb_build_object('to', u.public_id, 'from', NULL, 'reason', %s, 'routing', 'round_robin', "
                f"'rule_id', NULL, 'open_leads', 14654) "
                f"FROM {Lead._meta.db_table} l JOIN {User._meta.db_table} u ON u.id = l.owner_id "
                f"WHERE l.tenant_id = %s", [reason, reason, tenant.pk]))
            total += timed("a LeadAssigned event per routed lead", routed, lambda: cursor.execute(
                f"INSERT INTO {Event._meta.db_table} (tenant_id, type, payload, created_at) "
                f"SELECT l.tenant_id, 'LeadAssigned', jsonb_build_object('to', u.public_id, 'from', NULL, "
                f"'email', l.email, 'reason', %s, 'source', l.source, 'lead_id', l.public_id, 'routing', 'round_robin', "
                f"'rule_id', NULL, 'open_leads', 14654), now() "
                f"FROM {Lead._meta.db_table} l JOIN {User._meta.db_table} u ON u.id = l.owner_id "
                f"WHERE l.tenant_id = %s", [reason, tenant.pk]))
        started = time.monotonic()
    total += time.monotonic() - started
    print(f"{'commit (deferred foreign-key checks)':<44} {'':>15} {time.monotonic() - started:8.1f} s")
    print(f"{'total':<44} {args.rows:>10,} rows {total:8.1f} s {args.rows / total:10,.0f} rows/s")


if __name__ == "__main__":
    main()
