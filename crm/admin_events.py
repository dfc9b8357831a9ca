"""The admin's view of the engine: the relay's backlog on the event list, webhook endpoints and their log.

Webhook endpoints belong to a workspace's admins (their role's permissions), scoped to their own
workspace like every other page. A new endpoint's signing secret is shown once, in the message
after it is created; no page shows it again.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from .admin_tenancy import TenantScopedAdmin
from .models import WebhookDelivery, WebhookEndpoint
from .outbox import routing_key
from .relay import backlog
from .webhooks import EVENT_TYPES, WebhookTargetError, check_target, endpoint_update, new_secret, resend
from .webhooks import failing_endpoints as failing

# Mixed into a ModelAdmin: the stubs' ModelAdmin is the class it extends.
_AdminHooks: Any = object


class RelayBacklogMixin(_AdminHooks):
    """Event list: how many events wait for the relay, how old the oldest is, which endpoints fail
    (rendered by admin/crm/event/change_list.html, the admin's change_list_template)."""

    def changelist_view(self, request, extra_context=None):
        tenant = None if request.user.is_superuser else request.user.tenant
        extra_context = {
            **(extra_context or {}),
            "relay_backlog": backlog(tenant) if (tenant is not None or request.user.is_superuser) else None,
            "failing_endpoints": list(failing(tenant)[:10]) if (tenant or request.user.is_superuser) else [],
        }
        return super().changelist_view(request, extra_context=extra_context)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="Receives a POST per event.")
    events = forms.MultipleChoiceField(
        choices=[(key, key) for key in EVENT_TYPES], required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["tenant", "url", "events", "description", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            check_target(url)
        except WebhookTargetError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantScopedAdmin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "description", "event_types", "active", "failing_since", "delivery_log")
    list_filter = ("active",)
    search_fields = ("url", "description")
    readonly_fields = ("failing_since", "disabled_reason", "created_at")

    def get_fields(self, request, obj=None):
        fields = ["tenant", "url", "events", "description", "active"]
        return fields + (list(self.readonly_fields) if obj else [])

    @admin.display(description="events")
    def event_types(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events) or "all"

    @admin.display(description="deliveries")
    def delivery_log(self, endpoint: WebhookEndpoint):
        url = reverse("admin:crm_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        return format_html('<a href="{}">log</a>', url)

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name != "tenant"}
            endpoint_update(endpoint=WebhookEndpoint.objects.get(pk=obj.pk), changes=changes)
            return
        obj.secret = new_secret()
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            f"Signing secret of {obj.url}: {obj.secret} - copy it to your receiver now; it is not shown again.",
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = ("id", "event_type", "endpoint", "status", "attempts", "status_code", "duration_ms", "error",
                    "next_attempt_at", "delivered_at")
    list_filter = ("status", "endpoint")
    list_select_related = ("event", "endpoint")
    fields = ("endpoint", "event", "status", "attempts", "status_code", "duration_ms", "error", "next_attempt_at",
              "last_attempt_at", "delivered_at", "created_at")
    readonly_fields = fields
    actions = ["resend_deliveries"]

    @admin.display(description="event type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return routing_key(delivery.event.type)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Resend the selected deliveries", permissions=["change"])
    def resend_deliveries(self, request, queryset):
        with transaction.atomic():
            ids = resend(queryset)
        self.message_user(request, f"{len(ids)} deliver{'y' if len(ids) == 1 else 'ies'} queued again.")
