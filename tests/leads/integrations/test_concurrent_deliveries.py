"""The same ad lead delivered several times at the same instant makes one lead (PostgreSQL and SQLite).

Platforms retry a webhook they think timed out, so duplicates arrive together, not only one after
another. Real transactions and threads (each thread its own connection), hence transactional_db.
"""

import pytest
from django.db import connection
from django.test import Client

from crm.choices import EventType
from crm.models import Event
from leads.choices import ChannelKind, LeadSource
from leads.integrations.service import facebook_lead_fetch
from leads.models import AdLead, Lead
from tests.concurrency import run_together
from tests.factories import ChannelFactory, TenantFactory
from tests.leads.integrations.conftest import APP_SECRET, GOOGLE_KEY, PAGE_TOKEN
from tests.leads.integrations.fake_graph import delivery
from tests.leads.integrations.test_facebook import post as post_to_facebook_hook
from tests.leads.integrations.test_google import body as google_body

THREADS = 8

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_google_lead_posted_eight_times_at_once_is_one_lead():
    channel = ChannelFactory(tenant=TenantFactory(), name="Google", kind=ChannelKind.GOOGLE_LEAD_FORM,
                             default_source=LeadSource.GOOGLE_LEAD_FORM, google_key=GOOGLE_KEY)

    def post(i):
        return Client().post(f"/hooks/google/{channel.form_key}", google_body("G-race"),
                             content_type="application/json").status_code

    statuses = run_together(post, n=THREADS)

    assert statuses == [200] * THREADS, f"{connection.vendor}: {statuses}"
    assert Lead.objects.count() == 1 and AdLead.objects.count() == 1
    assert Event.objects.filter(type=EventType.LEAD_CREATED).count() == 1


def test_one_facebook_lead_announced_and_fetched_eight_times_at_once_is_one_lead(graph):
    ChannelFactory(tenant=TenantFactory(), name="Page", kind=ChannelKind.FACEBOOK_LEAD_ADS,
                   default_source=LeadSource.FACEBOOK_LEAD_AD, page_id="1001", app_secret=APP_SECRET,
                   page_access_token=PAGE_TOKEN)
    graph.add_lead("L-race", {"full_name": "Rae Condition", "email": "rae@example.com"})
    raw = delivery({"leadgen_id": "L-race", "form_id": "F1"})

    # Every thread's webhook is accepted (the platform must not retry again) and fetches (the task runs eagerly).
    statuses = run_together(lambda i: post_to_facebook_hook(raw).status_code, n=THREADS)
    assert statuses == [200] * THREADS, f"{connection.vendor}: {statuses}"
    [ad_lead] = AdLead.objects.all()
    # And the worker's retries racing each other capture it once too.
    fetched = run_together(lambda i: facebook_lead_fetch(ad_lead_id=ad_lead.pk), n=THREADS)

    assert not [f for f in fetched if isinstance(f, Exception)], f"{connection.vendor}: {fetched}"
    assert Lead.objects.count() == 1
    assert Lead.objects.get().email == "rae@example.com"
    assert Event.objects.filter(type=EventType.LEAD_CREATED).count() == 1
