from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.utils.html import format_html, format_html_join

from crm.admin import ActivityNoteInline, ActivityTimelineInline, PersonForm
from crm.admin_tenancy import TenantScopedAdmin
from crm.models import Tenant
from crm.roles import may_change

from .activities import log_activity
from .assignment import AssignmentError, assign_lead
from .choices import LeadStatus
from .conditions import ConditionError, parse_conditions
from .conversion import ConversionError
from .insights import refresh_insights
from .lifecycle import TransitionError, change_status, check_transition
from .models import AssignmentRule, Channel, Lead, ScoringRule
from .routing import route_lead
from .scoring import check_rule, rescore_leads

SCORE_FIELDS = (
    "score_total",
    "score_band",
    "grade",
    "score_version",
    "score_updated_at",
    "score_breakdown",
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
    actions = ("convert_leads", "rescore_selected", "assign_to_me", "route_leads")
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
        refresh_insights(lead=obj, actor=request.user)  # edited details change the score, as in the API
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            refresh_insights(lead=form.instance, actor=request.user)  # a lead typed in is scored like a captured one

    @admin.display(description="score breakdown")
    def score_breakdown(self, lead):
        if not lead.score_factors:
            return "No rule matched." if lead.score_version else "Not scored yet."
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td style="text-align:right">{}</td></tr>',
            (
                (factor.get("name", ""), str(factor.get("category", "")).capitalize(), f"{factor.get('points', 0):+d}")
                for factor in lead.score_factors
            ),
        )
        raw = sum(factor.get("points", 0) for factor in lead.score_factors)
        clamped = "" if raw == lead.score_total else f" (sum {raw:+d}, kept within 0-100)"
        return format_html(
            "<table><thead><tr><th>Rule</th><th>Category</th><th>Points</th></tr></thead><tbody>{}</tbody>"
            '<tfoot><tr><td colspan="2">Score</td><td style="text-align:right">{}{}</td></tr></tfoot></table>',
            rows,
            lead.score_total,
            clamped,
        )

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
        return obj.is_open and may_change(request.user, obj)

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

    @admin.action(description="Rescore selected leads", permissions=["change"])
    def rescore_selected(self, request, queryset):
        by_tenant = defaultdict(list)
        for pk, tenant_id in queryset.order_by().values_list("pk", "tenant_id"):
            by_tenant[tenant_id].append(pk)
        leads = band_changed = qualified = 0
        for tenant in Tenant.objects.filter(pk__in=by_tenant):
            summary = rescore_leads(tenant=tenant, lead_ids=by_tenant[tenant.pk])
            leads += summary.leads
            band_changed += summary.band_changed
            qualified += summary.qualified
        message = f"Rescored {leads} lead{'s' if leads != 1 else ''}: {band_changed} changed band"
        if qualified:
            message += f", {qualified} reached the auto-qualify threshold and {'is' if qualified == 1 else 'are'} now qualified"
        self.message_user(request, message + ".", messages.SUCCESS)

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        leads = list(queryset.order_by("pk"))
        editable = set(
            Lead.objects.editable_by(request.user).filter(pk__in=[lead.pk for lead in leads]).values_list("pk", flat=True)
        )
        not_yours = [lead for lead in leads if lead.pk not in editable]
        if not_yours:
            names = ", ".join(_label(lead) for lead in not_yours)
            self.message_user(
                request, f"Nothing was assigned: reps take unassigned leads only ({names}).", messages.ERROR
            )
            return
        taken, refused = 0, []
        for lead in leads:
            try:
                assign_lead(lead=lead, owner=request.user, actor=request.user,
                            reason=f"taken by {request.user} in the admin")
            except AssignmentError as exc:
                refused.append(f"{_label(lead)}: {exc}")
                continue
            taken += 1
        if taken:
            self.message_user(request, f"{taken} lead{'s are' if taken != 1 else ' is'} now yours.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not assigned: " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Route (apply assignment rules)", permissions=["route"])
    def route_leads(self, request, queryset):
        routed, stayed, refused = [], [], []
        for lead in queryset.order_by("pk"):
            try:  # one transaction per lead: a refusal does not undo the others
                result = route_lead(lead=lead, actor=request.user)
            except AssignmentError as exc:
                refused.append(f"{_label(lead)}: {exc}")
                continue
            if result.owner is None:
                stayed.append(f"{_label(lead)}: {result.reason}")
            else:
                routed.append(f"{_label(lead)} -> {result.owner} ({result.reason})")
        if routed:
            self.message_user(request, f"Routed {len(routed)}: " + "; ".join(routed), messages.SUCCESS)
        if stayed:
            self.message_user(request, f"Not assigned {len(stayed)}: " + "; ".join(stayed), messages.WARNING)
        if refused:
            self.message_user(request, "Skipped: " + "; ".join(refused), messages.WARNING)

    def has_route_permission(self, request):
        # Routing may take a lead away from its owner: a manager's call, as assigning to others is.
        return request.user.is_manager and self.has_change_permission(request)


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


class ScoringRuleForm(forms.ModelForm):
    """Refuses a rule scoring cannot evaluate (unknown field, a word where a number belongs, ...)."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("field") and cleaned.get("operator"):
            try:
                check_rule(field=cleaned["field"], operator=cleaned["operator"], value=cleaned.get("value", ""))
            except ConditionError as exc:
                self.add_error(exc.part, str(exc))
        return cleaned


@admin.register(ScoringRule)
class ScoringRuleAdmin(TenantScopedAdmin, admin.ModelAdmin):
    form = ScoringRuleForm
    list_display = ("name", "category", "field", "operator", "value", "points", "active")
    list_filter = ("category", "active")
    search_fields = ("name", "field", "value")
    fieldsets = (
        (
            None,
            {
                "fields": ("tenant", "name", "category", "field", "operator", "value", "points", "active", "created_at"),
                "description": "A lead that meets the condition gets the points (negative points subtract). "
                "Text comparisons ignore case; 'in list' takes comma-separated values; 'email_domain' is the "
                "part of the email after the @. For 'activity count at least' the field is an activity kind "
                "(e.g. email_opened, demo_requested) and the value the minimum count: the points come once. "
                "After changing rules, rescore: the 'Rescore selected leads' action on the lead list, or "
                "manage.py rescore_leads.",
            },
        ),
    )
    readonly_fields = ("created_at",)


class AssignmentRuleForm(forms.ModelForm):
    """Refuses conditions routing cannot evaluate and targets outside the rule's workspace."""

    class Meta:
        model = AssignmentRule
        fields = ("tenant", "name", "priority", "active", "conditions", "target_user", "target_team")
        widgets = {"conditions": forms.Textarea(attrs={"rows": 6, "cols": 80})}

    def clean_conditions(self):
        conditions = self.cleaned_data.get("conditions") or []
        try:
            return [condition.as_dict() for condition in parse_conditions(conditions)]
        except ConditionError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant") or getattr(self.instance, "tenant", None)
        user, team = cleaned.get("target_user"), list(cleaned.get("target_team") or [])
        if "target_user" in cleaned and "target_team" in cleaned and user is None and not team:
            self.add_error("target_user", "Name a user, or pick a team to rotate among.")
        if tenant is not None:
            for field, people in (("target_user", [user] if user else []), ("target_team", team)):
                strangers = [str(person) for person in people if person.tenant_id != tenant.pk]
                if strangers:
                    self.add_error(field, f"Not in {tenant}: {', '.join(strangers)}.")
        return cleaned


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(TenantScopedAdmin, admin.ModelAdmin):
    form = AssignmentRuleForm
    list_display = ("name", "priority", "conditions_summary", "target", "active")
    list_display_links = ("name",)
    list_filter = ("active",)
    list_select_related = ("target_user",)
    search_fields = ("name",)
    ordering = ("priority", "id")
    filter_horizontal = ("target_team",)
    fieldsets = (
        (
            None,
            {
                "fields": ("tenant", "name", "priority", "active", "conditions", "target_user", "target_team",
                           "created_at"),
                "description": "New leads go to the first active rule (lowest priority first) whose conditions all "
                'hold, e.g. [{"field": "country", "operator": "in_list", "value": "DE, AT, CH"}]; no conditions '
                "match every lead. Conditions read like scoring rules. The target user gets the lead; a team "
                "rotates it among members who are available and under capacity (fewest open leads first). When "
                "nobody in the rule can take it, the next rule is tried, then round robin among available reps.",
            },
        ),
    )
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("target_team")

    @admin.display(description="conditions")
    def conditions_summary(self, rule):
        if not rule.conditions:
            return "every lead"
        return "; ".join(
            f"{c.get('field')} {c.get('operator')} {c.get('value', '')}".strip()
            for c in rule.conditions
            if isinstance(c, dict)
        )

    @admin.display(description="target")
    def target(self, rule):
        names = [str(rule.target_user)] if rule.target_user_id else []
        names += [str(member) for member in rule.target_team.all()]
        return ", ".join(names) or "-"
