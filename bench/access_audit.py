"""What does the access audit cost the lead list API? Run by hand, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_audit .venv/bin/python bench/access_audit.py
    ... bench/access_audit.py --rows 20000 --repeat 100

Builds a fresh PostgreSQL database (its name must contain "bench"), loads one workspace with
`--rows` leads (bench/admin_changelist.py's set-based load), then requests `GET /api/v1/leads`
in-process (Django's test client, signed in as a manager) at 20, 50 and 200 rows per page, with
the audit on (one AccessRecord INSERT per request, as shipped) and off (crm.audit.record_access
replaced by a no-op), interleaved in rounds so both see the same machine load. Reports the median
and mean server time of each and the difference (issue 17 asks for at most 10%); then times `record_access` alone (the INSERT and
its commit), which is the audit's whole cost and does not drown in a busy machine's noise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.databases import fresh_postgres  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_audit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="leads in the workspace")
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per page size and mode")
    parser.add_argument("--round", type=int, default=10, help="requests per mode before switching")
    args = parser.parse_args()

    where = fresh_postgres(DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench.admin_changelist import load_leads
    from crm import audit
    from crm.choices import Role
    from crm.models import AccessRecord, Tenant, User

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    manager = User.objects.create_user("manager", tenant=tenant, role=Role.MANAGER, is_staff=True)
    seconds = load_leads(tenant=tenant, owners=[manager.pk], rows=args.rows, first_id_hint="lead")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) leads_lead")
    print(f"{where}; {os.cpu_count()} CPUs; {args.rows:,} leads loaded in {seconds:.1f} s")

    client = Client()
    client.force_login(manager)
    recording = audit.record_access

    def off(**kwargs):
        return None

    print(f"{'page':>5} {'audit on (median / mean ms)':>30} {'audit off':>22} {'difference (median)':>22}")
    for limit in (20, 50, 200):
        url = f"/api/v1/leads?limit={limit}"
        for _ in range(5):  # warm-up, both ways
            client.get(url, secure=True)
        times: dict[str, list[float]] = {"on": [], "off": []}
        while len(times["off"]) < args.repeat:
            for mode in ("on", "off"):
                audit.record_access = recording if mode == "on" else off  # type: ignore[assignment]
                for _ in range(args.round):
                    started = time.perf_counter()
                    response = client.get(url, secure=True)
                    times[mode].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (response.status_code, response.content[:300])
        audit.record_access = recording  # type: ignore[assignment]
        on, no = statistics.median(times["on"]), statistics.median(times["off"])
        print(f"{limit:>5} {on:>18.2f} / {statistics.mean(times['on']):>6.2f} "
              f"{no:>12.2f} / {statistics.mean(times['off']):>6.2f} {100 * (on - no) / no:>+20.1f}%")
    # The audit alone: the INSERT (and its commit) a list request adds, timed without the request around it.
    from django.test import RequestFactory

    from leads.models import Lead

    request = RequestFactory().get("/api/v1/leads?limit=50")
    request.user = manager
    for limit in (20, 50, 200):
        rows = list(Lead.objects.order_by("-id").values_list("public_id", flat=True)[:limit])
        costs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            recording(request=request, door="api", model="leads.lead", rows=rows, query="limit=50")
            costs.append((time.perf_counter() - started) * 1000)
        print(f"record_access alone, {limit:>3} ids: median {statistics.median(costs):.2f} ms, "
              f"mean {statistics.mean(costs):.2f} ms")
    print(f"access records written: {AccessRecord.objects.count():,}")


if __name__ == "__main__":
    main()
