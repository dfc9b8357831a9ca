from decimal import Decimal
from unittest import mock

import pytest

from contacts.models import Company, Contact, Deal
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.choices import LeadStatus
from leads.conversion import ConversionInputError, LeadNotConvertible, attachable_deals
from leads.models import Lead
from tests.api_ids import api_id
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory, LeadFactory

pytestmark = pytest.mark.django_db


def counts() -> dict:
    return {
        "contacts": Contact.objects.count(),
        "companies": Company.objects.count(),
        "deals": Deal.objects.count(),
        "events": Event.objects.filter(type=EventType.LEAD_CONVERTED).count(),
        "converted_activities": Activity.objects.filter(kind=ActivityKind.CONVERTED).count(),
    }


def test_converting_an_open_lead_creates_contact_company_and_deal(tenant, manager):
    lead = LeadFactory(
        tenant=tenant, first_name="Ada", last_name="Lovelace", email="ada@analytical.example",
        phone="+442071234567", job_title="CTO", company="Analytical Engines", owner=manager,
    )

    result = Lead.objects.convert(lead=lead, actor=manager, amount=Decimal("12000"))

    lead.refresh_from_db()
    contact = Contact.objects.get(pk=result.contact_id)
    company = Company.objects.get(pk=result.company_id)
    deal = Deal.objects.get(pk=result.deal_id)
    assert result.created is True
    assert (contact.first_name, contact.last_name, contact.email, contact.phone, contact.job_title) == (
        "Ada", "Lovelace", "ada@analytical.example", "+442071234567", "CTO",
    )
    assert contact.tenant == tenant and contact.company == company
    assert (company.name, company.domain) == ("Analytical Engines", "analytical.example")
    assert (deal.contact, deal.company, deal.amount, deal.owner, deal.stage) == (
        contact, company, Decimal("12000"), manager, "qualification",
    )
    assert lead.status == LeadStatus.CONVERTED
    assert lead.converted_at == result.converted_at
    assert (lead.converted_contact, lead.converted_company, lead.converted_deal) == (contact, company, deal)
    assert list(contact.source_leads.all()) == [lead]


def test_converting_again_returns_the_first_result_and_creates_nothing(tenant):
    lead = LeadFactory(tenant=tenant)
    first = Lead.objects.convert(lead=lead)
    before = counts()

    again = Lead.objects.convert(lead=lead)

    assert again.created is False
    assert again.as_dict() == first.as_dict()
    assert counts() == before


def test_attaches_to_the_contact_with_the_same_email(tenant):
    existing = ContactFactory(tenant=tenant, email="grace@navy.example", first_name="Grace")
    lead = LeadFactory(tenant=tenant, email="grace@navy.example", first_name="G.", company="")

    result = Lead.objects.convert(lead=lead)

    assert result.contact_id == existing.pk
    assert Contact.objects.filter(tenant=tenant).count() == 1
    existing.refresh_from_db()
    assert existing.first_name == "Grace", "an existing contact's details are not overwritten"


def test_attaches_to_the_company_with_the_same_domain(tenant):
    company = CompanyFactory(tenant=tenant, name="Initech Holdings", domain="initech.example")
    lead = LeadFactory(tenant=tenant, email="peter@initech.example", company="Initech")

    result = Lead.objects.convert(lead=lead)

    assert result.company_id == company.pk
    assert Company.objects.filter(tenant=tenant).count() == 1


def test_attaches_to_the_company_with_the_same_name_ignoring_case(tenant):
    company = CompanyFactory(tenant=tenant, name="Umbrella Corp", domain="")
    lead = LeadFactory(tenant=tenant, email="alice@gmail.com", company="  UMBRELLA corp ")

    result = Lead.objects.convert(lead=lead)

    assert result.company_id == company.pk


def test_a_free_mail_domain_does_not_make_a_company(tenant):
    lead = LeadFactory(tenant=tenant, email="someone@gmail.com", company="", website="")

    result = Lead.objects.convert(lead=lead)

    assert result.company_id is None
    assert not Company.objects.exists()


def test_uses_the_contact_and_company_the_caller_names(tenant):
    contact = ContactFactory(tenant=tenant, email="owner@elsewhere.example")
    company = CompanyFactory(tenant=tenant, name="Chosen Co")
    lead = LeadFactory(tenant=tenant, email="new@another.example", company="Another")

    result = Lead.objects.convert(lead=lead, contact=contact, company=company)

    assert (result.contact_id, result.company_id) == (contact.pk, company.pk)
    assert Contact.objects.count() == 1 and Company.objects.count() == 1


def test_refuses_a_contact_of_another_tenant(tenant, other_tenant):
    foreign = ContactFactory(tenant=other_tenant)
    lead = LeadFactory(tenant=tenant)

    with pytest.raises(ConversionInputError) as error:
        Lead.objects.convert(lead=lead, contact=foreign)

    assert error.value.field == "contact_id"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_no_deal_when_told_not_to(tenant):
    lead = LeadFactory(tenant=tenant)

    result = Lead.objects.convert(lead=lead, create_deal=False)

    assert result.deal_id is None
    assert not Deal.objects.exists()


def test_a_disqualified_lead_is_refused_and_nothing_is_created(tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="Student, no budget")

    with pytest.raises(LeadNotConvertible, match="disqualified"):
        Lead.objects.convert(lead=lead)

    assert counts() == {k: 0 for k in counts()}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_a_failure_after_the_contact_is_created_rolls_everything_back(tenant):
    lead = LeadFactory(tenant=tenant, company="Rollback Ltd")
    note = ActivityFactory(lead=lead)

    with mock.patch("leads.conversion._create_deal", side_effect=RuntimeError("deal service down")):
        with pytest.raises(RuntimeError):
            Lead.objects.convert(lead=lead)

    assert counts() == {k: 0 for k in counts()}
    lead.refresh_from_db()
    note.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.converted_contact_id is None and lead.converted_at is None
    assert note.contact_id is None

    result = Lead.objects.convert(lead=lead)  # and it converts cleanly once the fault is gone
    assert result.created is True


def test_moves_the_leads_activities_onto_the_contacts_timeline(tenant, manager):
    lead = LeadFactory(tenant=tenant)
    call = ActivityFactory(lead=lead, kind=ActivityKind.CALL, body="Discovery call")
    note = ActivityFactory(lead=lead, kind=ActivityKind.NOTE, body="Budget approved")

    result = Lead.objects.convert(lead=lead, actor=manager)

    contact = Contact.objects.get(pk=result.contact_id)
    timeline = list(contact.activities.order_by("id"))
    assert [a.pk for a in timeline[:2]] == [call.pk, note.pk]
    converted = timeline[-1]
    assert converted.kind == ActivityKind.CONVERTED
    assert (converted.lead_id, converted.deal_id, converted.actor) == (lead.pk, result.deal_id, manager)


def test_writes_a_lead_converted_event_in_the_same_transaction(tenant):
    lead = LeadFactory(tenant=tenant)

    result = Lead.objects.convert(lead=lead)

    event = Event.objects.get(type=EventType.LEAD_CONVERTED)
    assert event.tenant == tenant and event.delivered_at is None
    assert event.payload["lead_id"] == api_id(lead)
    assert event.payload["contact_id"] == result.public_ids["contact_id"]
    assert event.payload["deal_id"] == result.public_ids["deal_id"]

    with mock.patch("crm.timeline.event", side_effect=RuntimeError("outbox full")):
        other = LeadFactory(tenant=tenant)
        with pytest.raises(RuntimeError):
            Lead.objects.convert(lead=other)
    other.refresh_from_db()
    assert other.status == LeadStatus.NEW, "no conversion without its event"


def test_strict_pipeline_refuses_a_lead_without_probability_or_industry(tenant):
    tenant.strict_pipeline = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED, industry="", probability=0.4)

    with pytest.raises(LeadNotConvertible) as error:
        Lead.objects.convert(lead=lead)

    assert "0.40" in str(error.value) and "industry" in str(error.value)
    assert error.value.rule == "handoff_gate"
    ready = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED, industry="Software", probability=0.75)
    assert Lead.objects.convert(lead=ready).created is True


@pytest.mark.parametrize("status", [LeadStatus.NEW, LeadStatus.CONTACTED])
def test_strict_pipeline_hands_only_a_qualified_lead_to_sales(tenant, status):
    """Issue 13 (document 004): a lead still at new was converted; the handoff comes from qualified only."""
    tenant.strict_pipeline = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, status=status, industry="Software", probability=0.9)

    with pytest.raises(LeadNotConvertible) as error:
        Lead.objects.convert(lead=lead)

    assert f"it is {status}" in str(error.value) and "qualified" in str(error.value)
    assert error.value.rule == "handoff_from_qualified"
    lead.refresh_from_db()
    assert lead.status == status
    assert counts() == {"contacts": 0, "companies": 0, "deals": 0, "events": 0, "converted_activities": 0}


def test_without_strict_pipeline_any_open_lead_converts(tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.NEW, industry="", probability=None)

    assert Lead.objects.convert(lead=lead).created is True


# --- attaching an existing deal ---


def everything() -> dict:
    """What a refused conversion must leave exactly as it was: every row it could create or change."""
    return {
        **counts(),
        "activities": sorted(Activity.objects.values_list("pk", "contact_id", "deal_id")),
        "deals_now": sorted(Deal.objects.values_list("pk", "name", "contact_id", "company_id", "amount")),
        "contacts_now": sorted(Contact.objects.values_list("pk", "company_id")),
    }


@pytest.fixture
def acme(tenant):
    return CompanyFactory(tenant=tenant, name="Acme", domain="acme.example")


def test_attaches_an_existing_deal_instead_of_creating_one(tenant, manager, acme):
    grace = ContactFactory(tenant=tenant, email="grace@acme.example", company=acme)
    pilot = DealFactory(tenant=tenant, name="Acme pilot", contact=grace, company=acme, amount=Decimal("900"))
    lead = LeadFactory(tenant=tenant, email="grace@acme.example", company="Acme")
    call = ActivityFactory(lead=lead, kind=ActivityKind.CALL)

    result = Lead.objects.convert(lead=lead, actor=manager, deal=pilot)

    lead.refresh_from_db()
    pilot.refresh_from_db()
    assert (result.contact_id, result.company_id, result.deal_id) == (grace.pk, acme.pk, pilot.pk)
    assert lead.converted_deal == pilot and Deal.objects.count() == 1
    assert (pilot.name, pilot.amount, pilot.contact, pilot.company) == ("Acme pilot", Decimal("900"), grace, acme)
    converted = Activity.objects.get(kind=ActivityKind.CONVERTED)
    assert converted.deal == pilot and "Deal: Acme pilot (existing)" in converted.body
    assert Event.objects.get(type=EventType.LEAD_CONVERTED).payload["deal_id"] == api_id(pilot)
    call.refresh_from_db()
    assert call.contact == grace


def test_an_attached_company_deal_gets_the_new_contact(tenant, acme):
    expansion = DealFactory(tenant=tenant, name="Acme expansion", company=acme)
    lead = LeadFactory(tenant=tenant, email="new@acme.example", company="Acme")

    result = Lead.objects.convert(lead=lead, deal=expansion)

    expansion.refresh_from_db()
    assert result.deal_id == expansion.pk and result.company_id == acme.pk
    assert expansion.contact_id == result.contact_id and expansion.company == acme


def test_converting_again_with_a_deal_returns_the_first_result(tenant, acme):
    first_deal = DealFactory(tenant=tenant, company=acme)
    second_deal = DealFactory(tenant=tenant, company=acme)
    lead = LeadFactory(tenant=tenant, email="new@acme.example", company="Acme")
    first = Lead.objects.convert(lead=lead, deal=first_deal)
    before = everything()

    again = Lead.objects.convert(lead=lead, deal=first_deal)
    other = Lead.objects.convert(lead=lead, deal=second_deal)

    assert again.created is False and other.created is False
    assert again.as_dict() == other.as_dict() == first.as_dict()
    assert everything() == before


def test_refuses_a_deal_of_another_tenant(tenant, other_tenant):
    foreign = DealFactory(tenant=other_tenant, name="Globex secret")
    lead = LeadFactory(tenant=tenant)
    before = everything()

    with pytest.raises(ConversionInputError, match="No such deal in this workspace") as error:
        Lead.objects.convert(lead=lead, deal=foreign)

    assert error.value.field == "deal_id"
    assert everything() == before
    lead.refresh_from_db()
    assert (lead.status, lead.converted_deal_id) == (LeadStatus.NEW, None)


def test_refuses_a_deal_of_another_contact_and_writes_nothing(tenant, acme):
    someone = ContactFactory(tenant=tenant, first_name="Sam", last_name="Else", email="sam@acme.example")
    sams_deal = DealFactory(tenant=tenant, name="Sam's deal", contact=someone, company=acme)
    lead = LeadFactory(tenant=tenant, first_name="Nora", last_name="New", email="nora@acme.example", company="Acme")
    note = ActivityFactory(lead=lead)
    before = everything()

    # The contact for Nora is created before the deal can be checked against it: all of it is rolled back.
    with pytest.raises(ConversionInputError) as error:
        Lead.objects.convert(lead=lead, deal=sams_deal)

    assert error.value.field == "deal_id"
    assert str(error.value) == (
        "The deal Sam's deal belongs to the contact Sam Else, not to Nora New, whom the lead becomes."
    )
    assert everything() == before
    lead.refresh_from_db()
    note.refresh_from_db()
    assert (lead.status, lead.converted_contact_id, note.contact_id) == (LeadStatus.NEW, None, None)


def test_refuses_a_deal_of_another_company_and_writes_nothing(tenant, acme):
    initech = CompanyFactory(tenant=tenant, name="Initech", domain="initech.example")
    initech_deal = DealFactory(tenant=tenant, name="Initech renewal", company=initech)
    lead = LeadFactory(tenant=tenant, email="nora@acme.example", company="Acme")
    before = everything()

    with pytest.raises(ConversionInputError) as error:
        Lead.objects.convert(lead=lead, deal=initech_deal)

    assert error.value.field == "deal_id"
    assert "belongs to the company Initech, but the lead becomes the company Acme" in str(error.value)
    assert everything() == before
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_refuses_a_company_deal_when_the_lead_becomes_no_company(tenant, acme):
    acme_deal = DealFactory(tenant=tenant, name="Acme deal", company=acme)
    lead = LeadFactory(tenant=tenant, email="solo@gmail.com", company="")

    with pytest.raises(ConversionInputError, match="but the lead becomes no company"):
        Lead.objects.convert(lead=lead, deal=acme_deal)

    assert Contact.objects.count() == 0 and Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"create_deal": False}, "contradict"),
        ({"deal_name": "Renamed"}, "only for a new deal"),
        ({"amount": Decimal("10")}, "only for a new deal"),
    ],
)
def test_refuses_new_deal_arguments_with_a_deal_to_attach(tenant, acme, arguments, words):
    deal = DealFactory(tenant=tenant, name="Acme deal", company=acme)
    lead = LeadFactory(tenant=tenant, email="nora@acme.example", company="Acme")
    before = everything()

    with pytest.raises(ConversionInputError, match=words) as error:
        Lead.objects.convert(lead=lead, deal=deal, **arguments)

    assert error.value.field == "deal_id" and everything() == before


def test_attachable_deals_are_the_open_deals_of_that_contact_or_company_only(tenant, other_tenant, acme):
    grace = ContactFactory(tenant=tenant, email="grace@acme.example", company=acme)
    sam = ContactFactory(tenant=tenant, email="sam@acme.example", company=acme)
    graces = DealFactory(tenant=tenant, contact=grace, company=acme)
    companys = DealFactory(tenant=tenant, company=acme)
    contacts_only = DealFactory(tenant=tenant, contact=grace)
    DealFactory(tenant=tenant, contact=sam, company=acme)  # another person's
    DealFactory(tenant=tenant, contact=grace, company=acme, stage="closed_won")  # closed
    DealFactory(tenant=tenant)  # nobody's
    DealFactory(tenant=other_tenant, company=acme)  # cannot happen through the admin, and is never offered

    assert set(attachable_deals(tenant_id=tenant.pk, contact=grace, company=acme)) == {
        graces, companys, contacts_only
    }
    assert set(attachable_deals(tenant_id=tenant.pk, contact=None, company=acme)) == {companys}
    assert not attachable_deals(tenant_id=tenant.pk, contact=None, company=None).exists()
