"""Twenty simultaneous conversions of one lead make one contact, on PostgreSQL and on SQLite.

These use real transactions and threads (each thread has its own database connection), so they
run under `transactional_db`; SQLite's test database is a file for the same reason.
"""

import json
import urllib.request

import pytest
from django.db import connection

from contacts.models import Company, Contact, Deal
from crm.choices import EventType
from crm.models import Event
from leads.choices import LeadStatus
from leads.models import Lead
from tests.api_ids import api_id
from tests.concurrency import run_together
from tests.factories import ApiTokenFactory, LeadFactory, ManagerFactory, TenantFactory

THREADS = 20




def assert_one_conversion(lead: Lead) -> None:
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert Contact.objects.count() == 1
    assert Company.objects.count() == 1
    assert Deal.objects.count() <= 1
    assert Event.objects.filter(type=EventType.LEAD_CONVERTED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_converting_one_lead_make_one_contact():
    tenant = TenantFactory()
    lead = LeadFactory(tenant=tenant, email="race@contested.example", company="Contested Inc")

    results = run_together(lambda i: Lead.objects.convert(lead=Lead(pk=lead.pk)))

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{connection.vendor}: {errors[:3]}"
    assert len({r.contact_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert_one_conversion(lead)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_http_conversions_name_the_same_contact(live_server):
    tenant = TenantFactory()
    token = ApiTokenFactory(user=ManagerFactory(tenant=tenant))
    lead = LeadFactory(tenant=tenant, email="http-race@contested.example", company="Contested Inc")
    url = f"{live_server.url}/api/v1/leads/{api_id(lead)}/convert"

    def post(i):
        request = urllib.request.Request(
            url, data=b"{}", method="POST",
            headers={"Authorization": f"Bearer {token.secret}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())

    results = run_together(post)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{connection.vendor}: {errors[:3]}"
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert len({body["contact_id"] for _, body in results}) == 1
    assert len({json.dumps(body, sort_keys=True) for _, body in results}) == 1, "every answer is the same result"
    assert_one_conversion(lead)
