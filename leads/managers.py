from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from crm import access
from crm.managers import TenantQuerySet
from crm.models import Tenant

from .choices import OPEN_STATUSES

if TYPE_CHECKING:
    from contacts.models import Company, Contact, Deal
    from crm.models import User

    from .conversion import ConversionResult
    from .models import Lead


class ConfigQuerySet(TenantQuerySet):
    """Rows that capture caches per tenant (rules, models): bulk writes bump the tenant's config version.

    Single saves and deletes do it through signals (leads/rules/config.py); these paths send none.
    """

    def update(self, **kwargs):
        tenants = set(self.values_list("tenant_id", flat=True))
        updated = super().update(**kwargs)
        _bump(tenants)
        return updated

    def bulk_create(self, objs, *args, **kwargs):
        created: list[Any] = super().bulk_create(objs, *args, **kwargs)  # rows of a model with a tenant
        _bump({obj.tenant_id for obj in created})
        return created

    def bulk_update(self, objs, *args, **kwargs):
        updated = super().bulk_update(objs, *args, **kwargs)
        _bump({obj.tenant_id for obj in objs})
        return updated


def _bump(tenant_ids) -> None:
    for tenant_id in tenant_ids:
        Tenant.objects.bump_config_version(tenant_id)


class PredictionModelQuerySet(ConfigQuerySet):
    def active_for(self, tenant_id: int):
        """The tenant's model in use, or None."""
        return self.filter(tenant_id=tenant_id, is_active=True).first()


class LeadQuerySet(TenantQuerySet):
    def open(self):
        """Leads still being worked: new, contacted or qualified."""
        return self.filter(status__in=OPEN_STATUSES)

    def owned_by(self, user):
        """Leads whose owner is this user."""
        return self.filter(owner=user)

    def unassigned(self):
        """Leads with no owner yet."""
        return self.filter(owner__isnull=True)

    def own_or_unassigned(self, user):
        """A rep's share: the leads this user owns and the unassigned pool (none for a user never saved)."""
        if user.pk is None:
            return self.none()  # an unsaved user owns nothing, and Django refuses it in a filter
        return self.filter(Q(owner=user) | Q(owner__isnull=True))

    def editable_by(self, user):
        """What this user may change (crm.access decides: a rep their own and unassigned leads, a manager the tenant)."""
        return access.changeable(user, self)

    def with_email(self, email: str):
        """Leads with this (already normalised) email."""
        return self.filter(email=email) if email else self.none()


_LeadManagerBase = models.Manager.from_queryset(LeadQuerySet)  # named: the mypy plugin reads it only so


class LeadManager(_LeadManagerBase):
    def convert(
        self,
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
        """Turn an open lead into a contact (+ company, + deal) in one transaction; idempotent.

        `contact`, `company` and `deal` attach existing rows of the lead's tenant instead of creating them; an
        attached deal must not belong to another contact or company than the ones the lead becomes.
        """
        from .conversion import convert_lead

        return convert_lead(
            lead=lead,
            actor=actor,
            create_deal=create_deal,
            deal_name=deal_name,
            amount=amount,
            contact=contact,
            company=company,
            deal=deal,
        )
