"""How fast is `manage.py import_leads` on a big realistic file? Run by hand, not a test.

    .venv/bin/pip install -r requirements-bench.txt      # django-import-export, for the comparison
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_import .venv/bin/python bench/import_leads.py
    ... bench/import_leads.py --rows 100000 --ie-rows 20000      # a quicker run

Builds a fresh PostgreSQL database (dropped and created: the name must contain "bench"), one
workspace as `create_tenant` makes it (the default scoring rules, a website channel) with 10 reps
for round robin, generates a `--rows` file with bench/import_file.py (about 2% bad rows, 5%
repeated people) and measures, in this order:

1. the real command, `manage.py import_leads FILE --tenant bench`, in a subprocess: wall time,
   rows/s and its peak memory (the child's maximum resident set size);
2. the floor: PostgreSQL `COPY ... (FORMAT csv)` of the same file into a bare table of its columns
   with the lead table's indexes on the matching columns (tenant+email, tenant+phone, tenant+status+
   created, tenant+created, the trigram search index), one transaction;
3. django-import-export 4.4 (a ModelResource mapping the file's headers to lead fields, the email as
   import id so repeated people update rather than duplicate, `clean_model_instances` so rows are
   validated) on the first `--ie-rows` rows (default 100,000), into a second workspace;
4. the real command again on that same slice, into a third workspace, for a like-for-like ratio.

It prints rows/s, time and memory for each and the ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.databases import fresh_postgres  # noqa: E402
from bench.import_file import HEADER, generate  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_import"
REPS = 10


def workspace(slug: str, *, reps: int = REPS):
    from crm.choices import Role
    from crm.models import User
    from leads.workspaces import create_tenant

    tenant = create_tenant(slug=slug, name=slug.title(), admin_username=f"{slug}-admin",
                           admin_password="bench-Pass-9-long").tenant
    for i in range(reps):
        User.objects.create_user(f"{slug}-rep{i}", f"rep{i}@{slug}.example", "bench-Pass-9-long", tenant=tenant,
                                 role=Role.REP)
    return tenant


def run_command(path: Path, slug: str) -> dict:
    """manage.py import_leads in a subprocess: (seconds, peak RSS in MB, its summary lines)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cpu_before, machine_before = _children_cpu(), _machine_busy()
    started = time.monotonic()
    lines = []
    with subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), "import_leads", str(path), "--tenant", slug],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(),
    ) as child:
        for line in child.stdout:  # its progress lines, shown as they come
            print(f"    | {line.rstrip()}", flush=True)
            lines.append(line.rstrip())
    seconds = time.monotonic() - started
    cpu, machine = _children_cpu() - cpu_before, _machine_busy() - machine_before
    # KB on Linux, the largest child so far: the import is the first and largest child this script runs.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if child.returncode != 0:
        raise SystemExit("import_leads failed (its output is above).")
    summary = [line for line in lines if line.startswith(("Import ", "created "))]
    counts = dict(re.findall(r"(created|updated|skipped|rejected) ([\d,]+)", summary[-1]))
    return {
        "seconds": seconds, "peak_mb": peak / 1024, "grew": peak > before, "cpu": cpu, "machine_cpu": machine,
        "summary": summary, "counts": {k: int(v.replace(",", "")) for k, v in counts.items()},
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> float:
    """CPU seconds every process on the machine has used (PostgreSQL's included), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_floor(rows: int, *more: str) -> float:
    """bench/import_floor.py at `rows` in a subprocess, into DATABASE_URL's database + "_floor"; its total seconds."""
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"] + "_floor"}
    output = subprocess.run([sys.executable, str(BASE_DIR / "bench" / "import_floor.py"), "--rows", str(rows), *more],
                            env=env, check=True, capture_output=True, text=True).stdout
    for line in output.splitlines():
        print(f"    | {line}", flush=True)
    return float(re.search(r"^total\s.*?([\d.]+) s", output, re.M).group(1))


def bare_copy(path: Path) -> float:
    """COPY the file into a bare table with the lead table's indexes on the same columns; seconds."""
    from django.db import connection

    columns = [re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") for name in HEADER]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_leads")
        cursor.execute(
            "CREATE TABLE bench_bare_leads (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL DEFAULT 1, "
            + ", ".join(f'"{c}" text' for c in columns) + ")"
        )
        for name, expression in (
            ("email", '(tenant_id, "e_mail_address")'),
            ("phone", '(tenant_id, "phone")'),
            ("status", '(tenant_id, "lead_status", "created_date" DESC, id DESC)'),
            ("created", '(tenant_id, "created_date" DESC, id DESC)'),
            ("tenant", "(tenant_id)"),
        ):
            cursor.execute(f"CREATE INDEX bench_bare_{name}_idx ON bench_bare_leads {expression}")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(
            "CREATE INDEX bench_bare_search_idx ON bench_bare_leads USING gin (upper(coalesce(first_name, '') || ' ' "
            "|| coalesce(last_name, '') || ' ' || coalesce(e_mail_address, '') || ' ' || "
            "coalesce(company_account, '') || ' ' || coalesce(phone, '')) gin_trgm_ops)"
        )
    started = time.monotonic()
    with connection.cursor() as cursor:
        quoted = ", ".join(f'"{c}"' for c in columns)
        with cursor.cursor.copy(f"COPY bench_bare_leads ({quoted}) FROM STDIN (FORMAT csv, HEADER true)") as copy:
            with open(path, "rb") as raw:
                while chunk := raw.read(1 << 20):
                    copy.write(chunk)
    return time.monotonic() - started


def import_export(path: Path, tenant) -> tuple[float, int]:
    """django-import-export on the file: (seconds, rows)."""
    import tablib
    from import_export import fields, resources

    from leads.models import Lead

    mapping = {
        "first_name": "First Name", "last_name": "Last Name", "email": "E-mail Address", "phone": "Phone",
        "company": "Company / Account", "job_title": "Job Title", "industry": "Industry",
        "employee_count": "No. of Employees", "annual_revenue": "Annual Revenue", "website": "Website",
        "country": "Country", "status": "Lead Status", "message": "Notes",
    }

    class LeadResource(resources.ModelResource):
        class Meta:
            model = Lead
            fields = ("tenant", *mapping)
            import_id_fields = ("email",)
            clean_model_instances = True
            skip_unchanged = True

        def get_queryset(self):
            return Lead.objects.filter(tenant=tenant)  # the (tenant, email) index, as a fair setup would

        def before_import_row(self, row, **kwargs):
            row["tenant"] = tenant.pk
            row["Lead Status"] = (row.get("Lead Status") or "new").lower()
            row["No. of Employees"] = (row.get("No. of Employees") or "").replace(",", "")

    for name, header in mapping.items():
        setattr(LeadResource, name, fields.Field(attribute=name, column_name=header))
    LeadResource.fields.update({name: getattr(LeadResource, name) for name in mapping})

    with open(path, encoding="utf-8", newline="") as f:
        dataset = tablib.Dataset().load(f.read(), format="csv")
    started = time.monotonic()
    LeadResource().import_data(dataset, dry_run=False, raise_errors=False, use_transactions=True)
    return time.monotonic() - started, len(dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ie-rows", type=int, default=100_000,
                        help="rows of the slice django-import-export gets (0: skip it and the slice run)")
    parser.add_argument("--floor", action="store_true",
                        help="also run bench/import_floor.py at --rows (its own database, DATABASE_URL + '_floor'), "
                             "with and without the routed leads' assignments, and print the import's ratio to each")
    parser.add_argument("--no-copy", action="store_true", help="skip the bare-table COPY")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="where the files go")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    where = fresh_postgres(DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    workspace("bench")
    ie_tenant = workspace("bench-ie")
    workspace("bench-slice")

    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"bench-leads-{args.rows}.csv"
    started = time.monotonic()
    made = generate(path, rows=args.rows, seed=args.seed)
    size_mb = path.stat().st_size / 1e6
    print(f"{where}; {os.cpu_count()} CPUs")
    print(
        f"generated {made['rows']:,} rows ({made['bad']:,} bad, {made['duplicates']:,} repeated people), "
        f"{size_mb:,.0f} MB, in {time.monotonic() - started:.1f} s"
    )
    slice_rows = min(args.ie_rows, args.rows)
    slice_path = args.dir / f"bench-leads-slice-{slice_rows}.csv"
    with open(path, encoding="utf-8", newline="") as source, open(slice_path, "w", encoding="utf-8", newline="") as out:
        import csv

        writer = csv.writer(out)
        for i, row in enumerate(csv.reader(source)):
            if i > slice_rows:
                break
            writer.writerow(row)

    print(f"load average before the import: {_load()}")
    ours = run_command(path, "bench")
    rate = args.rows / ours["seconds"]
    print(f"import_leads: {args.rows:,} rows in {ours['seconds']:.1f} s = {rate:,.0f} rows/s, "
          f"peak memory {ours['peak_mb']:,.0f} MB; load average after {_load()}")
    for line in ours["summary"]:
        print(f"    {line}")
    print(f"    CPU: the import process {ours['cpu']:,.0f} s; the whole machine (PostgreSQL included) "
          f"{ours['machine_cpu']:,.0f} s of the {os.cpu_count() * ours['seconds']:,.0f} s its {os.cpu_count()} cores had")

    if args.floor:
        # The faithful floor (with the routed leads' "assigned" activities and LeadAssigned events, which the
        # import must write too), then the floor as it was measured before 2026-12-02 without them.
        floor = run_floor(args.rows)
        print(f"write floor (bench/import_floor.py, {args.rows:,} rows): {floor:.1f} s; import_leads / floor "
              f"{ours['seconds'] / floor:.2f}x (target: at most 2x); load average {_load()}")
        old_floor = run_floor(args.rows, "--without-assignments")
        print(f"old write floor (--without-assignments): {old_floor:.1f} s; import_leads / old floor "
              f"{ours['seconds'] / old_floor:.2f}x; load average {_load()}")
    if not args.no_copy:
        copy_seconds = bare_copy(path)
        copy_rate = args.rows / copy_seconds
        print(f"PostgreSQL COPY into a bare table with the same indexes: {args.rows:,} rows in {copy_seconds:.1f} s = "
              f"{copy_rate:,.0f} rows/s")
    if not args.ie_rows:
        return

    ie_seconds, ie_rows = import_export(slice_path, ie_tenant)
    ie_rate = ie_rows / ie_seconds
    print(f"django-import-export: {ie_rows:,} rows in {ie_seconds:.1f} s = {ie_rate:,.0f} rows/s")

    same = run_command(slice_path, "bench-slice")
    same_rate = slice_rows / same["seconds"]
    print(f"import_leads on the same slice: {slice_rows:,} rows in {same['seconds']:.1f} s = {same_rate:,.0f} rows/s")

    if args.no_copy:
        copy_rate = float("nan")
    print(
        f"ratios: import_leads / COPY {rate / copy_rate:.2f}; import_leads / django-import-export "
        f"{rate / ie_rate:.1f}x (on the same slice {same_rate / ie_rate:.1f}x)"
    )
    targets = [
        (f"{args.rows:,} rows under 60 s", ours["seconds"] < 60 if args.rows >= 1_000_000 else None),
        ("at least 5x django-import-export", same_rate >= 5 * ie_rate),
        ("peak memory under 500 MB", ours["peak_mb"] < 500),
    ]
    for label, met in targets:
        print(f"target {label}: {'met' if met else 'not measured at this size' if met is None else 'NOT met'}")


if __name__ == "__main__":
    main()
