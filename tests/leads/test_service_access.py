"""Every service entry point asks crm.access about its actor, so whichever door calls it inherits the policy.

No actor (the system: capture by a form, routing on arrival, an import) is not checked.
"""

import pytest

from contacts.deals import change_stage
from crm.access import AccessDenied
from crm.choices import ActivityKind
from crm.models import Activity, Event
from leads.activities import edit_activity, log_activity
from leads.assignment import assign_lead
from leads.editing import update_lead
from leads.lifecycle import change_status
from leads.models import Lead
from leads.qualification import qualify_lead
from tests.factories import ActivityFactory, DealFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

BANT = {name: {"met": True, "detail": ""} for name in ("budget", "authority", "need", "timeline")}

CALLS = {
    "update_lead": lambda lead, actor: update_lead(lead=lead, changes={"job_title": "CFO"}, actor=actor),
    "change_status": lambda lead, actor: change_status(lead=lead, status="contacted", actor=actor),
    "assign_lead to themselves": lambda lead, actor: assign_lead(lead=lead, owner=actor, actor=actor, reason="mine"),
    "qualify_lead": lambda lead, actor: qualify_lead(lead=lead, answers=BANT, actor=actor),
    "log_activity": lambda lead, actor: log_activity(tenant=lead.tenant, kind="note", actor=actor, lead=lead),
    "convert": lambda lead, actor: Lead.objects.convert(lead=lead, actor=actor),
}


@pytest.fixture
def colleague(tenant):
    return UserFactory(tenant=tenant, username="carl")


@pytest.mark.parametrize("call", CALLS)
def test_a_rep_cannot_work_a_colleagues_lead_through_any_entry_point(tenant, rep, colleague, call):
    lead = LeadFactory(tenant=tenant, owner=colleague, job_title="")

    with pytest.raises(AccessDenied):
        CALLS[call](lead, rep)

    lead.refresh_from_db()
    assert (lead.status, lead.owner, lead.job_title, lead.qualification) == ("new", colleague, "", {})
    assert not Activity.objects.exists() and not Event.objects.exists()


@pytest.mark.parametrize("call", CALLS)
def test_the_system_and_managers_work_any_lead(tenant, manager, colleague, call):
    for actor in (None, manager):
        CALLS[call](LeadFactory(tenant=tenant, owner=colleague), actor if call != "assign_lead to themselves" else None)


def test_reps_assign_to_themselves_only_whatever_the_door(tenant, rep, manager, colleague):
    lead = LeadFactory(tenant=tenant, owner=None)

    with pytest.raises(AccessDenied, match="Reps assign leads to themselves only"):
        assign_lead(lead=lead, owner=colleague, actor=rep, reason="yours")

    lead.refresh_from_db()
    assert lead.owner is None
    assert assign_lead(lead=lead, owner=colleague, actor=manager, reason="yours").owner == colleague


def test_a_rep_cannot_move_a_colleagues_deal(tenant, rep, colleague):
    deal = DealFactory(tenant=tenant, owner=colleague, stage="negotiation")

    with pytest.raises(AccessDenied):
        change_stage(deal=deal, stage="closed_won", actor=rep)

    deal.refresh_from_db()
    assert deal.stage == "negotiation" and not Activity.objects.exists()


def test_an_entry_is_edited_by_its_author_and_moved_only_onto_rows_they_may_change(tenant, rep, colleague):
    own_lead, carls_lead = LeadFactory(tenant=tenant, owner=rep), LeadFactory(tenant=tenant, owner=colleague)
    mine = ActivityFactory(lead=own_lead, actor=rep, body="mine")
    carls = ActivityFactory(lead=own_lead, actor=colleague, body="carl's")
    system = ActivityFactory(lead=own_lead, actor=rep, kind=ActivityKind.STATUS_CHANGED)

    with pytest.raises(AccessDenied, match="logged themselves"):
        edit_activity(activity=carls, changes={"body": "x"}, actor=rep)
    with pytest.raises(AccessDenied, match="No such lead in your workspace"):
        edit_activity(activity=mine, changes={"lead": carls_lead}, actor=rep)
    with pytest.raises(AccessDenied, match="cannot be edited"):
        edit_activity(activity=system, changes={"body": "x"}, actor=rep)
    assert edit_activity(activity=mine, changes={"body": "edited"}, actor=rep).body == "edited"

    assert [(a.lead_id, a.body) for a in Activity.objects.filter(pk__in=[mine.pk, carls.pk]).order_by("pk")] == [
        (own_lead.pk, "edited"), (own_lead.pk, "carl's")
    ]
