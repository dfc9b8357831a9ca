import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.choices import DealStage
from contacts.deals import change_stage
from contacts.models import Deal
from crm.choices import ActivityKind
from crm.models import Activity
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- create, read, update ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/deals", "/api/v1/deals/"])
def test_a_deal_is_created_in_the_callers_tenant(api, tenant, other_tenant, rep, path):
    company = CompanyFactory(tenant=tenant, name="Acme")
    contact = ContactFactory(tenant=tenant, first_name="Ada", last_name="Lovelace", company=company)
    body = {"name": "Pilot", "amount": "5000.00", "currency": "eur", "contact": api_id(contact), "company": api_id(company),
            "owner": api_id(rep), "expected_close_date": "2030-06-30", "tenant": other_tenant.pk, "closed_at": "2020-01-01T00:00:00Z"}

    response = api.post(path, body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    deal = Deal.objects.get(public_id=data["id"])
    assert deal.tenant == tenant
    assert data == {
        "id": api_id(deal), "name": "Pilot", "stage": "qualification", "amount": "5000.00", "currency": "EUR",
        "owner": api_id(rep), "owner_name": "rita", "contact": api_id(contact), "contact_name": "Ada Lovelace",
        "company": api_id(company), "company_name": "Acme", "expected_close_date": "2030-06-30", "closed_at": None,
        "created_at": data["created_at"], "updated_at": data["updated_at"],
    }


def test_creating_a_deal_in_a_closed_stage_sets_closed_at(api):
    response = api.post("/api/v1/deals", {"name": "Done deal", "stage": "closed_won"}, format="json")

    assert response.status_code == 201
    assert response.json()["closed_at"] is not None
    assert Deal.objects.get().closed_at is not None


@pytest.mark.parametrize("suffix", ["", "/"])
def test_put_and_patch(api, tenant, suffix):
    deal = DealFactory(tenant=tenant, name="Old", amount=Decimal("10"))
    url = f"/api/v1/deals/{api_id(deal)}{suffix}"

    put = api.put(url, {"name": "New", "amount": "20.50"}, format="json")
    patch = api.patch(url, {"expected_close_date": "2031-01-31"}, format="json")

    assert put.status_code == 200 and patch.status_code == 200, (put.content, patch.content)
    deal.refresh_from_db()
    assert (deal.name, deal.amount, deal.expected_close_date) == ("New", Decimal("20.50"), dt.date(2031, 1, 31))
    assert deal.closed_at is None
    assert not Activity.objects.exists(), "no stage change, nothing logged"


def test_there_is_no_delete(api, tenant):
    deal = DealFactory(tenant=tenant)

    assert api.delete(f"/api/v1/deals/{api_id(deal)}").status_code == 405


# --- stage changes -------------------------------------------------------------------------


def test_closing_a_deal_sets_closed_at_and_logs_the_change(api, tenant, manager):
    contact = ContactFactory(tenant=tenant)
    deal = DealFactory(tenant=tenant, contact=contact, stage=DealStage.NEGOTIATION)

    response = api.patch(f"/api/v1/deals/{api_id(deal)}", {"stage": "closed_won"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "closed_won"
    assert response.json()["closed_at"] is not None
    deal.refresh_from_db()
    assert deal.closed_at is not None
    stage_entry, customer_entry = Activity.objects.order_by("id")
    assert (stage_entry.kind, stage_entry.deal, stage_entry.contact, stage_entry.actor) == (
        ActivityKind.STATUS_CHANGED, deal, contact, manager
    )
    assert stage_entry.tenant == tenant
    assert stage_entry.data == {"from": "negotiation", "to": "closed_won"}
    # Won: the contact became a customer, on their timeline too (issue 13, document 000).
    assert customer_entry.data == {"from": "active", "to": "customer", "deal_id": deal.pk}


def test_reopening_a_deal_clears_closed_at_and_logs_it(api, tenant):
    deal = DealFactory(tenant=tenant, stage=DealStage.CLOSED_LOST, closed_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))

    response = api.put(f"/api/v1/deals/{api_id(deal)}", {"name": deal.name, "stage": "proposal"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["closed_at"] is None
    deal.refresh_from_db()
    assert (deal.stage, deal.closed_at) == (DealStage.PROPOSAL, None)
    assert Activity.objects.get().data == {"from": "closed_lost", "to": "proposal"}


def test_sending_the_same_stage_changes_nothing(api, tenant):
    closed_at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    deal = DealFactory(tenant=tenant, stage=DealStage.CLOSED_WON, closed_at=closed_at)

    assert api.patch(f"/api/v1/deals/{api_id(deal)}", {"stage": "closed_won", "amount": "7"}, format="json").status_code == 200

    deal.refresh_from_db()
    assert (deal.closed_at, deal.amount) == (closed_at, Decimal("7"))
    assert not Activity.objects.exists()


def test_change_stage_is_the_entry_point_and_keyword_only(tenant, rep):
    deal = DealFactory(tenant=tenant)

    with pytest.raises(TypeError):
        change_stage(deal, DealStage.CLOSED_WON, rep)  # type: ignore[misc]
    won = change_stage(deal=deal, stage=DealStage.CLOSED_WON, actor=rep)
    lost = change_stage(deal=deal, stage=DealStage.CLOSED_LOST, actor=None)

    assert won.closed_at is not None and lost.closed_at >= won.closed_at
    assert Activity.objects.filter(deal=deal, kind=ActivityKind.STATUS_CHANGED).count() == 2


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": "X", "stage": "won-ish"}, "stage"),
        ({"name": "X", "amount": "-1"}, "amount"),
        ({"name": "X", "amount": "lots"}, "amount"),
        ({"name": "X", "currency": "euro"}, "currency"),
        ({"name": "X", "contact": 999999}, "contact"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, body, field):
    response = api.post("/api/v1/deals", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Deal.objects.exists()


@pytest.mark.parametrize("field", ["contact", "company"])
def test_a_contact_or_company_of_another_tenant_is_400(api, tenant, other_tenant, field):
    foreign = {"contact": ContactFactory, "company": CompanyFactory}[field](tenant=other_tenant)
    deal = DealFactory(tenant=tenant)

    created = api.post("/api/v1/deals", {"name": "X", field: api_id(foreign)}, format="json")
    updated = api.patch(f"/api/v1/deals/{api_id(deal)}", {field: api_id(foreign)}, format="json")

    assert created.status_code == 400 and "in your workspace" in created.json()[field][0]
    assert updated.status_code == 400 and field in updated.json()


# --- filters and ordering ------------------------------------------------------------------


def test_filters(api, tenant, rep):
    company = CompanyFactory(tenant=tenant)
    contact = ContactFactory(tenant=tenant)
    small = DealFactory(tenant=tenant, amount=Decimal("100"), owner=rep, company=company,
                        created_at=dt.datetime(2024, 1, 5, tzinfo=dt.UTC))
    big = DealFactory(tenant=tenant, amount=Decimal("90000"), stage=DealStage.PROPOSAL, contact=contact)
    won = DealFactory(tenant=tenant, amount=Decimal("5000"), stage=DealStage.CLOSED_WON,
                      closed_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))

    assert ids(api.get("/api/v1/deals", {"stage": "proposal"})) == [api_id(big)]
    assert set(ids(api.get("/api/v1/deals?stage=proposal&stage=closed_won"))) == {api_id(big), api_id(won)}
    assert ids(api.get("/api/v1/deals", {"owner": api_id(rep)})) == [api_id(small)]
    assert ids(api.get("/api/v1/deals", {"company": api_id(company)})) == [api_id(small)]
    assert ids(api.get("/api/v1/deals", {"contact": api_id(contact)})) == [api_id(big)]
    assert set(ids(api.get("/api/v1/deals", {"open": "true"}))) == {api_id(small), api_id(big)}
    assert ids(api.get("/api/v1/deals", {"open": "false"})) == [api_id(won)]
    assert ids(api.get("/api/v1/deals", {"amount_min": "1000", "amount_max": "10000"})) == [api_id(won)]
    assert ids(api.get("/api/v1/deals", {"created_before": "2024-02-01T00:00:00Z"})) == [api_id(small)]
    assert api.get("/api/v1/deals", {"stage": "nope"}).status_code == 400


def test_ordering(api, tenant):
    a = DealFactory(tenant=tenant, amount=Decimal("300"))
    b = DealFactory(tenant=tenant, amount=Decimal("100"))
    c = DealFactory(tenant=tenant, amount=Decimal("200"))

    assert ids(api.get("/api/v1/deals")) == [api_id(c), api_id(b), api_id(a)], "default: newest first"
    assert ids(api.get("/api/v1/deals", {"ordering": "amount"})) == [api_id(b), api_id(c), api_id(a)]
    assert ids(api.get("/api/v1/deals", {"ordering": "-amount"})) == [api_id(a), api_id(c), api_id(b)]


def test_the_list_query_count_does_not_grow_with_rows(api, tenant, rep, django_assert_max_num_queries):
    def add(count):
        for _ in range(count):
            company = CompanyFactory(tenant=tenant)
            DealFactory(tenant=tenant, owner=rep, company=company, contact=ContactFactory(tenant=tenant, company=company))

    add(5)
    with CaptureQueriesContext(connection) as baseline:
        assert api.get("/api/v1/deals?limit=100").status_code == 200
    add(25)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        assert len(ids(api.get("/api/v1/deals?limit=100"))) == 30


# --- roles and tenants ---------------------------------------------------------------------


def test_a_rep_edits_own_and_unassigned_deals_but_not_a_colleagues(tenant, rep, manager):
    client = api_client_for(rep)
    own = DealFactory(tenant=tenant, owner=rep)
    unassigned = DealFactory(tenant=tenant)
    colleagues = DealFactory(tenant=tenant, owner=manager)

    assert client.patch(f"/api/v1/deals/{api_id(own)}", {"stage": "closed_won"}, format="json").status_code == 200
    assert client.patch(f"/api/v1/deals/{api_id(unassigned)}", {"amount": "1"}, format="json").status_code == 200
    refused = client.patch(f"/api/v1/deals/{api_id(colleagues)}", {"stage": "closed_lost"}, format="json")
    assert refused.status_code == 403
    assert "own and unassigned deals" in refused.json()["detail"]
    colleagues.refresh_from_db()
    assert (colleagues.stage, colleagues.closed_at) == (DealStage.QUALIFICATION, None)
    assert not Activity.objects.filter(deal=colleagues).exists()


@pytest.mark.parametrize("method", ["get", "put", "patch"])
@pytest.mark.parametrize("suffix", ["", "/"])
def test_another_tenants_deal_is_404(api, other_tenant, method, suffix):
    foreign = DealFactory(tenant=other_tenant, name="Theirs")

    response = getattr(api, method)(f"/api/v1/deals/{api_id(foreign)}{suffix}", {"name": "Mine", "stage": "closed_won"},
                                    format="json")

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.name, foreign.stage) == ("Theirs", DealStage.QUALIFICATION)
