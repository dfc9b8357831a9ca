"""BANT qualification (leads.qualification.qualify_lead): outcomes, the discovery-call task, the answers kept."""

import datetime as dt

import pytest
from django.test import override_settings

from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.choices import LeadStatus
from leads.lifecycle import TransitionError
from leads.qualification import DISCOVERY_CALL_SUBJECT, next_working_day_at, qualify_lead
from tests.api_ids import api_id
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
FRIDAY = dt.datetime(2025, 1, 3, 16, 30, tzinfo=UTC)  # Friday 3 January 2025
MONDAY_9 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def bant(*unmet: str, detail: str = "") -> dict:
    return {name: {"met": name not in unmet, "detail": detail} for name in ("budget", "authority", "need", "timeline")}


def tasks(lead):
    return Activity.objects.filter(lead=lead, kind=ActivityKind.TASK)


# --- next working day ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, due",
    [
        (dt.datetime(2025, 1, 6, 8, 0, tzinfo=UTC), dt.datetime(2025, 1, 7, 9, 0, tzinfo=UTC)),  # Mon -> Tue
        (dt.datetime(2025, 1, 9, 23, 59, tzinfo=UTC), dt.datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),  # Thu -> Fri
        (FRIDAY, MONDAY_9),  # Fri -> Mon
        (dt.datetime(2025, 1, 4, 10, 0, tzinfo=UTC), MONDAY_9),  # Sat -> Mon
        (dt.datetime(2025, 1, 5, 10, 0, tzinfo=UTC), MONDAY_9),  # Sun -> Mon
    ],
)
def test_the_next_working_day_skips_the_weekend(now, due):
    assert next_working_day_at(now) == due


def test_the_hour_and_time_zone_come_from_settings():
    # 23:30 UTC on Thursday is already Friday in Berlin: the next working day there is Monday.
    thursday_night = dt.datetime(2025, 1, 9, 23, 30, tzinfo=UTC)
    with override_settings(DISCOVERY_CALL_TIME_ZONE="Europe/Berlin", DISCOVERY_CALL_HOUR=10):
        due = next_working_day_at(thursday_night)
    assert due == dt.datetime(2025, 1, 13, 9, 0, tzinfo=UTC)  # 10:00 in Berlin (CET = UTC+1)


# --- outcomes ------------------------------------------------------------------------------


def test_all_four_met_qualifies_and_the_owner_gets_a_discovery_call_task(tenant, rep, manager):
    lead = LeadFactory(tenant=tenant, owner=rep, status=LeadStatus.CONTACTED)

    result = qualify_lead(lead=lead, answers=bant(detail="ok"), actor=manager, notes="Great call", now=FRIDAY)

    lead.refresh_from_db()
    assert (result.outcome, result.unmet) == ("qualified", [])
    assert lead.status == LeadStatus.QUALIFIED and lead.qualified_at is not None
    task = tasks(lead).get()
    assert task == result.task
    assert task.subject == DISCOVERY_CALL_SUBJECT
    assert task.due_at == MONDAY_9, "qualified on a Friday: due Monday 09:00"
    assert task.done_at is None
    assert task.actor == rep, "the task is the owner's"
    assert task.data["assignee_id"] == api_id(rep) and task.data["created_by_id"] == api_id(manager)
    change = Activity.objects.get(lead=lead, kind=ActivityKind.STATUS_CHANGED)
    assert change.actor == manager and change.data == {"from": "contacted", "to": "qualified"}
    assert "Budget: met (ok)" in change.body and "Great call" in change.body


def test_an_unowned_lead_gives_the_task_to_whoever_qualified_it(tenant, manager):
    lead = LeadFactory(tenant=tenant, owner=None)

    qualify_lead(lead=lead, answers=bant(), actor=manager, now=FRIDAY)

    task = tasks(lead).get()
    assert task.actor == manager and task.data["assignee_id"] == api_id(manager)


def test_unmet_criteria_disqualify_with_a_reason_naming_them(tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep)

    result = qualify_lead(lead=lead, answers=bant("timeline", "budget"), actor=rep, now=FRIDAY)

    lead.refresh_from_db()
    assert result.outcome == "disqualified" and result.unmet == ["budget", "timeline"]
    assert lead.status == LeadStatus.DISQUALIFIED
    assert lead.disqualification_reason == "BANT not met: budget, timeline"
    assert not tasks(lead).exists()
    event = Event.objects.get(type=EventType.LEAD_STATUS_CHANGED)
    assert event.payload["reason"] == "BANT not met: budget, timeline"


def test_keep_open_leaves_the_status_and_notes_the_unmet_criteria(tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep, status=LeadStatus.CONTACTED)

    result = qualify_lead(lead=lead, answers=bant("need"), actor=rep, keep_open=True, now=FRIDAY)

    lead.refresh_from_db()
    assert (result.outcome, result.unmet) == ("kept_open", ["need"])
    assert lead.status == LeadStatus.CONTACTED and lead.disqualification_reason == ""
    assert not Event.objects.filter(type=EventType.LEAD_STATUS_CHANGED).exists()
    note = Activity.objects.get(lead=lead, kind=ActivityKind.NOTE)
    assert note.subject == "BANT not met: need (kept open)" and note.actor == rep
    assert not tasks(lead).exists()


@pytest.mark.parametrize("unmet, keep_open", [((), False), (("authority",), False), (("need", "timeline"), True)])
def test_the_answers_are_kept_whatever_the_outcome(tenant, rep, unmet, keep_open):
    lead = LeadFactory(tenant=tenant, owner=rep)
    answers = bant(*unmet)
    answers["budget"]["detail"] = "  50k approved  "

    result = qualify_lead(lead=lead, answers=answers, actor=rep, notes="n", keep_open=keep_open, now=FRIDAY)

    lead.refresh_from_db()
    q = lead.qualification
    assert q == result.qualification
    assert q["answers"]["budget"] == {"met": "budget" not in unmet, "detail": "50k approved"}
    assert q["answers"]["need"]["met"] is ("need" not in unmet)
    assert q["unmet"] == list(unmet) and q["notes"] == "n" and q["outcome"] == result.outcome
    assert (q["answered_by"], q["answered_by_name"]) == (api_id(rep), str(rep))
    assert q["answered_at"] == FRIDAY.isoformat()
    updated = Event.objects.get(type=EventType.LEAD_UPDATED)
    assert updated.payload["fields"] == ["qualification"] and updated.payload["unmet"] == list(unmet)


def test_strict_pipeline_needs_a_contacted_lead_and_changes_nothing_when_refused(tenant, rep):
    tenant.strict_pipeline = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, owner=rep, status=LeadStatus.NEW)

    with pytest.raises(TransitionError, match="contacted"):
        qualify_lead(lead=lead, answers=bant(), actor=rep, now=FRIDAY)

    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.qualification == {}
    assert not Activity.objects.filter(lead=lead).exists() and not Event.objects.exists()

    lead.status = LeadStatus.CONTACTED
    lead.save()
    assert qualify_lead(lead=lead, answers=bant(), actor=rep, now=FRIDAY).outcome == "qualified"


def test_strict_pipeline_still_lets_a_new_lead_be_disqualified(tenant, rep):
    tenant.strict_pipeline = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, owner=rep)

    assert qualify_lead(lead=lead, answers=bant("budget"), actor=rep).outcome == "disqualified"


@pytest.mark.parametrize("status", [LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED])
def test_a_closed_lead_is_refused(tenant, rep, status):
    lead = LeadFactory(tenant=tenant, owner=rep)
    if status == LeadStatus.CONVERTED:
        from leads.models import Lead

        Lead.objects.convert(lead=lead)
    else:
        lead.status, lead.disqualification_reason = status, "Bought elsewhere"
        lead.save()

    with pytest.raises(TransitionError, match=status):
        qualify_lead(lead=lead, answers=bant(), actor=rep)


def test_answering_again_on_a_qualified_lead_updates_the_answers_without_a_second_task(tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep)
    qualify_lead(lead=lead, answers=bant(), actor=rep, now=FRIDAY)

    again = qualify_lead(lead=lead, answers=bant(detail="confirmed"), actor=rep, now=FRIDAY + dt.timedelta(days=3))

    assert again.outcome == "qualified" and again.task is None
    assert tasks(lead).count() == 1
    lead.refresh_from_db()
    assert lead.qualification["answers"]["need"]["detail"] == "confirmed"


def test_every_criterion_must_be_answered(tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep)
    answers = bant()
    del answers["timeline"]

    with pytest.raises(ValueError, match="timeline"):
        qualify_lead(lead=lead, answers=answers, actor=rep)
