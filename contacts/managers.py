from django.db.models.functions import Lower

from crm.managers import TenantQuerySet


class CompanyQuerySet(TenantQuerySet):
    def named(self, *names: str):
        """Companies with one of these names, ignoring case and surrounding spaces (as their unique constraint)."""
        wanted = {name.strip().lower() for name in names if name.strip()}
        return self.annotate(name_lower=Lower("name")).filter(name_lower__in=wanted) if wanted else self.none()


class ContactQuerySet(TenantQuerySet):
    def with_email(self, email: str):
        """Contacts with this (already normalised) email."""
        return self.filter(email=email) if email else self.none()


class DealQuerySet(TenantQuerySet):
    def open(self):
        """Deals not yet won or lost."""
        return self.filter(closed_at__isnull=True)
