"""Data-subject requests: export (articles 15 and 20), erasure (article 17) and what an erased person may do later."""

import json

import pytest
from django.core.management import CommandError, call_command

from crm.models import AccessRecord, Activity, PrivacyRequest, Suppression
from leads.importers.engine import ImportOptions, import_leads
from leads.models import Lead
from leads.privacy.consent import may_market
from leads.privacy.export import privacy_export
from tests.api_ids import api_id
from tests.factories import LeadFactory
from tests.privacy.support import EMAIL, NAME, PHONE, place_person_everywhere

pytestmark = pytest.mark.django_db


def test_export_holds_every_place_as_json_and_a_readable_summary(tenant, channel, manager, anon_api, tmp_path):
    lead = place_person_everywhere(tenant=tenant, channel=channel, manager=manager, anon_api=anon_api,
                                   tmp_path=tmp_path)
    result = privacy_export(tenant=tenant, email=EMAIL.upper(), actor=manager, door="admin")
    document = json.loads(result.json)
    assert [row["id"] for row in document["leads"]] == [api_id(lead)]
    assert document["contacts"][0]["email"] == EMAIL and document["companies"][0]["name"] == "Northwind Traders"
    assert document["deals"][0]["name"] == f"{NAME} renewal"
    assert len(document["activities"]) >= 4
    assert document["events"] and any(EMAIL in json.dumps(e["payload"]) for e in document["events"])
    assert document["webhook_deliveries"] and document["idempotency_records"]
    assert any(NAME in ",".join(row) for row in document["import_error_reports"][0]["rows"])
    assert any(m["table"] == "leads.lead" and "Referred by" in m["row"]["message"] for m in document["other_mentions"])
    assert f"Lead {NAME}: status converted" in result.summary and "webhook deliveries" in result.summary
    # The answer is a read of personal data, and the request is logged without the person's data.
    assert AccessRecord.objects.filter(door="privacy", model="leads.lead", object_ids=api_id(lead)).exists()
    request = PrivacyRequest.objects.get(kind="export")
    assert request.requested_by == manager and request.counts["leads"] == 1 and EMAIL not in json.dumps(request.counts)


def test_export_command_prints_summary_and_writes_json(tenant, tmp_path, capsys):
    LeadFactory(tenant=tenant, email="ada@example.org", first_name="Ada")
    out = tmp_path / "ada.json"
    call_command("privacy_export", "--tenant", "acme", "--email", "ada@example.org", "--out", str(out))
    assert "Lead Ada" in capsys.readouterr().out
    assert json.loads(out.read_text())["leads"][0]["first_name"] == "Ada"
    with pytest.raises(CommandError, match="--email"):
        call_command("privacy_export", "--tenant", "acme", "--email", "not-an-email")


def test_erase_needs_confirmation_and_an_unknown_email_is_still_suppressed(tenant, capsys):
    LeadFactory(tenant=tenant, email="ada@example.org")
    with pytest.raises(CommandError, match="--yes"):
        call_command("privacy_erase", "--tenant", "acme", "--email", "ada@example.org")
    assert Lead.objects.filter(email="ada@example.org").exists()
    call_command("privacy_erase", "--tenant", "acme", "--email", "nobody@example.org", "--yes")
    assert "No lead or contact" in capsys.readouterr().out
    assert Suppression.objects.count() == 1 and PrivacyRequest.objects.filter(kind="erase").count() == 1


def test_an_old_list_imported_after_erasure_skips_the_person(tenant, tmp_path):
    LeadFactory(tenant=tenant, email=EMAIL, first_name="Zebulon")
    call_command("privacy_erase", "--tenant", "acme", "--email", EMAIL, "--yes")
    path = tmp_path / "old.csv"
    path.write_text(f"Email,First name\n{EMAIL},Zebulon\nnew@example.org,Nova\n")
    job = import_leads(tenant=tenant, path=path, options=ImportOptions())
    assert (job.created, job.skipped) == (1, 1)
    assert not Lead.objects.filter(email=EMAIL).exists()


def test_a_new_form_submission_with_consent_is_allowed_and_says_so(tenant, channel, anon_api):
    LeadFactory(tenant=tenant, email=EMAIL, status="disqualified", disqualification_reason="Asked to be forgotten")
    call_command("privacy_erase", "--tenant", "acme", "--email", EMAIL, "--yes")
    response = anon_api.post("/api/v1/leads", {"email": EMAIL, "phone": PHONE, "marketing_consent": True},
                             format="json", HTTP_X_FORM_KEY=channel.form_key)
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(email=EMAIL)
    assert may_market(lead) and (lead.consent_source, lead.consent_wording) == ("form", channel.consent_version)
    note = Activity.objects.get(lead=lead, subject__startswith="Came back after an erasure")
    assert "new marketing consent" in note.body
    assert not Suppression.objects.exists()


def test_consent_through_the_api_and_none_when_not_asked(api, tenant):
    assert api.post("/api/v1/leads", {"email": "yes@example.org", "marketing_consent": True,
                                       "consent_wording": "2026-11"}, format="json").status_code == 201
    assert api.post("/api/v1/leads", {"email": "quiet@example.org"}, format="json").status_code == 201
    assert api.post("/api/v1/leads", {"email": "no@example.org", "marketing_consent": "maybe"},
                    format="json").json()["marketing_consent"]
    said_yes, quiet = Lead.objects.get(email="yes@example.org"), Lead.objects.get(email="quiet@example.org")
    assert (said_yes.marketing_consent, said_yes.consent_source, said_yes.consent_wording) == ("given", "api", "2026-11")
    assert said_yes.consent_at is not None
    assert quiet.marketing_consent == "" and not may_market(quiet)
    shown = api.get(f"/api/v1/leads/{api_id(said_yes)}").json()
    assert (shown["marketing_consent"], shown["consent_source"], shown["consent_wording"]) == ("given", "api", "2026-11")
    from leads.conversion import convert_lead
    contact_id = convert_lead(lead=said_yes).public_ids["contact_id"]
    assert api.get(f"/api/v1/contacts/{contact_id}").json()["marketing_consent"] == "given"


def test_api_export_and_erase_are_for_workspace_admins(tenant, manager):
    from crm.choices import Role
    from tests.conftest import api_client_for
    from tests.factories import UserFactory

    LeadFactory(tenant=tenant, email=EMAIL, first_name="Zebulon")
    boss = api_client_for(UserFactory(tenant=tenant, role=Role.ADMIN))
    assert api_client_for(manager).post("/api/v1/privacy/export", {"email": EMAIL}, format="json").status_code == 403
    exported = boss.post("/api/v1/privacy/export", {"email": EMAIL}, format="json")
    assert exported.status_code == 200 and exported.json()["data"]["leads"][0]["first_name"] == "Zebulon"
    assert "Lead Zebulon" in exported.json()["summary"]
    assert boss.post("/api/v1/privacy/export", {"email": "nope"}, format="json").json().keys() == {"email"}
    refused = boss.post("/api/v1/privacy/erase", {"email": EMAIL, "confirm": False}, format="json")
    assert refused.status_code == 400 and "confirm" in refused.json()
    erased = boss.post("/api/v1/privacy/erase", {"email": EMAIL, "confirm": True}, format="json")
    assert erased.status_code == 200 and erased.json()["found"] and erased.json()["counts"]["leads"] == 1
    assert not Lead.objects.filter(first_name="Zebulon").exists()


def test_admin_actions_export_and_erase_the_selected_leads_people(client, tenant, manager):
    from django.urls import reverse

    from crm.choices import Role
    from tests.factories import UserFactory

    lead = LeadFactory(tenant=tenant, email=EMAIL, first_name="Zebulon")
    url = reverse("admin:leads_lead_changelist")
    client.force_login(manager)  # a manager is not offered the actions
    assert "privacy_erase_selected" not in client.get(url).content.decode()
    client.force_login(UserFactory(tenant=tenant, role=Role.ADMIN, is_staff=True))
    exported = client.post(url, {"action": "privacy_export_selected", "_selected_action": [lead.pk]})
    assert exported.status_code == 200 and json.loads(exported.content)["people"][0]["leads"][0]["first_name"] == "Zebulon"
    asked = client.post(url, {"action": "privacy_erase_selected", "_selected_action": [lead.pk]})
    assert asked.status_code == 200 and "for good" in asked.content.decode()
    assert Lead.objects.filter(first_name="Zebulon").exists(), "nothing is erased before the confirmation"
    client.post(url, {"action": "privacy_erase_selected", "_selected_action": [lead.pk], "apply": "yes", "confirm": "on"})
    assert not Lead.objects.filter(first_name="Zebulon").exists()
    assert PrivacyRequest.objects.filter(kind="erase", door="admin").exists()


def test_the_hosted_form_offers_the_consent_box_when_the_channel_asks(client, channel):
    assert "data-crm-consent" not in client.get(f"/f/{channel.form_key}/").content.decode()
    channel.consent_checkbox, channel.consent_version = True, "2026-12"
    channel.save()
    page = client.get(f"/f/{channel.form_key}/").content.decode()
    assert f'data-crm-consent="{channel.consent_text}"' in page and 'data-crm-consent-version="2026-12"' in page


def test_an_unsubscribe_withdraws_consent_with_when_and_how(tenant):
    from crm.models import Event
    from leads.privacy.consent import consent_set

    lead = LeadFactory(tenant=tenant, email="ada@example.org")
    consent_set(person=lead, given=True, source="form", wording="v1")
    assert may_market(Lead.objects.get(pk=lead.pk))
    consent_set(person=lead, given=False, source="unsubscribe")
    lead.refresh_from_db()
    assert (lead.marketing_consent, lead.consent_source) == ("withdrawn", "unsubscribe") and not may_market(lead)
    assert Activity.objects.filter(lead=lead, subject="Marketing consent withdrawn (unsubscribe)").exists()
    assert Event.objects.filter(type="LeadUpdated", payload__fields=["marketing_consent"]).count() == 2
