"""Lead -> contact (+ company, + deal): the one way a lead is converted, whatever the door."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from contacts.choices import CLOSED_STAGES, DealStage
from contacts.companies import company_key, find_companies
from contacts.deals import settle_deal
from contacts.models import Company, Contact, Deal
from crm import timeline
from crm.access import check_change
from crm.choices import ActivityKind, EventType
from crm.models import Activity, User
from crm.public_ids import public_id_of

from .choices import OPEN_STATUSES, STRICT_MIN_PROBABILITY, LeadStatus
from .lifecycle import PIPELINE, Rule
from .locks import lock_lead
from .first_contact import note_first_contact
from .models import Lead


class ConversionError(Exception):
    """A conversion that cannot go ahead; the message says why and what to do."""


class LeadNotConvertible(ConversionError):
    """The lead's state forbids conversion (disqualified, or the strict pipeline's bar not met); `rule` names why."""

    def __init__(self, message: str, *, rule: str):
        super().__init__(message)
        self.rule = rule


class ConversionInputError(ConversionError):
    """The caller named something that cannot be used; `field` says which argument."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ConversionResult:
    lead_id: int
    contact_id: int
    company_id: int | None
    deal_id: int | None
    converted_at: dt.datetime
    created: bool
    # The same rows by the ids the API and events show (issue 13): lead_id, contact_id, company_id, deal_id.
    public_ids: dict = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, lead: Lead, *, created: bool) -> ConversionResult:
        assert lead.converted_contact_id is not None and lead.converted_at is not None  # a converted lead
        return cls(
            lead_id=lead.pk,
            contact_id=lead.converted_contact_id,
            company_id=lead.converted_company_id,
            deal_id=lead.converted_deal_id,
            converted_at=lead.converted_at,
            created=created,
            public_ids=_public_ids(lead, lead.converted_contact, lead.converted_company, lead.converted_deal),
        )

    def as_dict(self) -> dict:
        """Internal ids (admin, commands)."""
        data = asdict(self)
        del data["created"], data["public_ids"]
        return data

    def public_dict(self) -> dict:
        """As the API and events show it: public ids."""
        return {**self.public_ids, "converted_at": self.converted_at}


def _public_ids(lead: Lead, contact: Contact | None, company: Company | None, deal: Deal | None) -> dict:
    return {
        "lead_id": public_id_of(lead),
        "contact_id": public_id_of(contact),
        "company_id": public_id_of(company),
        "deal_id": public_id_of(deal),
    }


class _LostRace(Exception):
    """Another transaction converted the lead between our check and our write."""


def convert_lead(
    *,
    lead: Lead,
    actor: User | None = None,
    create_deal: bool = True,
    deal_name: str = "",
    amount: Decimal | None = None,
    contact: Contact | None = None,
    company: Company | None = None,
    deal: Deal | None = None,
) -> ConversionResult:
    try:
        with transaction.atomic():
            return _convert_locked(
                lead_id=lead.pk,
                actor=actor,
                create_deal=create_deal,
                deal_name=deal_name,
                amount=amount,
                contact=contact,
                company=company,
                deal=deal,
            )
    except _LostRace:
        return ConversionResult.of(Lead.objects.get(pk=lead.pk), created=False)


def _convert_locked(
    *,
    lead_id: int,
    actor: User | None,
    create_deal: bool,
    deal_name: str,
    amount: Decimal | None,
    contact: Contact | None,
    company: Company | None,
    deal: Deal | None,
) -> ConversionResult:
    # PostgreSQL: the row lock queues concurrent conversions. SQLite: the IMMEDIATE
    # transaction already holds the database write lock; the conditional UPDATE below guards both.
    lead = lock_lead(lead_id)
    check_change(actor, lead)
    if lead.status == LeadStatus.CONVERTED:
        return ConversionResult.of(lead, created=False)
    _check_convertible(lead)
    _check_same_tenant(lead, contact=contact, company=company, deal=deal)
    _check_deal_arguments(deal, create_deal=create_deal, deal_name=deal_name, amount=amount)
    # What the caller names is attached, and may be filled in: it must be theirs to change (crm.access).
    for row in (contact, company):
        if row is not None:
            check_change(actor, row)
    if deal is not None:
        # Read again under a lock: its contact and company are checked below and may be filled in.
        deal = Deal.objects.select_for_update().filter(pk=deal.pk, tenant_id=lead.tenant_id).first()
        if deal is None:
            raise ConversionInputError("deal_id", "No such deal in this workspace (it was deleted).")
        check_change(actor, deal)

    contact = contact or _find_or_create_contact(lead)
    company = company or contact.company or _find_or_create_company(lead)
    # Checked once the contact and company are known; a refusal rolls back the contact or company just made.
    _check_deal_fits(deal, contact=contact, company=company)
    if company is not None and contact.company_id is None:
        contact.company = company
        contact.save(update_fields=["company", "updated_at"])
    attached = deal is not None
    if deal is not None:  # attached
        _complete_deal(deal, contact=contact, company=company)
    elif create_deal:
        deal = _create_deal(lead, contact=contact, company=company, actor=actor, name=deal_name, amount=amount)
    if deal is not None:
        settle_deal(deal=deal, actor=actor)  # an attached won deal makes the contact a customer

    now = timezone.now()
    claimed = Lead.objects.filter(pk=lead.pk, status__in=OPEN_STATUSES).update(
        status=LeadStatus.CONVERTED,
        converted_at=now,
        converted_contact=contact,
        converted_company=company,
        converted_deal=deal,
        last_activity_at=now,
        updated_at=now,
    )
    if claimed != 1:
        raise _LostRace

    Activity.objects.filter(lead=lead, contact__isnull=True).update(contact=contact)
    timeline.activity(
        tenant=lead.tenant,
        lead=lead,
        contact=contact,
        deal=deal,
        kind=ActivityKind.CONVERTED,
        subject="Converted to contact",
        body=_describe(contact=contact, company=company, deal=deal, deal_attached=attached),
        actor=actor,
        occurred_at=now,
    ).save()
    note_first_contact(lead_id=lead.pk, at=now)
    result = ConversionResult(
        lead_id=lead.pk,
        contact_id=contact.pk,
        company_id=company.pk if company else None,
        deal_id=deal.pk if deal else None,
        converted_at=now,
        created=True,
        public_ids=_public_ids(lead, contact, company, deal),
    )
    timeline.event(
        tenant=lead.tenant,
        type=EventType.LEAD_CONVERTED,
        payload={**result.public_ids, "email": lead.email, "source": lead.source, "converted_at": now.isoformat(),
                 "actor_id": public_id_of(actor)},
        created_at=now,
    ).save()
    return result


def _check_convertible(lead: Lead) -> None:
    """The handoff to sales: never for a disqualified lead; with the strict pipeline (document 004's rules)
    only from qualified, with a predicted probability of at least 0.6 and a known industry."""
    if lead.status == LeadStatus.DISQUALIFIED:
        raise LeadNotConvertible(
            f"Lead {lead.public_id} is disqualified ({lead.disqualification_reason}); a disqualified lead cannot be converted.",
            rule=Rule.FINAL,
        )
    if lead.tenant.strict_pipeline:
        if lead.status != LeadStatus.QUALIFIED:
            raise LeadNotConvertible(
                f"Strict pipeline: lead {lead.pk} cannot be handed to sales yet: it is {lead.status}, and only a "
                f"qualified lead is handed over ({' -> '.join(PIPELINE)} -> converted).",
                rule=Rule.HANDOFF_FROM_QUALIFIED,
            )
        missing = []
        if lead.probability is None or lead.probability < STRICT_MIN_PROBABILITY:
            shown = "none" if lead.probability is None else f"{lead.probability:.2f}"
            missing.append(f"predicted probability is {shown}, needs at least {STRICT_MIN_PROBABILITY}")
        if not lead.industry:
            missing.append("industry is unknown")
        if missing:
            raise LeadNotConvertible(
                f"Strict pipeline: lead {lead.public_id} cannot be handed to sales yet: {'; '.join(missing)}.",
                rule=Rule.HANDOFF_GATE,
            )


def _check_same_tenant(lead: Lead, *, contact: Contact | None, company: Company | None, deal: Deal | None) -> None:
    if contact is not None and contact.tenant_id != lead.tenant_id:
        raise ConversionInputError("contact_id", "No such contact in this workspace.")
    if company is not None and company.tenant_id != lead.tenant_id:
        raise ConversionInputError("company_id", "No such company in this workspace.")
    if deal is not None and deal.tenant_id != lead.tenant_id:
        raise ConversionInputError("deal_id", "No such deal in this workspace.")


def _check_deal_arguments(deal: Deal | None, *, create_deal: bool, deal_name: str, amount: Decimal | None) -> None:
    if deal is None:
        return
    if not create_deal:
        raise ConversionInputError("deal_id", "A deal to attach and create_deal=False contradict each other; pass one.")
    if deal_name or amount is not None:
        raise ConversionInputError(
            "deal_id", f"The deal {deal} is attached as it is: a deal name and amount are only for a new deal."
        )


def attachable_deals(*, tenant_id: int, contact: Contact | None, company: Company | None) -> QuerySet[Deal]:
    """Open deals a conversion to this contact and company may attach: theirs, and of no other contact or company.

    `contact` None stands for a contact the conversion creates (so it has no deals yet); likewise `company`.
    """
    if contact is None and company is None:
        return Deal.objects.none()
    no_other_contact = (Q(contact__isnull=True) | Q(contact=contact)) if contact else Q(contact__isnull=True)
    no_other_company = (Q(company__isnull=True) | Q(company=company)) if company else Q(company__isnull=True)
    theirs = (Q(contact=contact) if contact else Q(pk__in=[])) | (Q(company=company) if company else Q(pk__in=[]))
    return (
        Deal.objects.filter(tenant_id=tenant_id)
        .exclude(stage__in=CLOSED_STAGES)
        .filter(theirs, no_other_contact, no_other_company)
        .select_related("contact", "company")
    )


def _check_deal_fits(deal: Deal | None, *, contact: Contact, company: Company | None) -> None:
    """The same rule as attachable_deals, stage aside: a deal of someone else is never taken over."""
    if deal is None:
        return
    if deal.contact_id is not None and deal.contact_id != contact.pk:
        raise ConversionInputError(
            "deal_id",
            f"The deal {deal} belongs to the contact {deal.contact}, not to {contact}, whom the lead becomes.",
        )
    if deal.company_id is not None and deal.company_id != (company.pk if company else None):
        becomes = f"the company {company}" if company else "no company"
        raise ConversionInputError(
            "deal_id", f"The deal {deal} belongs to the company {deal.company}, but the lead becomes {becomes}."
        )


def _complete_deal(deal: Deal, *, contact: Contact, company: Company | None) -> None:
    """An attached deal missing its contact or company gets the ones the lead became."""
    changed = []
    if deal.contact_id is None:
        deal.contact = contact
        changed.append("contact")
    if deal.company_id is None and company is not None:
        deal.company = company
        changed.append("company")
    if changed:
        deal.save(update_fields=[*changed, "updated_at"])


def _find_or_create_contact(lead: Lead) -> Contact:
    fields = {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "phone": lead.phone,
        "job_title": lead.job_title,
        "owner": lead.owner,
        # The consent goes with the person (docs/privacy.md): when, how and which wording too.
        **{name: getattr(lead, name) for name in ("marketing_consent", "consent_at", "consent_source", "consent_wording")},
    }
    if not lead.email:
        return Contact.objects.create(tenant=lead.tenant, email="", **fields)
    contact, _ = Contact.objects.select_related("company").get_or_create(
        tenant=lead.tenant, email=lead.email, defaults=fields
    )
    return contact


def _find_or_create_company(lead: Lead) -> Company | None:
    key = company_key(website=lead.website, email=lead.email, name=lead.company)
    if not key:
        return None
    domain, name = key
    existing = find_companies(tenant_id=lead.tenant_id, keys=[key]).get(key)
    if existing is not None:
        if domain and not existing.domain:
            existing.domain = domain
            existing.save(update_fields=["domain", "updated_at"])
        return existing
    try:
        with transaction.atomic():
            return Company.objects.create(
                tenant=lead.tenant,
                name=name or domain,
                domain=domain,
                website=lead.website,
                industry=lead.industry,
                employee_count=lead.employee_count,
                annual_revenue=lead.annual_revenue,
                country=lead.country,
                owner=lead.owner,
            )
    except IntegrityError:
        # A concurrent conversion created the same company first; use theirs.
        return find_companies(tenant_id=lead.tenant_id, keys=[key])[key]


def _create_deal(
    lead: Lead, *, contact: Contact, company: Company | None, actor: User | None, name: str, amount: Decimal | None
) -> Deal:
    owner = lead.owner or (actor if actor is not None and actor.tenant_id == lead.tenant_id else None)
    return Deal.objects.create(
        tenant=lead.tenant,
        name=name or f"{company.name if company else contact} deal",
        stage=DealStage.QUALIFICATION,
        amount=amount,
        owner=owner,
        contact=contact,
        company=company,
    )


def _describe(*, contact: Contact, company: Company | None, deal: Deal | None, deal_attached: bool) -> str:
    parts = [f"Contact: {contact}"]
    if company is not None:
        parts.append(f"Company: {company}")
    if deal is not None:
        parts.append(f"Deal: {deal}{' (existing)' if deal_attached else ''}")
    return "; ".join(parts)
