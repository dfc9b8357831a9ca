"""Privacy records: who read personal data (AccessRecord), the requests a person made about their
data (PrivacyRequest, without the data itself) and the hashed suppression list an import consults.
docs/privacy.md describes them; the services are crm/audit.py and leads/privacy/."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccessDoor(models.TextChoices):
    API = "api", "API"
    ADMIN = "admin", "Admin"
    EXPORT = "export", "CSV export"
    PRIVACY = "privacy", "Data-subject request"


class AppendOnly(Exception):
    """An access record is never changed or deleted row by row (retention purges them in bulk)."""


class AccessRecord(models.Model):
    """One read of personal data: who, when, through which door and address, and which rows (or which filter)."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    door = models.CharField(max_length=10, choices=AccessDoor.choices)
    address = models.GenericIPAddressField(null=True, blank=True)
    model = models.CharField(max_length=60, help_text="app_label.model of the rows read, e.g. leads.lead.")
    # Public ids, space-separated: one row per request even for a list page, searchable on every database.
    object_ids = models.TextField(blank=True)
    count = models.PositiveIntegerField(default=0, help_text="How many rows were read.")
    query = models.CharField(max_length=500, blank=True, help_text="The list's filter (query string), if any.")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "-at"], name="accessrecord_tenant_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_door_display()} {self.model} x{self.count} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Access records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Access records are append-only.")


class PrivacyRequestKind(models.TextChoices):
    EXPORT = "export", "Export (access, portability)"
    ERASE = "erase", "Erasure"


class PrivacyRequest(models.Model):
    """A data-subject request answered: what, when, by whom and how much; never the person's data."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=PrivacyRequestKind.choices)
    subject_hash = models.CharField(max_length=64, help_text="Keyed hash of the email, to find repeated requests.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    door = models.CharField(max_length=20, help_text="command, admin or api.")
    counts = models.JSONField(default=dict, blank=True, help_text="Rows found (export) or changed (erasure), by kind.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"


class Suppression(models.Model):
    """An erased person's email, hashed: an import skips it; a form submission with consent lifts it."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    email_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "email_hash"], name="suppression_unique_per_tenant")]

    def __str__(self) -> str:
        return f"suppressed {self.email_hash[:12]}…"


def subject_hash(tenant_id: int, email: str) -> str:
    """The pseudonymous key of a person in a workspace (suppression list, request log): SHA-256 of workspace and email."""
    return hashlib.sha256(f"crm-privacy:{tenant_id}:{email.strip().lower()}".encode()).hexdigest()


def suppressed_emails(tenant_id: int, emails) -> set[str]:
    """Those of `emails` an erasure put on the workspace's suppression list (one query)."""
    by_hash = {subject_hash(tenant_id, email): email for email in emails if email}
    if not by_hash:
        return set()
    found = Suppression.objects.filter(tenant_id=tenant_id, email_hash__in=list(by_hash)).values_list(
        "email_hash", flat=True
    )
    return {by_hash[value] for value in found}
