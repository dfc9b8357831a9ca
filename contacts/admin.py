import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.html import format_html, format_html_join

from crm import access
from crm.admin import ActivityNoteInline, ActivityTimelineInline, PersonForm
from crm.admin_a11y import LabelledTabularInline
from crm.admin_audit import AuditedAdmin
from crm.admin_cells import owner_cell, two_lines, when
from crm.admin_tenancy import TenantScopedAdmin
from crm.admin_versions import VersionedAdmin

from .board import build_board, format_money
from .choices import DealStage
from .consent import contact_consent_set
from .deals import change_stage, settle_deal
from .models import Company, Contact, Deal

CRM_CSS = {"all": ("crm/admin.css",)}


@admin.display(description="stage", ordering="stage")
def stage_badge(deal):
    return format_html('<span class="crm-badge crm-stage-{}">{}</span>', deal.stage, deal.get_stage_display())


class ReadOnlyInline(TenantScopedAdmin, admin.TabularInline):
    """A list of related rows with links; they are edited on their own pages."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CompanyContactInline(ReadOnlyInline):
    model = Contact
    fields = ("first_name", "last_name", "email", "phone", "job_title")


class CompanyDealInline(ReadOnlyInline):
    model = Deal
    fk_name = "company"
    # The stubs allow only names here; Django's admin (and its checks) take callables too.
    fields = ("name", stage_badge, "amount", "currency", "contact", "owner")  # type: ignore[assignment]
    readonly_fields = fields  # type: ignore[assignment]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact", "owner")


class ContactDealInline(TenantScopedAdmin, LabelledTabularInline):
    model = Deal
    fk_name = "contact"
    extra = 0
    # Callables, as above.
    fields = ("name", stage_badge, "amount", "currency", "owner", "expected_close_date")  # type: ignore[assignment]
    readonly_fields = (stage_badge,)  # type: ignore[assignment]  # moved on the deal's page, through change_stage
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")

    def get_formset(self, request, obj=None, **kwargs):
        formset: Any = super().get_formset(request, obj, **kwargs)  # subclassed below
        user = request.user

        class DealFormSet(formset):
            def clean(self):
                # Editable through the contact's page, each deal is still only changed by whom crm.access allows.
                super().clean()
                for form in self.forms:
                    if form.instance.pk is not None and form.has_changed():
                        stored = Deal.objects.get(pk=form.instance.pk)  # the instance already holds the posted owner
                        try:
                            access.check_change(user, stored)
                        except access.AccessDenied as exc:
                            form.add_error(None, str(exc))

        return DealFormSet


class ListCells:
    """The columns the company, contact and deal lists share, short enough to fit a laptop."""

    @admin.display(description="owner", ordering="owner__first_name")
    def owner_name(self, obj):
        return owner_cell(obj.owner)

    @admin.display(description="created", ordering="-created_at")
    def created(self, obj):
        return when(obj.created_at)


@admin.register(Company)
class CompanyAdmin(ListCells, AuditedAdmin, VersionedAdmin, TenantScopedAdmin, admin.ModelAdmin):
    change_form_template = "admin/crm/versioned_change_form.html"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # what people paste today
    list_display = ("company", "industry", "country", "owner_name", "created")
    list_display_links = None  # the company cell links the name itself
    list_filter = ("industry", "country", "owner")
    list_select_related = ("owner",)
    search_fields = ("name", "domain")
    fields = (
        "tenant",
        "name",
        "domain",
        "website",
        "industry",
        ("employee_count", "annual_revenue"),
        "country",
        "phone",
        "owner",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("created_at", "updated_at")
    inlines = (CompanyContactInline, CompanyDealInline)

    @admin.display(description="company", ordering="name")
    def company(self, company):
        return two_lines(reverse("admin:contacts_company_change", args=[company.pk]), company.name, company.domain)

    class Media:
        css = CRM_CSS


class ContactForm(PersonForm):
    """A contact; its marketing consent is recorded through contacts.consent (source "admin"), not written here."""

    def clean_marketing_consent(self):
        value = self.cleaned_data.get("marketing_consent") or ""
        if not value and self.instance.marketing_consent:
            raise ValidationError("Consent once recorded stays given or withdrawn: choose withdrawn to stop "
                                  "marketing email.")
        return value


@admin.register(Contact)
class ContactAdmin(ListCells, AuditedAdmin, VersionedAdmin, TenantScopedAdmin, admin.ModelAdmin):
    change_form_template = "admin/crm/versioned_change_form.html"
    form = ContactForm
    # One line per contact that fits 1366 px beside the filters: who (name, company, email), then the rest.
    list_display = ("person", "phone", "status", "owner_name", "created")
    list_display_links = None  # the person cell links the name itself
    list_filter = ("status", "owner", "created_at")
    list_select_related = ("company", "owner")
    search_fields = ("first_name", "last_name", "email", "phone", "company__name")
    autocomplete_fields = ("company",)
    fields = (
        "tenant",
        ("first_name", "last_name"),
        "email",
        "phone",
        "job_title",
        "company",
        "owner",
        "status",
        ("marketing_consent", "consent_wording"),
        ("consent_at", "consent_source"),
        "came_from",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("consent_at", "consent_source", "came_from", "created_at", "updated_at")
    inlines = (ContactDealInline, ActivityTimelineInline, ActivityNoteInline)

    @admin.display(description="contact", ordering="last_name")
    def person(self, contact):
        return two_lines(reverse("admin:contacts_contact_change", args=[contact.pk]), str(contact),
                         contact.company.name if contact.company_id else "", contact.email)

    class Media:
        css = CRM_CSS

    def save_model(self, request, obj, form, change):
        """The form's consent, when it changed, goes through the consent rule (source admin, when, timeline)."""
        before = (form.initial.get("marketing_consent") or "", form.initial.get("consent_wording") or "")
        wanted = (obj.marketing_consent, obj.consent_wording)
        obj.marketing_consent, obj.consent_wording = before  # the contact's other fields are saved as they are
        super().save_model(request, obj, form, change)
        if wanted[0] and wanted != before:
            contact_consent_set(contact=obj, given=wanted[0] == "given", source="admin", wording=wanted[1],
                                actor=request.user)

    @admin.display(description="came from lead(s)")
    def came_from(self, contact):
        # Through the reverse relation: contacts must not import the leads app.
        leads = contact.source_leads.filter(tenant_id=contact.tenant_id).order_by("pk")
        links = format_html_join(
            "<br>",
            '<a href="{}">{}</a> <span class="crm-muted">{}, {}{}, converted {}</span>',
            (
                (
                    reverse("admin:leads_lead_change", args=[lead.pk]),
                    lead,
                    lead.get_source_display(),
                    lead.campaign + ", " if lead.campaign else "",
                    f"score {lead.score_total}",
                    f"{lead.converted_at:%Y-%m-%d}" if lead.converted_at else "-",
                )
                for lead in leads
            ),
        )
        return links or "-"


class BoardFilterForm(forms.Form):
    """The board's filters: whose deals ("" everyone's, "none" nobody's) and which expected close month."""

    owner = forms.ChoiceField(label="Owner", required=False)
    month = forms.CharField(
        label="Expected close month",
        required=False,
        widget=forms.DateInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        owner: Any = self.fields["owner"]  # a ChoiceField
        owner.choices = [("", "Everyone"), ("none", "Nobody (unassigned)")] + [
            (str(user.pk), str(user)) for user in users
        ]

    def clean_month(self) -> dt.date | None:
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return None
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise ValidationError("Enter a month as YYYY-MM, e.g. 2026-03.") from None


class MoveForm(forms.Form):
    stage = forms.ChoiceField(choices=DealStage.choices, error_messages={"invalid_choice": "Pick one of the stages."})


@admin.register(Deal)
class DealAdmin(ListCells, AuditedAdmin, VersionedAdmin, TenantScopedAdmin, admin.ModelAdmin):
    change_form_template = "admin/crm/versioned_change_form.html"
    change_list_template = "admin/contacts/deal/change_list.html"
    list_display = ("deal", stage_badge, "money", "owner_name", "closes", "created")
    list_display_links = None  # the deal cell links the name itself
    list_filter = ("stage", "owner", "created_at")
    list_select_related = ("contact", "company", "owner")
    search_fields = ("name", "contact__email", "contact__last_name", "company__name")
    autocomplete_fields = ("contact", "company")
    fields = (
        "tenant",
        "name",
        "stage",
        ("amount", "currency"),
        "contact",
        "company",
        "owner",
        "expected_close_date",
        "closed_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("closed_at", "created_at", "updated_at")
    inlines = (ActivityTimelineInline, ActivityNoteInline)

    @admin.display(description="deal", ordering="name")
    def deal(self, deal):
        return two_lines(reverse("admin:contacts_deal_change", args=[deal.pk]), deal.name,
                         deal.company.name if deal.company_id else "", str(deal.contact) if deal.contact_id else "")

    @admin.display(description="amount", ordering="amount")
    def money(self, deal):
        return format_money(deal.amount, deal.currency)

    @admin.display(description="closes", ordering="expected_close_date")
    def closes(self, deal):
        """Expected close date, or when it closed."""
        day = deal.closed_at.date() if deal.closed_at else deal.expected_close_date
        return day.strftime("%-d %b %Y") if day else ""

    class Media:
        css = CRM_CSS

    def save_model(self, request, obj, form, change):
        if not change:  # a new deal starts where it is put; created won, its contact is a customer
            super().save_model(request, obj, form, change)
            settle_deal(deal=obj, actor=request.user)
            return
        # Stage moves go through change_stage, which keeps closed_at in step and logs the move.
        stage = obj.stage
        if "stage" in form.changed_data:
            obj.stage = form.initial["stage"]
        super().save_model(request, obj, form, change)
        if stage != obj.stage:
            moved = change_stage(deal=obj, stage=stage, actor=request.user)
            obj.stage, obj.closed_at = moved.stage, moved.closed_at
        elif "contact" in form.changed_data:
            settle_deal(deal=obj, actor=request.user)  # a won deal's (new) contact is a customer

    # The pipeline board (/admin/contacts/deal/board/): a door like the list; moves go through change_stage.

    def get_urls(self):
        board = [
            path("board/", self.admin_site.admin_view(self.board_view), name="contacts_deal_board"),
            path("<int:pk>/move/", self.admin_site.admin_view(self.move_view), name="contacts_deal_move"),
        ]
        return board + super().get_urls()

    def board_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        users = access.visible(request.user, get_user_model()._default_manager.filter(is_active=True)).order_by(
            "first_name", "last_name", "username"
        )
        form = BoardFilterForm(request.GET or None, users=users)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Deals pipeline",
            "form": form,
            "stages": DealStage.choices,
        }
        if form.is_bound and not form.is_valid():
            return TemplateResponse(request, "admin/contacts/deal/board.html", context, status=400)
        data = form.cleaned_data if form.is_bound else {}
        owner = data.get("owner") or ""
        context["board"] = build_board(
            user=request.user,
            owner_id=int(owner) if owner.isdigit() else None,
            unowned=owner == "none",
            close_month=data.get("month"),
        )
        context["back"] = request.get_full_path()
        return TemplateResponse(request, "admin/contacts/deal/board.html", context)

    def move_view(self, request, pk: int):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:contacts_deal_board"))
        deal = get_object_or_404(self.get_queryset(request), pk=pk)
        back = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:contacts_deal_board")
        form = MoveForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"{deal} was not moved: {form.errors['stage'][0]}")
            return HttpResponseRedirect(back)
        try:
            moved = change_stage(deal=deal, stage=form.cleaned_data["stage"], actor=request.user)
        except (access.AccessDenied, ValidationError) as exc:
            messages.error(request, f"{deal} was not moved: {_message(exc)}")
            return HttpResponseRedirect(back)
        messages.success(request, f"{moved} moved to {moved.get_stage_display()}.")
        return HttpResponseRedirect(back)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
