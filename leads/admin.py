from django.contrib import admin, messages
from django.db import models, transaction

from crm.admin import ActivityNoteInline, ActivityTimelineInline, PersonForm
from crm.admin_tenancy import TenantScopedAdmin

from .activities import log_activity
from .assignment import assign_lead
from .choices import LeadStatus
from .conversion import ConversionError
from .lifecycle import TransitionError, change_status, check_transition
from .models import Channel, Lead, ScoringRule

SCORE_FIELDS = (
    "score_total",
    "score_band",
    "grade",
    "score_version",
    "score_updated_at",
    "score_factors",
    "probability",
    "recommendation",
    "recommendation_reason",
)
CONVERSION_FIELDS = ("converted_at", "converted_contact", "converted_company", "converted_deal")


class LeadActivityNoteInline(ActivityNoteInline):
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        actor = request.user

        class LoggedFormSet(formset):
            def save_new(self, form, commit=True):
                # Through the timeline's entry point, which also moves the lead's last_activity_at.
                data = form.cleaned_data
                return log_activity(
                    tenant=self.instance.tenant,
                    kind=data["kind"],
                    actor=actor,
                    lead=self.instance,
                    subject=data["subject"],
                    body=data["body"],
                    due_at=data["due_at"],
                )

        return LoggedFormSet


class LeadAdminForm(PersonForm):
    """Refuses a status the lifecycle forbids as a form error, before anything is saved."""

    def clean(self):
        cleaned = super().clean()
        lead, status = self.instance, cleaned.get("status")
        if lead.pk and status and status != lead.status:
            try:
                check_transition(lead, status)
            except TransitionError as exc:
                self.add_error("status", str(exc))
            if status == LeadStatus.DISQUALIFIED and not (cleaned.get("disqualification_reason") or "").strip():
                self.add_error("disqualification_reason", "Say why the lead is disqualified.")
        return cleaned


@admin.register(Lead)
class LeadAdmin(TenantScopedAdmin, admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # what people paste today
    form = LeadAdminForm
    list_display = ("name", "company", "email", "status", "score_total", "score_band", "owner", "source", "created_at")
    list_display_links = ("name", "email")
    list_filter = ("status", "score_band", "priority", "source", "owner", "channel", "created_at")
    list_select_related = ("owner",)
    search_fields = ("first_name", "last_name", "email", "phone", "company")
    actions = ("convert_leads",)
    fieldsets = (
        (
            "Contact details",
            {
                "fields": (
                    "tenant",
                    ("first_name", "last_name"),
                    "email",
                    "phone",
                    "job_title",
                    "company",
                    "industry",
                    ("employee_count", "annual_revenue"),
                    "website",
                    "country",
                    "message",
                )
            },
        ),
        (
            "Qualification",
            {
                "fields": (
                    "status",
                    "priority",
                    "disqualification_reason",
                    "owner",
                    "assigned_at",
                    "qualified_at",
                    "last_activity_at",
                )
            },
        ),
        (
            "Attribution",
            {
                "classes": ("collapse",),
                "fields": (
                    "source",
                    "channel",
                    "campaign",
                    "source_url",
                    "referrer",
                    "utm_source",
                    "utm_medium",
                    "utm_campaign",
                    "utm_term",
                    "utm_content",
                    "external_id",
                ),
            },
        ),
        ("Score", {"fields": SCORE_FIELDS}),
        ("Conversion", {"fields": CONVERSION_FIELDS}),
        (
            "More",
            {"classes": ("collapse",), "fields": ("custom_fields", "enrichment_data", "created_at", "updated_at")},
        ),
    )
    # Written by entry points (assignment, scoring, conversion, webhooks), never typed in.
    readonly_fields = (
        "assigned_at",
        "qualified_at",
        "last_activity_at",
        "external_id",
        *SCORE_FIELDS,
        *CONVERSION_FIELDS,
        "enrichment_data",
        "created_at",
        "updated_at",
    )

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Status and owner changes go through their entry points, which write the timeline and events.
        before = Lead.objects.get(pk=obj.pk)
        status, owner, reason = obj.status, obj.owner, obj.disqualification_reason
        obj.status, obj.owner, obj.disqualification_reason = before.status, before.owner, before.disqualification_reason
        super().save_model(request, obj, form, change)
        if owner != before.owner:
            assign_lead(lead=obj, owner=owner, actor=request.user, reason=f"assigned in the admin by {request.user}")
        if status != before.status:
            change_status(lead=obj, status=status, actor=request.user, reason=reason)
        obj.refresh_from_db()

    @admin.display(description="name", ordering="last_name")
    def name(self, lead):
        return lead.full_name or "-"

    def get_inlines(self, request, obj):
        if obj is not None and not obj.is_open:
            return [ActivityTimelineInline]
        return [ActivityTimelineInline, LeadActivityNoteInline]

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return True
        # A converted or disqualified lead is history; reps change their own and unassigned leads (as in the API).
        return obj.is_open and Lead.objects.editable_by(request.user).filter(pk=obj.pk).exists()

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            # "Converted" is reached only through the convert action, which creates the contact.
            kwargs["choices"] = [c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    @admin.action(description="Convert selected leads", permissions=["change"])
    def convert_leads(self, request, queryset):
        leads = list(queryset.order_by("pk"))
        editable = set(
            Lead.objects.editable_by(request.user)
            .filter(pk__in=[lead.pk for lead in leads])
            .values_list("pk", flat=True)
        )
        not_yours = [lead for lead in leads if lead.pk not in editable]
        if not_yours:
            names = ", ".join(_label(lead) for lead in not_yours)
            self.message_user(
                request,
                f"Nothing was converted: you may convert only your own and unassigned leads ({names}).",
                messages.ERROR,
            )
            return
        created, already, failures = 0, 0, []
        # All or nothing: one refusal rolls back the conversions done before it.
        with transaction.atomic():
            for lead in leads:
                try:
                    result = Lead.objects.convert(lead=lead, actor=request.user)
                except ConversionError as exc:
                    failures.append(f"{_label(lead)}: {exc}")
                    continue
                created += result.created
                already += not result.created
            if failures:
                transaction.set_rollback(True)
        if failures:
            self.message_user(request, "Nothing was converted. " + " ".join(failures), messages.ERROR)
            return
        message = f"Converted {created} lead{'s' if created != 1 else ''}."
        if already:
            message += f" {already} {'was' if already == 1 else 'were'} already converted."
        self.message_user(request, message, messages.SUCCESS)


def _label(lead: Lead) -> str:
    return f"{lead} (#{lead.pk})"


@admin.register(Channel)
class ChannelAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "default_source",
        "default_owner",
        "rate_limit_per_hour",
        "is_active",
        "blocked_count",
    )
    list_filter = ("kind", "is_active")
    list_select_related = ("default_owner",)
    search_fields = ("name",)
    fields = (
        "tenant",
        "name",
        "kind",
        "default_source",
        "default_owner",
        "allowed_origins",
        "rate_limit_per_hour",
        "is_active",
        "form_key",
        "blocked_count",
        "created_at",
    )
    readonly_fields = ("form_key", "blocked_count", "created_at")


@admin.register(ScoringRule)
class ScoringRuleAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "category", "field", "operator", "value", "points", "active")
    list_filter = ("category", "active")
    search_fields = ("name", "field", "value")
    fields = ("tenant", "name", "category", "field", "operator", "value", "points", "active", "created_at")
    readonly_fields = ("created_at",)
