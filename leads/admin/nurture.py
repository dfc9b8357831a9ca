"""Nurture in the admin: sequences with their steps inline and their figures, the workspace's nurture
policy, and the lead list's "Enrol in a nurture sequence…" action (the rules are in leads/nurture/)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Count

from crm.access import AccessDenied
from crm.admin_tenancy import TenantScopedAdmin, of_users_tenant
from leads.choices import LeadSource
from leads.models import EnrolmentRule, NurturePolicy, Sequence, SequenceStep
from leads.nurture import service
from leads.nurture.figures import sequence_figures
from leads.nurture.policy import check_conditions
from leads.nurture_models import NURTURE_BANDS, ExitReason

from .actions import _applying, _label, _page, _plural


class SequenceStepInline(admin.TabularInline):
    model = SequenceStep
    extra = 1
    ordering = ("position",)
    fields = ("position", "kind", "settings")


class SequenceChangeList(ChangeList):
    """Each listed sequence carries its figures, read for the whole page at once (leads/nurture/figures.py)."""

    def get_results(self, request):
        super().get_results(request)
        figures = sequence_figures([sequence.pk for sequence in self.result_list])
        for sequence in self.result_list:
            sequence.figures = figures[sequence.pk]


@admin.register(Sequence)
class SequenceAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "active", "enrolled", "active_now", "completed", "exited", "emails_sent", "opened",
                    "clicked")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = (SequenceStepInline,)
    fields = ("tenant", "name", "description", "active", "exits_by_reason", "created_at")
    readonly_fields = ("exits_by_reason", "created_at")

    def get_changelist(self, request, **kwargs):
        return SequenceChangeList

    @admin.display(description="Enrolled")
    def enrolled(self, obj):
        return obj.figures.enrolled

    @admin.display(description="In it now")
    def active_now(self, obj):
        return obj.figures.active

    @admin.display(description="Completed")
    def completed(self, obj):
        return obj.figures.completed

    @admin.display(description="Exited")
    def exited(self, obj):
        return obj.figures.exited

    @admin.display(description="Emails sent")
    def emails_sent(self, obj):
        return obj.figures.emails_sent

    @admin.display(description="Opened")
    def opened(self, obj):
        return obj.figures.opened

    @admin.display(description="Clicked")
    def clicked(self, obj):
        return obj.figures.clicked

    @admin.display(description="Exits by reason")
    def exits_by_reason(self, obj):
        if obj.pk is None:
            return "-"
        rows = obj.enrolments.exclude(exit_reason="").values_list("exit_reason").annotate(n=Count("id"))
        return ", ".join(f"{reason}: {n}" for reason, n in rows) or "none yet"


@admin.register(NurturePolicy)
class NurturePolicyAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = ("tenant", "sender_email", "nurture_below_score", "routing_sequence", "speed_to_lead_minutes")


class EnrolmentRuleForm(forms.ModelForm):
    score_bands = forms.MultipleChoiceField(
        choices=NURTURE_BANDS, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: cold and warm. Hot leads always go to a rep.")
    sources = forms.MultipleChoiceField(choices=LeadSource.choices, required=False,
                                        widget=forms.CheckboxSelectMultiple, help_text="None ticked: any source.")

    class Meta:
        model = EnrolmentRule
        fields = ["tenant", "name", "sequence", "priority", "active", "score_bands", "sources", "channels",
                  "conditions", "hold_from_reps"]
        widgets = {"channels": forms.CheckboxSelectMultiple}

    def clean_conditions(self):
        conditions = self.cleaned_data.get("conditions") or []
        try:
            check_conditions(conditions)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["conditions"]) from exc
        return conditions

    def clean(self):
        cleaned = super().clean() or {}
        tenant = cleaned.get("tenant") or getattr(self.instance, "tenant", None)
        channels = cleaned.get("channels")
        if tenant is not None and channels is not None and any(c.tenant_id != tenant.pk for c in channels):
            self.add_error("channels", "Choose channels of this workspace.")
        return cleaned


@admin.register(EnrolmentRule)
class EnrolmentRuleAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """The workspace's enrolment rules: which new leads enter which sequence at capture (leads/nurture/policy.py)."""

    form = EnrolmentRuleForm
    list_display = ("name", "sequence", "priority", "active", "bands", "source_list", "hold_from_reps")
    list_filter = ("active", "sequence")
    list_editable = ("priority", "active")
    search_fields = ("name",)
    list_select_related = ("sequence",)

    @admin.display(description="Score bands")
    def bands(self, obj):
        return ", ".join(obj.score_bands) or "cold, warm"

    @admin.display(description="Sources")
    def source_list(self, obj):
        return ", ".join(obj.sources) or "any"


class EnrolForm(forms.Form):
    sequence = forms.ModelChoiceField(queryset=Sequence.objects.none(), label="Enrol the leads in")

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        choices = Sequence.objects.filter(active=True)
        field = self.fields["sequence"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = choices if request.user.is_superuser else of_users_tenant(choices, request.user)


@admin.action(description="Enrol in a nurture sequence…", permissions=["change"])
def enrol_in_sequence(model_admin, request, queryset):
    form = EnrolForm(request.POST if _applying(request) else None, request=request)
    if not form.is_bound or not form.is_valid():
        return _page(model_admin, request, queryset, action="enrol_in_sequence", title="Enrol leads in a sequence",
                     form=form)
    sequence = form.cleaned_data["sequence"]
    _each(model_admin, request, queryset, done=f"Enrolled {{n}} in {sequence}.", refused_as="Not enrolled",
          change=lambda lead: service.enrol_lead(lead=lead, sequence=sequence, actor=request.user))


def _each(model_admin, request, queryset, *, change, done: str, refused_as: str = "Not changed") -> None:
    """Apply a nurture change to each selected lead (one transaction each: a refusal does not undo the others);
    `done` says what happened, "{n}" standing for the number of leads."""
    changed, refused = 0, []
    for lead in queryset.order_by("pk"):
        try:
            change(lead)
        except (ValidationError, AccessDenied) as exc:
            refused.append(f"{_label(lead)}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
            continue
        changed += 1
    if changed:
        model_admin.message_user(request, done.replace("{n}", _plural(changed)), messages.SUCCESS)
    if refused:
        model_admin.message_user(request, f"{refused_as}: " + "; ".join(refused), messages.WARNING)


@admin.action(description="Pause nurture", permissions=["change"])
def pause_nurture(model_admin, request, queryset):
    _each(model_admin, request, queryset, done="Paused nurture of {n}.",
          change=lambda lead: service.pause_nurture(lead=lead, actor=request.user))


@admin.action(description="Resume nurture", permissions=["change"])
def resume_nurture(model_admin, request, queryset):
    _each(model_admin, request, queryset, done="Resumed nurture of {n}.",
          change=lambda lead: service.resume_nurture(lead=lead, actor=request.user))


@admin.action(description="Remove from nurture sequence", permissions=["change"])
def remove_from_nurture(model_admin, request, queryset):
    def remove(lead):
        if lead.nurture_status not in service.ENROLLED_STATES:  # the service leaves such a lead be; say so
            raise service.NurtureError("nurture_status", f"Not in a sequence ({lead.nurture_status}).")
        service.exit_nurture(lead=lead, reason=ExitReason.REMOVED, actor=request.user)

    _each(model_admin, request, queryset, done="Removed from nurture: {n}.", change=remove)


# The lead list's nurture actions (leads/admin/registrations.py lists them): enrol, pause, resume, remove.
NURTURE_ACTIONS = (enrol_in_sequence, pause_nurture, resume_nurture, remove_from_nurture)
