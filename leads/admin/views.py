"""Pages of one lead beyond its form: the conversion page, the quick "log a call / note / task" box, and
"Use this value" on a submission the lead kept other values than."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Field, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from contacts.choices import CLOSED_STAGES
from contacts.models import Company, Contact, Deal
from crm.access import AccessDenied
from crm.choices import ActivityKind
from crm.models import Activity
from crm.versions import StaleEdit
from leads.activities import log_activity
from leads.admin.actions import conversion_preview
from leads.conversion import ConversionError, ConversionInputError, attachable_deals
from leads.editing import EDITABLE_FIELDS, update_lead
from leads.intake import CUSTOM_PREFIX, value_of
from leads.lifecycle import TransitionError
from leads.models import Lead

QUICK_KINDS = {ActivityKind.CALL: "Call logged.", ActivityKind.NOTE: "Note added.", ActivityKind.TASK: "Task added."}


def _lead_or_404(model_admin, request, object_id) -> Lead:
    # get_object() starts from the scoped queryset: another workspace's lead is simply not found.
    lead = model_admin.get_object(request, object_id)
    if lead is None:
        raise Http404("No such lead.")
    return lead


def _lead_url(lead: Lead) -> str:
    return reverse("admin:leads_lead_change", args=[lead.pk])


class QuickLogForm(forms.Form):
    kind = forms.ChoiceField(choices=[(kind.value, kind.label) for kind in QUICK_KINDS])
    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_at = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not (cleaned.get("subject") or "").strip() and not (cleaned.get("body") or "").strip():
            self.add_error("subject", "Write a subject or a few words.")
        return cleaned


def _session_key(lead: Lead) -> str:
    return f"crm-quick-log-{lead.pk}"


def _keep_typed(request, lead: Lead, data: dict, errors: dict[str, list[str]]) -> None:
    """What the rep typed, and why it was not logged, for the lead page's next view (once)."""
    typed = {name: str(data.get(name, "")) for name in ("kind", "subject", "body", "due_at")}
    request.session[_session_key(lead)] = {"data": typed, "errors": errors}


def quick_log_form_for(request, lead: Lead) -> QuickLogForm:
    """The lead page's quick-log form: empty, or what was typed last time with its errors (then forgotten)."""
    kept = request.session.pop(_session_key(lead), None)
    if not kept:
        return QuickLogForm()
    form = QuickLogForm(kept["data"])
    form.is_valid()
    for field, msgs in kept["errors"].items():
        if field in form.fields and field not in form.errors:
            form.add_error(field, msgs)
        elif field not in form.fields:
            form.add_error(None, msgs)
    return form


def quick_log_view(model_admin, request, object_id):
    """POST only: one call, note or task on the lead's timeline, through log_activity.

    When something is missing nothing is logged, and the page shows the box again with what was typed."""
    lead = _lead_or_404(model_admin, request, object_id)
    if request.method != "POST":
        return HttpResponseRedirect(_lead_url(lead))
    if not model_admin.has_change_permission(request, lead):
        raise PermissionDenied
    form = QuickLogForm(request.POST)
    if not form.is_valid():
        # An ErrorList yields its messages as str; the stubs also allow ValidationError and lazy strings.
        errors = "; ".join(f"{field}: {' '.join(msgs)}" if field != "__all__" else " ".join(msgs)  # type: ignore[arg-type]
                           for field, msgs in form.errors.items())
        model_admin.message_user(request, f"Nothing was logged yet. {errors} What you typed is kept below.",
                                 messages.ERROR)
        _keep_typed(request, lead, request.POST, {field: [str(m) for m in msgs] for field, msgs in form.errors.items()})
        return HttpResponseRedirect(_lead_url(lead) + "#quick-log")
    data = form.cleaned_data
    try:
        log_activity(
            tenant=lead.tenant,
            kind=data["kind"],
            actor=request.user,
            lead=lead,
            subject=data["subject"].strip(),
            body=data["body"].strip(),
            due_at=data["due_at"],
        )
    except ValidationError as exc:  # the timeline's own rules (e.g. a task needs a due date)
        model_admin.message_user(request, f"Nothing was logged yet. {_describe(exc)} What you typed is kept below.",
                                 messages.ERROR)
        refused = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        _keep_typed(request, lead, request.POST, refused)
        return HttpResponseRedirect(_lead_url(lead) + "#quick-log")
    model_admin.message_user(request, QUICK_KINDS[data["kind"]], messages.SUCCESS)
    return HttpResponseRedirect(_lead_url(lead))


def _describe(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())


NEW_DEAL, NO_DEAL = "new", "none"
MAX_DEALS = 10  # offered on the conversion page; a contact or company with more open deals is rare


class ConvertForm(forms.Form):
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        help_text="Empty: create a new contact (or use the one with the lead's email).",
    )
    company = forms.ModelChoiceField(
        queryset=Company.objects.none(),
        required=False,
        help_text="Empty: the contact's company, else the one matching the lead's domain or company name, "
        "else a new one.",
    )
    deal = forms.ChoiceField(
        widget=forms.RadioSelect,
        initial=NEW_DEAL,
        help_text="Open deals of the contact and company above (picked another? press 'Show their deals').",
        error_messages={"invalid_choice": "That deal is not an open deal of this contact or company; pick again."},
    )
    deal_name = forms.CharField(max_length=200, required=False, help_text="A new deal only. Empty: '<company> deal'.")
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False,
                                help_text="A new deal only.")

    def __init__(self, *args, lead: Lead, admin_site, preview: dict, **kwargs):
        super().__init__(*args, **kwargs)
        # The autocomplete endpoint searches through the contact/company admins, which scope it again.
        self.fields["contact"].widget = AutocompleteSelect(Lead._meta.get_field("converted_contact"), admin_site)
        self.fields["company"].widget = AutocompleteSelect(Lead._meta.get_field("converted_company"), admin_site)
        # Choices are the lead's own workspace whoever asks (a platform user converting a tenant's lead too);
        # set after the widgets, which take their choices from the queryset.
        cast(forms.ModelChoiceField, self.fields["contact"]).queryset = Contact.objects.filter(tenant_id=lead.tenant_id)
        cast(forms.ModelChoiceField, self.fields["company"]).queryset = Company.objects.filter(tenant_id=lead.tenant_id)
        contact, company = self._becomes(preview)
        self.deals = list(attachable_deals(tenant_id=lead.tenant_id, contact=contact, company=company)[:MAX_DEALS])
        cast(forms.ChoiceField, self.fields["deal"]).choices = [
            (NEW_DEAL, "Create a new deal"),
            *((str(deal.pk), _attach_label(deal)) for deal in self.deals),
            (NO_DEAL, "No deal"),
        ]

    def _becomes(self, preview: dict) -> tuple[Contact | None, Company | None]:
        """The contact and company the conversion would end up with, from what is posted (else the matches)."""
        if not self.is_bound:
            contact, company = self.initial.get("contact"), self.initial.get("company")
        else:
            contact, company = self.posted("contact"), self.posted("company")
        contact = contact or preview["contact"]
        # As Lead.objects.convert picks it: the named company, else the contact's, else the match.
        company = company or (contact.company if contact is not None and contact.company_id else None)
        return contact, company or preview["company"]

    def posted(self, name):
        """The posted contact or company, None when empty or not a valid choice."""
        try:
            return self.fields[name].clean(self.data.get(self.add_prefix(name)))
        except forms.ValidationError:
            return None  # reported when the form is validated

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        choice = cleaned.get("deal")
        if choice and choice != NEW_DEAL and (cleaned.get("deal_name") or cleaned.get("amount") is not None):
            self.add_error("deal_name", "A name and an amount are for a new deal: pick 'Create a new deal'.")
        return cleaned

    def deal_arguments(self) -> dict:
        """What Lead.objects.convert takes for the deal choice."""
        choice, data = self.cleaned_data["deal"], self.cleaned_data
        if choice == NEW_DEAL:
            return {"create_deal": True, "deal_name": data["deal_name"].strip(), "amount": data["amount"]}
        if choice == NO_DEAL:
            return {"create_deal": False}
        return {"deal": next(deal for deal in self.deals if str(deal.pk) == choice)}


def _attach_label(deal: Deal) -> str:
    parts = [deal.get_stage_display()]
    if deal.amount is not None:
        parts.append(f"{deal.amount:,.2f} {deal.currency}")
    if deal.contact_id:
        parts.append(str(deal.contact))
    return f"Attach to the deal {deal} ({', '.join(parts)})"


def convert_view(model_admin, request, object_id):
    """Preview what converting creates or attaches, let the rep pick, then run Lead.objects.convert."""
    lead = _lead_or_404(model_admin, request, object_id)
    if not lead.is_open:
        model_admin.message_user(request, f"{lead} is {lead.get_status_display().lower()}; nothing to convert.",
                                 messages.WARNING)
        return HttpResponseRedirect(_lead_url(lead))
    if not model_admin.has_change_permission(request, lead):
        raise PermissionDenied
    preview = conversion_preview([lead])[0]
    initial = {"contact": preview["contact"], "company": preview["company"] or _contacts_company(preview["contact"])}
    form = ConvertForm(
        request.POST or None, lead=lead, admin_site=model_admin.admin_site, preview=preview, initial=initial
    )
    if "_deals" in request.POST:
        # "Show their deals": the page again for the contact and company just picked, converting nothing.
        picked = {"contact": form.posted("contact"), "company": form.posted("company")}
        form = ConvertForm(lead=lead, admin_site=model_admin.admin_site, preview=preview, initial=picked)
    elif form.is_bound:
        if form.is_valid():
            response = _convert(model_admin, request, lead, form)
            if response is not None:
                return response
        model_admin.message_user(request, "Nothing was converted: see the errors below.", messages.ERROR)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Lead._meta,
        "original": lead,
        "title": f"Convert {lead}",
        "lead": lead,
        "form": form,
        "preview": preview,
        "open_deals": _open_deals(preview),
        "media": model_admin.media + form.media,
        "has_view_permission": True,
    }
    return TemplateResponse(request, "admin/leads/lead/convert.html", context)


def _convert(model_admin, request, lead: Lead, form: ConvertForm):
    """Run the conversion the form asks for: the contact's page on success, None with the refusal on the form."""
    data = form.cleaned_data
    try:
        result = Lead.objects.convert(
            lead=lead, actor=request.user, contact=data["contact"], company=data["company"], **form.deal_arguments()
        )
    except ConversionInputError as exc:
        form.add_error(exc.field.removesuffix("_id"), str(exc))
        return None
    except (ConversionError, AccessDenied) as exc:
        form.add_error(None, str(exc))
        return None
    contact = Contact.objects.get(pk=result.contact_id)
    model_admin.message_user(request, f"{lead} is now the contact {contact}.", messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:contacts_contact_change", args=[contact.pk]))


def _contacts_company(contact: Contact | None) -> Company | None:
    return contact.company if contact is not None and contact.company_id else None


def _open_deals(preview: dict):
    """Open deals of the matched contact or company, so the rep sees what is already in progress."""
    contact, company = preview["contact"], preview["company"]
    if contact is None and company is None:
        return []
    deals = Deal.objects.select_related("contact", "company").exclude(stage__in=CLOSED_STAGES)
    match = Q(pk__in=[])
    if contact is not None:
        match |= Q(contact=contact)
    if company is not None:
        match |= Q(company=company)
    return list(deals.filter(match).order_by("-created_at")[:10])


# --- "Use this value": a submission's value the lead kept another one than --------------------------------


def submission_offers(activity: Activity, lead: Lead) -> list[tuple[str, str, object, bool]]:
    """(name, label, submitted value, usable) for each value of a form submission the lead does not hold now.

    `usable`: the lead page may apply it (an editable detail or a custom answer); attribution fields only show.
    """
    if activity.kind != ActivityKind.FORM_SUBMITTED or not isinstance(activity.data, dict):
        return []
    offers = []
    for name, value in (activity.data.get("differs") or {}).items():
        if _comparable(name, value) == value_of(lambda field: getattr(lead, field), name):
            continue  # taken since (this button, an edit, or a later fill)
        custom = name.startswith(CUSTOM_PREFIX)
        label = name.removeprefix(CUSTOM_PREFIX) if custom else str(_field(name).verbose_name)
        offers.append((name, label, value, custom or name in EDITABLE_FIELDS))
    return offers


def render_offers(activity: Activity, lead: Lead, *, can_use: bool):
    """The timeline cell: each differing value, with a "Use this value" button (posting the page's use-value form)."""
    offers = submission_offers(activity, lead)
    if not offers:
        return "-"
    button = ('<button type="submit" form="use-value" name="use" value="{}:{}" class="button crm-use-value">'
              "Use this value</button>")
    return format_html(
        '<span class="crm-submitted-differs">{}</span>',
        format_html_join("<br>", "{}: <strong>{}</strong> {}", (
            (label, value, format_html(button, activity.pk, name) if can_use and usable else "")
            for name, label, value, usable in offers
        )),
    )


def use_value_view(model_admin, request, object_id):
    """POST only: apply one value of a form submission to the lead, through the editing service."""
    lead = _lead_or_404(model_admin, request, object_id)
    if request.method != "POST":
        return HttpResponseRedirect(_lead_url(lead))
    if not model_admin.has_change_permission(request, lead):
        raise PermissionDenied
    activity_id, _, name = request.POST.get("use", "").partition(":")
    activity = Activity.objects.filter(
        pk=int(activity_id) if activity_id.isdigit() else 0, lead=lead, kind=ActivityKind.FORM_SUBMITTED
    ).first()
    offer = next((o for o in submission_offers(activity, lead) if o[0] == name and o[3]), None) if activity else None
    if offer is None:
        model_admin.message_user(request, "Nothing was changed: that value is no longer offered.", messages.WARNING)
        return HttpResponseRedirect(_lead_url(lead))
    _, label, value, _ = offer
    try:
        changes = _change_for(lead, name, value)
        update_lead(lead=lead, changes=changes, actor=request.user)
    except (ValidationError, TransitionError, StaleEdit, AccessDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        model_admin.message_user(request, f"Nothing was changed: {text}", messages.ERROR)
        return HttpResponseRedirect(_lead_url(lead))
    when = activity.occurred_at.strftime("%Y-%m-%d %H:%M") if activity and activity.occurred_at else ""
    model_admin.message_user(request, f"{label.capitalize()} set to {value} (submitted {when}).", messages.SUCCESS)
    return HttpResponseRedirect(_lead_url(lead))


def _comparable(name: str, value):
    """A submitted value (as the timeline's JSON keeps it) as the lead's field holds it (e.g. a Decimal)."""
    if name.startswith(CUSTOM_PREFIX):
        return value
    try:
        return _field(name).to_python(value)
    except ValidationError:
        return value


def _field(name: str) -> Field:
    return cast(Field, Lead._meta.get_field(name))  # a lead's own detail, never a relation


def _change_for(lead: Lead, name: str, value) -> dict:
    if name.startswith(CUSTOM_PREFIX):
        return {"custom_fields": {**(lead.custom_fields or {}), name.removeprefix(CUSTOM_PREFIX): value}}
    return {name: _field(name).clean(value, lead)}  # checked as the lead's form checks it (length, choices)


def lead_urls(model_admin):
    """The extra URLs of the lead admin, wrapped by the admin site (login, permissions, CSRF)."""

    def wrap(view):
        def wrapper(request, object_id):
            return view(model_admin, request, object_id)

        return model_admin.admin_site.admin_view(wrapper)

    return [
        path("<path:object_id>/convert/", wrap(convert_view), name="leads_lead_convert"),
        path("<path:object_id>/log/", wrap(quick_log_view), name="leads_lead_log"),
        path("<path:object_id>/use-value/", wrap(use_value_view), name="leads_lead_use_value"),
    ]

