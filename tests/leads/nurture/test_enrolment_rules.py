"""The workspace's enrolment rules: "cold and warm leads from web forms enter sequence X", checked at capture and
edited in the admin."""

import pytest

from crm.choices import ActivityKind
from crm.models import Activity
from leads.choices import LeadSource, RuleCategory, RuleOperator, ScoreBand
from leads.models import EnrolmentRule, Lead, ScoringRule
from leads.nurture_models import NurtureStatus
from tests.api_ids import api_id
from tests.factories import ChannelFactory

from .support import three_step_sequence

pytestmark = pytest.mark.django_db


@pytest.fixture
def sequence(tenant):
    return three_step_sequence(tenant)


@pytest.fixture
def web_rule(tenant, sequence):
    """Cold and warm leads from web forms enter the sequence, instead of going to a rep."""
    return EnrolmentRule.objects.create(tenant=tenant, name="Cold and warm web leads", sequence=sequence,
                                        score_bands=["cold", "warm"], sources=[LeadSource.WEBSITE_FORM])


@pytest.fixture
def chiefs_are_hot(tenant):
    return ScoringRule.objects.create(tenant=tenant, name="Chiefs", category=RuleCategory.DEMOGRAPHIC,
                                      field="job_title", operator=RuleOperator.CONTAINS, value="chief", points=80)


def form_post(anon_api, channel, **data):
    response = anon_api.post("/api/v1/leads", data, format="json", HTTP_X_FORM_KEY=channel.form_key)
    assert response.status_code == 201, response.content
    return Lead.objects.get(email=data["email"])


def test_a_cold_web_form_lead_enters_the_sequence_instead_of_going_to_a_rep(
        tenant, rep, channel, anon_api, web_rule, sequence):
    lead = form_post(anon_api, channel, email="cold@x.example")
    assert lead.score_band == ScoreBand.COLD and lead.source == LeadSource.WEBSITE_FORM
    assert lead.nurture_status == NurtureStatus.ACTIVE and lead.current_sequence == sequence
    assert lead.owner is None
    note = Activity.objects.get(lead=lead, kind=ActivityKind.NOTE, data__nurture__action="enrolled")
    assert note.subject == "Enrolled in nurture sequence Cold web leads (rule: Cold and warm web leads)"


def test_a_hot_web_form_lead_goes_to_a_rep(tenant, rep, channel, anon_api, web_rule, chiefs_are_hot):
    lead = form_post(anon_api, channel, email="boss@x.example", job_title="Chief Revenue Officer")
    assert lead.score_band == ScoreBand.HOT
    assert lead.owner == rep and lead.nurture_status == NurtureStatus.NOT_ENROLLED


def test_an_api_lead_the_rules_do_not_match_is_not_enrolled(tenant, rep, api, web_rule):
    response = api.post("/api/v1/leads", {"email": "integrator@x.example"}, format="json")
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(email="integrator@x.example")
    assert lead.source != LeadSource.WEBSITE_FORM and lead.score_band == ScoreBand.COLD
    assert lead.nurture_status == NurtureStatus.NOT_ENROLLED and lead.current_sequence is None
    assert response.json()["nurture_status"] == "not_enrolled"


def test_rules_narrow_by_channel_band_and_conditions_and_the_first_match_wins(tenant, rep, anon_api, sequence):
    germany = three_step_sequence(tenant, name="DACH")
    web, partner = ChannelFactory(tenant=tenant, name="Web"), ChannelFactory(tenant=tenant, name="Partner form")
    dach = EnrolmentRule.objects.create(tenant=tenant, name="DACH", sequence=germany, priority=1,
                                        conditions=[{"field": "country", "operator": "in_list", "value": "DE, AT"}])
    web_only = EnrolmentRule.objects.create(tenant=tenant, name="Web cold", sequence=sequence, priority=2,
                                            score_bands=["cold"])
    web_only.channels.set([web])

    assert form_post(anon_api, web, email="a@x.example", country="DE").current_sequence == germany
    assert form_post(anon_api, web, email="b@x.example", country="FR").current_sequence == sequence
    other = form_post(anon_api, partner, email="c@x.example", country="FR")
    assert other.nurture_status == NurtureStatus.NOT_ENROLLED and other.owner == rep
    dach.active = False
    dach.save()  # the rules' cache follows the change
    assert form_post(anon_api, web, email="d@x.example", country="DE").current_sequence == sequence


def test_a_rule_that_does_not_hold_leads_from_reps_routes_and_nurtures(tenant, rep, channel, anon_api, web_rule):
    web_rule.hold_from_reps = False
    web_rule.save()
    lead = form_post(anon_api, channel, email="both@x.example")
    assert lead.owner == rep and lead.nurture_status == NurtureStatus.ACTIVE


def test_a_channel_owner_keeps_the_lead_it_enters_the_sequence(tenant, rep, manager, anon_api, web_rule):
    channel = ChannelFactory(tenant=tenant, name="Manny's form", default_owner=manager)
    lead = form_post(anon_api, channel, email="owned@x.example")
    assert lead.owner == manager and lead.nurture_status == NurtureStatus.ACTIVE


def test_a_switched_off_sequence_takes_nobody_in(tenant, rep, channel, anon_api, web_rule, sequence):
    sequence.active = False
    sequence.save()
    lead = form_post(anon_api, channel, email="off@x.example")
    assert lead.owner == rep and lead.nurture_status == NurtureStatus.NOT_ENROLLED


def test_a_manager_writes_a_rule_in_the_admin(client, manager, tenant, sequence, channel, rep, anon_api):
    client.force_login(manager)
    form = {"name": "Web leads", "sequence": sequence.pk, "priority": "10", "active": "on",
            "score_bands": ["cold", "warm"], "sources": ["website_form"], "channels": [channel.pk],
            "conditions": "[]", "hold_from_reps": "on"}
    response = client.post("/admin/leads/enrolmentrule/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = EnrolmentRule.objects.get(tenant=tenant)
    assert rule.score_bands == ["cold", "warm"] and list(rule.channels.all()) == [channel]
    assert form_post(anon_api, channel, email="new@x.example").current_sequence == sequence
    assert "Web leads" in client.get("/admin/leads/enrolmentrule/").content.decode()


def test_a_rule_with_a_bad_condition_is_a_form_error(client, manager, sequence):
    client.force_login(manager)
    bad = {"name": "Broken", "sequence": sequence.pk, "priority": "1", "active": "on", "hold_from_reps": "on",
           "conditions": '[{"field": "shoe_size", "operator": "equals", "value": "9"}]'}
    page = client.post("/admin/leads/enrolmentrule/add/", bad).content.decode()
    assert "Unknown lead field" in page and "shoe_size" in page
    counting = {**bad, "conditions": '[{"field": "email_opened", "operator": "activity_count", "value": "1"}]'}
    page = client.post("/admin/leads/enrolmentrule/add/", counting).content.decode()
    assert "no activities to count yet" in page
    assert not EnrolmentRule.objects.exists()


def test_a_rep_reads_rules_but_does_not_write_them(client, rep, sequence):
    client.force_login(rep)
    assert client.get("/admin/leads/enrolmentrule/add/").status_code == 403


def test_enrolment_is_in_the_api_lead(tenant, rep, channel, anon_api, web_rule, sequence, api):
    lead = form_post(anon_api, channel, email="api@x.example")
    body = api.get(f"/api/v1/leads/{api_id(lead)}").json()
    assert body["nurture_status"] == "active"
