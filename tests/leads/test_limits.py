"""One limit, every door: capture, edit, the activity API, the admin and the CSV import refuse alike
(issue 12, item 3). The limits live on the models (and the database's constraints); doors read them."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts.models import Company
from crm.choices import ActivityKind
from crm.models import FREE_TEXT_MAX_LENGTH, Activity
from leads.activities import edit_activity, log_activity
from leads.models import Lead
from tests.api_ids import api_id
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, LeadFactory
from tests.leads.importers.support import run_import, write_csv

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * (FREE_TEXT_MAX_LENGTH + 1)


def test_the_limit_fits_a_capture_body():
    # Capture takes 64 KB; a message at the limit (even in 4-byte characters) must fit in one.
    assert FREE_TEXT_MAX_LENGTH * 4 < 64 * 1024


# --- negative numbers


@pytest.mark.parametrize("field, value", [("annual_revenue", "-1.00"), ("employee_count", -1)])
def test_a_negative_number_is_refused_by_capture(api, field, value):
    response = api.post("/api/v1/leads/", {"email": "neg@example.com", field: value}, format="json")

    assert response.status_code == 400 and field in response.json()
    assert not Lead.objects.filter(email="neg@example.com").exists()


@pytest.mark.parametrize("field, value", [("annual_revenue", "-1.00"), ("employee_count", -1)])
def test_a_negative_number_is_refused_by_an_edit(api, tenant, field, value):
    lead = LeadFactory(tenant=tenant)

    response = api.patch(f"/api/v1/leads/{api_id(lead)}/", {field: value}, format="json")

    assert response.status_code == 400 and field in response.json()
    lead.refresh_from_db()
    assert getattr(lead, field) is None


@pytest.mark.parametrize("field, value", [("annual_revenue", "-1.00"), ("employee_count", -1)])
def test_a_negative_number_is_refused_on_a_company(api, field, value):
    response = api.post("/api/v1/companies/", {"name": "Minus Ltd", field: value}, format="json")

    assert response.status_code == 400 and field in response.json()


@pytest.mark.parametrize("row", [Lead, Company])
def test_a_negative_number_fails_model_validation(tenant, row):
    instance = LeadFactory.build(tenant=tenant) if row is Lead else CompanyFactory.build(tenant=tenant)
    instance.annual_revenue = -1

    with pytest.raises(ValidationError) as raised:
        instance.full_clean()

    assert "annual_revenue" in raised.value.message_dict


@pytest.mark.parametrize("factory", [LeadFactory, CompanyFactory])
def test_the_database_refuses_a_negative_revenue(tenant, factory):
    row = factory(tenant=tenant)

    with pytest.raises(IntegrityError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(annual_revenue=-1)


def test_the_import_never_stores_a_negative_revenue(tenant, tmp_path):
    # Issue 18: a soft field no longer rejects the row; the negative value stays out of the field and is
    # kept raw in custom_fields with a warning.
    out = run_import(write_csv(tmp_path, "Email,Annual Revenue,Employees\na@example.com,-5,\nb@example.com,,-3\n"))

    assert "rejected 0" in out and "2 rows imported with a warning" in out
    a, b = Lead.objects.get(email="a@example.com"), Lead.objects.get(email="b@example.com")
    assert (a.annual_revenue, a.custom_fields) == (None, {"Annual Revenue": "-5"})
    assert (b.employee_count, b.custom_fields) == (None, {"Employees": "-3"})


# --- a lead's message


def test_capture_refuses_a_message_over_the_limit(api):
    response = api.post("/api/v1/leads/", {"email": "long@example.com", "message": TOO_LONG}, format="json")

    assert response.status_code == 400 and "message" in response.json()


def test_an_edit_refuses_a_message_over_the_limit_as_capture_does(api, tenant):
    lead = LeadFactory(tenant=tenant, message="short")

    response = api.patch(f"/api/v1/leads/{api_id(lead)}/", {"message": TOO_LONG}, format="json")

    assert response.status_code == 400 and "message" in response.json()
    lead.refresh_from_db()
    assert lead.message == "short"


def test_an_edit_takes_a_message_at_the_limit(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = api.patch(f"/api/v1/leads/{api_id(lead)}/", {"message": TOO_LONG[1:]}, format="json")

    assert response.status_code == 200
    lead.refresh_from_db()
    assert len(lead.message) == FREE_TEXT_MAX_LENGTH


def test_a_message_over_the_limit_fails_model_validation(tenant):
    lead = LeadFactory.build(tenant=tenant, message=TOO_LONG)

    with pytest.raises(ValidationError) as raised:
        lead.full_clean()

    assert "message" in raised.value.message_dict


def test_the_import_never_stores_a_message_over_the_limit(tenant, tmp_path):
    # Issue 18: only an unreachable person or an invalid email rejects a row; the message is cut to the
    # limit, with a warning.
    out = run_import(write_csv(tmp_path, f"Email,Message\na@example.com,{TOO_LONG}\nb@example.com,fine\n"))

    assert "rejected 0" in out and "1 row imported with a warning" in out
    assert Lead.objects.get(email="a@example.com").message == TOO_LONG[:FREE_TEXT_MAX_LENGTH]


# --- an activity's body


def test_logging_an_activity_refuses_a_body_over_the_limit(api, tenant):
    lead = LeadFactory(tenant=tenant)

    on_lead = api.post(f"/api/v1/leads/{api_id(lead)}/activities/", {"kind": "note", "body": TOO_LONG}, format="json")
    direct = api.post("/api/v1/activities/", {"kind": "note", "lead": api_id(lead), "body": TOO_LONG}, format="json")

    assert on_lead.status_code == direct.status_code == 400
    assert "body" in on_lead.json() and "body" in direct.json()
    assert not Activity.objects.filter(lead=lead).exists()


def test_editing_an_activity_refuses_a_body_over_the_limit(api, tenant, manager):
    note = ActivityFactory(lead=LeadFactory(tenant=tenant), actor=manager, body="short")

    response = api.patch(f"/api/v1/activities/{api_id(note)}/", {"body": TOO_LONG}, format="json")

    assert response.status_code == 400 and "body" in response.json()
    note.refresh_from_db()
    assert note.body == "short"


def test_the_service_refuses_a_body_over_the_limit(tenant, manager):
    lead = LeadFactory(tenant=tenant)

    with pytest.raises(ValidationError) as raised:
        log_activity(tenant=tenant, kind=ActivityKind.NOTE, actor=manager, lead=lead, body=TOO_LONG)

    assert "body" in raised.value.message_dict


# --- a task needs its due date


def test_a_task_logged_through_the_api_needs_a_due_date(api, tenant):
    lead = LeadFactory(tenant=tenant)

    on_lead = api.post(f"/api/v1/leads/{api_id(lead)}/activities/", {"kind": "task", "subject": "Call"}, format="json")
    direct = api.post("/api/v1/activities/", {"kind": "task", "lead": api_id(lead), "subject": "Call"}, format="json")

    assert on_lead.status_code == direct.status_code == 400
    assert on_lead.json() == direct.json() == {"due_at": ["A task needs a due date."]}
    assert not Activity.objects.filter(lead=lead).exists()


def test_a_task_with_a_due_date_is_logged(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = api.post(
        f"/api/v1/leads/{api_id(lead)}/activities/",
        {"kind": "task", "subject": "Call", "due_at": "2030-01-15T09:00:00Z"},
        format="json",
    )

    assert response.status_code == 201


def test_a_tasks_due_date_cannot_be_cleared(api, tenant, manager):
    task = ActivityFactory(
        lead=LeadFactory(tenant=tenant), actor=manager, kind=ActivityKind.TASK, due_at="2030-01-15T09:00:00Z"
    )

    response = api.patch(f"/api/v1/activities/{api_id(task)}/", {"due_at": None}, format="json")

    assert response.status_code == 400 and response.json() == {"due_at": ["A task needs a due date."]}
    task.refresh_from_db()
    assert task.due_at is not None


def test_a_note_turned_into_a_task_needs_a_due_date(tenant, manager):
    note = ActivityFactory(lead=LeadFactory(tenant=tenant), actor=manager)

    with pytest.raises(ValidationError) as raised:
        edit_activity(activity=note, changes={"kind": ActivityKind.TASK}, actor=manager)

    assert raised.value.message_dict == {"due_at": ["A task needs a due date."]}


def test_the_activity_admin_refuses_a_task_without_a_due_date(client, tenant, manager):
    contact = ContactFactory(tenant=tenant)
    client.force_login(manager)

    response = client.post("/admin/crm/activity/add/", {
        "kind": "task", "subject": "Call back", "body": "", "lead": "", "contact": contact.pk, "deal": "",
        "occurred_at_0": "2026-11-22", "occurred_at_1": "10:00:00", "due_at_0": "", "due_at_1": "",
        "done_at_0": "", "done_at_1": "",
    })

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["due_at"] == ["A task needs a due date."]
    assert not Activity.objects.exists()
