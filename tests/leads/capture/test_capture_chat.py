"""A chat lead (document 001: live chat) starts contacted and lands with an available rep at once, whichever
door captured it (the API with a token, a chat channel's form key)."""

import pytest

from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.capture.service import capture_lead
from leads.choices import LeadSource, LeadStatus
from leads.models import Lead
from tests.api_ids import api_id
from tests.factories import ChannelFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_chat_lead_through_the_api_starts_contacted_with_an_available_rep(api, tenant, rep):
    UserFactory(tenant=tenant, username="away", is_available=False)

    response = api.post("/api/v1/leads", {"name": "Chatty Cathy", "email": "cathy@example.com", "source": "chat"},
                        format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "contacted" and body["source"] == "chat"
    assert body["owner"] == api_id(rep)
    lead = Lead.objects.get(email="cathy@example.com")
    assert lead.assigned_at is not None
    assignment = Activity.objects.get(lead=lead, kind=ActivityKind.ASSIGNED)
    assert "round robin" in assignment.body
    created = Event.objects.get(type=EventType.LEAD_CREATED)
    assert created.payload["status"] == "contacted"
    assert Event.objects.filter(type=EventType.LEAD_ASSIGNED).count() == 1


def test_a_chat_widgets_form_key_gives_the_same(anon_api, tenant, rep):
    widget = ChannelFactory(tenant=tenant, name="Live chat", default_source=LeadSource.CHAT)

    response = anon_api.post("/api/v1/leads", {"name": "Visitor", "email": "visitor@example.com"}, format="json",
                             HTTP_X_FORM_KEY=widget.form_key)

    assert response.status_code == 201
    lead = Lead.objects.get(email="visitor@example.com")
    assert (lead.status, lead.source, lead.owner) == (LeadStatus.CONTACTED, LeadSource.CHAT, rep)


def test_other_sources_still_start_new(api, tenant, rep):
    api.post("/api/v1/leads", {"name": "Form Filler", "email": "form@example.com", "source": "website_form"},
             format="json")
    assert Lead.objects.get(email="form@example.com").status == LeadStatus.NEW


def test_with_nobody_available_a_chat_lead_waits_unassigned_and_says_why(tenant):
    UserFactory(tenant=tenant, username="away", is_available=False)

    result = capture_lead(tenant=tenant, data={"email": "late@example.com", "first_name": "Late"},
                          source=LeadSource.CHAT)

    assert result.lead.status == LeadStatus.CONTACTED and result.lead.owner is None
    waiting = Activity.objects.get(lead=result.lead, subject__startswith="Not assigned")
    assert "away" in f"{waiting.subject} {waiting.body}"
