"""Imported leads are scored, qualified, predicted and routed as captured ones, and get their timeline rows."""

import pytest

from crm.choices import ActivityKind, EventType, Role
from crm.models import Activity, Event
from leads.choices import LeadStatus
from leads.models import AssignmentRule, Lead, ScoringRule
from leads.prediction.service import predict_lead
from leads.routing.service import route_lead
from leads.rules.defaults import install_default_rules
from leads.rules.scoring import rescore_lead
from tests.api_ids import api_id
from tests.factories import LeadFactory, TenantFactory, UserFactory
from tests.leads.importers.support import run_import, write_csv
from tests.leads.prediction.test_prediction import make_history, train

pytestmark = pytest.mark.django_db

SCORE_FIELDS = ("score_total", "score_band", "grade", "score_version", "score_factors")
VARIED = (
    "Email,Job Title,Industry,Employees,Annual Revenue,Country,Status\n"
    "ceo@bigcorp.example,Chief Executive Officer,Software,5000,50000000,US,new\n"
    "vp@gmail.com,VP Sales,Retail,20,,DE,contacted\n"
    "dir@mid.example,IT Director,Healthcare,300,2000000,GB,qualified\n"
    "nobody@small.example,,,,,,\n"
    "old@hist.example,Head of Growth,Cybersecurity,60,,FR,disqualified\n"
)


def test_scores_are_the_ones_rescore_lead_gives(tenant, tmp_path):
    install_default_rules(tenant=tenant)
    ScoringRule.objects.create(tenant=tenant, name="Imported", category="behavioural", field="imported",
                               operator="activity_count", value="1", points=3)
    ScoringRule.objects.create(tenant=tenant, name="Contacted", category="demographic", field="status",
                               operator="equals", value="contacted", points=4)
    ScoringRule.objects.create(tenant=tenant, name="Big", category="firmographic", field="email",
                               operator="ends_with", value="@bigcorp.example", points=2)

    run_import(write_csv(tmp_path, VARIED))

    leads = list(Lead.objects.order_by("email"))
    assert len(leads) == 5
    imported = {lead.email: tuple(getattr(lead, f) for f in SCORE_FIELDS) for lead in leads}
    # chief 20, over 50 and over 500 employees 5 + 10, over 1M and 10M revenue 5 + 10, industry 10, imported 3,
    # the email 2
    assert imported["ceo@bigcorp.example"][0] == 65
    for lead in leads:
        again = rescore_lead(lead=lead)
        assert imported[lead.email] == tuple(getattr(again, f) for f in SCORE_FIELDS), lead.email
        assert lead.score_updated_at is not None


def test_a_lead_reaching_the_threshold_is_qualified_through_the_lifecycle(tenant, tmp_path):
    ScoringRule.objects.create(tenant=tenant, name="Chief", category="demographic", field="job_title",
                               operator="contains", value="chief", points=90)

    run_import(write_csv(tmp_path, VARIED))

    ceo = Lead.objects.get(email="ceo@bigcorp.example")
    assert ceo.status == LeadStatus.QUALIFIED and ceo.qualified_at is not None
    change = Activity.objects.get(lead=ceo, kind=ActivityKind.STATUS_CHANGED)
    assert change.data == {"from": "new", "to": "qualified"} and change.actor is None
    assert Event.objects.filter(type=EventType.LEAD_STATUS_CHANGED, payload__lead_id=api_id(ceo)).exists()


def test_strict_pipeline_does_not_skip_a_step_on_import(tenant, tmp_path):
    tenant.strict_pipeline = True
    tenant.save()
    ScoringRule.objects.create(tenant=tenant, name="All", category="demographic", field="email",
                               operator="is_set", value="", points=95)

    run_import(write_csv(tmp_path, VARIED))

    statuses = dict(Lead.objects.values_list("email", "status"))
    assert statuses["ceo@bigcorp.example"] == LeadStatus.NEW  # a new lead waits until contacted
    assert statuses["vp@gmail.com"] == LeadStatus.QUALIFIED
    assert statuses["old@hist.example"] == LeadStatus.DISQUALIFIED


def test_every_new_lead_gets_an_imported_activity_and_a_created_event(tenant, manager, tmp_path):
    run_import(write_csv(tmp_path, VARIED, name="expo.csv"))

    for lead in Lead.objects.all():
        activity = Activity.objects.get(lead=lead, kind=ActivityKind.IMPORTED)
        assert activity.subject == "Imported from expo.csv" and activity.data["line"] >= 2
        event = Event.objects.get(type=EventType.LEAD_CREATED, payload__lead_id=api_id(lead))
        assert event.payload["source"] == "import" and event.tenant == tenant


def _team(tenant):
    ann = UserFactory(tenant=tenant, username=f"ann-{tenant.slug}")
    bob = UserFactory(tenant=tenant, username=f"bob-{tenant.slug}")
    cat = UserFactory(tenant=tenant, username=f"cat-{tenant.slug}", lead_capacity=2)
    dan = UserFactory(tenant=tenant, username=f"dan-{tenant.slug}", is_available=False)
    boss = UserFactory(tenant=tenant, username=f"boss-{tenant.slug}", role=Role.MANAGER)
    LeadFactory.create_batch(3, tenant=tenant, owner=ann)
    LeadFactory.create_batch(1, tenant=tenant, owner=bob)
    rule = AssignmentRule.objects.create(tenant=tenant, name="DACH", priority=1,
                                         conditions=[{"field": "country", "operator": "in_list", "value": "DE,AT"}])
    rule.target_team.set([boss, dan])
    return ann, bob, cat


ROUTED = "Email,Country\n" + "".join(f"r{i}@example.com,{'DE' if i % 4 == 0 else 'US'}\n" for i in range(12))


def test_routing_gives_the_same_owners_as_routing_each_lead(tenant, tmp_path):
    _team(tenant)
    run_import(write_csv(tmp_path, ROUTED))
    imported = [
        (lead.owner.username.split("-")[0] if lead.owner else None)
        for lead in Lead.objects.filter(email__startswith="r").order_by("id")
    ]

    twin = TenantFactory(slug="twin")
    _team(twin)
    one_by_one = []
    for i in range(12):
        lead = LeadFactory(tenant=twin, email=f"r{i}@example.com", country="DE" if i % 4 == 0 else "US")
        result = route_lead(lead=lead)
        one_by_one.append(result.owner.username.split("-")[0] if result.owner else None)

    assert imported == one_by_one
    assert imported[0] == "boss"  # the DACH rule's team: dan is away
    assert imported.count("cat") == 2  # capacity respected
    first = Lead.objects.get(tenant=tenant, email="r1@example.com")
    twin_first = Lead.objects.get(tenant=twin, email="r1@example.com")
    assigned = Activity.objects.get(lead=first, kind=ActivityKind.ASSIGNED)
    assert assigned.body == Activity.objects.get(lead=twin_first, kind=ActivityKind.ASSIGNED).body  # same reason
    assert assigned.body.startswith("round robin:") and assigned.data["routing"] == "round_robin"
    assert Event.objects.filter(type=EventType.LEAD_ASSIGNED, payload__lead_id=api_id(first)).exists()
    assert first.owner.last_assigned_at is not None


def _assignment_records(lead):
    """The lead's assignment entry and events, its owner's name and id put as OWNER (the twin's differ)."""
    owner = lead.owner

    def same(value):
        return "OWNER" if owner is not None and value in (api_id(owner), f"Assigned to {owner}") else value

    entry = Activity.objects.get(lead=lead, kind=ActivityKind.ASSIGNED)
    events = [
        {k: same(v) for k, v in e.payload.items() if k != "lead_id"}
        for e in Event.objects.filter(type=EventType.LEAD_ASSIGNED, payload__lead_id=api_id(lead))
    ]
    data = {k: same(v) for k, v in entry.data.items()}
    return (same(entry.subject), entry.body, data, entry.actor_id), events


@pytest.mark.parametrize("away", [False, True], ids=["assigned", "nobody available"])
def test_an_imported_lead_gets_the_assignment_records_routing_one_lead_writes(tenant, tmp_path, away):
    twin = TenantFactory(slug="twin")
    for workspace in (tenant, twin):
        UserFactory(tenant=workspace, username=f"ann-{workspace.slug}", role=Role.REP, is_available=not away)

    run_import(write_csv(tmp_path, "Email\nr1@example.com\n"))
    route_lead(lead=LeadFactory(tenant=twin, email="r1@example.com", source="import"))  # the same lead, routed alone

    imported = _assignment_records(Lead.objects.get(tenant=tenant))
    one = _assignment_records(Lead.objects.get(tenant=twin))
    assert imported == one
    assert imported[0][0] == ("Not assigned: nobody available" if away else "OWNER")
    assert len(imported[1]) == (0 if away else 1)


def test_rows_with_an_owner_and_closed_rows_are_not_routed(tenant, tmp_path):
    rita = UserFactory(tenant=tenant, username="rita", email="rita@acme.example")
    UserFactory(tenant=tenant, username="sam")
    text = "Email,Owner,Status\na@example.com,rita@acme.example,new\nb@example.com,,disqualified\n"

    run_import(write_csv(tmp_path, text))

    assert Lead.objects.get(email="a@example.com").owner == rita
    assert Lead.objects.get(email="b@example.com").owner is None
    assert not Activity.objects.filter(kind=ActivityKind.ASSIGNED).exists()


def test_with_a_trained_model_imported_leads_are_predicted_as_captured_ones(tenant, tmp_path):
    make_history(tenant)
    train(tenant)

    run_import(write_csv(tmp_path, VARIED))

    vp = Lead.objects.get(email="vp@gmail.com")
    stored = (vp.probability, vp.recommendation, vp.recommendation_reason, vp.prediction_version)
    assert vp.probability is not None
    fresh = predict_lead(lead=vp)
    assert stored == (fresh.probability, fresh.recommendation, fresh.reason, fresh.model_version)
    assert Lead.objects.get(email="old@hist.example").probability is None  # closed: its outcome is known


def test_leads_filled_by_an_update_import_are_predicted_again(tenant, tmp_path):
    make_history(tenant)
    train(tenant)
    known = LeadFactory(tenant=tenant, email="vp@gmail.com", industry="", employee_count=None, job_title="")
    before = predict_lead(lead=known)

    run_import(write_csv(tmp_path, VARIED), "--on-duplicate", "update")

    known.refresh_from_db()
    assert known.industry == "Retail" and known.employee_count == 20
    stored = (known.probability, known.recommendation, known.recommendation_reason, known.prediction_version)
    assert stored != (before.probability, before.recommendation, before.reason, before.model_version)
    fresh = predict_lead(lead=known)
    assert stored == (fresh.probability, fresh.recommendation, fresh.reason, fresh.model_version)
    if fresh.recommendation != before.recommendation:  # the advice moved: on the timeline, as a capture writes it
        assert Activity.objects.filter(lead=known, kind=ActivityKind.SCORED).count() == 1


def test_without_a_model_an_update_import_keeps_an_earlier_rule_prediction_current(tenant, tmp_path):
    ScoringRule.objects.create(tenant=tenant, name="Retail", category="firmographic", field="industry",
                               operator="equals", value="Retail", points=40)
    known = LeadFactory(tenant=tenant, email="vp@gmail.com", industry="")
    predict_lead(lead=known)
    untouched = LeadFactory(tenant=tenant, email="nobody@small.example")

    run_import(write_csv(tmp_path, VARIED), "--on-duplicate", "update")

    known.refresh_from_db()
    assert known.score_total >= 40
    assert known.probability == pytest.approx(known.score_total / 100)
    assert f"based on the rule score {known.score_total}" in known.recommendation_reason
    untouched.refresh_from_db()
    assert untouched.predicted_at is None  # never predicted: an import does not start now
