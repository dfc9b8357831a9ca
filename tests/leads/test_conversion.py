from decimal import Decimal
from unittest import mock

import pytest

from contacts.models import Company, Contact, Deal
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.choices import LeadStatus
from leads.conversion import ConversionInputError, LeadNotConvertible
from leads.models import Lead
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, LeadFactory

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
    assert event.payload["lead_id"] == lead.pk
    assert event.payload["contact_id"] == result.contact_id
    assert event.payload["deal_id"] == result.deal_id

    with mock.patch("leads.conversion.Event.objects.create", side_effect=RuntimeError("outbox full")):
        other = LeadFactory(tenant=tenant)
        with pytest.raises(RuntimeError):
            Lead.objects.convert(lead=other)
    other.refresh_from_db()
    assert other.status == LeadStatus.NEW, "no conversion without its event"


def test_strict_pipeline_refuses_a_lead_without_probability_or_industry(tenant):
    tenant.strict_pipeline = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, industry="", probability=0.4)

    with pytest.raises(LeadNotConvertible) as error:
        Lead.objects.convert(lead=lead)

    assert "0.40" in str(error.value) and "industry" in str(error.value)
    ready = LeadFactory(tenant=tenant, industry="Software", probability=0.75)
    assert Lead.objects.convert(lead=ready).created is True
