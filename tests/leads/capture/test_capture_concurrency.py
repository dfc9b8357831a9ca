"""Twenty simultaneous submissions of one new email make one lead, with every submission on its timeline.

Real HTTP requests from real threads (each its own connection) against the live server, in a
workspace that routes by round robin, so every capture that creates the lead also locks a rep's
row: the open-email unique index and the rep rows are both contended (issue 12, item 1: this
deadlocked on PostgreSQL). On SQLite the IMMEDIATE transactions queue behind the busy timeout,
and no request may answer "database is locked". Runs on both databases.
"""

import json
import urllib.error
import urllib.request

import pytest
from django.db import connection

from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event, User
from leads.models import Lead
from leads.workspaces import create_tenant
from tests.api_ids import api_id
from tests.concurrency import run_together

THREADS = 20
ROUNDS = 5
SUBMISSION_KINDS = (ActivityKind.FORM_SUBMITTED, ActivityKind.CREATED)


def post(url: str, body: dict, headers: dict) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def workspace(transactional_db):
    setup = create_tenant(slug="busy-floor", admin_username="floor-admin", admin_password="floor-pass-2026-x")
    setup.channel.rate_limit_per_hour = 10_000
    setup.channel.save(update_fields=["rate_limit_per_hour"])
    for name in ("ann", "bob", "cid"):  # round robin is on: a capture that creates the lead locks a rep row
        User.objects.create_user(name, tenant=setup.tenant, role="rep", email=f"{name}@floor.example")
    return setup


@pytest.mark.parametrize("door", ["anonymous", "anonymous_with_keys", "signed_in"])
def test_twenty_concurrent_submissions_of_one_email_make_one_lead_and_log_each(live_server, workspace, door):
    if door.startswith("anonymous"):
        headers = {"X-Form-Key": workspace.form_key}
    else:
        headers = {"Authorization": f"Bearer {workspace.api_token}"}
    url = f"{live_server.url}/api/v1/leads"

    for round_ in range(ROUNDS):
        email = f"same-{door}-{round_}@rush.example"

        def submit(i: int, email: str = email) -> int:
            body = {"email": email, "first_name": "Rush", "message": f"submission {i}", "company": "Rush Ltd"}
            # embed.js sends a fresh Idempotency-Key per submission: its row is written before the email's claim.
            keyed = {"Idempotency-Key": f"{email}-{i}"} if door == "anonymous_with_keys" else {}
            return post(url, body, {**headers, **keyed})

        results = run_together(submit, n=THREADS)

        errors = [r for r in results if isinstance(r, Exception) or r not in (200, 201)]
        assert not errors, f"{connection.vendor}, round {round_}: {errors[:5]} of {results}"
        lead = Lead.objects.get(email=email)
        logged = Activity.objects.filter(lead=lead, kind__in=SUBMISSION_KINDS)
        assert sorted(logged.values_list("body", flat=True)) == sorted(f"submission {i}" for i in range(THREADS))
        assert Event.objects.filter(type=EventType.LEAD_CREATED, payload__lead_id=api_id(lead)).count() == 1
        assert Activity.objects.filter(lead=lead, kind=ActivityKind.ASSIGNED).count() == 1
    assert Lead.objects.count() == ROUNDS
