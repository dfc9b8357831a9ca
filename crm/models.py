import datetime as dt
from typing import ClassVar, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import ActivityKind, EventType, Role, TokenRevokeReason
from .managers import ActivityQuerySet, ApiTokenQuerySet, EventQuerySet, TenantManager
from .outbox import relay_soon
from .public_ids import new_public_id, public_id_field, unique_per_tenant

# The longest free text a person writes: a lead's message, an activity's body. One limit whichever
# door the text comes through (a form's capture, an edit, the activity API, the admin, an import);
# at it, a capture still fits its 64 KB body (CAPTURE_MAX_BODY_BYTES) in any UTF-8.
FREE_TEXT_MAX_LENGTH = 10_000
TASK_NEEDS_DUE_DATE = "A task needs a due date."
ONLY_TASKS_HAVE_DATES = "Only tasks have a due date or a done date."


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
    reps_read_all_leads = models.BooleanField(
        "Reps may read every lead",
        default=False,
        help_text="Reps see every lead of the workspace (reading only); they still change only their own and "
        "unassigned ones. Off: reps see their own and unassigned leads.",
    )
    enrichment_enabled = models.BooleanField(
        "Enrich new leads",
        default=True,
        help_text="After a lead arrives, the background engine asks the enrichment provider (ENRICHMENT_PROVIDER) "
        "about the person and company and fills fields the lead has empty. Off: no provider is asked.",
    )
    # Retention (leads/privacy/retention.py, nightly): empty means keep for ever.
    retain_disqualified_months = models.PositiveSmallIntegerField(
        null=True, blank=True, default=12, help_text="Anonymise disqualified leads this many months after they closed."
    )
    retain_inactive_months = models.PositiveSmallIntegerField(
        null=True, blank=True, default=24,
        help_text="Anonymise unconverted leads with no activity (and no change) for this many months.",
    )
    retain_import_reports_days = models.PositiveSmallIntegerField(
        null=True, blank=True, default=30, help_text="Clear import error reports (rejected rows) after this many days."
    )
    retain_access_records_days = models.PositiveIntegerField(
        null=True, blank=True, default=365, help_text="Delete access records older than this many days."
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
    public_id = models.UUIDField("public id", default=new_public_id, editable=False, unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    is_available = models.BooleanField(default=True, help_text="Away (leave, holiday): gets no new leads.")
    lead_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most open leads this rep should hold; empty for no limit."
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True, help_text="When routing last gave this rep a lead.")

    objects: ClassVar[UserManager[Self]] = UserManager()

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


def keep_shared_entries(collector, field, sub_objs, using):
    """on_delete of an entry's lead: entries also on a contact or deal stay (unlinked from the lead), the
    lead's own go with it. However a lead is deleted, the contact's timeline keeps its history."""
    shared = sub_objs.filter(Q(contact__isnull=False) | Q(deal__isnull=False))
    collector.add_field_update(field, None, shared)
    models.CASCADE(collector, field, sub_objs.filter(contact__isnull=True, deal__isnull=True), using)


class Activity(models.Model):
    """One timeline entry for a person, across the lead, the contact and the deal it touches."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    public_id = public_id_field()
    lead = models.ForeignKey(
        "leads.Lead", on_delete=keep_shared_entries, null=True, blank=True, related_name="activities"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    deal = models.ForeignKey("contacts.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="activities")
    kind = models.CharField(max_length=30, choices=ActivityKind.choices)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(
        blank=True, max_length=FREE_TEXT_MAX_LENGTH, validators=[MaxLengthValidator(FREE_TEXT_MAX_LENGTH)]
    )
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
            # Open tasks by assignee and due time: My tasks and the dashboard's overdue counts, without reading
            # the done ones (most of a busy timeline).
            models.Index(fields=["tenant", "actor", "due_at"], include=["id"],
                         condition=Q(kind="task", done_at__isnull=True), name="activity_open_task_idx"),
        ]
        constraints = [
            unique_per_tenant("activity"),
            models.CheckConstraint(
                condition=Q(lead__isnull=False) | Q(contact__isnull=False) | Q(deal__isnull=False),
                name="activity_belongs_to_someone",
                violation_error_message="An activity belongs to a lead, a contact or a deal.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject or self.body[:40]}"

    def clean(self) -> None:
        """A task has a due date; nothing else has a due or a done date. Every door asks this (the timeline's
        services call it, the admin's model forms run it)."""
        super().clean()
        if self.kind == ActivityKind.TASK:
            if self.due_at is None:
                raise ValidationError({"due_at": [TASK_NEEDS_DUE_DATE]})
            return
        dated = {name: [ONLY_TASKS_HAVE_DATES] for name in ("due_at", "done_at") if getattr(self, name) is not None}
        if dated:
            raise ValidationError(dated)


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


def default_token_expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS)


class ApiToken(models.Model):
    """A bearer token for the API, named and expiring. The secret is shown once and never stored (crm/tokens.py)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the system that uses it.")
    prefix = models.CharField(
        max_length=8, editable=False, help_text="The first characters of the token, to tell tokens apart."
    )
    # A SHA-256 of the whole secret, hex: enough to recognise the token, useless to present as one.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(default=default_token_expiry)
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Updated at most once a minute."
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    revoked_reason = models.CharField(max_length=30, choices=TokenRevokeReason.choices, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "user", "-created_at"], name="apitoken_tenant_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoked_reason=""),
                name="apitoken_revoked_with_reason",
                violation_error_message="A revoked token says why it was revoked.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


# Webhook endpoints and their delivery log: models of this app, kept in their own module.
from .webhook_models import WebhookDelivery, WebhookEndpoint  # noqa: E402, F401
from .privacy_models import AccessRecord, PrivacyRequest, Suppression  # noqa: E402, F401
