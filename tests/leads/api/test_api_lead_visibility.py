"""Which leads a user sees is one answer (crm.access) in every door: API list, detail, filters, search,
the admin list and its CSV export. A rep: their own and unassigned leads, or every lead of the workspace
(reading only) when the workspace turns on "Reps may read every lead". A manager: the workspace."""

import csv
import io

import pytest

from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(tenant, other_tenant, rep):
    colleague = UserFactory(tenant=tenant, username="carl")
    return {
        "mine": LeadFactory(tenant=tenant, owner=rep, last_name="Mine", email="mine@shared.example"),
        "free": LeadFactory(tenant=tenant, owner=None, last_name="Free", email="free@shared.example"),
        "carls": LeadFactory(tenant=tenant, owner=colleague, last_name="Carls", email="carls@shared.example"),
        "foreign": LeadFactory(tenant=other_tenant, last_name="Foreign", email="foreign@shared.example"),
    }


def api_names(client, leads, query="") -> set[str]:
    response = client.get(f"/api/v1/leads{query}")
    assert response.status_code == 200, response.content
    shown = {item["id"] for item in response.json()["items"]}
    return {name for name, lead in leads.items() if api_id(lead) in shown}


def admin_names(client, leads) -> set[str]:
    response = client.get("/admin/leads/lead/")
    assert response.status_code == 200
    shown = {lead.pk for lead in response.context["cl"].result_list}
    return {name for name, lead in leads.items() if lead.pk in shown}


def export_names(client, leads) -> set[str]:
    response = client.post("/admin/leads/lead/", {"action": "export_selected_csv", "select_across": "1",
                                                   "index": "0", "_selected_action": [leads["mine"].pk]})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    emails = {row["email"] for row in csv.DictReader(io.StringIO(text))}
    return {name for name, lead in leads.items() if lead.email in emails}


def reads(user, leads, client) -> dict[str, set[str]]:
    api = api_client_for(user)
    client.force_login(user)
    return {
        "api list": api_names(api, leads),
        "api search": api_names(api, leads, "?search=shared.example"),
        "api detail": {name for name, lead in leads.items() if api.get(f"/api/v1/leads/{api_id(lead)}").status_code == 200},
        "admin list": admin_names(client, leads),
        "admin export": export_names(client, leads),
    }


def test_a_rep_sees_her_own_and_unassigned_leads_in_every_door(client, rep, leads):
    assert reads(rep, leads, client) == dict.fromkeys(
        ["api list", "api search", "api detail", "admin list", "admin export"], {"mine", "free"}
    )
    api = api_client_for(UserFactory(tenant=rep.tenant, username="rita2"))  # another rep, nothing of her own
    assert api_names(api, leads, f"?owner={api_id(leads['carls'].owner)}") == set()
    assert api_names(api, leads, "?unassigned=false") == set()


def test_a_manager_sees_the_workspace_in_every_door(client, manager, leads):
    assert reads(manager, leads, client) == dict.fromkeys(
        ["api list", "api search", "api detail", "admin list", "admin export"], {"mine", "free", "carls"}
    )


def test_reps_read_every_lead_when_the_workspace_turns_it_on(client, tenant, rep, leads):
    tenant.reps_read_all_leads = True
    tenant.save()

    assert reads(rep, leads, client) == dict.fromkeys(
        ["api list", "api search", "api detail", "admin list", "admin export"], {"mine", "free", "carls"}
    )
    assert api_names(api_client_for(UserFactory(tenant=tenant, username="rita2")), leads,
                     f"?owner={api_id(leads['carls'].owner)}") == {"carls"}
    # Reading only: her colleague's lead is not hers to change.
    carls = leads["carls"]
    api = api_client_for(UserFactory(tenant=tenant, username="rita3"))
    assert api.patch(f"/api/v1/leads/{api_id(carls)}", {"job_title": "X"}, format="json").status_code == 403
    assert client.get(f"/admin/leads/lead/{carls.pk}/change/").status_code == 200
    assert client.post(f"/admin/leads/lead/{carls.pk}/change/", {"job_title": "X"}).status_code == 403
    carls.refresh_from_db()
    assert carls.job_title != "X"
