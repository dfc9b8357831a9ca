"""Twenty simultaneous requests with one Idempotency-Key make one lead, on PostgreSQL and on SQLite.

Real transactions and threads (each thread its own connection), hence `transactional_db`.
The lead is phone-only on purpose: with no email there is no open-lead merge to hide a
duplicate, so only the key stands between twenty requests and twenty leads.
"""

import json
import urllib.error
import urllib.request

import pytest
from django.db import connection

from crm.models import Event
from leads.capture import idempotency
from leads.capture.service import capture_lead
from leads.choices import LeadSource
from leads.models import IdempotencyRecord, Lead
from tests.api_ids import api_id
from tests.concurrency import run_together
from tests.factories import ApiTokenFactory, ChannelFactory, ManagerFactory, TenantFactory

THREADS = 20
BODY = {"phone": "+14155550199", "first_name": "Racy"}




def http_post(url: str, headers: dict) -> tuple[int, dict, bool]:
    request = urllib.request.Request(
        url, data=json.dumps(BODY).encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), response.headers.get("Idempotent-Replayed") == "true"
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), False


def assert_one_lead() -> None:
    assert Lead.objects.count() == 1
    assert Event.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_with_one_key_capture_one_lead():
    tenant = TenantFactory()
    channel = ChannelFactory(tenant=tenant)

    def work():
        result = capture_lead(tenant=tenant, data=dict(BODY), source=LeadSource.WEBSITE_FORM, channel=channel)
        return 201, {"lead_id": result.lead.pk}

    results = run_together(lambda i: idempotency.run_once(
        tenant=tenant, scope=f"channel:{channel.pk}", key="race", body_hash=idempotency.request_hash(BODY), work=work,
    ))

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{connection.vendor}: {errors[:3]}"
    assert sum(not r.replayed for r in results) == 1
    assert {json.dumps(r.body) for r in results} == {json.dumps({"lead_id": Lead.objects.get().pk})}
    assert_one_lead()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_form_posts_with_one_key_make_one_lead(live_server):
    channel = ChannelFactory(tenant=TenantFactory(), rate_limit_per_hour=1000)
    headers = {"X-Form-Key": channel.form_key, "Idempotency-Key": "form-race"}

    results = run_together(lambda i: http_post(f"{live_server.url}/api/v1/leads", headers))

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{connection.vendor}: {errors[:3]}"
    assert sorted(code for code, _, _ in results) == [201] * THREADS
    assert sum(not replayed for _, _, replayed in results) == 1
    assert_one_lead()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_integrator_posts_with_one_key_get_the_same_lead(live_server):
    tenant = TenantFactory()
    token = ApiTokenFactory(user=ManagerFactory(tenant=tenant))
    headers = {"Authorization": f"Bearer {token.secret}", "Idempotency-Key": "api-race"}

    results = run_together(lambda i: http_post(f"{live_server.url}/api/v1/leads", headers))

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{connection.vendor}: {errors[:3]}"
    assert {code for code, _, _ in results} == {201}
    assert len({json.dumps(body, sort_keys=True) for _, body, _ in results}) == 1, "every answer is the first one"
    assert results[0][1]["id"] == api_id(Lead.objects.get())
    assert_one_lead()
