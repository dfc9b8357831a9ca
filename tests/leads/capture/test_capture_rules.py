"""What a website submission becomes: normalised fields, deduplication, attribution, custom fields."""

import pytest

from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.choices import LeadSource, LeadStatus
from leads.models import Lead
from tests.api_ids import api_id
from tests.factories import ContactFactory, LeadFactory, UserFactory
from tests.receipts import assert_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(anon_api, channel):
    def send(body, **headers):
        return anon_api.post("/api/v1/leads", body, format="json", HTTP_X_FORM_KEY=channel.form_key, **headers)

    return send


# --- normalising -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, stored",
    [("  Mixed.Case@Example.COM ", "mixed.case@example.com"), ("plain@example.com", "plain@example.com")],
)
def test_the_email_is_trimmed_and_lowercased(post, sent, stored):
    assert post({"email": sent}).status_code == 201
    assert Lead.objects.get().email == stored


@pytest.mark.parametrize("email", ["no-at-sign", "two@@example.com", "spaces in@example.com"])
def test_a_malformed_email_is_400_on_the_email_field(post, email):
    response = post({"email": email, "name": "Ann Example"})

    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "sent, stored, region",
    [("(415) 555-0132", "+14155550132", "US"), ("+44 20 7946 0958", "+442079460958", "US"),
     ("020 7946 0958", "+442079460958", "GB")],
)
def test_the_phone_is_stored_in_e164_using_the_default_region(post, settings, sent, stored, region):
    settings.PHONE_DEFAULT_REGION = region

    assert post({"phone": sent}).status_code == 201
    assert Lead.objects.get().phone == stored


def test_a_single_name_is_split_and_explicit_names_win(post):
    post({"email": "a@x.example", "name": "Ada King Lovelace"})
    post({"email": "b@x.example", "name": "Ignored Name", "first_name": "Grace", "last_name": "Hopper"})

    names = dict(Lead.objects.values_list("email", "first_name"))
    assert names == {"a@x.example": "Ada King", "b@x.example": "Grace"}
    assert Lead.objects.get(email="a@x.example").last_name == "Lovelace"


# --- deduplicating ---------------------------------------------------------------------------


def test_a_submission_from_an_open_leads_email_fills_blanks_and_logs_a_form_submission(post, channel):
    lead = LeadFactory(tenant=channel.tenant, email="back@x.example", company="Typed By Rep", phone="",
                       status=LeadStatus.CONTACTED)

    response = post({"email": "Back@X.example", "company": "Form Co", "phone": "+14155550100",
                     "utm_campaign": "spring", "budget": "10k"})

    assert response.status_code == 201
    assert_receipt(response.json(), email="Back@X.example")
    assert Lead.objects.count() == 1
    lead.refresh_from_db()
    assert lead.company == "Typed By Rep", "a rep's value is never overwritten"
    assert (lead.phone, lead.utm_campaign) == ("+14155550100", "spring")
    assert lead.custom_fields == {"budget": "10k"}
    assert lead.status == LeadStatus.CONTACTED
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.FORM_SUBMITTED).count() == 1
    assert not Event.objects.filter(type=EventType.LEAD_CREATED).exists()


def test_an_integrator_gets_the_updated_open_lead_back(api, tenant):
    lead = LeadFactory(tenant=tenant, email="open@x.example", job_title="")

    response = api.post("/api/v1/leads", {"email": "open@x.example", "job_title": "CTO"}, format="json")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["job_title"]) == (api_id(lead), "CTO")


def test_a_submission_from_a_contacts_email_is_logged_on_the_contact_and_makes_no_lead(post, channel):
    contact = ContactFactory(tenant=channel.tenant, email="customer@x.example")

    response = post({"email": "customer@x.example", "message": "Need more seats"})

    assert response.status_code == 201
    assert_receipt(response.json(), email="customer@x.example")
    assert not Lead.objects.exists()
    activity = contact.activities.get()
    assert (activity.kind, activity.body) == (ActivityKind.FORM_SUBMITTED, "Need more seats")


def test_a_disqualified_lead_stays_disqualified_and_the_person_gets_a_fresh_lead(post, channel):
    old = LeadFactory(tenant=channel.tenant, email="again@x.example", status=LeadStatus.DISQUALIFIED,
                      disqualification_reason="No budget", company="Old Co")

    assert post({"email": "again@x.example", "company": "New Co"}).status_code == 201

    old.refresh_from_db()
    assert (old.status, old.disqualification_reason, old.company) == (LeadStatus.DISQUALIFIED, "No budget", "Old Co")
    assert not Activity.objects.filter(lead=old).exists(), "nothing is logged on the closed lead"
    fresh = Lead.objects.exclude(pk=old.pk).get()
    assert (fresh.email, fresh.status, fresh.company) == ("again@x.example", LeadStatus.NEW, "New Co")


def test_a_converted_leads_person_is_matched_to_their_contact_and_the_lead_stays_converted(api, post, tenant, channel):
    lead = LeadFactory(tenant=tenant, email="won@x.example")
    assert api.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json").status_code == 201
    lead.refresh_from_db()

    assert post({"email": "won@x.example", "message": "Upgrade please"}).status_code == 201

    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert Lead.objects.count() == 1
    assert lead.converted_contact.activities.filter(kind=ActivityKind.FORM_SUBMITTED, body="Upgrade please").exists()


# --- attribution and defaults ----------------------------------------------------------------


def test_attribution_is_stored_with_the_channels_defaults(post, channel):
    owner = UserFactory(tenant=channel.tenant, username="owner")
    channel.default_owner = owner
    channel.default_source = LeadSource.REFERRAL
    channel.save()
    body = {
        "email": "attr@x.example", "campaign": "Q3 webinar", "message": "Hi",
        "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "brand", "utm_term": "crm", "utm_content": "ad-2",
        "source_url": "https://www.example.com/pricing?utm_source=google", "referrer": "https://www.google.com/",
        "source": "import",
    }

    assert post(body).status_code == 201

    lead = Lead.objects.get()
    assert (lead.channel, lead.owner, lead.source) == (channel, owner, LeadSource.REFERRAL), "a form cannot pick its source"
    assert lead.assigned_at is not None
    for field in ("campaign", "message", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                  "source_url", "referrer"):
        assert getattr(lead, field) == body[field], field
    assert Event.objects.get(type=EventType.LEAD_CREATED).payload == {
        "lead_id": api_id(lead), "email": lead.email, "source": LeadSource.REFERRAL, "status": lead.status,
        "channel_id": channel.pk,
    }


def test_attribution_a_visitor_cannot_fix_is_forgiven_on_anonymous_posts(post):
    response = post({
        "email": "lenient@x.example",
        "referrer": "android-app://com.google.android.gm/",
        "source_url": "https://www.example.com/" + "a" * 2100,
        "utm_source": "s" * 300,
    })

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.referrer, lead.source_url) == ("", "")
    assert lead.utm_source == "s" * 200


def test_an_integrator_is_told_about_a_bad_source_url(api):
    response = api.post("/api/v1/leads", {"email": "strict@x.example", "source_url": "not a url"}, format="json")

    assert response.status_code == 400
    assert "source_url" in response.json()


# --- custom fields ---------------------------------------------------------------------------


def test_unknown_form_fields_become_custom_fields_and_the_forms_machinery_is_dropped(post, channel):
    body = {"email": "custom@x.example", "budget": "50k", "seats": 12, "interests": ["api", "sso"],
            "custom_fields": {"plan": "pro"}, "form_key": channel.form_key, "website_url": "", "_ts": "", "_extra": 1,
            "csrfmiddlewaretoken": "x"}

    assert post(body).status_code == 201

    assert Lead.objects.get().custom_fields == {"budget": "50k", "seats": 12, "interests": ["api", "sso"], "plan": "pro"}


def test_form_encoded_posts_work_too(anon_api, channel):
    response = anon_api.post("/api/v1/leads", {"email": "plain@x.example", "colour": "blue", "form_key": channel.form_key})

    assert response.status_code == 201
    assert Lead.objects.get().custom_fields == {"colour": "blue"}


def test_a_too_long_extra_field_is_400_naming_it(post):
    response = post({"email": "long@x.example", "notes": "x" * 1001})

    assert response.status_code == 400
    assert list(response.json()) == ["notes"]
    assert "1000" in response.json()["notes"][0]
    assert not Lead.objects.exists()


def test_a_nested_extra_field_is_400_naming_it(post):
    response = post({"email": "nested@x.example", "address": {"city": "Paris"}})

    assert response.status_code == 400
    assert list(response.json()) == ["address"]


def test_more_than_fifty_custom_fields_is_400_on_custom_fields(post):
    body = {"email": "many@x.example", **{f"field_{i}": "v" for i in range(51)}}

    response = post(body)

    assert response.status_code == 400
    assert "custom_fields" in response.json()
    assert "50" in response.json()["custom_fields"][0]


def test_a_body_that_is_not_an_object_is_400(post):
    response = post(["email", "a@x.example"])

    assert response.status_code == 400
    assert "JSON object" in response.json()["non_field_errors"][0]
    assert not Lead.objects.exists()
