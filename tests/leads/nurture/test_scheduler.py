"""Nurture sequences run by the scheduler: emails on schedule, once each, until the end or an exit."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.choices import ActivityKind
from crm.models import Activity
from leads.choices import LeadStatus, ScoreBand
from leads.models import Enrolment, Lead, NurturePolicy, SequenceStep, StepRun
from leads.nurture import scheduler, service
from leads.nurture_models import ExitReason, NurtureStatus, StepKind, StepOutcome, check_step_settings
from tests.factories import LeadFactory, UserFactory

from .support import three_step_sequence

pytestmark = pytest.mark.django_db


@pytest.fixture
def sequence(tenant):
    return three_step_sequence(tenant)


@pytest.fixture
def lead(tenant, rep):
    return LeadFactory(tenant=tenant, owner=rep, first_name="Ada", company="Lovelace Ltd", email="ada@example.com")


def later(**kwargs):
    return timezone.now() + dt.timedelta(**kwargs)


def test_a_three_step_sequence_sends_on_schedule_then_completes(tenant, sequence, lead, run):
    NurturePolicy.objects.create(tenant=tenant, sender_email="hello@acme.example", sender_name="Acme")
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)

    run()
    assert len(mail.outbox) == 1
    first = mail.outbox[0]
    assert first.subject == "Hello Ada"
    assert "Hi Ada at Lovelace Ltd" in first.body and "Rita, Acme Sales" in first.body
    assert first.from_email == "Acme <hello@acme.example>" and first.to == ["ada@example.com"]
    assert re.fullmatch(r"<http://localhost:8000/n/u/[^>]+>", first.extra_headers["List-Unsubscribe"])
    assert first.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.ACTIVE and lead.current_sequence == sequence
    assert later(days=1, hours=23) < lead.next_nurture_step_on <= later(days=2)

    run()  # nothing due yet
    run(now=later(days=1))
    assert len(mail.outbox) == 1

    run(now=later(days=2, minutes=1))
    assert [m.subject for m in mail.outbox] == ["Hello Ada", "Still interested, Ada?"]
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.COMPLETED and lead.next_nurture_step_on is None
    assert list(StepRun.objects.values_list("outcome", flat=True)) == ["sent", "waited", "sent"]
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.EMAIL).count() == 2


def test_after_downtime_each_step_runs_once_and_nothing_is_sent_twice(sequence, lead, run):
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    # The engine was down for a month: the first pass sends the overdue first email, then waits its two days.
    run(now=later(days=30))
    run(now=later(days=30))
    assert len(mail.outbox) == 1
    run(now=later(days=33))
    run(now=later(days=60))
    assert len(mail.outbox) == 2
    assert StepRun.objects.count() == 3


def test_a_worker_dying_mid_step_leaves_nothing_behind_and_the_step_runs_once_later(sequence, lead, run, monkeypatch):
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    real_bulk_create = Activity.objects.bulk_create

    def die(*args, **kwargs):  # after the step's log row is written, before the batch commits
        raise SystemExit("worker killed")

    monkeypatch.setattr(Activity.objects, "bulk_create", die)
    with pytest.raises(SystemExit):
        run()
    assert mail.outbox == [] and not StepRun.objects.exists()  # the step's transaction rolled back whole

    monkeypatch.setattr(Activity.objects, "bulk_create", real_bulk_create)
    run()
    run()
    assert len(mail.outbox) == 1
    assert StepRun.objects.filter(step__position=1).count() == 1


def test_a_step_that_ran_never_runs_again_even_if_the_lead_is_due_again(sequence, lead, run):
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    run()
    enrolment = Enrolment.objects.get(lead=lead)
    # A stale position (e.g. a crashed worker's view): the log's unique row stops the email going twice.
    Enrolment.objects.filter(pk=enrolment.pk).update(next_position=0)
    Lead.objects.filter(pk=lead.pk).update(next_nurture_step_on=timezone.now())
    run()
    assert len(mail.outbox) == 1
    assert StepRun.objects.filter(step__position=1).count() == 1


def test_unsubscribed_or_unconsented_leads_get_no_email(tenant, sequence, lead, run):
    NurturePolicy.objects.create(tenant=tenant, requires_marketing_consent=True)
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    run()
    assert mail.outbox == []
    assert StepRun.objects.get(step__position=1).outcome == StepOutcome.SKIPPED


@pytest.mark.parametrize("required", [True, False])
def test_consent_decides_who_gets_nurture_email(tenant, sequence, rep, run, required):
    # Issue 17's marketing consent: "given" is the only yes; a withdrawal is a no even where consent is not required.
    NurturePolicy.objects.create(tenant=tenant, requires_marketing_consent=required)
    given = LeadFactory(tenant=tenant, owner=rep, email="yes@example.com", marketing_consent="given")
    withdrawn = LeadFactory(tenant=tenant, owner=rep, email="no@example.com", marketing_consent="withdrawn")
    never_asked = LeadFactory(tenant=tenant, owner=rep, email="unasked@example.com", marketing_consent="")
    for lead in (given, withdrawn, never_asked):
        service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    run()
    expected = ["yes@example.com"] if required else ["unasked@example.com", "yes@example.com"]
    assert sorted(address for message in mail.outbox for address in message.to) == expected


def test_a_call_logged_on_the_lead_ends_its_sequence_as_replied(sequence, lead, rep, run):
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    run()
    Activity.objects.create(tenant=lead.tenant, lead=lead, kind=ActivityKind.CALL, actor=rep, body="Called back")
    run(now=later(days=3))
    assert len(mail.outbox) == 1
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.EXITED
    assert Enrolment.objects.get(lead=lead).exit_reason == ExitReason.REPLIED


def test_the_sweep_takes_converted_disqualified_and_hot_leads_out(tenant, sequence, rep, run, sweep):
    disqualified = LeadFactory(tenant=tenant)
    hot_unowned = LeadFactory(tenant=tenant)
    hot_owned = LeadFactory(tenant=tenant, owner=rep)
    for lead in (disqualified, hot_unowned, hot_owned):
        service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    Lead.objects.filter(pk=disqualified.pk).update(status=LeadStatus.DISQUALIFIED, disqualification_reason="No budget")
    Lead.objects.filter(pk__in=[hot_unowned.pk, hot_owned.pk]).update(score_band=ScoreBand.HOT)

    assert sweep() == 3
    reasons = dict(Enrolment.objects.values_list("lead_id", "exit_reason"))
    assert reasons == {disqualified.pk: "disqualified", hot_unowned.pk: "grew_hot", hot_owned.pk: "grew_hot"}
    hot_unowned.refresh_from_db()
    assert hot_unowned.owner == rep  # routed to a rep
    assert any("grew hot" in m.body for m in mail.outbox if m.to == [rep.email])
    run()
    assert not [m for m in mail.outbox if m.subject.startswith("Hello")]


def test_pause_holds_the_lead_and_resume_goes_on(sequence, lead, manager, run):
    service.enrol_lead(lead=lead, sequence=sequence, actor=manager)
    service.pause_nurture(lead=lead, actor=manager)
    run()
    assert mail.outbox == []
    service.resume_nurture(lead=lead, actor=manager)
    run()
    assert len(mail.outbox) == 1
    with pytest.raises(ValidationError) as refused:
        service.resume_nurture(lead=lead, actor=manager)
    assert "nurture_status" in refused.value.message_dict


def test_task_notify_and_set_field_steps(tenant, lead, rep, run):
    sequence = three_step_sequence(tenant, name="Mixed")
    SequenceStep.objects.filter(sequence=sequence).delete()
    SequenceStep.objects.create(sequence=sequence, position=1, kind=StepKind.TASK,
                                settings={"subject": "Call Ada", "due_in_days": 1})
    SequenceStep.objects.create(sequence=sequence, position=2, kind=StepKind.NOTIFY,
                                settings={"message": "{{ lead.name }} finished the nurture emails"})
    SequenceStep.objects.create(sequence=sequence, position=3, kind=StepKind.SET_FIELD,
                                settings={"field": "priority", "value": "high"})
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    run()
    lead.refresh_from_db()
    assert lead.priority == "high" and lead.nurture_status == NurtureStatus.COMPLETED
    task = Activity.objects.get(lead=lead, kind=ActivityKind.TASK)
    assert task.subject == "Call Ada" and task.actor == rep and task.due_at > timezone.now()
    assert [m.to for m in mail.outbox] == [[rep.email]]


def test_enrolling_refuses_closed_leads_and_other_workspaces_sequences(tenant, other_tenant, sequence):
    closed = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="Spam")
    with pytest.raises(ValidationError) as refused:
        service.enrol_lead(lead=closed, sequence=sequence, actor=None)
    assert "lead" in refused.value.message_dict
    stranger = LeadFactory(tenant=other_tenant)
    with pytest.raises(ValidationError) as refused:
        service.enrol_lead(lead=stranger, sequence=sequence, actor=None)
    assert "sequence" in refused.value.message_dict


@pytest.mark.parametrize("kind, settings_, message", [
    ("wait", {}, "at least a minute"),
    ("wait", {"days": -1}, "'days' must be a whole number"),
    ("email", {"subject": "Hi {% if %}", "body": "x"}, "not a valid template"),
    ("email", {"subject": "Hi"}, "'body' is required"),
    ("set_field", {"field": "owner", "value": "x"}, "'field' is one of"),
    ("notify", {"message": "x", "extra": 1}, "Unknown settings"),
])
def test_step_settings_are_checked_per_kind(kind, settings_, message):
    with pytest.raises(ValidationError) as refused:
        check_step_settings(kind, settings_)
    assert message in " ".join(refused.value.message_dict["settings"])


def test_working_day_waits_skip_the_weekend():
    friday = dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC)
    assert scheduler.wait_until(friday, {"days": 1, "working_days": True}).weekday() == 0
    assert scheduler.wait_until(friday, {"days": 1}).weekday() == 5


def test_a_user_outside_the_leads_ownership_may_not_enrol_it(tenant, sequence, lead):
    other_rep = UserFactory(tenant=tenant, username="otto")
    from crm.access import AccessDenied
    with pytest.raises(AccessDenied):
        service.enrol_lead(lead=lead, sequence=sequence, actor=other_rep)
