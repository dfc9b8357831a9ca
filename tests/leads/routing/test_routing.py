"""Routing new leads (leads.routing): rules by priority, team rotation, round robin, capacity, availability."""

import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.utils import timezone

from crm.choices import ActivityKind, EventType, Role
from crm.models import Activity, Event
from leads.assignment import AssignmentError
from leads.capture.service import capture_lead
from leads.choices import LeadSource, LeadStatus
from leads.models import AssignmentRule, Lead
from leads.routing import service as routing
from leads.routing.service import route_lead
from tests.api_ids import api_id
from tests.concurrency import run_together
from tests.factories import ChannelFactory, LeadFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


def person(tenant, name, *, open_leads=0, role=Role.REP, **fields):
    user = UserFactory(tenant=tenant, username=name, role=role, **fields)
    LeadFactory.create_batch(open_leads, tenant=tenant, owner=user)
    return user


def route(tenant, **fields):
    return route_lead(lead=LeadFactory(tenant=tenant, **fields))


def rule(tenant, name, *, priority=100, conditions=(), user=None, team=(), active=True):
    made = AssignmentRule.objects.create(
        tenant=tenant, name=name, priority=priority, conditions=list(conditions), target_user=user, active=active
    )
    made.target_team.set(team)
    return made


def owners_of(tenant, n, **fields) -> list[str]:
    return [route(tenant, **fields).owner.username for _ in range(n)]


GERMAN = {"field": "country", "operator": "equals", "value": "DE"}


# --- round robin ---------------------------------------------------------------------------


def test_round_robin_gives_the_lead_to_the_rep_with_fewest_open_leads(tenant):
    person(tenant, "ann", open_leads=3)
    bob = person(tenant, "bob", open_leads=1)
    person(tenant, "cat", open_leads=2)
    LeadFactory.create_batch(4, tenant=tenant, owner=bob, status=LeadStatus.DISQUALIFIED, disqualification_reason="x")

    result = route(tenant)

    assert result.owner == bob, "closed leads do not count"
    assert result.rule is None
    assert result.reason == "round robin: 1 open lead"
    result.lead.refresh_from_db()
    assert result.lead.owner == bob and result.lead.assigned_at is not None


def test_round_robin_ties_go_to_the_one_who_waited_longest(tenant):
    person(tenant, "ann", open_leads=2, last_assigned_at=ago(1))
    bob = person(tenant, "bob", open_leads=2, last_assigned_at=ago(5))
    person(tenant, "cat", open_leads=2, last_assigned_at=ago(3))

    result = route(tenant)

    assert result.owner == bob
    assert result.reason == "round robin: 2 open leads, longest wait"


def test_someone_never_routed_to_has_waited_longest(tenant):
    person(tenant, "ann", open_leads=2, last_assigned_at=ago(100))
    new = person(tenant, "newbie", open_leads=2, last_assigned_at=None)

    assert route(tenant).owner == new


def test_managers_and_admins_take_no_round_robin_leads(tenant):
    person(tenant, "boss", role=Role.MANAGER)
    person(tenant, "root", role=Role.ADMIN)
    rep = person(tenant, "rep", open_leads=9)

    assert route(tenant).owner == rep


def test_an_away_rep_gets_no_leads(tenant):
    person(tenant, "ann", is_available=False)
    bob = person(tenant, "bob", open_leads=5)

    assert owners_of(tenant, 3) == ["bob"] * 3
    assert bob.owned_leads.count() == 8


def test_nobody_gets_more_open_leads_than_their_capacity(tenant):
    ann = person(tenant, "ann", open_leads=2, lead_capacity=3)
    LeadFactory.create_batch(5, tenant=tenant, owner=ann, status=LeadStatus.DISQUALIFIED, disqualification_reason="x")
    person(tenant, "bob", open_leads=6)

    owners = owners_of(tenant, 4)

    assert owners.count("ann") == 1, owners
    assert Lead.objects.open().filter(owner=ann).count() == 3


def test_an_inactive_user_gets_no_leads(tenant):
    person(tenant, "gone", is_active=False)
    bob = person(tenant, "bob", open_leads=4)

    assert route(tenant).owner == bob


def test_the_chosen_reps_last_assigned_at_is_updated(tenant):
    ann = person(tenant, "ann", last_assigned_at=ago(48))

    result = route(tenant)

    ann.refresh_from_db()
    assert ann.last_assigned_at == result.lead.assigned_at
    assert timezone.now() - ann.last_assigned_at < dt.timedelta(minutes=1)


def test_a_rep_back_from_leave_is_not_flooded(tenant):
    for i, name in enumerate(["ann", "bob", "cat"]):
        person(tenant, name, open_leads=10, last_assigned_at=ago(i + 1))
    person(tenant, "rita", open_leads=0, last_assigned_at=ago(24 * 30))  # back from a month away

    owners = owners_of(tenant, 6)

    assert owners.count("rita") == 3, owners
    assert all(not (a == b == "rita") for a, b in zip(owners, owners[1:], strict=False)), f"two in a row: {owners}"
    # ...but she does catch up: over the next leads she keeps getting every other one.
    later = owners_of(tenant, 8)
    assert later.count("rita") == 4, later
    first = Activity.objects.filter(kind=ActivityKind.ASSIGNED, lead__owner__username="bob").first()
    assert "rita had the previous lead" in first.body


def test_the_rep_who_just_had_a_lead_sits_out_one_turn(tenant):
    ann = person(tenant, "ann", open_leads=0)
    bob = person(tenant, "bob", open_leads=3)

    assert [route(tenant).owner for _ in range(4)] == [ann, bob, ann, bob]


def test_a_single_available_rep_takes_every_lead(tenant):
    person(tenant, "solo")

    assert owners_of(tenant, 3) == ["solo"] * 3


# --- rules ---------------------------------------------------------------------------------


def test_the_first_matching_rule_by_priority_wins(tenant):
    late, early = person(tenant, "late"), person(tenant, "early")
    rule(tenant, "catch-all", priority=50, user=late)
    rule(tenant, "germany", priority=10, conditions=[GERMAN], user=early)

    german = route(tenant, country="DE")
    french = route(tenant, country="FR")

    assert (german.owner, german.reason, german.rule.name) == (early, 'rule "germany"', "germany")
    assert (french.owner, french.reason) == (late, 'rule "catch-all"')


def test_rules_of_equal_priority_run_in_creation_order(tenant):
    first, second = person(tenant, "first"), person(tenant, "second")
    rule(tenant, "one", priority=5, user=first)
    rule(tenant, "two", priority=5, user=second)

    assert route(tenant).owner == first


def test_all_conditions_must_hold(tenant):
    target = person(tenant, "target")
    rep = person(tenant, "rep", open_leads=20)
    rule(tenant, "german chat", conditions=[GERMAN, {"field": "source", "operator": "equals", "value": "chat"}],
         user=target)

    assert route(tenant, country="DE", source=LeadSource.CHAT).owner == target
    assert route(tenant, country="DE", source=LeadSource.API).owner == rep


def test_inactive_rules_and_other_tenants_rules_do_not_apply(tenant, other_tenant):
    rep = person(tenant, "rep", open_leads=5)
    rule(tenant, "off", user=person(tenant, "off-target", open_leads=6), active=False)
    rule(other_tenant, "theirs", user=person(other_tenant, "stranger"))

    result = route(tenant)

    assert (result.owner, result.rule) == (rep, None)


def test_a_team_rotates_fairly(tenant):
    team = [person(tenant, name) for name in ("ann", "bob", "cat")]
    person(tenant, "outsider")
    rule(tenant, "team", team=team)

    owners = owners_of(tenant, 6)

    assert owners == ["ann", "bob", "cat", "ann", "bob", "cat"]
    assert Activity.objects.filter(body__startswith='rule "team": team rotation, 0 open leads').count() == 3


def test_a_team_prefers_the_member_with_fewest_open_leads(tenant):
    busy = person(tenant, "busy", open_leads=4)
    calm = person(tenant, "calm", open_leads=1)
    rule(tenant, "team", team=[busy, calm])

    result = route(tenant)

    assert result.owner == calm
    assert result.reason == 'rule "team": team rotation, 1 open lead'


def test_a_team_may_include_a_manager(tenant):
    boss = person(tenant, "boss", role=Role.MANAGER)
    rule(tenant, "vip", team=[boss])

    assert route(tenant).owner == boss


def test_a_rule_whose_target_is_away_falls_through_to_the_next_rule(tenant):
    away = person(tenant, "away", is_available=False)
    backup = person(tenant, "backup")
    rule(tenant, "first", priority=1, user=away)
    rule(tenant, "second", priority=2, user=backup)

    result = route(tenant)

    assert result.owner == backup and result.rule.name == "second"
    assert result.reason == 'rule "second" (passed over: rule "first" (nobody available: 1 away))'


def test_a_full_team_falls_through_to_round_robin(tenant):
    team = [person(tenant, name, open_leads=2, lead_capacity=2) for name in ("ann", "bob")]
    rule(tenant, "full team", team=team)
    other = person(tenant, "other", open_leads=7)

    result = route(tenant)

    assert result.owner == other and result.rule is None
    assert result.reason == 'round robin: 7 open leads (passed over: rule "full team" (nobody available: 2 full))'


def test_a_target_from_another_tenant_is_never_given_a_lead(tenant, other_tenant):
    stranger = person(other_tenant, "stranger")
    rule(tenant, "bad data", user=stranger)
    rep = person(tenant, "rep")

    assert route(tenant).owner == rep


def test_a_rule_with_a_condition_that_cannot_be_evaluated_is_skipped(tenant):
    target = person(tenant, "target", open_leads=5)
    rep = person(tenant, "rep", open_leads=3)
    rule(tenant, "broken", priority=1, conditions=[{"field": "country", "operator": "no-such-op", "value": "x"}],
         user=target)

    assert route(tenant).owner == rep


# --- nobody available ----------------------------------------------------------------------


def test_with_nobody_available_the_lead_stays_unassigned_and_says_why(tenant, caplog):
    person(tenant, "ann", is_available=False)
    person(tenant, "bob", open_leads=1, lead_capacity=1)

    with caplog.at_level(logging.WARNING, logger="leads.routing.service"):
        result = route(tenant)

    assert result.owner is None
    result.lead.refresh_from_db()
    assert result.lead.owner is None
    note = Activity.objects.get(lead=result.lead)
    assert note.kind == ActivityKind.ASSIGNED and note.subject == "Not assigned: nobody available"
    assert note.body == "round robin: nobody available: 1 away, 1 full"
    assert not Event.objects.filter(type=EventType.LEAD_ASSIGNED).exists()
    assert "not assigned" in caplog.text


def test_a_workspace_without_reps_or_rules_does_not_route(tenant, manager):
    result = route(tenant)

    assert result.owner is None
    assert not Activity.objects.filter(lead=result.lead).exists()


def test_a_closed_lead_is_not_routed(tenant):
    person(tenant, "ann")
    lead = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="x")

    with pytest.raises(AssignmentError):
        route_lead(lead=lead)


# --- what an assignment writes ----------------------------------------------------------------


def test_the_assignment_writes_its_reason_an_event_and_emails_after_commit(
    tenant, django_capture_on_commit_callbacks
):
    ann = person(tenant, "ann", open_leads=12, last_assigned_at=ago(3))
    person(tenant, "bob", open_leads=12, last_assigned_at=ago(1))
    lead = LeadFactory(tenant=tenant)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        route_lead(lead=lead)
    assert mail.outbox == [], "nothing is sent before the commit"
    for callback in callbacks:
        callback()

    activity = Activity.objects.get(lead=lead, kind=ActivityKind.ASSIGNED)
    assert activity.body == "round robin: 12 open leads, longest wait"
    assert activity.actor is None, "the system routed it"
    assert activity.data["to"] == api_id(ann) and activity.data["routing"] == "round_robin"
    event = Event.objects.get(type=EventType.LEAD_ASSIGNED)
    assert event.payload["to"] == api_id(ann) and event.payload["reason"] == activity.body
    assert event.payload["open_leads"] == 12
    assert [m.to for m in mail.outbox] == [[ann.email]]
    assert "round robin: 12 open leads" in mail.outbox[0].body


def test_a_rule_assignment_names_the_rule(tenant, django_capture_on_commit_callbacks):
    ann = person(tenant, "ann")
    made = rule(tenant, "Enterprise DACH", conditions=[GERMAN], user=ann)

    with django_capture_on_commit_callbacks(execute=True):
        lead = route(tenant, country="DE").lead

    activity = Activity.objects.get(lead=lead, kind=ActivityKind.ASSIGNED)
    assert activity.body == 'rule "Enterprise DACH"'
    assert Event.objects.get(type=EventType.LEAD_ASSIGNED).payload["rule_id"] == made.pk
    assert mail.outbox[0].to == [ann.email]


# --- capture -------------------------------------------------------------------------------


def test_a_form_capture_through_the_api_assigns_the_new_lead(anon_api, tenant, channel, django_capture_on_commit_callbacks):
    ann = person(tenant, "ann")

    with django_capture_on_commit_callbacks(execute=True):
        response = anon_api.post("/api/v1/leads", {"email": "new@prospect.example", "form_key": channel.form_key},
                                 format="json")

    assert response.status_code == 201
    lead = Lead.objects.get(email="new@prospect.example")
    assert lead.owner == ann and lead.assigned_at is not None
    assert [m.to for m in mail.outbox] == [[ann.email]]


def test_a_chat_lead_is_assigned_at_once(api, tenant):
    ann = person(tenant, "ann")

    response = api.post("/api/v1/leads", {"email": "chat@prospect.example", "source": "chat"}, format="json")

    assert response.status_code == 201
    assert response.json()["source"] == "chat" and response.json()["owner"] == api_id(ann)


def test_a_chat_lead_matching_a_rule_goes_to_its_target(tenant):
    chat_rep = person(tenant, "chatty")
    person(tenant, "other")
    rule(tenant, "chat desk", conditions=[{"field": "source", "operator": "equals", "value": "chat"}], user=chat_rep)

    result = capture_lead(tenant=tenant, data={"email": "c@x.example"}, source=LeadSource.CHAT)

    assert result.lead.owner == chat_rep


def test_a_channel_default_owner_is_kept_and_not_routed(tenant):
    owner = person(tenant, "owner", open_leads=30)
    person(tenant, "idle")
    channel = ChannelFactory(tenant=tenant, default_owner=owner)

    result = capture_lead(tenant=tenant, data={"email": "d@x.example"}, source=LeadSource.WEBSITE_FORM, channel=channel)

    assert result.lead.owner == owner


def test_a_submission_merged_into_an_open_lead_is_not_rerouted(tenant):
    first = person(tenant, "first")
    lead = LeadFactory(tenant=tenant, email="same@x.example", owner=first)
    person(tenant, "second")

    result = capture_lead(tenant=tenant, data={"email": "same@x.example"}, source=LeadSource.WEBSITE_FORM)

    assert (result.lead.pk, result.created, result.lead.owner) == (lead.pk, False, first)


def test_a_routing_failure_does_not_lose_the_capture(tenant, monkeypatch, caplog):
    person(tenant, "ann")

    def boom(**kwargs):
        raise RuntimeError("routing broke")

    monkeypatch.setattr(routing, "_pick", boom)
    result = capture_lead(tenant=tenant, data={"email": "kept@x.example"}, source=LeadSource.API)

    assert result.created and result.lead.owner is None
    assert Lead.objects.filter(email="kept@x.example", owner__isnull=True).exists()
    assert "Routing lead" in caplog.text


# --- concurrency ---------------------------------------------------------------------------





@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_never_push_a_rep_over_capacity(monkeypatch):
    tenant = TenantFactory(slug="racy")
    ann = UserFactory(tenant=tenant, username="ann", lead_capacity=3)
    choose = routing._choose

    def slow_choose(pick, eligible):
        choose(pick, eligible)
        time.sleep(0.3)  # widen the window: every capture ranks before any commits

    monkeypatch.setattr(routing, "_choose", slow_choose)

    results = run_together(
        lambda i: capture_lead(tenant=tenant, data={"email": f"race{i}@x.example"}, source=LeadSource.API), n=10
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert Lead.objects.filter(owner=ann).count() == 3
    assert Lead.objects.filter(tenant=tenant, owner__isnull=True).count() == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_capture_routed_while_another_is_uncommitted_goes_to_the_next_rep_without_waiting():
    tenant = TenantFactory(slug="busy")
    UserFactory(tenant=tenant, username="ann", last_assigned_at=ago(3))
    UserFactory(tenant=tenant, username="bob", last_assigned_at=ago(2))
    routed, release = threading.Event(), threading.Event()

    def first_capture():
        try:
            with transaction.atomic():
                lead = capture_lead(tenant=tenant, data={"email": "first@x.example"}, source=LeadSource.API).lead
                routed.set()
                release.wait(10)  # still uncommitted while the second capture routes
                return lead.owner.username
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(first_capture)
        assert routed.wait(10)
        with connection.cursor() as cursor:  # queueing behind the first would fail routing, not hang
            cursor.execute("SET lock_timeout = '2s'")
        second = capture_lead(tenant=tenant, data={"email": "second@x.example"}, source=LeadSource.API).lead
        release.set()
        assert first.result(10) == "ann"  # waited longest
    assert second.owner.username == "bob"
    assert Lead.objects.filter(tenant=tenant, owner__username="ann").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_when_every_rep_is_busy_a_capture_waits_for_the_fairest():
    tenant = TenantFactory(slug="queue")
    UserFactory(tenant=tenant, username="ann")
    routed = threading.Event()

    def first_capture():
        try:
            with transaction.atomic():
                capture_lead(tenant=tenant, data={"email": "first@x.example"}, source=LeadSource.API)
                routed.set()
                time.sleep(0.5)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(first_capture)
        assert routed.wait(10)
        second = capture_lead(tenant=tenant, data={"email": "second@x.example"}, source=LeadSource.API).lead
        first.result(10)
    assert second.owner.username == "ann"
    assert Activity.objects.get(lead=second, kind=ActivityKind.ASSIGNED).body == "round robin: 1 open lead"


# --- admin ---------------------------------------------------------------------------------


def lead_action(client, action, *leads):
    return client.post(
        "/admin/leads/lead/", {"action": action, "_selected_action": [lead.pk for lead in leads]}, follow=True
    )


def test_the_lead_list_offers_assign_to_me_to_reps_and_routing_to_managers(client, tenant, rep, manager):
    LeadFactory(tenant=tenant)

    client.force_login(rep)
    rep_page = client.get("/admin/leads/lead/").content.decode()
    client.force_login(manager)
    manager_page = client.get("/admin/leads/lead/").content.decode()

    assert 'value="assign_to_me"' in rep_page and 'value="route_leads"' not in rep_page
    assert 'value="assign_to_me"' in manager_page and 'value="route_leads"' in manager_page


def test_assign_to_me_takes_unassigned_leads_through_assign_lead(client, tenant, rep):
    free = LeadFactory(tenant=tenant)
    client.force_login(rep)

    response = lead_action(client, "assign_to_me", free)

    assert "1 lead is now yours." in response.content.decode()
    free.refresh_from_db()
    assert free.owner == rep
    activity = Activity.objects.get(lead=free, kind=ActivityKind.ASSIGNED)
    assert (activity.actor, activity.body) == (rep, f"taken by {rep} in the admin")
    assert Event.objects.filter(type=EventType.LEAD_ASSIGNED, payload__to=api_id(rep)).exists()


def test_a_rep_cannot_take_a_colleagues_lead_from_the_admin(client, tenant, rep, manager):
    free, theirs = LeadFactory(tenant=tenant), LeadFactory(tenant=tenant, owner=manager)
    client.force_login(rep)

    response = lead_action(client, "assign_to_me", free, theirs)

    # A colleague's lead is not in a rep's list: the whole action is refused.
    assert "Nothing was done: 1 of the selected leads is not in your list" in response.content.decode()
    free.refresh_from_db()
    theirs.refresh_from_db()
    assert (free.owner, theirs.owner) == (None, manager)


def test_route_applies_the_rules_from_the_admin(client, tenant, manager):
    ann = person(tenant, "ann")
    rule(tenant, "germany", conditions=[GERMAN], user=ann)
    person(tenant, "bob", open_leads=3)
    german = LeadFactory(tenant=tenant, country="DE")
    closed = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="x")
    client.force_login(manager)

    response = lead_action(client, "route_leads", german, closed)

    page = response.content.decode()
    assert "Routed 1:" in page and "ann" in page and "rule &quot;germany&quot;" in page
    assert "Skipped:" in page and "only open leads are routed" in page
    german.refresh_from_db()
    assert german.owner == ann
    assert Activity.objects.get(lead=german, kind=ActivityKind.ASSIGNED).actor == manager


def test_route_moves_an_owned_lead_away_from_someone_away(client, tenant, manager):
    away = person(tenant, "away", is_available=False)
    here = person(tenant, "here")
    lead = LeadFactory(tenant=tenant, owner=away)
    client.force_login(manager)

    lead_action(client, "route_leads", lead)

    lead.refresh_from_db()
    assert lead.owner == here


def rule_form(**fields) -> dict:
    return {"name": "DACH", "priority": 10, "active": "on", "conditions": "[]", "target_team": [], **fields}


def test_the_rule_admin_refuses_conditions_the_engine_cannot_evaluate(client, tenant, manager):
    ann = person(tenant, "ann")
    client.force_login(manager)
    bad = '[{"field": "country", "operator": "gt", "value": "DE"}]'

    response = client.post("/admin/leads/assignmentrule/add/", rule_form(conditions=bad, target_user=ann.pk))

    assert response.status_code == 200
    assert "country is a text field" in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_the_rule_admin_saves_a_valid_rule_for_the_users_tenant(client, tenant, manager):
    ann, bob = person(tenant, "ann"), person(tenant, "bob")
    client.force_login(manager)
    conditions = '[{"field": "country", "operator": "in_list", "value": "DE, AT"}]'

    response = client.post("/admin/leads/assignmentrule/add/", rule_form(conditions=conditions, target_team=[ann.pk, bob.pk]))

    assert response.status_code == 302, response.content.decode()[:2000]
    made = AssignmentRule.objects.get()
    assert made.tenant == tenant
    assert made.conditions == [{"field": "country", "operator": "in_list", "value": "DE, AT"}]
    assert set(made.target_team.all()) == {ann, bob}
    assert client.get("/admin/leads/assignmentrule/").status_code == 200


def test_the_rule_admin_offers_only_the_tenants_people_and_wants_a_target(client, tenant, other_tenant, manager):
    stranger = person(other_tenant, "stranger")
    client.force_login(manager)

    foreign = client.post("/admin/leads/assignmentrule/add/", rule_form(target_user=stranger.pk))
    foreign_team = client.post("/admin/leads/assignmentrule/add/", rule_form(target_team=[stranger.pk]))
    nobody = client.post("/admin/leads/assignmentrule/add/", rule_form())

    assert "Select a valid choice" in foreign.content.decode()
    assert "Select a valid choice" in foreign_team.content.decode()
    assert "Name a user, or pick a team" in nobody.content.decode()
    assert not AssignmentRule.objects.exists()
    assert "stranger" not in client.get("/admin/leads/assignmentrule/add/").content.decode()


def test_a_platform_superuser_cannot_target_another_tenants_user(client, tenant, other_tenant):
    from crm.models import User

    root = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-123")
    stranger = person(other_tenant, "stranger")
    client.force_login(root)

    response = client.post("/admin/leads/assignmentrule/add/", rule_form(tenant=tenant.pk, target_user=stranger.pk))

    assert f"Not in {tenant}: stranger." in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_the_user_admin_shows_and_edits_availability_and_capacity(client, tenant):
    boss = UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)
    ann = person(tenant, "ann")
    client.force_login(boss)

    listing = client.get("/admin/crm/user/?is_available__exact=1").content.decode()
    form = client.get(f"/admin/crm/user/{ann.pk}/change/").content.decode()

    assert "column-is_available" in listing and "column-lead_capacity" in listing
    assert 'name="is_available"' in form and 'name="lead_capacity"' in form
