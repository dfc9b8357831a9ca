"""How fast is set-based rescoring, against scoring one lead at a time? Run by hand, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench .venv/bin/python bench/rescore_leads.py
    ... bench/rescore_leads.py --leads 100000 --sample 5000      # a quicker run

Builds a fresh PostgreSQL database (dropped and created: the name must contain "bench"), loads
one tenant with `--leads` leads and their activities through COPY, gives the tenant 20 active
scoring rules (the 19 defaults a new workspace gets, 12 reading lead fields and 7 counting
activities, plus one more field rule), then measures:

1. the set-based rescore (`leads.scoring.rescore_leads`, what `manage.py rescore_leads --workers 2`
   runs) over every lead, from unscored, including the auto-qualification of leads reaching the
   threshold;
2. the same after a rule change (one rule's points edited), the everyday case: once with one
   worker, once with `--workers` (default 2, the machine's cores);
3. the baseline, a per-row Python loop over a `--sample` of leads: the rules loaded once, then
   each lead read, its activities counted, scored by the Python evaluator (the one capture uses),
   saved and auto-qualified on its own, committing every 1,000 leads;
4. for reference, the request paths' scoring step on up to 2,000 of them (`rescore_lead`: lock
   the row, load the rules, count, evaluate, save; then `auto_qualify`), one commit per lead.

It prints rows/s for each, the ratio, and checks that both paths stored the same scores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.databases import fresh_postgres  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench"
PER_ROW_TRANSACTION = 1_000  # the per-lead loop commits in batches too, so commits do not dominate it
# fmt: off
TITLES = [  # (title, weight)
    ("Chief Executive Officer", 2), ("Chief Technology Officer", 2), ("VP of Sales", 4), ("VP Marketing", 3),
    ("Head of Growth", 4), ("Director of Operations", 6), ("IT Director", 5), ("Sales Manager", 10),
    ("Marketing Manager", 10), ("Account Executive", 12), ("Software Engineer", 15), ("Analyst", 12),
    ("Student", 5), ("", 10),
]
INDUSTRIES = [("Software", 20), ("Financial services", 10), ("Healthcare", 10), ("Cybersecurity", 4),
              ("Retail", 12), ("Manufacturing", 12), ("Education", 8), ("Logistics", 8), ("", 16)]
COUNTRIES = ["US", "US", "US", "GB", "DE", "AT", "CH", "FR", "NL", "IN", "BR", "CA", ""]
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]
STATUSES = [("new", 45), ("contacted", 30), ("qualified", 12), ("disqualified", 13)]
SOURCES = ["website_form", "facebook_lead_ad", "google_lead_form", "referral", "api", "import"]
ACTIVITY_MIX = [  # kind, share of leads with any, most per lead
    ("page_viewed", 0.40, 6), ("email_opened", 0.30, 4), ("email_clicked", 0.08, 2),
    ("form_submitted", 0.50, 1), ("demo_requested", 0.03, 1),
]
# fmt: on


def weighted(rng: random.Random, table):
    return rng.choices([row[0] for row in table], weights=[row[1] for row in table])[0]


def load(tenant, leads: int, rng: random.Random) -> tuple[int, float]:
    """COPY the leads and their activities; returns (activities written, seconds)."""
    import json

    from django.db import connection

    from crm.models import Activity
    from leads.models import Lead

    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    fields = [f for f in Lead._meta.concrete_fields if f.column != "id"]
    base = {}
    for f in fields:
        default = f.get_default()  # "" for text without a default, None for nullable columns
        if isinstance(default, (dict, list)):
            default = json.dumps(default)
        base[f.column] = default
    base.update(tenant_id=tenant.pk, created_at=now, updated_at=now, score_updated_at=None)
    columns = [f.column for f in fields]

    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {Lead._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(leads):
                status = weighted(rng, STATUSES)
                free = rng.random() < 0.15
                domain = rng.choice(FREE_MAIL) if free else f"company{rng.randrange(50_000)}.example"
                row = {
                    **base,
                    "first_name": f"First{i}",
                    "last_name": f"Last{i}",
                    "email": f"lead{i}@{domain}",
                    "job_title": weighted(rng, TITLES),
                    "industry": weighted(rng, INDUSTRIES),
                    "company": "" if free else f"Company {domain.split('.')[0][7:]}",
                    "employee_count": None if rng.random() < 0.2 else int(10 ** rng.uniform(0, 4.5)),
                    "annual_revenue": None if rng.random() < 0.25 else round(10 ** rng.uniform(4, 9), 2),
                    "country": rng.choice(COUNTRIES),
                    "source": rng.choice(SOURCES),
                    "status": status,
                    "disqualification_reason": "Not a fit" if status == "disqualified" else "",
                }
                copy.write_row([row[c] for c in columns])
        cursor.execute(f"SELECT id FROM {Lead._meta.db_table} WHERE tenant_id = %s ORDER BY id", [tenant.pk])
        ids = [r[0] for r in cursor.fetchall()]
        written = 0
        table = Activity._meta.db_table
        with cursor.cursor.copy(
            f"COPY {table} (tenant_id, lead_id, kind, subject, body, occurred_at, data) FROM STDIN"
        ) as copy:
            for lead_id in ids:
                for kind, share, most in ACTIVITY_MIX:
                    if rng.random() < share:
                        for _ in range(rng.randint(1, most)):
                            copy.write_row([tenant.pk, lead_id, kind, "", "", now, "{}"])
                            written += 1
    with connection.cursor() as cursor:  # after a bulk load, as an operator would (outside a transaction)
        cursor.execute(f"VACUUM (ANALYZE) {Lead._meta.db_table}")
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    return written, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="leads scored one at a time (baseline)")
    parser.add_argument("--batch-size", type=int, default=None, help="set-based batch (default: the command's)")
    parser.add_argument("--workers", type=int, default=2, help="set-based batches at once (the machine has 2 cores)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    where = fresh_postgres(DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.models import Tenant
    from leads.rules.conditions import count_activities
    from leads.models import Lead, ScoringRule
    from leads.rules.scoring import DEFAULT_BATCH_SIZE, SCORE_FIELDS, auto_qualify, compute_score, rescore_lead, rescore_leads
    from leads.rules.sheet import rule_sheet
    from leads.rules.defaults import install_default_rules

    batch_size = args.batch_size or DEFAULT_BATCH_SIZE
    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    install_default_rules(tenant=tenant)
    ScoringRule.objects.create(
        tenant=tenant,
        name="Country: DACH",
        category="demographic",
        field="country",
        operator="in_list",
        value="DE, AT, CH",
        points=5,
    )
    sheet = rule_sheet(tenant)
    activity_rules = sum(rule.condition.kind == "activity" for rule in sheet.rules)
    activities, load_seconds = load(tenant, args.leads, rng)
    print(f"{where}; {os.cpu_count()} CPUs")
    print(f"loaded {args.leads:,} leads and {activities:,} activities by COPY in {load_seconds:.1f} s")
    print(
        f"{len(sheet.rules)} active rules: {len(sheet.rules) - activity_rules} on lead fields, "
        f"{activity_rules} counting activities; batches of {batch_size:,}"
    )

    def set_based(label, workers):
        started = time.monotonic()
        summary = rescore_leads(tenant=tenant, batch_size=batch_size, workers=workers)
        seconds = time.monotonic() - started
        print(
            f"set-based, {label}, {workers} worker{'s' if workers > 1 else ''}: {summary.leads:,} leads in "
            f"{seconds:.1f} s = {summary.leads / seconds:,.0f} rows/s "
            f"({summary.band_changed:,} changed band, {summary.qualified:,} auto-qualified)"
        )
        return summary.leads / seconds

    def change_a_rule(points):
        demo = ScoringRule.objects.get(tenant=tenant, name="Requested a demo")
        demo.points = points
        demo.save()

    first_rate = set_based("from unscored", args.workers)
    change_a_rule(25)
    serial_rate = set_based("after a rule change", 1)
    change_a_rule(30)
    rate = set_based("after a rule change", args.workers)

    sample = list(Lead.objects.filter(tenant=tenant).order_by("?").values_list("pk", flat=True)[: args.sample])

    def per_row_loop(pks):
        """The baseline: the rules loaded once, then each lead read, its activities counted, scored
        by the Python evaluator and saved on its own; commits every PER_ROW_TRANSACTION leads."""
        started = time.monotonic()
        sheet = rule_sheet(tenant)
        for start in range(0, len(pks), PER_ROW_TRANSACTION):
            with transaction.atomic():
                for lead in Lead.objects.filter(pk__in=pks[start : start + PER_ROW_TRANSACTION]).select_related(
                    "tenant"
                ):
                    counts = count_activities(lead)
                    score = compute_score(lead=lead, sheet=sheet, activity_counts=counts, tenant=lead.tenant)
                    lead.score_total, lead.score_band, lead.grade = score.total, score.band, score.grade
                    lead.score_version, lead.score_factors = score.version, score.factors
                    lead.score_updated_at = timezone.now()
                    lead.save(update_fields=list(SCORE_FIELDS))
                    auto_qualify(lead=lead)
        return len(pks) / (time.monotonic() - started)

    def request_path(pks):
        """What a capture or an activity does per lead: refresh's scoring steps, committed each time."""
        started = time.monotonic()
        for pk in pks:
            with transaction.atomic():
                auto_qualify(lead=rescore_lead(lead=Lead(pk=pk)))
        return len(pks) / (time.monotonic() - started)

    alone = sample[-min(len(sample), 2_000) :]
    per_commit = request_path(alone)
    Lead.objects.filter(pk__in=sample).update(score_total=0, score_band="cold", grade="F", score_factors=[])
    per_row = per_row_loop(sample)
    print(
        f"per-row Python loop (rules loaded once, one transaction per {PER_ROW_TRANSACTION:,} leads): "
        f"{len(sample):,} leads in {len(sample) / per_row:.1f} s = {per_row:,.0f} rows/s"
    )
    print(
        f"per lead through rescore_lead + auto_qualify, one transaction each (a capture's or an activity's "
        f"scoring step): {len(alone):,} leads = {per_commit:,.0f} rows/s"
    )

    # Same answers: rescore the sample set-based and compare with what the per-lead path stored.
    fields = ("pk", "score_total", "score_band", "grade", "score_version", "score_factors", "status")
    one_by_one = list(Lead.objects.filter(pk__in=sample).order_by("pk").values_list(*fields))
    rescore_leads(tenant=tenant, lead_ids=sample)
    again = list(Lead.objects.filter(pk__in=sample).order_by("pk").values_list(*fields))
    agree = one_by_one == again
    print(f"set-based vs per lead on the sample: {'identical' if agree else 'DIFFERENT'} scores")
    print(
        f"ratio to the per-lead loop: set-based after a rule change {rate / per_row:,.0f}x "
        f"({serial_rate / per_row:,.0f}x with 1 worker), from unscored {first_rate / per_row:,.0f}x"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [Lead._meta.db_table])
        print(f"leads table with indexes: {cursor.fetchone()[0]}")
    if not agree:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
