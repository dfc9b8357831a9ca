"""Rule-based scoring: totals, bands, grades, versions, factors; the doors that rescore; auto-qualification;
the set-based rescore agreeing with the per-lead one; defaults; the admin."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.activities import log_activity
from leads.choices import LeadStatus
from leads.insights import refresh_insights
from leads.models import Lead, ScoringRule
from leads.rules.conditions import ConditionError
from leads.rules.defaults import DEFAULT_RULES, install_default_rules
from leads.rules.scoring import band_for, grade_for, rescore_lead, rescore_leads
from leads.rules.sheet import check_rule, rule_sheet
from leads.workspaces import create_tenant
from tests.api_ids import api_id
from tests.factories import ActivityFactory, LeadFactory, TenantFactory

pytestmark = pytest.mark.django_db


def rule(tenant, field, operator, value, points, *, name=None, category="demographic", active=True) -> ScoringRule:
    return ScoringRule.objects.create(
        tenant=tenant, name=name or f"{field} {operator} {value}", category=category, field=field,
        operator=operator, value=value, points=points, active=active,
    )


def fresh(lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


# The score: total, clamping, band, grade, version, factors ------------------------------------------


def test_points_of_matching_rules_add_up_and_the_factors_say_which(tenant):
    title = rule(tenant, "job_title", "contains", "vp", 15, name="VP title")
    size = rule(tenant, "employee_count", "gt", "500", 10, name="Big company", category="firmographic")
    rule(tenant, "industry", "equals", "retail", 30, name="Retail")
    lead = LeadFactory(tenant=tenant, job_title="VP Sales", employee_count=900, industry="Software")

    lead = rescore_lead(lead=lead)

    assert lead.score_total == 25
    assert fresh(lead).score_factors == [  # in the sheet's order: category, name
        {"rule_id": title.pk, "name": "VP title", "category": "demographic", "points": 15},
        {"rule_id": size.pk, "name": "Big company", "category": "firmographic", "points": 10},
    ]
    assert fresh(lead).score_updated_at is not None


def test_the_total_is_kept_between_0_and_100(tenant):
    rule(tenant, "job_title", "is_set", "", 70, name="A")
    rule(tenant, "company", "is_set", "", 60, name="B")
    high = rescore_lead(lead=LeadFactory(tenant=tenant))
    assert (high.score_total, high.grade, high.score_band) == (100, "A+", "hot")
    assert sum(f["points"] for f in high.score_factors) == 130  # the breakdown keeps the real points

    ScoringRule.objects.filter(tenant=tenant).update(points=-40)
    low = rescore_lead(lead=high)
    assert (low.score_total, low.grade, low.score_band) == (0, "F", "cold")


def test_bands_follow_the_tenants_thresholds(tenant):
    tenant.score_warm_threshold, tenant.score_hot_threshold = 20, 30
    tenant.save()
    points = rule(tenant, "job_title", "is_set", "", 19)
    lead = LeadFactory(tenant=tenant)
    bands = []
    for value in (19, 20, 29, 30):
        points.points = value
        points.save()
        bands.append(rescore_lead(lead=lead).score_band)
    assert bands == ["cold", "warm", "warm", "hot"]


@pytest.mark.parametrize(
    ("score", "grade"),
    [(0, "F"), (49, "F"), (50, "D"), (59, "D"), (60, "C"), (69, "C"), (70, "B"), (79, "B"), (80, "A"), (89, "A"),
     (90, "A+"), (100, "A+")],
)
def test_grades_at_the_boundaries(score, grade):
    assert grade_for(score) == grade


def test_default_band_thresholds_are_the_tenants_defaults():
    assert [band_for(s) for s in (39, 40, 69, 70)] == ["cold", "warm", "warm", "hot"]
    assert band_for(50, warm=60, hot=90) == "cold"


def test_score_version_names_the_rule_set(tenant, other_tenant):
    first = rule(tenant, "job_title", "contains", "vp", 15)
    v1 = rule_sheet(tenant).version
    assert rule_sheet(tenant).version == v1, "stable while nothing changes"
    assert len(v1) == 12

    first.points = 16
    first.save()
    v2 = rule_sheet(tenant).version
    first.value = "director"
    first.save()
    v3 = rule_sheet(tenant).version
    extra = rule(tenant, "industry", "is_set", "", 5)
    v4 = rule_sheet(tenant).version
    extra.active = False
    extra.save()

    assert len({v1, v2, v3, v4}) == 4
    assert rule_sheet(tenant).version == v3, "an inactive rule is not part of the sheet"
    lead = rescore_lead(lead=LeadFactory(tenant=tenant))
    assert lead.score_version == v3


def test_a_rule_that_cannot_be_evaluated_is_skipped_and_logged(tenant, caplog):
    rule(tenant, "employee_count", "gt", "lots", 50, name="Broken")  # saved around the admin's checks
    rule(tenant, "job_title", "is_set", "", 5, name="Fine")
    with caplog.at_level(logging.WARNING, logger="leads.rules.scoring"):
        lead = rescore_lead(lead=LeadFactory(tenant=tenant))
    assert lead.score_total == 5
    assert "Broken" in caplog.text and "employee_count compares whole numbers" in caplog.text


def test_no_rules_scores_zero(tenant):
    lead = rescore_lead(lead=LeadFactory(tenant=tenant, score_total=55))
    assert (lead.score_total, lead.score_band, lead.grade, lead.score_factors) == (0, "cold", "F", [])


# Refusing a rule -----------------------------------------------------------------------------------


def test_a_non_numeric_value_for_a_numeric_rule_is_refused_naming_the_field():
    with pytest.raises(ConditionError, match="annual_revenue compares numbers: 'ten million' is not a number"):
        check_rule(field="annual_revenue", operator="gt", value="ten million")


def test_a_scoring_rule_cannot_read_the_score():
    with pytest.raises(ConditionError, match="cannot read score_total"):
        check_rule(field="score_total", operator="gt", value="50")


def test_the_admin_refuses_a_non_numeric_value_naming_the_field(client, manager):
    client.force_login(manager)
    response = client.post(
        "/admin/leads/scoringrule/add/",
        {"name": "Big", "category": "firmographic", "field": "employee_count", "operator": "gt", "value": "many",
         "points": "10", "active": "on"},
    )
    assert response.status_code == 200
    assert "employee_count compares whole numbers: &#x27;many&#x27; is not one" in response.content.decode()
    assert not ScoringRule.objects.exists()

    response = client.post(
        "/admin/leads/scoringrule/add/",
        {"name": "Big", "category": "firmographic", "field": "employee_count", "operator": "gt", "value": "500",
         "points": "10", "active": "on"},
    )
    assert response.status_code == 302
    assert ScoringRule.objects.get().tenant == manager.tenant


# The doors that change a lead rescore it -------------------------------------------------------------


@pytest.fixture
def sheet(tenant):
    rule(tenant, "job_title", "contains", "director", 20, name="Director")
    rule(tenant, "email_domain", "in_list", "gmail.com, yahoo.com", -10, name="Free mail")
    rule(tenant, "demo_requested", "activity_count", "1", 30, name="Asked for a demo", category="behavioural")
    return tenant


def test_capture_through_the_api_scores_the_lead(api, sheet):
    response = api.post("/api/v1/leads", {"email": "dee@acme.example", "job_title": "IT Director"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["score_total"], body["score_band"], body["grade"]) == (20, "cold", "F")
    assert [(f["name"], f["points"]) for f in body["score_factors"]] == [("Director", 20)]
    assert body["score_version"] == rule_sheet(sheet).version and body["score_updated_at"]


def test_editing_through_the_api_rescores(api, sheet):
    lead = LeadFactory(tenant=sheet, job_title="Analyst", email="ann@gmail.com")
    rescore_lead(lead=lead)

    response = api.patch(f"/api/v1/leads/{api_id(lead)}", {"job_title": "Director of Sales"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["score_total"] == 10
    assert {f["name"] for f in fresh(lead).score_factors} == {"Director", "Free mail"}


def test_an_activity_through_the_api_raises_the_score(api, sheet):
    lead = LeadFactory(tenant=sheet, job_title="Director", email="d@acme.example")
    assert rescore_lead(lead=lead).score_total == 20

    response = api.post(f"/api/v1/leads/{api_id(lead)}/activities", {"kind": "demo_requested"}, format="json")

    assert response.status_code == 201, response.content
    lead = fresh(lead)
    assert (lead.score_total, lead.score_band) == (50, "warm")
    assert "Asked for a demo" in [f["name"] for f in lead.score_factors]
    detail = api.get(f"/api/v1/leads/{api_id(lead)}").json()
    assert detail["score_total"] == 50 and len(detail["score_factors"]) == 2


def test_scoring_writes_no_timeline_entries(sheet):
    lead = LeadFactory(tenant=sheet, job_title="Director")
    for _ in range(3):
        log_activity(tenant=sheet, kind=ActivityKind.DEMO_REQUESTED, actor=None, lead=lead)
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.SCORED).exists()
    assert Activity.objects.filter(lead=lead).count() == 3


def test_activities_logged_in_one_transaction_all_count(sheet):
    lead = LeadFactory(tenant=sheet)
    with transaction.atomic():
        log_activity(tenant=sheet, kind=ActivityKind.DEMO_REQUESTED, actor=None, lead=lead)
        log_activity(tenant=sheet, kind=ActivityKind.NOTE, actor=None, lead=lead)
    assert fresh(lead).score_total == 30


@pytest.mark.django_db(transaction=True)
def test_activities_logged_at_the_same_moment_all_count():
    # Each transaction must count the activities committed before it: the lead row is locked before
    # counting (log_activity's update, and rescore_lead's own lock for the doors without one).
    threads = 8
    tenant = TenantFactory()
    for minimum in range(1, threads + 1):  # one point per page view
        rule(tenant, "page_viewed", "activity_count", str(minimum), 1, category="behavioural")
    lead = LeadFactory(tenant=tenant)
    barrier = threading.Barrier(threads)

    def view(i):
        barrier.wait()
        try:
            log_activity(tenant=tenant, kind=ActivityKind.PAGE_VIEWED, actor=None, lead=Lead(pk=lead.pk, tenant=tenant))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(view, range(threads)))

    assert fresh(lead).score_total == threads


# Auto-qualification -----------------------------------------------------------------------------------


@pytest.fixture
def hot_sheet(tenant):
    rule(tenant, "job_title", "contains", "chief", 50, name="C-level")
    rule(tenant, "demo_requested", "activity_count", "1", 30, name="Demo", category="behavioural")
    return tenant


def test_reaching_the_threshold_qualifies_with_an_activity_and_an_event(api, hot_sheet):
    lead = LeadFactory(tenant=hot_sheet, job_title="Chief Revenue Officer", status=LeadStatus.NEW)
    assert refresh_insights(lead=lead).status == LeadStatus.NEW  # 50 < 80

    response = api.post(f"/api/v1/leads/{api_id(lead)}/activities", {"kind": "demo_requested"}, format="json")

    assert response.status_code == 201
    lead = fresh(lead)
    assert (lead.status, lead.score_total) == (LeadStatus.QUALIFIED, 80)
    assert lead.qualified_at is not None
    change = Activity.objects.get(lead=lead, kind=ActivityKind.STATUS_CHANGED)
    assert change.data == {"from": "new", "to": "qualified"} and change.actor is None
    assert change.body == "Auto-qualified: score 80 >= threshold 80"
    event = Event.objects.get(type=EventType.LEAD_STATUS_CHANGED)
    assert event.payload["lead_id"] == api_id(lead) and event.payload["to"] == "qualified"


def test_the_threshold_is_the_tenants(hot_sheet):
    hot_sheet.auto_qualify_threshold = 50
    hot_sheet.save()
    lead = refresh_insights(lead=LeadFactory(tenant=hot_sheet, job_title="Chief of Staff"))
    assert lead.status == LeadStatus.QUALIFIED


def test_strict_pipeline_does_not_skip_contacted(hot_sheet):
    hot_sheet.strict_pipeline = True
    hot_sheet.save()
    new = LeadFactory(tenant=hot_sheet, job_title="Chief", status=LeadStatus.NEW)
    contacted = LeadFactory(tenant=hot_sheet, job_title="Chief", status=LeadStatus.CONTACTED)
    for lead in (new, contacted):
        ActivityFactory(lead=lead, kind=ActivityKind.DEMO_REQUESTED)

    assert refresh_insights(lead=new).status == LeadStatus.NEW
    assert refresh_insights(lead=contacted).status == LeadStatus.QUALIFIED
    assert not Activity.objects.filter(lead=new, kind=ActivityKind.STATUS_CHANGED).exists()


@pytest.mark.parametrize("status", [LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED])
def test_only_open_leads_below_qualified_are_moved(hot_sheet, status):
    extra = {"disqualification_reason": "No budget"} if status == LeadStatus.DISQUALIFIED else {}
    lead = LeadFactory(tenant=hot_sheet, job_title="Chief", status=status, **extra)
    ActivityFactory(lead=lead, kind=ActivityKind.DEMO_REQUESTED)

    lead = refresh_insights(lead=lead)

    assert lead.status == status and lead.score_total == 80
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.STATUS_CHANGED).exists()


# Set-based = per lead ------------------------------------------------------------------------------------


def test_set_based_rescoring_auto_qualifies_like_the_per_lead_path(hot_sheet, other_tenant):
    hot_sheet.strict_pipeline = True
    hot_sheet.save()
    contacted = LeadFactory(tenant=hot_sheet, job_title="Chief", status=LeadStatus.CONTACTED)
    new = LeadFactory(tenant=hot_sheet, job_title="Chief", status=LeadStatus.NEW)
    low = LeadFactory(tenant=hot_sheet, job_title="Clerk", status=LeadStatus.CONTACTED)
    for lead in (contacted, new, low):
        ActivityFactory(lead=lead, kind=ActivityKind.DEMO_REQUESTED)

    summary = rescore_leads(tenant=hot_sheet)

    assert (summary.leads, summary.qualified) == (3, 1)
    assert [fresh(x).status for x in (contacted, new, low)] == ["qualified", "new", "contacted"]
    change = Activity.objects.get(kind=ActivityKind.STATUS_CHANGED)
    assert (change.lead_id, change.body) == (contacted.pk, "Auto-qualified: score 80 >= threshold 80")
    assert Event.objects.get(type=EventType.LEAD_STATUS_CHANGED).payload["lead_id"] == api_id(contacted)


def test_set_based_rescoring_counts_band_changes_and_batches(tenant):
    rule(tenant, "job_title", "contains", "vp", 45)
    leads = [LeadFactory(tenant=tenant, job_title=title) for title in ("VP", "VP Sales", "Clerk", "Intern", "SVP")]

    summary = rescore_leads(tenant=tenant, batch_size=2)

    assert (summary.leads, summary.band_changed) == (5, 3)
    assert [fresh(lead).score_band for lead in leads] == ["warm", "warm", "cold", "cold", "warm"]
    assert rescore_leads(tenant=tenant, batch_size=2).band_changed == 0


def test_set_based_rescoring_of_chosen_leads_only(tenant):
    rule(tenant, "job_title", "is_set", "", 10)
    chosen, other = LeadFactory(tenant=tenant), LeadFactory(tenant=tenant)
    assert rescore_leads(tenant=tenant, lead_ids=[chosen.pk]).leads == 1
    assert (fresh(chosen).score_total, fresh(other).score_total) == (10, 0)


TITLES = ["VP Sales", "vp", "Chief Executive Officer", "IT Director", "Head of Growth", "", "Intern", "Directør"]
INDUSTRIES = ["Software", "software", "Retail", "", "Healthcare "]
DOMAINS = ["gmail.com", "GMAIL.COM", "acme.example", "yahoo.com"]
KINDS = ["email_opened", "page_viewed", "demo_requested", "form_submitted"]


@st.composite
def rule_rows(draw):
    choice = draw(st.sampled_from(["title", "industry", "domain", "size", "revenue", "activity", "set"]))
    points = draw(st.sampled_from([-40, -10, 5, 20, 45, 70]) | st.integers(-30, 60))
    if choice == "title":
        return ("job_title", draw(st.sampled_from(["contains", "starts_with", "ends_with", "equals"])),
                draw(st.sampled_from(["vp", "CHIEF", "director", "head", "Intern", "ø"])), points)
    if choice == "industry":
        return "industry", "in_list", draw(st.sampled_from(["software, healthcare", "Retail", " Software ,x"])), points
    if choice == "domain":
        return "email_domain", draw(st.sampled_from(["in_list", "equals", "ends_with"])), draw(st.sampled_from(DOMAINS)), points
    if choice == "size":
        return "employee_count", draw(st.sampled_from(["gt", "lt", "equals"])), str(draw(st.sampled_from([0, 50, 500]))), points
    if choice == "revenue":
        return "annual_revenue", draw(st.sampled_from(["gt", "lt"])), draw(st.sampled_from(["1000000", "999.99"])), points
    if choice == "set":
        return draw(st.sampled_from(["company", "industry", "employee_count"])), draw(st.sampled_from(["is_set", "is_empty"])), "", points
    return draw(st.sampled_from(KINDS)), "activity_count", str(draw(st.integers(1, 3))), points


lead_rows = st.fixed_dictionaries({
    "job_title": st.sampled_from(TITLES),
    "industry": st.sampled_from(INDUSTRIES),
    "company": st.sampled_from(["", "Acme"]),
    "domain": st.sampled_from(DOMAINS),
    "employee_count": st.sampled_from([None, 0, 50, 51, 5000]),
    "annual_revenue": st.sampled_from([None, Decimal("999.99"), Decimal("1000000.00"), Decimal("2500000.50")]),
    "status": st.sampled_from([LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED]),
    "activities": st.lists(st.sampled_from(KINDS), max_size=5),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    rows=st.lists(lead_rows, min_size=1, max_size=8),
    rules=st.lists(rule_rows(), min_size=0, max_size=8),
    strict=st.booleans(),
    batch_size=st.integers(1, 5),
)
def test_set_based_rescoring_gives_what_the_per_lead_path_gives(tenant, rows, rules, strict, batch_size):
    with transaction.atomic():
        tenant.strict_pipeline, tenant.score_warm_threshold, tenant.score_hot_threshold = strict, 20, 45
        tenant.auto_qualify_threshold = 60
        tenant.save()
        for number, (field, operator, value, points) in enumerate(rules):
            category = "behavioural" if operator == "activity_count" else "demographic"
            rule(tenant, field, operator, value, points, name=f"rule {number % 3}", category=category)
        leads = []
        for number, data in enumerate(rows):
            data = dict(data)
            activities, domain = data.pop("activities"), data.pop("domain")
            lead = Lead.objects.create(tenant=tenant, email=f"p{number}@{domain.lower()}", **data)
            Activity.objects.bulk_create(Activity(tenant=tenant, lead=lead, kind=kind) for kind in activities)
            leads.append(lead)
        ids = [lead.pk for lead in leads]

        def snapshot():
            fields = ("score_total", "score_band", "grade", "score_version", "score_factors", "status")
            timeline = list(
                Activity.objects.filter(lead_id__in=ids, kind=ActivityKind.STATUS_CHANGED)
                .order_by("lead_id").values_list("lead_id", "body")
            )
            events = list(Event.objects.filter(type=EventType.LEAD_STATUS_CHANGED).order_by("id").values_list("payload", flat=True))
            return list(Lead.objects.filter(pk__in=ids).order_by("pk").values_list(*fields)), timeline, events

        sid = transaction.savepoint()
        for lead in leads:
            refresh_insights(lead=lead)
        one_by_one = snapshot()
        transaction.savepoint_rollback(sid)

        summary = rescore_leads(tenant=tenant, batch_size=batch_size)
        set_based = snapshot()
        transaction.set_rollback(True)

    assert set_based == one_by_one
    assert summary.leads == len(rows)


# Defaults -----------------------------------------------------------------------------------------------


def test_a_new_tenant_gets_the_default_rules():
    setup = create_tenant(slug="initech", admin_username="bill", admin_password="a-long-enough-pw-1")

    rules = ScoringRule.objects.for_tenant(setup.tenant)
    assert rules.count() == len(DEFAULT_RULES) == len(rule_sheet(setup.tenant).rules), "every default is valid"
    assert {r.category for r in rules} == {"demographic", "firmographic", "behavioural"}
    behaviour = {(r.field, r.value): r.points for r in rules.filter(operator="activity_count")}
    assert {kind: behaviour[(kind, "1")] for kind in ("email_opened", "email_clicked", "page_viewed", "form_submitted", "demo_requested")} == {
        "email_opened": 2, "email_clicked": 5, "page_viewed": 1, "form_submitted": 10, "demo_requested": 20,
    }
    assert install_default_rules(tenant=setup.tenant) == [], "installing again adds nothing"


def test_the_defaults_score_a_strong_and_a_weak_lead():
    tenant = create_tenant(slug="initech", admin_username="bill", admin_password="a-long-enough-pw-1").tenant
    strong = LeadFactory(tenant=tenant, job_title="Chief Revenue Officer", email="cro@bigco.example",
                         employee_count=2000, annual_revenue=Decimal("50000000"), industry="Software")
    weak = LeadFactory(tenant=tenant, job_title="Student", email="kid@gmail.com", industry="")
    for kind in ("form_submitted", "demo_requested"):
        ActivityFactory(lead=strong, kind=kind)

    assert refresh_insights(lead=strong).score_total == 90
    assert refresh_insights(lead=strong).status == LeadStatus.QUALIFIED
    weak = refresh_insights(lead=weak)
    assert weak.score_total == 0 and [f["points"] for f in weak.score_factors] == [-10]


# Admin -----------------------------------------------------------------------------------------------------


def test_the_admin_shows_the_breakdown_and_rescores_a_selection(client, manager, sheet):
    lead = LeadFactory(tenant=sheet, job_title="Director", email="d@gmail.com")
    client.force_login(manager)

    response = client.post(
        "/admin/leads/lead/", {"action": "rescore_selected", "_selected_action": [lead.pk]}, follow=True
    )

    assert "Rescored 1 lead: 0 changed band." in response.content.decode()
    assert fresh(lead).score_total == 10
    page = client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "<td>Director</td><td>Demographic</td><td style=\"text-align:right\">+20</td>" in page
    assert "<td>Free mail</td><td>Demographic</td><td style=\"text-align:right\">-10</td>" in page


def test_saving_a_lead_in_the_admin_rescores_it(client, manager, sheet):
    lead = LeadFactory(tenant=sheet, job_title="Clerk", email="c@acme.example")
    client.force_login(manager)
    form = {
        "first_name": lead.first_name, "last_name": lead.last_name, "email": lead.email, "phone": "",
        "job_title": "Director", "company": "", "industry": "", "employee_count": "", "annual_revenue": "",
        "website": "", "country": "", "message": "", "status": "new", "priority": "medium",
        "disqualification_reason": "", "owner": "", "source": lead.source, "channel": "", "campaign": "",
        "source_url": "", "referrer": "", "utm_source": "", "utm_medium": "", "utm_campaign": "", "utm_term": "",
        "utm_content": "", "custom_fields": "{}",
        "activities-TOTAL_FORMS": "0", "activities-INITIAL_FORMS": "0",
        "activities-2-TOTAL_FORMS": "0", "activities-2-INITIAL_FORMS": "0",
    }

    response = client.post(f"/admin/leads/lead/{lead.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert fresh(lead).score_total == 20
