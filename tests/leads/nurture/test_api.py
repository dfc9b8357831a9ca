"""Nurture in the API: sequences, and enrolling, pausing, resuming and removing a lead."""

import pytest

from leads.models import Sequence
from leads.nurture_models import NurtureStatus
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import LeadFactory

from .support import three_step_sequence

pytestmark = pytest.mark.django_db


def test_a_manager_builds_a_sequence_and_everyone_reads_it(api, rep):
    body = {"name": "Cold web leads", "steps": [
        {"kind": "email", "settings": {"subject": "Hi {{ lead.first_name }}", "body": "Hello"}},
        {"kind": "wait", "settings": {"days": 3, "working_days": True}},
        {"kind": "email", "settings": {"subject": "Again", "body": "Hello again"}},
    ]}
    response = api.post("/api/v1/sequences", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert [s["position"] for s in created["steps"]] == [1, 2, 3] and created["enrolled"] == 0

    listed = api_client_for(rep).get("/api/v1/sequences").json()
    assert [s["name"] for s in listed["items"]] == ["Cold web leads"]
    refused = api_client_for(rep).post("/api/v1/sequences", {"name": "Mine"}, format="json")
    assert refused.status_code == 403


def test_bad_step_settings_are_a_400_naming_the_step(api):
    response = api.post("/api/v1/sequences", {"name": "Broken", "steps": [
        {"kind": "wait", "settings": {"days": "soon"}}]}, format="json")
    assert response.status_code == 400
    assert "steps[0].settings" in str(response.json())
    assert not Sequence.objects.exists()


def test_enrol_pause_resume_and_exit_through_the_lead(api, tenant):
    sequence = three_step_sequence(tenant)
    lead = LeadFactory(tenant=tenant)
    url = f"/api/v1/leads/{api_id(lead)}/nurture"

    response = api.post(url, {"sequence": api_id(sequence)}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["nurture_status"] == "active"
    assert response.json()["current_sequence"] == api_id(sequence)
    assert api.post(url, {"action": "pause"}, format="json").json()["nurture_status"] == "paused"
    assert api.post(url, {"action": "pause"}, format="json").status_code == 400
    assert api.post(url, {"action": "resume"}, format="json").json()["nurture_status"] == "active"
    assert api.post(url, {"action": "exit"}, format="json").json()["nurture_status"] == NurtureStatus.EXITED

    listed = api.get("/api/v1/leads").json()
    assert "nurture_status" in str(listed)


def test_enrolling_in_another_workspaces_sequence_is_a_400(api, tenant, other_tenant):
    lead = LeadFactory(tenant=tenant)
    foreign = three_step_sequence(other_tenant)
    response = api.post(f"/api/v1/leads/{api_id(lead)}/nurture", {"sequence": api_id(foreign)}, format="json")
    assert response.status_code == 400
    assert "sequence" in str(response.json())
