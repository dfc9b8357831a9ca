"""Two (or more) schedulers at once: every due step runs once, no lead gets an email twice (both databases)."""

import pytest
from django.core import mail
from django.db import connection

from leads.models import StepRun
from leads.nurture import scheduler, service
from tests.concurrency import run_together
from tests.factories import LeadFactory, TenantFactory

from .support import three_step_sequence

LEADS = 60


@pytest.mark.django_db(transaction=True)
def test_schedulers_running_together_send_each_email_once():
    tenant = TenantFactory()
    sequence = three_step_sequence(tenant)
    leads = [LeadFactory(tenant=tenant, email=f"lead{i}@example.com") for i in range(LEADS)]
    for lead in leads:
        service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    mail.outbox = []

    results = run_together(lambda i: scheduler.run_due_steps(batch=7), n=4)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{connection.vendor}: {errors[:3]}"
    recipients = [m.to[0] for m in mail.outbox]
    assert sorted(recipients) == sorted(lead.email for lead in leads)  # each once
    assert StepRun.objects.filter(step__position=1).count() == LEADS
    assert sum(r.get("sent", 0) for r in results) == LEADS
    if connection.vendor == "postgresql":  # SKIP LOCKED: the work was shared, nobody waited for all of it
        assert sum(1 for r in results if r.get("sent")) >= 2
