"""A nurture email that bounces (the provider's report, through django-anymail's tracking signal) ends the
lead's sequence with reason `bounced`."""

import base64

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail

from crm.choices import ActivityKind
from crm.models import Activity
from leads.models import Enrolment, StepRun
from leads.nurture import service
from leads.nurture_models import ExitReason, NurtureStatus, StepOutcome
from tests.factories import LeadFactory

from .support import three_step_sequence

pytestmark = pytest.mark.django_db


@pytest.fixture
def sequence(tenant):
    return three_step_sequence(tenant)


@pytest.fixture
def emailed(tenant, rep, sequence, run):
    """A lead in the sequence whose first nurture email went out."""
    lead = LeadFactory(tenant=tenant, owner=rep, first_name="Ada", email="ada@example.com")
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    run()
    (message,) = mail.outbox
    return lead, message


def report(event_type, *, metadata=None, recipient="ada@example.com", **more):
    event = AnymailTrackingEvent(event_type=event_type, recipient=recipient, metadata=metadata or {},
                                 message_id="esp-123", description="Mailbox does not exist", **more)
    tracking.send(sender=object, event=event, esp_name="Postmark")


def test_a_bounced_nurture_email_ends_the_sequence(emailed):
    lead, message = emailed
    assert set(message.metadata) == {"nurture_run", "nurture_lead"}  # what the provider echoes back
    report("bounced", metadata=message.metadata)
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.EXITED and lead.next_nurture_step_on is None
    assert Enrolment.objects.get(lead=lead).exit_reason == ExitReason.BOUNCED
    run = StepRun.objects.get(pk=int(message.metadata["nurture_run"]))
    assert run.outcome == StepOutcome.FAILED and "Mailbox does not exist" in run.detail
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.NOTE, subject="A nurture email bounced").count() == 1

    report("bounced", metadata=message.metadata)  # providers retry their webhooks: nothing changes twice
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.NOTE, subject="A nurture email bounced").count() == 1


def test_a_rejected_email_without_metadata_is_matched_by_its_recipient(emailed, tenant):
    lead, _ = emailed
    bystander = LeadFactory(tenant=tenant, email="other@example.com")
    report("rejected", recipient="ADA@example.com", reject_reason="bounced")
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.EXITED
    assert Enrolment.objects.get(lead=lead).exit_reason == ExitReason.BOUNCED
    bystander.refresh_from_db()
    assert bystander.nurture_status == NurtureStatus.NOT_ENROLLED


def test_other_events_and_reports_naming_another_lead_change_nothing(emailed, tenant):
    lead, message = emailed
    report("delivered", metadata=message.metadata)
    report("opened", metadata=message.metadata)
    other = LeadFactory(tenant=tenant, email="someone@example.com")
    report("bounced", metadata={"nurture_run": message.metadata["nurture_run"], "nurture_lead": str(other.public_id)})
    report("bounced", metadata={"nurture_run": "not a number", "nurture_lead": "x"}, recipient="nobody@example.com")
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.ACTIVE
    assert StepRun.objects.get(pk=int(message.metadata["nurture_run"])).outcome == StepOutcome.SENT


@pytest.mark.urls("tests.leads.nurture.anymail_urls")
def test_the_providers_bounce_webhook_ends_the_sequence(emailed, client, settings):
    """End to end: Postmark posts its bounce (with the metadata it was sent) to anymail's webhook."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    lead, message = emailed
    body = {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "Email": "ada@example.com",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "Description": "The server was unable to deliver",
            "Details": "smtp;550 5.1.1 The email account does not exist.", "BouncedAt": "2026-12-01T10:00:00Z",
            "Metadata": message.metadata, "Tag": "nurture"}
    refused = client.post("/anymail/postmark/tracking/", body, content_type="application/json")
    assert refused.status_code == 400  # anymail's basic auth: without the secret nothing happens
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.ACTIVE
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()
    response = client.post("/anymail/postmark/tracking/", body, content_type="application/json",
                           HTTP_AUTHORIZATION=auth)
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.EXITED
    assert Enrolment.objects.get(lead=lead).exit_reason == ExitReason.BOUNCED


def test_a_bounced_address_gets_no_more_nurture_email_until_it_is_corrected(emailed, sequence, run, rep):
    from leads.editing import update_lead

    lead, message = emailed
    report("bounced", metadata=message.metadata)
    lead.refresh_from_db()
    assert lead.email_bounced_at is not None  # shown on the lead page and in the API

    service.enrol_lead(lead=lead, sequence=sequence, actor=None)  # enrolled again, by hand or by a rule
    run()
    assert len(mail.outbox) == 1  # the address that bounced is not mailed again
    skipped = StepRun.objects.filter(lead=lead, outcome=StepOutcome.SKIPPED).get()
    assert "bounced" in skipped.detail

    lead = update_lead(lead=lead, changes={"email": "ada.lovelace@example.com"}, actor=rep)
    assert lead.email_bounced_at is None  # a corrected address may be tried
    service.enrol_lead(lead=lead, sequence=three_step_sequence(lead.tenant, name="Second try"), actor=None)
    run()
    assert [m.to for m in mail.outbox][1:] == [["ada.lovelace@example.com"]]


def test_a_late_bounce_for_an_address_since_corrected_does_not_mark_the_new_one(emailed, rep):
    from leads.editing import update_lead

    lead, message = emailed
    update_lead(lead=lead, changes={"email": "ada.lovelace@example.com"}, actor=rep)

    report("bounced", metadata=message.metadata)  # about ada@example.com, sent before the change

    lead.refresh_from_db()
    assert lead.email_bounced_at is None
