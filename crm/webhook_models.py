"""Webhook endpoints a workspace registers, and the delivery log of every event sent to them."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .public_ids import public_id_field, unique_per_tenant


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookEndpoint(models.Model):
    """A URL that receives the workspace's events, signed per the Standard Webhooks specification."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    public_id = public_id_field()
    url = models.URLField(max_length=500, help_text="HTTPS URL that receives a POST per event.")
    events = models.JSONField(
        default=list, blank=True, help_text="Event types as routing keys (lead.created, ...); empty: every type."
    )
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False, help_text="whsec_...; shown once, when created.")
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "active"], name="webhook_endpoint_tenant_idx")]
        constraints = [unique_per_tenant("webhook_endpoint")]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint takes events of this routing key."""
        return not self.events or event_type in self.events


class WebhookDelivery(models.Model):
    """One event to one endpoint: its attempts so far, the last answer, and when it is tried next."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.CASCADE, related_name="+")
    public_id = public_id_field()
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("crm.Event", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status of the last attempt.")
    duration_ms = models.PositiveIntegerField(null=True, blank=True, help_text="How long the last attempt took.")
    error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "endpoint", "event"], name="webhook_delivery_once_per_event"),
            unique_per_tenant("webhook_delivery"),
        ]
        indexes = [
            models.Index(fields=["tenant", "endpoint", "-id"], name="webhook_delivery_endpoint_idx"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint}"
