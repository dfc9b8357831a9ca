"""Follow-up tasks a day and a week after capture while nobody got in touch; speed-to-lead alerts; nurture
routing of low-scoring leads."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from crm.choices import ActivityKind
from crm.models import Activity
from leads.choices import LeadStatus, ScoreBand
from leads.models import Enrolment, Lead, NurturePolicy
from leads.nurture import follow_ups
from leads.nurture_models import ExitReason, NurtureStatus
from tests.factories import LeadFactory

from .support import three_step_sequence

pytestmark = pytest.mark.django_db


def tasks_of(lead):
    return list(Activity.objects.filter(lead=lead, kind=ActivityKind.TASK).order_by("id")
                .values_list("subject", "done_at"))


def test_an_uncontacted_lead_gets_a_first_and_a_second_follow_up(tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep, created_at=timezone.now())
    assert follow_ups.create_follow_ups() == 0
    day = timezone.now() + dt.timedelta(days=1, minutes=1)
    assert follow_ups.create_follow_ups(now=day) == 1
    assert follow_ups.create_follow_ups(now=day) == 0  # once
    week = timezone.now() + dt.timedelta(days=7, minutes=1)
    follow_ups.create_follow_ups(now=week)
    assert [subject for subject, _ in tasks_of(lead)] == ["First follow-up", "Second follow-up"]
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.TASK, actor=rep).count() == 2


def test_follow_up_tasks_close_themselves_once_the_lead_is_contacted(tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep, created_at=timezone.now() - dt.timedelta(days=2))
    follow_ups.create_follow_ups()
    assert tasks_of(lead)[0][1] is None
    Activity.objects.create(tenant=tenant, lead=lead, kind=ActivityKind.CALL, actor=rep, body="Reached them")
    assert follow_ups.close_follow_ups() == 1
    assert tasks_of(lead)[0][1] is not None
    # and a contacted lead gets no second one
    assert follow_ups.create_follow_ups(now=timezone.now() + dt.timedelta(days=6)) == 0


def test_a_hot_lead_untouched_too_long_alerts_the_managers_once(tenant, manager, django_capture_on_commit_callbacks):
    NurturePolicy.objects.create(tenant=tenant, speed_to_lead_minutes=15)
    LeadFactory(tenant=tenant, score_band=ScoreBand.HOT, created_at=timezone.now() - dt.timedelta(minutes=5))
    late = LeadFactory(tenant=tenant, score_band=ScoreBand.HOT, created_at=timezone.now() - dt.timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert follow_ups.alert_speed_to_lead() == 1
        assert follow_ups.alert_speed_to_lead() == 0
    (alert,) = mail.outbox
    assert alert.to == [manager.email] and late.email in alert.body


def test_a_low_scoring_web_lead_goes_to_nurture_instead_of_a_rep_and_to_a_rep_when_hot(
        tenant, rep, channel, anon_api, sweep):
    sequence = three_step_sequence(tenant)
    NurturePolicy.objects.create(tenant=tenant, nurture_below_score=40, routing_sequence=sequence)
    response = anon_api.post("/api/v1/leads", {"email": "cold@x.example"}, format="json",
                             HTTP_X_FORM_KEY=channel.form_key)
    assert response.status_code == 201
    lead = Lead.objects.get(email="cold@x.example")
    assert lead.owner is None and lead.nurture_status == NurtureStatus.ACTIVE and lead.current_sequence == sequence

    Lead.objects.filter(pk=lead.pk).update(score_band=ScoreBand.HOT, score_total=85)
    sweep()
    lead.refresh_from_db()
    assert lead.owner == rep and lead.nurture_status == NurtureStatus.EXITED
    assert Enrolment.objects.get(lead=lead).exit_reason == ExitReason.GREW_HOT


def test_without_a_nurture_policy_a_new_lead_goes_to_a_rep(tenant, rep, channel, anon_api):
    anon_api.post("/api/v1/leads", {"email": "warm@x.example"}, format="json", HTTP_X_FORM_KEY=channel.form_key)
    lead = Lead.objects.get(email="warm@x.example")
    assert lead.owner == rep and lead.nurture_status == NurtureStatus.NOT_ENROLLED
    assert lead.status == LeadStatus.NEW
