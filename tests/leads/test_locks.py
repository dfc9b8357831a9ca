"""The lock order of leads/locks.py, as the services follow it: the email's claim, then the rep's row.

The concurrency itself is exercised with real threads in tests/leads/capture/test_capture_concurrency.py;
these pin the order of the statements, so a change that takes a rep's row before the claim fails here
even when a race would not happen to show it.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.capture.service import capture_lead
from leads.choices import LeadSource
from leads.editing import update_lead
from leads.locks import email_claim_key
from tests.factories import LeadFactory, UserFactory


def test_the_claim_key_is_per_workspace_and_email():
    assert email_claim_key(tenant_id=1, email="a@x.example") == email_claim_key(tenant_id=1, email="a@x.example")
    assert email_claim_key(tenant_id=1, email="a@x.example") != email_claim_key(tenant_id=2, email="a@x.example")
    assert email_claim_key(tenant_id=1, email="a@x.example") != email_claim_key(tenant_id=1, email="b@x.example")
    assert -(2**63) <= email_claim_key(tenant_id=1, email="a@x.example") < 2**63


def positions(queries, *needles: str) -> list[int]:
    sqls = [q["sql"] for q in queries]
    return [next((i for i, sql in enumerate(sqls) if needle in sql), -1) for needle in needles]


@pytest.mark.postgres
def test_a_capture_claims_the_email_before_routing_locks_a_rep(tenant):
    UserFactory(tenant=tenant, username="ann")  # a rep: round robin is on

    with CaptureQueriesContext(connection) as queries:
        lead = capture_lead(tenant=tenant, data={"email": "new@x.example"}, source=LeadSource.API).lead

    claim, rep_lock = positions(queries.captured_queries, "pg_advisory_xact_lock", "FOR NO KEY UPDATE")
    assert lead.owner.username == "ann"
    assert 0 <= claim < rep_lock, "the email's claim comes first (leads/locks.py)"
    # FOR NO KEY UPDATE, not FOR UPDATE: the rep's row stays open to the foreign-key checks of rows that
    # point at them (their leads), which PostgreSQL makes at COMMIT.
    assert not any("FOR UPDATE" in q["sql"] and "crm_user" in q["sql"] for q in queries.captured_queries)


@pytest.mark.postgres
def test_changing_a_leads_email_claims_the_new_email_before_locking_the_lead(tenant, manager):
    lead = LeadFactory(tenant=tenant, email="old@x.example")

    with CaptureQueriesContext(connection) as queries:
        update_lead(lead=lead, changes={"email": "new@x.example"}, actor=manager)

    claim, lead_lock = positions(queries.captured_queries, "pg_advisory_xact_lock", "FOR UPDATE")
    assert 0 <= claim < lead_lock


@pytest.mark.postgres
def test_an_edit_that_keeps_the_email_claims_nothing(tenant, manager):
    lead = LeadFactory(tenant=tenant, email="same@x.example")

    with CaptureQueriesContext(connection) as queries:
        update_lead(lead=lead, changes={"email": "same@x.example", "job_title": "CTO"}, actor=manager)

    assert positions(queries.captured_queries, "pg_advisory_xact_lock") == [-1]
