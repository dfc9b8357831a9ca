"""The "new lead for you" email goes out from the engine after the assignment commits."""

import pytest
from django.core import mail

from crm.celery import app as celery_app
from leads.assignment import OWNER_NOTE_TASK, assign_lead
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(tenant):
    return UserFactory(tenant=tenant, username="ann", email="ann@example.com")


@pytest.fixture
def bob(tenant):
    return UserFactory(tenant=tenant, username="bob", email="bob@example.com")


def test_a_lead_reassigned_before_the_note_went_out_emails_only_its_current_owner(
    tenant, manager, ann, bob, django_capture_on_commit_callbacks
):
    lead = LeadFactory(tenant=tenant)
    with django_capture_on_commit_callbacks() as queued:
        assign_lead(lead=lead, owner=ann, actor=manager, reason="by hand")
        assign_lead(lead=lead, owner=bob, actor=manager, reason="ann is away")
    for callback in queued:  # the worker gets to the notes after both commits
        callback()
    assert [m.to for m in mail.outbox] == [[bob.email]]


def test_without_a_broker_the_note_is_sent_at_once(tenant, manager, ann, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr(celery_app.tasks[OWNER_NOTE_TASK], "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        assign_lead(lead=LeadFactory(tenant=tenant), owner=ann, actor=manager, reason="by hand")
    assert [m.to for m in mail.outbox] == [[ann.email]]
