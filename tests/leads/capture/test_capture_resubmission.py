"""A resubmission never drops data (issue 12, item 7): what it said is on the timeline, what the lead kept
instead is offered as "Use this value", and a value a person set or cleared is never refilled."""

from decimal import Decimal

import pytest

from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.capture.service import capture_lead
from leads.choices import LeadSource
from leads.editing import update_lead
from leads.models import Lead
from tests.admin_forms import form_data
from tests.factories import LeadFactory, UserFactory
from tests.leads.importers.support import run_import, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(anon_api, channel):
    def send(body):
        response = anon_api.post("/api/v1/leads", body, format="json", HTTP_X_FORM_KEY=channel.form_key)
        assert response.status_code == 201, response.content
        return Activity.objects.filter(kind=ActivityKind.FORM_SUBMITTED).latest("id")

    return send


@pytest.fixture
def lead(tenant, manager):
    return LeadFactory(tenant=tenant, owner=manager, email="back@x.example", phone="+14155550100", company="Acme",
                       job_title="", annual_revenue=Decimal("1000.00"), custom_fields={"budget": "10k"})


def test_a_resubmission_records_what_it_said_and_what_the_lead_kept_instead(post, lead):
    entry = post({"email": "back@x.example", "phone": "+14155550111", "company": "Acme", "job_title": "CTO",
                  "annual_revenue": "2500.50", "budget": "20k", "seats": "12"})

    lead.refresh_from_db()
    assert (lead.phone, lead.job_title, lead.custom_fields) == (
        "+14155550100", "CTO", {"budget": "10k", "seats": "12"}), "blanks filled, nothing overwritten"
    assert entry.lead == lead
    assert entry.data["submitted"] == {
        "phone": "+14155550111", "company": "Acme", "job_title": "CTO", "annual_revenue": "2500.50",
        "custom_fields.budget": "20k", "custom_fields.seats": "12",
    }
    assert sorted(entry.data["filled"]) == ["custom_fields", "job_title"]
    assert entry.data["differs"] == {
        "phone": "+14155550111", "annual_revenue": "2500.50", "custom_fields.budget": "20k",
    }


def test_a_first_submission_differs_from_nothing(post, channel):
    entry = post({"email": "first@x.example", "phone": "+14155550111"})

    assert entry.data["submitted"] == {"phone": "+14155550111"}
    assert entry.data["differs"] == {}


def test_a_value_a_rep_cleared_or_changed_is_not_refilled_by_a_submission(post, lead, manager):
    update_lead(lead=lead, changes={"phone": "", "company": "Acme Holdings", "custom_fields": {}}, actor=manager)
    lead.refresh_from_db()
    assert lead.edited_fields == ["company", "custom_fields.budget", "phone"]

    entry = post({"email": "back@x.example", "phone": "+14155550111", "company": "", "budget": "20k",
                  "job_title": "CTO"})

    lead.refresh_from_db()
    assert (lead.phone, lead.company, lead.custom_fields, lead.job_title) == ("", "Acme Holdings", {}, "CTO")
    # Not applied, so offered: the cleared phone and answer differ from what the lead holds (nothing).
    assert entry.data["differs"] == {"phone": "+14155550111", "custom_fields.budget": "20k"}


def test_a_value_a_rep_cleared_in_the_admin_is_not_refilled(client, post, lead, manager):
    client.force_login(manager)
    url = f"/admin/leads/lead/{lead.pk}/change/"
    data = form_data(client.get(url).content.decode(), "lead_form")
    data["phone"] = [""]
    assert client.post(url, data).status_code == 302
    lead.refresh_from_db()
    assert lead.edited_fields == ["phone"]

    post({"email": "back@x.example", "phone": "+14155550111"})

    lead.refresh_from_db()
    assert lead.phone == ""


def test_an_update_import_does_not_refill_what_a_rep_cleared(tenant, lead, manager, tmp_path):
    update_lead(lead=lead, changes={"phone": ""}, actor=manager)

    run_import(write_csv(tmp_path, "Email,Phone,Job Title\nback@x.example,+1 415 555 0111,CTO\n"),
               "--on-duplicate", "update")

    lead.refresh_from_db()
    assert (lead.phone, lead.job_title) == ("", "CTO")


def test_capture_and_import_share_the_rule(tenant, lead, manager):
    update_lead(lead=lead, changes={"job_title": "Buyer"}, actor=manager)
    update_lead(lead=lead, changes={"job_title": ""}, actor=manager)

    capture_lead(tenant=tenant, data={"email": "back@x.example", "job_title": "CTO"}, source=LeadSource.API)

    lead.refresh_from_db()
    assert lead.job_title == ""


# --- "Use this value" on the lead page --------------------------------------------------------


def use(client, lead, entry, name):
    return client.post(f"/admin/leads/lead/{lead.pk}/use-value/", {"use": f"{entry.pk}:{name}"})


def test_the_lead_page_offers_a_differing_value_and_applies_it(client, post, lead, manager):
    Lead.objects.filter(pk=lead.pk).update(utm_campaign="winter")
    entry = post({"email": "back@x.example", "phone": "+14155550111", "utm_campaign": "spring", "budget": "20k"})
    client.force_login(manager)

    page = client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()

    assert 'id="use-value"' in page
    assert f'name="use" value="{entry.pk}:phone"' in page
    assert f'name="use" value="{entry.pk}:custom_fields.budget"' in page
    assert "spring" in page and f'value="{entry.pk}:utm_campaign"' not in page, "attribution is shown, not editable"

    response = use(client, lead, entry, "phone")

    assert response.status_code == 302 and response.url == f"/admin/leads/lead/{lead.pk}/change/"
    lead.refresh_from_db()
    assert lead.phone == "+14155550111"
    assert "phone" in lead.edited_fields, "a person chose it"
    assert Event.objects.filter(type=EventType.LEAD_UPDATED, payload__fields=["phone"]).exists()
    page = client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert f'value="{entry.pk}:phone"' not in page, "taken: no longer offered"

    use(client, lead, entry, "custom_fields.budget")
    lead.refresh_from_db()
    assert lead.custom_fields == {"budget": "20k"}


def test_a_decimal_value_is_applied_as_a_number(client, post, lead, manager):
    entry = post({"email": "back@x.example", "annual_revenue": "2500.50"})
    client.force_login(manager)

    use(client, lead, entry, "annual_revenue")

    lead.refresh_from_db()
    assert lead.annual_revenue == Decimal("2500.50")


def test_only_someone_who_may_change_the_lead_gets_the_button_or_may_use_it(client, post, lead, tenant):
    entry = post({"email": "back@x.example", "phone": "+14155550111"})
    colleague = UserFactory(tenant=tenant, username="cole")  # a rep; the lead is the manager's
    client.force_login(colleague)

    page = client.get(f"/admin/leads/lead/{lead.pk}/change/")
    response = use(client, lead, entry, "phone")

    assert 'name="use"' not in page.content.decode()
    assert response.status_code in (403, 404)
    lead.refresh_from_db()
    assert lead.phone == "+14155550100"


def test_a_value_not_offered_changes_nothing(client, post, lead, manager):
    Lead.objects.filter(pk=lead.pk).update(utm_campaign="winter")
    entry = post({"email": "back@x.example", "phone": "+14155550111", "utm_campaign": "spring"})
    client.force_login(manager)

    for name in ("utm_campaign", "email", "status", "nonsense"):
        response = use(client, lead, entry, name)
        assert response.status_code == 302
    assert use(client, lead, Activity(pk=entry.pk + 1000), "phone").status_code == 302
    lead.refresh_from_db()
    assert lead.utm_campaign == "winter"
    assert lead.email == "back@x.example" and lead.phone == "+14155550100"
