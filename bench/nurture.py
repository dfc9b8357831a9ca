"""How fast does the nurture scheduler work through a backlog, with two schedulers at once? Run by hand, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_nurture_bench .venv/bin/python bench/nurture.py
    ... bench/nurture.py --leads 20000 --due 2000      # a quicker run

Builds a fresh PostgreSQL database (the name must contain "bench"), one workspace with a three-step
sequence (email, wait two days, email) and `--leads` active enrolments, `--due` of them due now and
the rest next week. Then `--schedulers` processes (default 2) run `run_due_steps` at once on the
locmem email backend until nothing is due, and the benchmark checks that every due lead got exactly
one email (no lead twice, none missing) and prints the time and emails per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.databases import fresh_postgres  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_nurture_bench"


def scheduler(batch: int, queue) -> None:
    import django
    from django.db import connections

    django.setup()
    from django.core import mail

    from leads.nurture.scheduler import run_due_steps

    connections.close_all()
    mail.outbox = []
    started = time.perf_counter()
    counts = run_due_steps(batch=batch)
    queue.put({"counts": counts, "recipients": [m.to[0] for m in mail.outbox],
               "seconds": time.perf_counter() - started})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    where = fresh_postgres(DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from crm.models import Tenant
    from leads.models import Enrolment, Lead, Sequence, SequenceStep, StepRun
    from leads.nurture_models import NurtureStatus, StepKind

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(name="Bench", slug="bench", enrichment_enabled=False)
    sequence = Sequence.objects.create(tenant=tenant, name="Cold web leads")
    SequenceStep.objects.bulk_create([
        SequenceStep(sequence=sequence, position=1, kind=StepKind.EMAIL,
                     settings={"subject": "Hi {{ lead.first_name }}", "body": "A guide for {{ lead.company }}: "
                               "https://example.com/guide\n{{ workspace.name }}"}),
        SequenceStep(sequence=sequence, position=2, kind=StepKind.WAIT, settings={"days": 2}),
        SequenceStep(sequence=sequence, position=3, kind=StepKind.EMAIL, settings={"subject": "Again", "body": "Hi"}),
    ])
    now = timezone.now()
    loading = time.perf_counter()
    for start in range(0, args.leads, 5000):
        leads = Lead.objects.bulk_create([
            Lead(tenant=tenant, first_name=f"Lead{i}", company=f"Company {i % 500}", email=f"lead{i}@bench.example",
                 source="website_form", nurture_status=NurtureStatus.ACTIVE, current_sequence=sequence,
                 next_nurture_step_on=now - dt.timedelta(minutes=5) if i < args.due else now + dt.timedelta(days=7))
            for i in range(start, min(start + 5000, args.leads))
        ])
        Enrolment.objects.bulk_create([Enrolment(tenant=tenant, lead=lead, sequence=sequence, started_at=now)
                                       for lead in leads])
    print(f"{where}: {args.leads:,} enrolments, {args.due:,} due (loaded in {time.perf_counter() - loading:.0f} s)")
    connections.close_all()

    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=scheduler, args=(args.batch, queue)) for _ in range(args.schedulers)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started

    recipients = [r for result in results for r in result["recipients"]]
    twice = len(recipients) - len(set(recipients))
    runs = StepRun.objects.filter(step__position=1).count()
    print(f"{args.schedulers} schedulers, batch {args.batch}: {elapsed:.1f} s for {len(recipients):,} emails "
          f"({len(recipients) / elapsed:,.0f} emails/s); per scheduler: "
          + ", ".join(f"{len(r['recipients']):,} in {r['seconds']:.1f} s" for r in results))
    print(f"sent twice: {twice}; due leads without their email: {args.due - len(set(recipients))}; "
          f"first-step runs logged: {runs:,}")
    if twice or len(set(recipients)) != args.due or runs != args.due:
        raise SystemExit("FAILED: not exactly one email per due lead")


if __name__ == "__main__":
    main()
