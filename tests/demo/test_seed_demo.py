import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from rest_framework.test import APIClient

from contacts.choices import CLOSED_STAGES
from contacts.models import Company, Contact, Deal
from crm.choices import ActivityKind, Role
from crm.models import Activity, ApiToken, Event, Tenant, User
from demo.data import DEMO_ADMIN, DEMO_TEAM, OTHER_ADMIN, band_for, build_demo, grade_for
from leads.choices import LeadStatus
from leads.models import Channel, Lead
from tests.api_ids import api_id
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def seed(*options) -> str:
    out = StringIO()
    call_command("seed_demo", *options, stdout=out)
    return out.getvalue()


def printed(out: str, label: str) -> str:
    return re.search(rf"^{label}:\s+(\S+)$", out, re.MULTILINE).group(1)


def everything() -> dict:
    models = (Tenant, User, Channel, Lead, Contact, Company, Deal, Activity, Event)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def demo_out():
    return seed()


@pytest.fixture
def demo(demo_out):
    return Tenant.objects.get(slug="demo")


# The workspace -----------------------------------------------------------------------------------


def test_builds_a_demo_workspace_with_every_kind_of_row(demo):
    assert demo.name == "Demo Sales"
    assert Lead.objects.for_tenant(demo).count() >= 30
    assert Contact.objects.for_tenant(demo).exists()
    assert Company.objects.for_tenant(demo).exists()
    assert Deal.objects.for_tenant(demo).exists()
    kinds = set(Activity.objects.for_tenant(demo).values_list("kind", flat=True))
    assert {
        ActivityKind.CALL,
        ActivityKind.NOTE,
        ActivityKind.EMAIL,
        ActivityKind.FORM_SUBMITTED,
        ActivityKind.PAGE_VIEWED,
        ActivityKind.TASK,
        ActivityKind.CONVERTED,
    } <= kinds
    assert not Activity.objects.for_tenant(demo).filter(kind=ActivityKind.TASK, due_at__isnull=True).exists()


@pytest.mark.usefixtures("without_lockout")
def test_team_has_an_admin_a_manager_and_reps_who_can_sign_in(demo, client):
    roles = sorted(User.objects.filter(tenant=demo).values_list("role", flat=True))
    assert roles == sorted([Role.ADMIN, Role.MANAGER, Role.REP, Role.REP])
    assert User.objects.filter(tenant=demo, is_staff=True).count() == 4
    for person in (DEMO_ADMIN, *DEMO_TEAM, OTHER_ADMIN):
        assert client.login(username=person.username, password=person.password), person.username
        assert client.get("/admin/").status_code == 200


def test_leads_look_like_a_real_pipeline(demo):
    leads = list(Lead.objects.for_tenant(demo))
    statuses = {lead.status for lead in leads}
    assert {
        LeadStatus.NEW,
        LeadStatus.CONTACTED,
        LeadStatus.QUALIFIED,
        LeadStatus.CONVERTED,
        LeadStatus.DISQUALIFIED,
    } <= statuses
    assert len({lead.source for lead in leads}) >= 5
    assert len({lead.company for lead in leads}) >= 10
    assert any(lead.owner_id is None for lead in leads)
    assert all(lead.phone.startswith("+") for lead in leads if lead.phone)
    ages = [lead.created_at for lead in leads]
    assert (max(ages) - min(ages)).days >= 30
    for lead in leads:
        assert lead.score_band == band_for(lead.score_total), lead
        assert lead.grade == grade_for(lead.score_total), lead
        assert lead.score_total == sum(f["points"] for f in lead.score_factors) or lead.score_total == 100
        assert lead.status != LeadStatus.DISQUALIFIED or lead.disqualification_reason


def test_converted_leads_went_through_the_real_conversion(demo):
    converted = Lead.objects.for_tenant(demo).filter(status=LeadStatus.CONVERTED)
    assert converted.count() >= 3
    for lead in converted:
        assert lead.converted_contact.tenant_id == demo.pk
        assert lead.converted_deal is not None
        assert Activity.objects.filter(lead=lead, kind=ActivityKind.CONVERTED).exists()
    # conversion moves the lead's timeline onto the contact
    assert not Activity.objects.filter(lead__in=converted, contact__isnull=True).exists()


def test_deals_cover_the_stages_and_closed_ones_have_a_close_date(demo):
    deals = Deal.objects.for_tenant(demo)
    assert len(set(deals.values_list("stage", flat=True))) >= 4
    for deal in deals:
        assert (deal.closed_at is not None) == (deal.stage in CLOSED_STAGES), deal


def test_score_thresholds():
    assert [band_for(s) for s in (0, 39, 40, 69, 70, 100)] == ["cold", "cold", "warm", "warm", "hot", "hot"]
    assert [grade_for(s) for s in (49, 50, 60, 70, 80, 89, 90)] == ["F", "D", "C", "B", "A", "A", "A+"]


def test_data_is_deterministic():
    def emails():
        with transaction.atomic():
            build_demo()
            found = list(Lead.objects.filter(tenant__slug="demo").order_by("email").values_list("email", "status"))
            transaction.set_rollback(True)
        return found

    assert emails() == emails()


# Running it again --------------------------------------------------------------------------------


def test_second_run_changes_nothing_and_prints_the_same_logins(demo_out):
    before = everything()

    again = seed()

    assert everything() == before
    assert "already exists" in again
    assert printed(again, "Website form key") == printed(demo_out, "Website form key")


def test_second_run_prints_a_new_token_and_revokes_the_one_printed_before(demo_out):
    first = printed(demo_out, "API token")

    second = printed(seed(), "API token")

    def status(token):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return api.get("/api/v1/leads").status_code

    assert second != first
    assert (status(first), status(second)) == (401, 200)
    assert ApiToken.objects.filter(user__username=DEMO_ADMIN.username).usable().count() == 1


def test_refuses_when_its_usernames_belong_to_someone_else(tenant):
    UserFactory(tenant=tenant, username="admin")

    with pytest.raises(CommandError, match="admin already exist outside the demo workspace; seed into a fresh"):
        seed()

    assert not Tenant.objects.filter(slug__in=["demo", "globex"]).exists()


# Tenants are separate ----------------------------------------------------------------------------


def test_globex_has_its_own_leads(demo):
    globex = Tenant.objects.get(slug="globex")
    globex_leads = Lead.objects.for_tenant(globex)
    assert globex.name == "Globex Sales"
    assert 1 <= globex_leads.count() < Lead.objects.for_tenant(demo).count()
    assert not User.objects.filter(tenant=globex).exclude(username=OTHER_ADMIN.username).exists()
    assert not globex_leads.filter(owner__tenant=demo).exists()


def test_printed_token_sees_only_demo_leads(demo, demo_out):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {printed(demo_out, 'API token')}")

    response = api.get("/api/v1/leads", {"limit": 200})

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == Lead.objects.for_tenant(demo).count()
    assert {item["id"] for item in body["items"]} == {api_id(lead) for lead in Lead.objects.for_tenant(demo)}


# What it prints works ----------------------------------------------------------------------------


def test_printed_form_key_captures_a_lead_into_the_demo_tenant(demo, demo_out):
    key = printed(demo_out, "Website form key")

    response = APIClient().post(
        "/api/v1/leads",
        {"email": "ada@analytical-engines.example", "name": "Ada Lovelace"},
        format="json",
        HTTP_X_FORM_KEY=key,
    )

    assert response.status_code == 201
    lead = Lead.objects.get(email="ada@analytical-engines.example")
    assert lead.tenant == demo
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace")


def test_prints_admin_url_logins_and_curl_examples(demo_out):
    assert "http://127.0.0.1:8000/admin/" in demo_out
    for person in (DEMO_ADMIN, *DEMO_TEAM):
        assert re.search(rf"^\s+{person.username}\s+{person.password}\s", demo_out, re.MULTILINE)
    key, token = printed(demo_out, "Website form key"), printed(demo_out, "API token")
    assert f"curl -X POST http://127.0.0.1:8000/api/v1/leads -H 'X-Form-Key: {key}'" in demo_out
    assert f"curl http://127.0.0.1:8000/api/v1/leads -H 'Authorization: Bearer {token}'" in demo_out


def test_url_base_option(demo):
    out = seed("--url-base", "https://crm.example.com/")

    assert "https://crm.example.com/admin/" in out
    assert "https://crm.example.com/api/v1/leads" in out


def test_every_demo_lead_someone_contacted_has_its_first_contact_time(demo):
    """The dashboard's time to first contact reads Lead.first_contacted_at; the demo's timelines are written in bulk,
    so the seed must keep it as the services do, or the page says "2 contacted" beside a funnel of 14."""
    from leads.first_contact import is_contact

    for lead in Lead.objects.for_tenant(demo):
        contacts = [a.occurred_at for a in Activity.objects.filter(lead=lead)
                    if is_contact(kind=a.kind, to_status=(a.data or {}).get("to")) and a.occurred_at >= lead.created_at]
        assert lead.first_contacted_at == (min(contacts) if contacts else None), lead
    assert Lead.objects.for_tenant(demo).filter(first_contacted_at__isnull=False).count() >= 10
