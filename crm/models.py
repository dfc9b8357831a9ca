from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import ActivityKind, EventType, Role
from .managers import ActivityQuerySet, EventQuerySet, TenantManager
from .outbox import relay_soon


class Tenant(models.Model):
    """A customer workspace; every business row belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    strict_pipeline = models.BooleanField(
        default=False,
        help_text="No skipped lifecycle steps; conversion needs a known industry and a high predicted probability.",
    )
    score_warm_threshold = models.PositiveSmallIntegerField(default=40, help_text="Scores from here up are warm.")
    score_hot_threshold = models.PositiveSmallIntegerField(default=70, help_text="Scores from here up are hot.")
    auto_qualify_threshold = models.PositiveSmallIntegerField(
        default=80, help_text="An open lead reaching this score becomes qualified."
    )
    config_version = models.CharField(
        max_length=32, default="", editable=False,
        help_text="A fresh random value after every change to scoring rules, routing rules or the model.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score_warm_threshold__lte=models.F("score_hot_threshold"), score_hot_threshold__lte=100),
                name="tenant_score_bands_ordered",
                violation_error_message="The warm threshold must not be above the hot threshold (at most 100).",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # config_version is written only by Tenant.objects.bump_config_version: a tenant saved
        # from a form loaded earlier must not put back a version that names older rules.
        if not self._state.adding and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "config_version"
            ]
        super().save(*args, **kwargs)


class User(AbstractUser):
    """A person who signs in. Platform superusers may have no tenant; everyone else has one."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="users")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    is_available = models.BooleanField(default=True, help_text="Away (leave, holiday): gets no new leads.")
    lead_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most open leads this rep should hold; empty for no limit."
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True, help_text="When routing last gave this rep a lead.")

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_superuser=True) | Q(tenant__isnull=False),
                name="user_has_tenant_unless_superuser",
                violation_error_message="Every user except a platform superuser belongs to a tenant.",
            ),
        ]

    @property
    def is_manager(self) -> bool:
        return self.is_superuser or self.role in {Role.MANAGER, Role.ADMIN}


class Activity(models.Model):
    """One timeline entry for a person, across the lead, the contact and the deal it touches."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    deal = models.ForeignKey("contacts.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="activities")
    kind = models.CharField(max_length=30, choices=ActivityKind.choices)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=False)
    due_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["tenant", "lead", "-occurred_at"], name="activity_tenant_lead_idx"),
            models.Index(fields=["tenant", "contact", "-occurred_at"], name="activity_tenant_contact_idx"),
            models.Index(fields=["tenant", "kind", "-occurred_at"], name="activity_tenant_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead__isnull=False) | Q(contact__isnull=False) | Q(deal__isnull=False),
                name="activity_belongs_to_someone",
                violation_error_message="An activity belongs to a lead, a contact or a deal.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject or self.body[:40]}"


class Event(models.Model):
    """Outbox row: written in the transaction of the change it reports, delivered later."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["tenant", "type", "created_at"], name="event_tenant_type_idx"),
            models.Index(fields=["created_at"], condition=Q(delivered_at__isnull=True), name="event_undelivered_idx"),
            # The relay's batches: the oldest undelivered by id, without walking the delivered history.
            models.Index(fields=["id"], condition=Q(delivered_at__isnull=True), name="event_relay_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"

    def save(self, *args, **kwargs):
        relay_soon()  # no rule here: the relay is only asked to run after the commit
        super().save(*args, **kwargs)


# Webhook endpoints and their delivery log: models of this app, kept in their own module.
from .webhook_models import WebhookDelivery, WebhookEndpoint  # noqa: E402, F401
