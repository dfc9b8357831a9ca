from django.db.models.functions import Lower

from crm.managers import TenantQuerySet


class CompanyQuerySet(TenantQuerySet):
    def matching(self, *, domain: str = "", name: str = ""):
        """Companies that are the same organisation: same domain, or same name ignoring case."""
        if domain:
            found = self.filter(domain=domain)
            if found.exists():
                return found
        if name:
            return self.annotate(name_lower=Lower("name")).filter(name_lower=name.strip().lower())
        return self.none()


class ContactQuerySet(TenantQuerySet):
    def with_email(self, email: str):
        """Contacts with this (already normalised) email."""
        return self.filter(email=email) if email else self.none()


class DealQuerySet(TenantQuerySet):
    def open(self):
        """Deals not yet won or lost."""
        return self.filter(closed_at__isnull=True)
