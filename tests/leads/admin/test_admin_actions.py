"""Every lead-list action: what it does, and when it refuses."""

import re

import pytest

from crm.choices import EventType
from crm.models import Activity, Event
from leads.choices import LeadStatus
from leads.models import Lead, ScoringRule
from tests.api_ids import api_id
from tests.factories import LeadFactory, UserFactory

LIST = "/admin/leads/lead/"


@pytest.fixture
def colleague(tenant):
    return UserFactory(tenant=tenant, username="carl", first_name="Carl", last_name="Colleague")


@pytest.fixture
def mine(tenant, rep):
    return LeadFactory(tenant=tenant, first_name="Mia", last_name="Mine", email="mia@x.example", owner=rep)


@pytest.fixture
def free(tenant):
    return LeadFactory(tenant=tenant, first_name="Fred", last_name="Free", email="fred@x.example", owner=None)


@pytest.fixture
def theirs(tenant, colleague):
    return LeadFactory(tenant=tenant, first_name="Tess", last_name="Theirs", email="tess@x.example", owner=colleague)


def act(client, action, *leads, follow=True, **fields):
    data = {"action": action, "_selected_action": [lead.pk for lead in leads], **fields}
    return client.post(LIST, data, follow=follow)


def refreshed(*leads):
    return [Lead.objects.get(pk=lead.pk) for lead in leads]


def test_the_action_menu_shows_what_the_role_may_do(client, rep, manager, mine):
    client.force_login(rep)
    rep_html = client.get(LIST).content.decode()
    client.force_login(manager)
    manager_html = client.get(LIST).content.decode()

    for action in ("assign_to_me", "change_lead_status", "disqualify_leads", "convert_leads", "rescore_selected"):
        assert f'<option value="{action}">' in rep_html and f'<option value="{action}">' in manager_html
    for action in ("assign_to_rep", "route_leads"):  # giving leads to others is a manager's call
        assert f'<option value="{action}">' not in rep_html
        assert f'<option value="{action}">' in manager_html


# --- assign to me ---


def test_assign_to_me_takes_unassigned_leads(client, rep, free):
    client.force_login(rep)

    response = act(client, "assign_to_me", free)

    assert "1 lead is now yours." in response.content.decode()
    (free,) = refreshed(free)
    assert free.owner == rep and free.assigned_at is not None
    assert Activity.objects.filter(lead=free, kind="assigned", actor=rep).exists()
    assert Event.objects.filter(type=EventType.LEAD_ASSIGNED, payload__lead_id=api_id(free)).exists()


def refused_as_outside_the_list(html: str) -> bool:
    # The rep is told why, without the colleague's lead being named (it is not theirs to see).
    return "Nothing was done: 1 of the selected leads is not in your list" in html and "Tess Theirs" not in html


def test_a_rep_cannot_take_a_colleagues_lead(client, rep, colleague, free, theirs):
    client.force_login(rep)

    response = act(client, "assign_to_me", free, theirs)

    assert response.status_code == 200 and refused_as_outside_the_list(response.content.decode())
    assert [lead.owner for lead in refreshed(free, theirs)] == [None, colleague]  # all or nothing
    assert not Activity.objects.filter(lead__in=[free, theirs]).exists()


def test_a_manager_takes_any_lead(client, manager, theirs):
    client.force_login(manager)

    act(client, "assign_to_me", theirs)

    assert refreshed(theirs)[0].owner == manager


# --- assign to a rep ---


def test_assign_to_a_rep_asks_whom_then_assigns(client, manager, rep, colleague, free, theirs, other_tenant):
    stranger = UserFactory(tenant=other_tenant, username="gus_globex")
    client.force_login(manager)

    page = act(client, "assign_to_rep", free, theirs, follow=False)

    html = page.content.decode()
    assert page.status_code == 200 and "Give the leads to" in html
    assert f'<option value="{rep.pk}">' in html and f'<option value="{colleague.pk}">' in html
    assert f'<option value="{stranger.pk}">' not in html  # another workspace's people are not offered
    assert all(lead.owner_id != rep.pk for lead in refreshed(free, theirs))  # nothing happens before the answer

    done = act(client, "assign_to_rep", free, theirs, apply="yes", owner=rep.pk)

    assert "Assigned 2 leads to" in done.content.decode()
    assert [lead.owner for lead in refreshed(free, theirs)] == [rep, rep]


def test_assign_to_a_rep_refuses_someone_of_another_workspace(client, manager, free, other_tenant):
    stranger = UserFactory(tenant=other_tenant, username="gus_globex")
    client.force_login(manager)

    response = act(client, "assign_to_rep", free, follow=False, apply="yes", owner=stranger.pk)

    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert refreshed(free)[0].owner is None


def test_a_rep_cannot_run_assign_to_a_rep(client, rep, colleague, free):
    client.force_login(rep)

    response = act(client, "assign_to_rep", free, apply="yes", owner=colleague.pk)

    assert refreshed(free)[0].owner is None
    assert "No action selected" in response.content.decode()


# --- change status ---


def test_change_status_moves_leads_forward(client, rep, mine, free):
    client.force_login(rep)

    page = act(client, "change_lead_status", mine, free, follow=False)
    assert page.status_code == 200 and 'name="status"' in page.content.decode()
    done = act(client, "change_lead_status", mine, free, apply="yes", status="contacted")

    assert "2 leads now contacted." in done.content.decode()
    assert {lead.status for lead in refreshed(mine, free)} == {LeadStatus.CONTACTED}
    assert Activity.objects.filter(kind="status_changed", actor=rep).count() == 2


def test_change_status_names_the_leads_the_lifecycle_refuses(client, rep, mine, free):
    Lead.objects.filter(pk=mine.pk).update(status=LeadStatus.QUALIFIED)
    client.force_login(rep)

    html = act(client, "change_lead_status", mine, free, apply="yes", status="contacted").content.decode()

    assert "1 lead now contacted." in html
    assert "Not changed" in html and "Mia Mine" in html and "cannot go back" in html
    assert [lead.status for lead in refreshed(mine, free)] == [LeadStatus.QUALIFIED, LeadStatus.CONTACTED]


def test_a_rep_cannot_change_a_colleagues_lead_status(client, rep, mine, theirs):
    client.force_login(rep)

    page = act(client, "change_lead_status", mine, theirs, follow=False)
    html = act(client, "change_lead_status", mine, theirs, apply="yes", status="contacted").content.decode()

    assert page.status_code == 302  # no question asked about a selection that is not the rep's
    assert refused_as_outside_the_list(html)
    assert {lead.status for lead in refreshed(mine, theirs)} == {LeadStatus.NEW}
    assert not Activity.objects.filter(lead__in=[mine, theirs]).exists()


# --- disqualify ---


def test_disqualify_asks_for_a_reason_and_refuses_without_one(client, rep, mine):
    client.force_login(rep)

    page = act(client, "disqualify_leads", mine, follow=False)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    refused = act(client, "disqualify_leads", mine, follow=False, apply="yes", reason="   ")

    html = refused.content.decode()
    assert refused.status_code == 200
    assert "Nothing was disqualified: give a reason." in html
    assert "a reason is required" in html
    assert refreshed(mine)[0].status == LeadStatus.NEW


def test_disqualify_with_a_reason_closes_the_leads(client, rep, mine, free):
    client.force_login(rep)

    html = act(client, "disqualify_leads", mine, free, apply="yes", reason="No budget this year").content.decode()

    assert "Disqualified 2 leads." in html
    for lead in refreshed(mine, free):
        assert (lead.status, lead.disqualification_reason) == (LeadStatus.DISQUALIFIED, "No budget this year")
    assert Event.objects.filter(type=EventType.LEAD_STATUS_CHANGED, payload__to="disqualified").count() == 2


def test_a_rep_cannot_disqualify_a_colleagues_lead(client, rep, mine, theirs):
    client.force_login(rep)

    html = act(client, "disqualify_leads", mine, theirs, apply="yes", reason="Not a fit").content.decode()

    assert refused_as_outside_the_list(html)
    assert [(lead.status, lead.disqualification_reason) for lead in refreshed(mine, theirs)] == [
        (LeadStatus.NEW, ""), (LeadStatus.NEW, "")
    ]


@pytest.mark.parametrize(
    ("action", "answer"),
    [
        ("assign_to_me", {}),
        ("change_lead_status", {"status": "contacted"}),
        ("disqualify_leads", {"reason": "Not a fit"}),
        ("convert_leads", {}),
        ("rescore_selected", {}),
        ("export_selected_csv", {}),
    ],
)
def test_no_action_runs_on_a_colleagues_lead_alone(client, rep, colleague, theirs, action, answer):
    before = Lead.objects.get(pk=theirs.pk)
    client.force_login(rep)

    response = act(client, action, theirs, apply="yes", **answer)

    html = response.content.decode()
    assert response.status_code == 200 and refused_as_outside_the_list(html)
    assert "tess@x.example" not in html
    after = Lead.objects.get(pk=theirs.pk)
    assert (after.status, after.owner, after.score_updated_at, after.updated_at) == (
        before.status, colleague, before.score_updated_at, before.updated_at
    )
    assert not Activity.objects.filter(lead=theirs).exists()


def test_an_id_that_is_no_lead_is_refused_not_a_crash(client, rep, mine):
    client.force_login(rep)

    response = client.post(
        LIST,
        {"action": "change_lead_status", "_selected_action": [mine.pk, "x1"], "apply": "yes", "status": "contacted"},
        follow=True,
    )

    assert response.status_code == 200 and "Nothing was done: 1 of the selected leads" in response.content.decode()
    assert refreshed(mine)[0].status == LeadStatus.NEW


def test_an_already_converted_lead_is_named_not_disqualified(client, manager, mine, free):
    client.force_login(manager)
    Lead.objects.convert(lead=mine, actor=manager)

    html = act(client, "disqualify_leads", mine, free, apply="yes", reason="Gone quiet").content.decode()

    assert "Disqualified 1 lead." in html and "Not disqualified" in html and "Mia Mine" in html
    assert [lead.status for lead in refreshed(mine, free)] == [LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED]


# --- rescore ---


def test_rescore_applies_the_current_rules(client, rep, tenant, mine):
    ScoringRule.objects.create(
        tenant=tenant, name="Sales leaders", category="demographic", field="job_title", operator="contains",
        value="sales", points=45,
    )
    Lead.objects.filter(pk=mine.pk).update(score_total=0, score_band="cold", score_factors=[])
    client.force_login(rep)

    html = act(client, "rescore_selected", mine).content.decode()

    assert "Rescored 1 lead: 1 changed band." in html
    (mine,) = refreshed(mine)
    assert mine.score_total == 45 and mine.score_band == "warm"
    assert [factor["name"] for factor in mine.score_factors] == ["Sales leaders"]


# --- selection across pages ---


def test_select_all_applies_to_every_matching_lead_through_the_page(client, manager, tenant):
    LeadFactory.create_batch(3, tenant=tenant, campaign="fair")
    other = LeadFactory(tenant=tenant, campaign="other")
    client.force_login(manager)
    selection = {"action": "change_lead_status", "select_across": "1", "_selected_action": [other.pk]}

    page = client.post(LIST + "?campaign=fair", selection)
    assert 'name="select_across" value="1"' in page.content.decode()
    client.post(LIST + "?campaign=fair", {**selection, "apply": "yes", "status": "contacted"})

    assert set(Lead.objects.filter(campaign="fair").values_list("status", flat=True)) == {"contacted"}
    assert Lead.objects.get(pk=other.pk).status == "new"


def test_a_long_selection_is_listed_in_part_and_counted(client, manager, tenant):
    LeadFactory.create_batch(53, tenant=tenant)
    client.force_login(manager)

    page = client.post(LIST, {"action": "change_lead_status", "select_across": "1", "_selected_action": ["1"]})

    selection = re.search(r'<ul class="crm-selection">(.*?)</ul>', page.content.decode(), re.S).group(1)
    assert selection.count("<li>") == 51  # 50 leads, then the rest counted
    assert "<li>and 3 more</li>" in selection


# --- one lead at a time ---


def test_a_status_change_one_lead_refuses_leaves_the_others_changed_and_says_why(client, manager, tenant):
    ahead = LeadFactory(tenant=tenant, first_name="Quinn", last_name="Qualified", status=LeadStatus.QUALIFIED)
    fresh = LeadFactory.create_batch(2, tenant=tenant, status=LeadStatus.NEW)
    client.force_login(manager)

    html = act(client, "change_lead_status", fresh[0], ahead, fresh[1], apply="yes", status="contacted").content.decode()

    assert "2 leads now contacted." in html
    assert f"Not changed: Quinn Qualified (#{ahead.pk}): Lead status moves forward" in html
    assert [lead.status for lead in refreshed(*fresh, ahead)] == ["contacted", "contacted", "qualified"]
    assert Event.objects.filter(type=EventType.LEAD_STATUS_CHANGED).count() == 2


def test_assigning_to_a_rep_names_the_closed_lead_and_assigns_the_others(client, manager, tenant, colleague):
    closed = LeadFactory(tenant=tenant, first_name="Dan", last_name="Done", status=LeadStatus.DISQUALIFIED,
                         disqualification_reason="No budget")
    open_ones = LeadFactory.create_batch(2, tenant=tenant, owner=None)
    client.force_login(manager)

    html = act(client, "assign_to_rep", open_ones[0], closed, open_ones[1], apply="yes",
               owner=colleague.pk).content.decode()

    assert "Assigned 2 leads to Carl Colleague." in html
    assert f"Not assigned: Dan Done (#{closed.pk}): Lead {closed.public_id} is disqualified" in html
    assert [lead.owner for lead in refreshed(*open_ones, closed)] == [colleague, colleague, None]
    assert Event.objects.filter(type=EventType.LEAD_ASSIGNED).count() == 2
