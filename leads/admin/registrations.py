import json
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.templatetags.static import static
from django.utils.safestring import mark_safe

from crm.access import AccessDenied, check_assign
from crm.admin import ActivityNoteInline, ActivityTimelineInline, PersonForm
from crm.admin_paging import EstimatedCountPaginator
from crm.admin_audit import AuditedAdmin
from crm.admin_tenancy import TenantScopedAdmin
from crm.admin_versions import VersionedAdmin
from crm.choices import ActivityKind
from crm.models import Activity
from leads.activities import log_activity
from leads.admin import actions as admin_actions
from leads.admin.nurture import NURTURE_ACTIONS
from leads.admin.enrichment import enrichment_panel
from leads.admin.filters import CampaignFilter, OwnerFilter, SavedViewFilter, WorkspaceRelatedFilter, saved_views
from crm.admin_cells import ago, owner_cell, two_lines
from leads.admin.formatting import count, money, plain_number
from leads.admin.importing import LeadImportMixin
from leads.admin.privacy import privacy_erase_selected, privacy_export_selected, privacy_urls
from leads.admin.search import indexed_search_available, search_leads
from leads.admin.views import lead_urls, quick_log_form_for, render_offers
from leads.assignment import assign_lead
from leads.choices import ChannelKind, LeadStatus
from leads.editing import EDITABLE_FIELDS, note_edits
from leads.insights import refresh_insights
from leads.lifecycle import MissingReason, TransitionError, change_status, check_reason, check_transition
from leads.channels import EDITABLE as CHANNEL_EDITABLE
from leads.channels import callback_path, channel_check, channel_create, channel_update, clean_origins
from leads.models import CHANNEL_SECRETS, AdLead, AssignmentRule, Campaign, Channel, Lead, ScoringRule, mask_secret
from leads.rules.conditions import ConditionError, parse_conditions
from leads.rules.rescoring import rescore_soon
from leads.rules.sheet import check_rule

SCORE_FIELDS = ("score_panel",)
CONVERSION_FIELDS = ("converted_at", "converted_contact", "converted_company", "converted_deal")


class LeadActivityNoteInline(ActivityNoteInline):
    """On the add form only: the first call or note of a lead typed in by hand."""

    def get_formset(self, request, obj=None, **kwargs):
        formset: Any = super().get_formset(request, obj, **kwargs)  # a dynamic base: mypy checks none
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


class LeadTimelineInline(ActivityTimelineInline):
    """The lead's timeline, with what a form submission said that the lead kept other values than.

    Drawn as a list of entries (newest first, filtered by kind on the page), not as a table with a header per row."""

    template = "admin/leads/lead/timeline.html"
    lead: Lead | None = None
    can_use = False

    def get_fields(self, request, obj=None):
        # A fresh inline per request (ModelAdmin.get_inline_instances): the lead and the user's right are this page's.
        self.lead = obj
        self.can_use = obj is not None and self.admin_site._registry[Lead].has_change_permission(request, obj)
        return [*super().get_fields(request, obj), "differing_values"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "differing_values"]

    @admin.display(description="submitted, not on the lead")
    def differing_values(self, activity):
        if self.lead is None:
            return "-"
        return render_offers(activity, self.lead, can_use=self.can_use)


class LeadAdminForm(PersonForm):
    """Refuses what the lifecycle and the roles forbid as form errors, before anything is saved."""

    user: Any = None  # the signed-in user, set by LeadAdmin.get_form

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        lead, status = self.instance, cleaned.get("status")
        if lead.pk and status and status != lead.status:
            try:
                check_transition(lead, status)
            except TransitionError as exc:
                self.add_error("status", str(exc))
            try:
                check_reason(status, cleaned.get("disqualification_reason") or "")
            except MissingReason as exc:
                self.add_error(exc.field, str(exc))
        if "owner" in self.changed_data:
            try:  # assign_lead asks the same when saving; asked here, the refusal shows on the field
                check_assign(self.user, cleaned.get("owner"))
            except AccessDenied as exc:
                self.add_error("owner", str(exc))
        return cleaned


@admin.register(Lead)
class LeadAdmin(AuditedAdmin, LeadImportMixin, VersionedAdmin, TenantScopedAdmin, admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # what people paste today
    form = LeadAdminForm
    # One line per lead that fits 1366 px beside the filters: who (name, company, email), how hot, where it is.
    list_display = ("person", "score", "status_badge", "owner_name", "source", "age")
    list_display_links = None  # the person cell links the name itself
    list_filter = (
        SavedViewFilter,
        "status",
        "score_band",
        "source",
        ("owner", OwnerFilter),
        CampaignFilter,
        ("channel", WorkspaceRelatedFilter),
        "priority",
        "nurture_status",
        "created_at",
    )
    list_select_related = ("owner",)
    list_per_page = 50
    search_fields = ("first_name", "last_name", "email", "phone", "company")
    search_help_text = "Name, email, company or phone; several words must all match."
    # A million leads: count at most a page's worth of probes, never the whole table on each view.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = (
        admin_actions.assign_to_me,
        admin_actions.assign_to_rep,
        admin_actions.change_lead_status,
        admin_actions.disqualify_leads,
        admin_actions.convert_leads,
        admin_actions.rescore_selected,
        admin_actions.enrich_selected,
        admin_actions.route_leads,
        *NURTURE_ACTIONS,
        admin_actions.delete_leads,
        privacy_export_selected,
        privacy_erase_selected,
        "export_selected_csv",
    )
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
                    "ad_origin",
                    "is_test",
                ),
            },
        ),
        ("Score", {"fields": SCORE_FIELDS}),
        ("Enrichment", {"classes": ("collapse",), "fields": ("enrichment_panel",)}),
        ("Nurture", {"classes": ("collapse",),
                     "fields": ("nurture_status", "current_sequence", "next_nurture_step_on", "unsubscribed_at",
                                "email_bounced_at")}),
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
        "ad_origin",
        "is_test",
        *SCORE_FIELDS,
        *CONVERSION_FIELDS,
        "enrichment_panel",
        "enrichment_data",
        "nurture_status", "current_sequence", "next_nurture_step_on", "unsubscribed_at", "email_bounced_at",  # nurture
        "created_at",
        "updated_at",
    )

    class Media:
        css = {"all": ("crm/admin.css",)}
        js = ("crm/lead_page.js",)

    def changelist_view(self, request, extra_context=None):
        chosen = request.GET.get(SavedViewFilter.parameter_name, "")
        base = reverse("admin:leads_lead_changelist")
        views = [{"label": "All leads", "url": base, "selected": not chosen}] + [
            {"label": label, "url": f"{base}?{SavedViewFilter.parameter_name}={slug}", "selected": chosen == slug}
            for slug, label, _condition in saved_views(request.user)
        ]
        # The tools link the retention dry run for those who may see it (docs/privacy.md).
        extra = {"title": "Leads", "saved_views": views, "may_review_retention": self.has_privacy_permission(request)}
        return super().changelist_view(request, extra_context={**extra, **(extra_context or {})})

    @admin.display(description="Where it came from")
    def ad_origin(self, lead: Lead) -> str:
        """The platform, campaign, ad and form of a lead an ad platform sent (leads/integrations/)."""
        parts = []
        if lead.source_campaign_id is not None:
            parts.append(("Campaign", str(lead.source_campaign)))
        for origin in AdLead.objects.filter(lead=lead).select_related("campaign").order_by("received_at")[:5]:
            parts += [
                ("Platform", f"{origin.get_platform_display()} (lead {origin.external_id})"),
                *((label, value) for label, value in (
                    ("Campaign id", origin.campaign.external_id if origin.campaign else ""), ("Ad", origin.ad_id),
                    ("Ad set / group", origin.adgroup_id), ("Form", origin.form_id),
                ) if value),
            ]
        if not parts:
            return "-"
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", parts))

    def get_urls(self):
        return privacy_urls(self) + lead_urls(self) + super().get_urls()

    def get_actions(self, request):
        # Deleting needs a reason and keeps the contact's history: "Delete…" (leads/deletion.py), not Django's.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """The page's Delete link asks for a reason, through the same action as the list."""
        lead = self.get_object(request, object_id)
        if lead is None or not self.has_delete_permission(request, lead):
            raise PermissionDenied
        response = admin_actions.delete_leads(self, request, self.get_queryset(request).filter(pk=lead.pk))
        if response is None:
            return redirect(reverse("admin:leads_lead_changelist"))
        return response

    # Django 5.2's signature; the stubs (6.1) have Django 6's action_location too.
    def response_action(self, request, queryset):  # type: ignore[override]
        # Django drops selected ids that are outside the list without a word; a lead the user cannot see
        # (a colleague's, another workspace's, deleted since) turns the whole action down instead.
        unseen = admin_actions.unseen_selection(self, request)
        if unseen:
            self.message_user(
                request,
                f"Nothing was done: {admin_actions.selection_outside_list(unseen)} Select the leads again.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        response = super().response_action(request, queryset)
        # Started from a lead page's header (Assign, Disqualify): back to that lead once it is done.
        from_lead = request.POST.get("_from_lead", "")
        if from_lead.isdigit() and isinstance(response, HttpResponseRedirect):
            return HttpResponseRedirect(reverse("admin:leads_lead_change", args=[int(from_lead)]))
        return response

    def get_search_results(self, request, queryset, search_term):
        if indexed_search_available(queryset):
            return search_leads(queryset, search_term), False
        return super().get_search_results(request, queryset, search_term)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = cast(type[LeadAdminForm], super().get_form(request, obj, change, **kwargs))  # built on self.form
        form.user = request.user
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.status != LeadStatus.CONVERTED:
            fieldsets = [(name, options) for name, options in fieldsets if name != "Conversion"]
        if obj is None:  # a new lead: only what can be typed (and the note that it is scored on save)
            readonly = set(self.get_readonly_fields(request)) - set(SCORE_FIELDS)
            return [(name, {**options, "fields": fields}) for name, options in fieldsets
                    if (fields := tuple(line for line in options["fields"]
                                        if not set([line] if isinstance(line, str) else line) <= readonly))]
        # Read-only values that are empty say nothing: no "-" rows; numbers read as numbers.
        editable = self.has_change_permission(request, obj)
        readonly = set(self.get_readonly_fields(request, obj)) | (set() if editable else _ALL_FIELDS)
        shown = []
        for name, options in fieldsets:
            lines = []
            for line in options["fields"]:
                names = [line] if isinstance(line, str) else list(line)
                names = [_READABLE.get(n, n) if not editable else n for n in names]
                names = [n for n in names if n not in readonly or not _empty(obj, n)]
                if names:
                    lines.append(names[0] if len(names) == 1 else tuple(names))
            if lines:
                shown.append((name, {**options, "fields": tuple(lines)}))
        return shown

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *_READABLE.values()]

    @admin.display(description="annual revenue")
    def revenue(self, lead: Lead) -> str:
        return money(lead.annual_revenue)

    @admin.display(description="employees")
    def headcount(self, lead: Lead) -> str:
        return count(lead.employee_count)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "annual_revenue":
            kwargs["widget"] = WholeNumberInput(attrs={"step": "any"})
            kwargs["help_text"] = "In dollars, e.g. 310000000 ($310 M)."
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Status and owner changes go through their entry points, which write the timeline and events.
        before = Lead.objects.get(pk=obj.pk)
        # Details typed in here are a person's: no later submission or import fills them again.
        note_edits(obj, before=lambda name: getattr(before, name),
                   after={name: getattr(obj, name) for name in form.changed_data if name in EDITABLE_FIELDS})
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        lead = self.get_object(request, object_id)
        if lead is not None:
            editable = self.has_change_permission(request, lead)
            extra_context.update(
                lead=lead,
                title=lead.full_name or lead.email or str(lead),
                header={**_header_facts(lead), "assign_action": self._assign_action(request, lead)},
                timeline_kinds=_timeline_kinds(lead),
                show_save_and_add_another=False,
                can_work_lead=editable,
                quick_log_form=quick_log_form_for(request, lead) if editable else None,
                convert_url=reverse("admin:leads_lead_convert", args=[lead.pk]) if editable else "",
                log_url=reverse("admin:leads_lead_log", args=[lead.pk]),
                use_value_url=reverse("admin:leads_lead_use_value", args=[lead.pk]) if editable else "",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def _assign_action(self, request, lead: Lead) -> tuple[str, str] | None:
        """The header's assign button: a manager picks whom; anyone takes an unassigned lead."""
        if self.has_assign_permission(request):
            return ("assign_to_rep", "Assign…")
        if lead.owner_id is None:
            return ("assign_to_me", "Assign to me")
        return None

    # --- list columns: plain format_html, no widget template or locale lookup per cell (a long page stays cheap) ---

    @admin.display(description=mark_safe(
        '<input type="checkbox" id="action-toggle" aria-label="Select all objects on this page for an action">'
    ))
    def action_checkbox(self, lead):
        return format_html(
            '<input type="checkbox" name="_selected_action" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            lead.pk,
            lead,
        )

    @admin.display(description="lead", ordering="last_name")
    def person(self, lead):
        """Name (the link), then company and email on a second line: one cell instead of three columns."""
        return two_lines(reverse("admin:leads_lead_change", args=[lead.pk]), lead.full_name or lead.email or "(no name)",
                         lead.company, lead.email)

    @admin.display(description="owner", ordering="owner__first_name")
    def owner_name(self, lead):
        return owner_cell(lead.owner)

    @admin.display(description="age", ordering="-created_at")
    def age(self, lead):
        """How old the lead is, and how long since anyone or anything touched it."""
        since = ago(lead.last_activity_at)
        touched = ("touched just now" if since == "just now" else f"touched {since} ago") if since else "untouched"
        return format_html(
            '<span title="created {}">{}</span><span class="crm-person-details">{}</span>',
            _when(lead.created_at), ago(lead.created_at), touched,
        )

    @admin.display(description="status", ordering="status")
    def status_badge(self, lead):
        return format_html('<span class="crm-badge crm-status-{}">{}</span>', lead.status, lead.get_status_display())

    @admin.display(description="score", ordering="-score_total")
    def score(self, lead):
        return format_html(
            '<span class="crm-badge crm-band-{}" title="{} lead, grade {}">{} {}</span>',
            lead.score_band,
            lead.get_score_band_display(),
            lead.grade,
            lead.score_total,
            lead.get_score_band_display().lower(),
        )

    # --- the lead page ---

    @admin.display(description="score and prediction")
    def score_panel(self, lead):
        if lead.pk is None:
            return "Scored when the lead is saved."
        return format_html(
            '<div class="crm-score-panel">'
            '<p class="crm-score-head"><span class="crm-badge crm-band-{}">{} {}</span> grade <strong>{}</strong>'
            ' <span class="crm-muted">{}</span></p>{}{}</div>',
            lead.score_band,
            lead.score_total,
            lead.get_score_band_display().lower(),
            lead.grade,
            f"scored {_when(lead.score_updated_at)}" if lead.score_updated_at else
            ("scored by the workspace's rules" if lead.score_version else "not scored yet"),
            self._factors_table(lead),
            self._prediction(lead),
        )

    @admin.display(description="What enrichment added")
    def enrichment_panel(self, lead):
        return enrichment_panel(lead)

    def _factors_table(self, lead):
        if not lead.score_factors:
            return format_html('<p class="crm-muted">{}</p>', "No rule matched." if lead.score_version else
                               "Not scored yet.")
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
            '<table class="crm-factors"><thead><tr><th>Rule</th><th>Category</th><th>Points</th></tr></thead>'
            '<tbody>{}</tbody><tfoot><tr><td colspan="2">Score</td><td style="text-align:right">{}{}</td></tr></tfoot>'
            "</table>",
            rows,
            lead.score_total,
            clamped,
        )

    def _prediction(self, lead):
        if lead.probability is None:
            return format_html('<p class="crm-muted">{}</p>', "No prediction yet.")
        return format_html(
            '<div class="crm-prediction"><p><strong>{}%</strong> likely to convert: '
            '<span class="crm-badge crm-rec-{}">{}</span></p><p>{}</p>'
            '<p class="crm-muted">{}{}</p></div>',
            round(lead.probability * 100),
            lead.recommendation or "none",
            lead.get_recommendation_display() or "no recommendation",
            lead.recommendation_reason or "",
            "Read from the score: no model has been trained on this workspace's outcomes yet"
            if lead.prediction_version in ("rules", "") else "Predicted by the model trained on this workspace's "
            "past leads",
            f", {_when(lead.predicted_at)}" if lead.predicted_at else "",
        )

    def get_inlines(self, request, obj):
        if obj is None:
            return [LeadActivityNoteInline]  # a first call or note logged with the new lead; no timeline yet
        return [LeadTimelineInline]  # new calls, notes and tasks go through the quick-log box

    def has_change_permission(self, request, obj=None):
        # Who may change which lead is crm.access's call (in TenantScopedAdmin); a converted or disqualified lead is history.
        return super().has_change_permission(request, obj) and (obj is None or obj.is_open)

    def has_assign_permission(self, request):
        # Giving leads to other people is a manager's call; reps take leads with "Assign to me".
        return request.user.is_manager and self.has_change_permission(request)

    def has_privacy_permission(self, request):
        # Data-subject requests (docs/privacy.md): a workspace admin's call.
        return bool(request.user.tenant_id and (request.user.is_superuser or request.user.role == "admin"))

    def has_route_permission(self, request):
        # Routing may take a lead away from its owner: a manager's call, as assigning to others is.
        return request.user.is_manager and self.has_change_permission(request)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            # "Converted" is reached only through the conversion page or action, which create the contact.
            kwargs["choices"] = [c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


def _timeline_kinds(lead: Lead) -> list[tuple[str, str]]:
    """The kinds on this lead's timeline, for its "Show" filter."""
    present = set(Activity.objects.filter(lead=lead).order_by().values_list("kind", flat=True).distinct())
    return [(kind.value, kind.label) for kind in ActivityKind if kind.value in present]


def _header_facts(lead: Lead) -> dict:
    """What the lead page's header says besides the name: the next open task and the company's size."""
    next_task = (Activity.objects.filter(lead=lead, kind=ActivityKind.TASK, done_at__isnull=True)
                 .order_by("due_at", "id").only("subject", "due_at").first())
    size = [part for part in (money(lead.annual_revenue) and f"{money(lead.annual_revenue)} revenue",
                              lead.employee_count is not None and f"{count(lead.employee_count)} employees") if part]
    return {
        "next_task": next_task,
        "overdue": bool(next_task and next_task.due_at and next_task.due_at < timezone.now()),
        "size": " · ".join(size),
        "owner": (lead.owner.get_full_name() or lead.owner.username) if lead.owner is not None else "",
    }


class WholeNumberInput(forms.NumberInput):
    """310000000.00 shows as 310000000: the cents of a yearly revenue are noise."""

    def format_value(self, value):
        return plain_number(value) or None


# On a read-only lead the numbers show formatted ($310 M, 12,500) instead of 310000000.00.
_READABLE = {"annual_revenue": "revenue", "employee_count": "headcount"}
_ALL_FIELDS = {field.name for field in Lead._meta.get_fields()} | {"revenue", "headcount"}


def _empty(lead: Lead, name: str) -> bool:
    if name == "ad_origin":
        return lead.source_campaign_id is None and not AdLead.objects.filter(lead=lead).exists()
    if name in ("score_panel", "enrichment_panel"):
        return False
    if name in _READABLE.values():
        name = next(field for field, shown in _READABLE.items() if shown == name)
    try:
        value = getattr(lead, name)
    except (AttributeError, models.ObjectDoesNotExist):
        return True
    return value is None or value == "" or value == [] or value == {} or value is False and name == "is_test"


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


class ChannelAdminForm(forms.ModelForm):
    """Secrets are typed, never shown back (their field says what is stored, masked); left empty, they are kept.
    The channel service checks what the kind needs before anything is saved."""

    # One website address a line instead of a JSON box; the channel service checks each (scheme and host).
    allowed_origins = forms.CharField(
        required=False,
        label="Allowed websites",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 50, "placeholder": "https://www.example.com"}),
        help_text="One address a line, e.g. https://www.example.com: the sites whose pages may post this form. "
        "A page's full URL is cut to its site.",
    )

    class Meta:
        model = Channel
        fields = "__all__"
        widgets = {name: forms.PasswordInput(render_value=False) for name in CHANNEL_SECRETS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["allowed_origins"] = "\n".join(self.instance.allowed_origins or [])
        for name in CHANNEL_SECRETS:
            if name in self.fields:
                stored = mask_secret(getattr(self.instance, name, ""))
                self.fields[name].required = False
                self.fields[name].help_text = (
                    f"Stored: {stored}. Leave empty to keep it." if stored else self.fields[name].help_text
                )

    def clean_allowed_origins(self) -> list[str]:
        text = (self.cleaned_data.get("allowed_origins") or "").strip()
        value: Any = text
        if text.startswith("["):  # a list as the JSON box took it, pasted from before
            try:
                value = json.loads(text)
            except ValueError:
                pass
        try:
            return clean_origins(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["allowed_origins"]) from exc

    def changed_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in CHANNEL_EDITABLE if name in self.cleaned_data}

    def _post_clean(self):
        stored = {name: getattr(self.instance, name, "") for name in CHANNEL_SECRETS}
        super()._post_clean()  # type: ignore[misc]  # ModelForm's, missing from the stubs
        for name, value in stored.items():  # an empty secret field keeps the stored secret
            if not getattr(self.instance, name):
                setattr(self.instance, name, value)
        # The service decides what the kind needs (and the source of an ad channel's leads).
        try:
            channel_check(channel=self.instance, values=self.changed_values(), creating=self.instance.pk is None)
        except ValidationError as exc:
            self._update_errors(exc)  # type: ignore[attr-defined]


@admin.register(Channel)
class ChannelAdmin(TenantScopedAdmin, admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = (
        "name",
        "kind",
        "default_source",
        "default_owner",
        "is_active",
        "last_webhook_at",
        "blocked_count",
    )
    list_filter = ("kind", "is_active")
    list_select_related = ("default_owner",)
    search_fields = ("name", "page_id")
    fieldsets = (
        (None, {"fields": ("tenant", "name", "kind", "default_source", "default_owner", "is_active", "form_key",
                           "created_at")}),
        ("Website form", {"fields": ("allowed_origins", "embed_snippet", "hosted_form_link", "rate_limit_per_hour",
                                     "blocked_count")}),
        ("Facebook Lead Ads", {
            "fields": ("page_id", "app_secret", "page_access_token", "verify_token"),
            "description": "docs/ad-platforms.md walks through connecting a page.",
        }),
        ("Google Ads lead form", {"fields": ("google_key",)}),
        ("Ad platform setup", {"fields": ("callback_url", "field_mapping", "last_webhook_at", "last_errors")}),
    )
    readonly_fields = ("form_key", "blocked_count", "created_at", "callback_url", "last_webhook_at", "last_errors",
                       "embed_snippet", "hosted_form_link")
    # Which kinds each section is for; a saved channel folds away the others (kept, not removed, so changing the
    # kind in the same form still has its fields).
    section_kinds = {
        "Website form": {ChannelKind.WEBSITE_FORM},
        "Facebook Lead Ads": {ChannelKind.FACEBOOK_LEAD_ADS},
        "Google Ads lead form": {ChannelKind.GOOGLE_LEAD_FORM},
        "Ad platform setup": {ChannelKind.FACEBOOK_LEAD_ADS, ChannelKind.GOOGLE_LEAD_FORM},
    }

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.kind:
            return fieldsets
        return [
            (name, {**options, "classes": ("collapse",)})
            if name in self.section_kinds and obj.kind not in self.section_kinds[name] else (name, options)
            for name, options in fieldsets
        ]

    class Media:
        js = ("crm/copy.js",)

    def _absolute(self, path: str) -> str:
        request = getattr(self, "_request", None)
        return request.build_absolute_uri(path) if request is not None else path

    @admin.display(description="Embed snippet")
    def embed_snippet(self, channel: Channel) -> str:
        if not channel.pk:
            return "Shown once the channel is saved."
        snippet = (f'<div data-crm-form-key="{channel.form_key}" data-crm-render></div>\n'
                   f'<script src="{self._absolute(static("crm/embed.js"))}" defer></script>')
        return format_html(
            '<div class="crm-copy"><textarea readonly rows="2" cols="70" id="embed-snippet" '
            'aria-label="Embed snippet">{}</textarea>'
            '<button type="button" class="button" data-copy="embed-snippet">Copy snippet</button></div>'
            '<p class="help">Paste it where the form goes, on one of the allowed websites (docs/embedding.md).</p>',
            snippet,
        )

    @admin.display(description="Hosted form")
    def hosted_form_link(self, channel: Channel) -> str:
        if not channel.pk:
            return "Shown once the channel is saved."
        url = self._absolute(reverse("hosted-form", args=[channel.form_key]))
        return format_html(
            '<div class="crm-copy"><input type="text" readonly value="{}" id="hosted-form-url" size="60" '
            'aria-label="Hosted form address"><button type="button" class="button" data-copy="hosted-form-url">'
            'Copy link</button> <a href="{}" target="_blank" rel="noopener">Open</a></div>',
            url, url,
        )

    @admin.display(description="Callback URL")
    def callback_url(self, channel: Channel) -> str:
        path = callback_path(channel) if channel.pk else ""
        request = getattr(self, "_request", None)
        if not path:
            return "- (Facebook and Google channels: saved first)"
        return request.build_absolute_uri(path) if request is not None else path

    @admin.display(description="Last errors")
    def last_errors(self, channel: Channel) -> str:
        lines = []
        if channel.last_error:
            lines.append((_when(channel.last_error_at), channel.last_error))
        failed = AdLead.objects.filter(channel=channel).exclude(error="").order_by("-received_at")[:5] if channel.pk else []
        lines += [(_when(origin.received_at), f"{origin.external_id}: {origin.error}") for origin in failed]
        if not lines:
            return "-"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", lines))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._request = request  # for the callback URL's host
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        values = form.changed_values()
        if change:
            channel_update(actor=request.user, channel=Channel.objects.get(pk=obj.pk), values=values)
        else:
            created = channel_create(actor=request.user, tenant=obj.tenant, values=values)
            obj.pk = created.pk


@admin.register(Campaign)
class CampaignAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """Campaigns are made on first sight (ad leads, forms, imports); their names may be edited here."""

    list_display = ("__str__", "platform", "external_id", "first_seen_at", "last_seen_at")
    list_filter = ("platform",)
    search_fields = ("name", "external_id")
    fields = ("tenant", "platform", "external_id", "name", "first_seen_at", "last_seen_at")
    readonly_fields = ("platform", "external_id", "first_seen_at", "last_seen_at")

    def has_add_permission(self, request):
        return False


class ScoringRuleForm(forms.ModelForm):
    """Refuses a rule scoring cannot evaluate (unknown field, a word where a number belongs, ...)."""

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
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
                "Saving or deleting a rule rescores the workspace's leads in the background (the 'Rescore "
                "selected leads' action on the lead list and manage.py rescore_leads do it at once).",
            },
        ),
    )
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._rescore(request, obj.tenant_id)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._rescore(request, obj.tenant_id)

    def delete_queryset(self, request, queryset):
        tenants = set(queryset.values_list("tenant_id", flat=True))
        super().delete_queryset(request, queryset)
        for tenant_id in tenants:
            self._rescore(request, tenant_id)

    def _rescore(self, request, tenant_id: int) -> None:
        rescore_soon(tenant_id=tenant_id, requested_by=request.user)
        self.message_user(
            request, "The workspace's leads are being rescored in the background (progress under Background work)."
        )


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
        super().clean()
        cleaned = self.cleaned_data
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
