"""A signed-in capture folds a submission only into a lead or contact the caller may change (crm.access).

Anonymous website forms are not signed in: they fold into whoever has the email and get the same
receipt whatever happened, so a form cannot be used to find out who is a lead.
"""

import pytest

from crm.choices import EventType
from crm.models import Activity, Event
from tests.conftest import api_client_for
from tests.factories import ContactFactory, LeadFactory, UserFactory
from tests.receipts import assert_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(tenant):
    return UserFactory(tenant=tenant, username="carl")


def capture(client, **body):
    return client.post("/api/v1/leads", body, format="json")


def test_a_reps_capture_with_a_colleagues_leads_email_is_refused_and_changes_nothing(tenant, rep, colleague):
    lead = LeadFactory(tenant=tenant, owner=colleague, email="pat@initech.example", job_title="", phone="",
                       last_activity_at=None)
    events_before = Event.objects.count()

    response = capture(api_client_for(rep), email="pat@initech.example", job_title="CFO", phone="+14155550100",
                       message="call me")

    assert response.status_code == 403, response.content
    detail = response.json()["detail"]
    assert "colleague" in detail and str(lead.pk) not in detail and "carl" not in detail  # names nobody
    assert set(response.json()) == {"detail"}
    lead.refresh_from_db()
    assert (lead.job_title, lead.phone, lead.last_activity_at) == ("", "", None)
    assert not Activity.objects.filter(lead=lead).exists()
    assert Event.objects.count() == events_before


def test_a_reps_capture_with_a_colleagues_contacts_email_is_refused(tenant, rep, colleague):
    contact = ContactFactory(tenant=tenant, owner=colleague, email="sam@initech.example")

    response = capture(api_client_for(rep), email="sam@initech.example", message="hello again")

    assert response.status_code == 403
    assert not Activity.objects.filter(contact=contact).exists()


@pytest.mark.parametrize("whose", ["rep", "nobody"])
def test_a_reps_capture_still_fills_their_own_and_unassigned_leads(tenant, rep, whose):
    lead = LeadFactory(tenant=tenant, owner=rep if whose == "rep" else None, email="pat@initech.example",
                       job_title="")

    response = capture(api_client_for(rep), email="pat@initech.example", job_title="CFO")

    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert lead.job_title == "CFO"


def test_a_managers_capture_fills_anyones_lead(tenant, manager, colleague):
    lead = LeadFactory(tenant=tenant, owner=colleague, email="pat@initech.example", job_title="")

    assert capture(api_client_for(manager), email="pat@initech.example", job_title="CFO").status_code == 200
    lead.refresh_from_db()
    assert lead.job_title == "CFO"


def test_an_anonymous_form_still_folds_into_a_colleagues_lead_with_the_usual_receipt(anon_api, tenant, channel,
                                                                                     colleague):
    lead = LeadFactory(tenant=tenant, owner=colleague, email="pat@initech.example", job_title="")

    response = anon_api.post("/api/v1/leads", {"email": "pat@initech.example", "job_title": "CFO"}, format="json",
                             HTTP_X_FORM_KEY=channel.form_key)

    assert response.status_code == 201
    assert_receipt(response.json(), email="pat@initech.example")
    lead.refresh_from_db()
    assert lead.job_title == "CFO"
    assert Event.objects.filter(type=EventType.LEAD_UPDATED).count() == 0  # a capture merge writes no LeadUpdated
