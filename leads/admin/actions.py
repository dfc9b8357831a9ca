"""Bulk actions on the lead list. Each one checks who may touch the selection, then calls the entry point.

Actions that need an answer (a status, a rep, a reason, a confirmation) render a page first and
run when that page is posted back with `apply`. The page re-posts the same selection (the ticked
ids, or "all matching" with the list's filters in the URL), so nothing is resolved twice differently.

Who may touch the selection is checked for all of it first (none is changed when one is not theirs).
Then each lead is changed in its own transaction: a lead the service refuses does not undo the others,
and the summary names each refused lead and why.
"""

from __future__ import annotations

from collections import defaultdict
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse

from contacts.companies import company_key, find_companies
from contacts.models import Contact
from crm.access import AccessDenied, can_change
from crm.admin_paging import EstimatedCountPaginator
from crm.admin_tenancy import of_users_tenant
from crm.models import Tenant, User
from leads.assignment import AssignmentError, assign_lead
from leads.choices import OPEN_STATUSES, LeadStatus
from leads.conversion import ConversionError
from leads.deletion import REASON_MAX, DeletionError, delete_lead
from leads.enrichment.service import enrich_soon
from leads.lifecycle import MissingReason, TransitionError, change_status
from leads.models import Lead
from leads.routing.service import route_lead
from leads.rules.scoring import rescore_leads

PREVIEW_ROWS = 50  # leads listed on a confirmation page; the rest are counted


def _label(lead: Lead) -> str:
    return f"{lead} (#{lead.pk})"


def _plural(count: int, word: str = "lead") -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def refused_for(request, leads: list[Lead]) -> list[Lead]:
    """The leads of the selection this user may not change (a rep: a colleague's); the rows say, no query."""
    return [lead for lead in leads if not can_change(request.user, lead)]


def unseen_selection(model_admin, request) -> int:
    """How many ticked ids are leads of the user's workspace outside their list (a rep: a colleague's), or no id.

    Ids of other workspaces or of deleted leads are dropped as Django drops them: a word about them would
    tell whether such a lead exists.
    """
    if forms.BooleanField(required=False).to_python(request.POST.get("select_across")):
        return 0  # "all matching": Django ignores the ticked ids and acts on the (scoped) list itself
    posted = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
    ids = {int(value) for value in posted if value.isdigit()}
    not_ids = len(posted) - len(ids)  # Django would fail on them with a server error
    if not ids:
        return not_ids
    workspace = Lead.objects.filter(pk__in=ids)
    if not request.user.is_superuser:
        workspace = of_users_tenant(workspace, request.user)
    listed = model_admin.get_queryset(request).filter(pk__in=ids).values("pk")
    return not_ids + workspace.exclude(pk__in=listed).count()


def selection_outside_list(count: int) -> str:
    # Never names them: a lead outside the user's list is one they may not see.
    return (
        f"{count} of the selected leads {'is' if count == 1 else 'are'} not in your list"
        " (a colleague's lead, or not a lead at all)."
    )


def _refuse(model_admin, request, leads: list[Lead], what: str) -> bool:
    """All or nothing: name the leads this user may not touch and change none. True when refused."""
    not_yours = refused_for(request, leads)
    if not_yours:
        names = ", ".join(_label(lead) for lead in not_yours)
        model_admin.message_user(
            request, f"Nothing was {what}: you may change only your own and unassigned leads ({names}).", messages.ERROR
        )
    return bool(not_yours)


def _page(model_admin, request, queryset, *, action: str, title: str, form=None, extra=None):
    """The intermediate page of an action: the selection, a form, and a button that applies it."""
    leads = list(queryset.select_related("owner")[: PREVIEW_ROWS + 1])
    # "Select all" on a million leads: count the rest the way the list does, never row by row.
    total = EstimatedCountPaginator(queryset, PREVIEW_ROWS) if len(leads) > PREVIEW_ROWS else None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "action": action,
        "form": form,
        "leads": leads[:PREVIEW_ROWS],
        "more": max(0, total.count - PREVIEW_ROWS) if total else 0,
        "more_is_estimate": bool(total and total.is_estimate),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action_url": request.get_full_path(),
        "from_lead": request.POST.get("_from_lead", ""),  # started from a lead page's header: back there after
        "media": model_admin.media + (form.media if form is not None else forms.Media()),
        **(extra or {}),
    }
    return TemplateResponse(request, "admin/leads/lead/action_page.html", context)


def _applying(request) -> bool:
    return request.method == "POST" and request.POST.get("apply") == "yes"


# --- assignment ---


@admin.action(description="Assign to me", permissions=["change"])
def assign_to_me(model_admin, request, queryset):
    leads = list(queryset.order_by("pk"))
    not_yours = refused_for(request, leads)
    if not_yours:
        names = ", ".join(_label(lead) for lead in not_yours)
        model_admin.message_user(
            request, f"Nothing was assigned: reps take unassigned leads only ({names}).", messages.ERROR
        )
        return
    taken, refused = 0, []
    for lead in leads:
        try:  # one transaction per lead (inside assign_lead): a refusal does not undo the others
            assign_lead(
                lead=lead, owner=request.user, actor=request.user, reason=f"taken by {request.user} in the admin"
            )
        except AssignmentError as exc:
            refused.append(f"{_label(lead)}: {exc}")
            continue
        taken += 1
    if taken:
        now_yours = f"{taken} lead{'s are' if taken != 1 else ' is'} now yours."
        model_admin.message_user(request, now_yours, messages.SUCCESS)
    if refused:
        model_admin.message_user(request, "Not assigned: " + "; ".join(refused), messages.WARNING)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), label="Give the leads to")

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
        if not request.user.is_superuser:
            people = of_users_tenant(people, request.user)
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        owner.queryset = people
        # Django documents overriding label_from_instance; here per form rather than by a subclass.
        owner.label_from_instance = lambda user: user.get_full_name() or user.username  # type: ignore[method-assign,assignment]


@admin.action(description="Assign to a rep…", permissions=["assign"])
def assign_to_rep(model_admin, request, queryset):
    form = AssignForm(request.POST if _applying(request) else None, request=request)
    if not form.is_bound or not form.is_valid():
        return _page(model_admin, request, queryset, action="assign_to_rep", title="Assign leads to a rep", form=form)
    owner = form.cleaned_data["owner"]
    assigned, refused = 0, []
    for lead in queryset.order_by("pk"):
        try:  # one transaction per lead (inside assign_lead): a refusal does not undo the others
            assign_lead(lead=lead, owner=owner, actor=request.user, reason=f"assigned in the admin by {request.user}")
        except AssignmentError as exc:
            refused.append(f"{_label(lead)}: {exc}")
            continue
        assigned += 1
    if assigned:
        name = owner.get_full_name() or owner.username
        model_admin.message_user(request, f"Assigned {_plural(assigned)} to {name}.", messages.SUCCESS)
    if refused:
        model_admin.message_user(request, "Not assigned: " + "; ".join(refused), messages.WARNING)


@admin.action(description="Route (apply assignment rules)", permissions=["route"])
def route_leads(model_admin, request, queryset):
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
        model_admin.message_user(request, f"Routed {len(routed)}: " + "; ".join(routed), messages.SUCCESS)
    if stayed:
        model_admin.message_user(request, f"Not assigned {len(stayed)}: " + "; ".join(stayed), messages.WARNING)
    if refused:
        model_admin.message_user(request, "Skipped: " + "; ".join(refused), messages.WARNING)


# --- lifecycle ---


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(status.value, status.label) for status in OPEN_STATUSES],
        help_text="Statuses move forward: new, contacted, qualified. Disqualify and convert have their own actions.",
    )


@admin.action(description="Change status…", permissions=["change"])
def change_lead_status(model_admin, request, queryset):
    form = StatusForm(request.POST if _applying(request) else None)
    if not form.is_bound or not form.is_valid():
        return _page(model_admin, request, queryset, action="change_lead_status", title="Change the status", form=form)
    leads = list(queryset.order_by("pk"))
    if _refuse(model_admin, request, leads, "changed"):
        return None
    status = form.cleaned_data["status"]
    moved, refused = 0, []
    for lead in leads:
        try:  # one transaction per lead (inside change_status): a refusal does not undo the others
            change_status(lead=lead, status=status, actor=request.user)
        except TransitionError as exc:
            refused.append(f"{_label(lead)}: {exc}")
            continue
        moved += 1
    label = LeadStatus(status).label.lower()
    if moved:
        model_admin.message_user(request, f"{_plural(moved)} now {label}.", messages.SUCCESS)
    if refused:
        model_admin.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)
    return None


class DisqualifyForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        required=False,  # the lifecycle says when a reason is missing (MissingReason)
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on each lead and in its timeline, e.g. 'No budget this year' or 'Student, not a buyer'.",
    )


@admin.action(description="Disqualify…", permissions=["change"])
def disqualify_leads(model_admin, request, queryset):
    applying = _applying(request)
    form = DisqualifyForm(request.POST if applying else None)
    if not applying or not form.is_valid():
        return _page(model_admin, request, queryset, action="disqualify_leads", title="Disqualify leads", form=form)
    leads = list(queryset.order_by("pk"))
    if _refuse(model_admin, request, leads, "disqualified"):
        return None
    done, refused = 0, []
    for lead in leads:
        try:  # one transaction per lead (inside change_status): a refusal does not undo the others
            change_status(
                lead=lead, status=LeadStatus.DISQUALIFIED, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except MissingReason as exc:  # refused before anything is written, and alike for every lead: ask again
            form.add_error("reason", str(exc))
            model_admin.message_user(request, "Nothing was disqualified: give a reason.", messages.ERROR)
            return _page(model_admin, request, queryset, action="disqualify_leads", title="Disqualify leads", form=form)
        except TransitionError as exc:
            refused.append(f"{_label(lead)}: {exc}")
            continue
        done += 1
    if done:
        model_admin.message_user(request, f"Disqualified {_plural(done)}.", messages.SUCCESS)
    if refused:
        model_admin.message_user(request, "Not disqualified: " + "; ".join(refused), messages.WARNING)
    return None


# --- conversion and scoring ---


def conversion_preview(leads: list[Lead]) -> list[dict]:
    """For each lead: the contact (same email) and company (contacts.companies, as the conversion matches) it
    would attach to, in three queries per workspace.
    """
    by_tenant = defaultdict(list)
    for lead in leads:
        by_tenant[lead.tenant_id].append(lead)
    rows = []
    for tenant_id, group in by_tenant.items():
        keys = {lead.pk: company_key(website=lead.website, email=lead.email, name=lead.company) for lead in group}
        contacts = Contact.objects.filter(tenant_id=tenant_id, email__in={lead.email for lead in group if lead.email})
        by_email = {contact.email: contact for contact in contacts.select_related("company")}
        companies = find_companies(tenant_id=tenant_id, keys=keys.values())
        for lead in group:
            key = keys[lead.pk]
            rows.append({"lead": lead, "contact": by_email.get(lead.email), "company": companies.get(key),
                         "domain": key.domain})
    return rows


@admin.action(description="Convert selected leads…", permissions=["change"])
def convert_leads(model_admin, request, queryset):
    leads = list(queryset.select_related("owner").order_by("pk"))
    if _refuse(model_admin, request, leads, "converted"):
        return None
    if not _applying(request):
        preview = conversion_preview(leads[:PREVIEW_ROWS])
        return _page(
            model_admin,
            request,
            queryset,
            action="convert_leads",
            title="Convert leads",
            extra={"preview": preview, "confirm_only": True},
        )
    created, already, failures = 0, 0, []
    for lead in leads:
        try:  # one transaction per lead (inside convert): a refusal does not undo the others
            result = Lead.objects.convert(lead=lead, actor=request.user)
        except ConversionError as exc:
            failures.append(f"{_label(lead)}: {exc}")
            continue
        created += result.created
        already += not result.created
    if created or already:
        message = f"Converted {_plural(created)}."
        if already:
            message += f" {already} {'was' if already == 1 else 'were'} already converted."
        model_admin.message_user(request, message, messages.SUCCESS)
    if failures:
        model_admin.message_user(request, "Not converted: " + "; ".join(failures), messages.ERROR)
    return None


@admin.action(description="Rescore selected leads", permissions=["change"])
def rescore_selected(model_admin, request, queryset):
    by_tenant = defaultdict(list)
    for pk, tenant_id in queryset.order_by().values_list("pk", "tenant_id"):
        by_tenant[tenant_id].append(pk)
    leads = band_changed = qualified = 0
    for tenant in Tenant.objects.filter(pk__in=by_tenant):
        summary = rescore_leads(tenant=tenant, lead_ids=by_tenant[tenant.pk])
        leads += summary.leads
        band_changed += summary.band_changed
        qualified += summary.qualified
    message = f"Rescored {_plural(leads)}: {band_changed} changed band"
    if qualified:
        verb = "is" if qualified == 1 else "are"
        message += f", {qualified} reached the auto-qualify threshold and {verb} now qualified"
    model_admin.message_user(request, message + ".", messages.SUCCESS)


@admin.action(description="Enrich selected leads again", permissions=["change"])
def enrich_selected(model_admin, request, queryset):
    """Ask the enrichment provider again (e.g. for imported leads, or after a failed lookup), in the background."""
    leads = list(queryset.select_related("tenant").order_by())
    if _refuse(model_admin, request, leads, "enriched"):
        return
    queued = off = 0
    with transaction.atomic():  # queued as this commits
        for lead in leads:
            if enrich_soon(lead=lead, force=True):
                queued += 1
            else:
                off += 1
    if queued:
        model_admin.message_user(
            request, f"Enrichment asked for {_plural(queued)}; it runs in the background (each lead's Enrichment "
            "panel shows what it added).", messages.SUCCESS,
        )
    if off:
        model_admin.message_user(
            request, f"{_plural(off)} not enriched: enrichment is off for the workspace (its Tenant page).",
            messages.WARNING,
        )


# --- deletion ---


class DeleteForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX,
        required=False,  # the deletion service says when a reason is missing
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept in the audit event, e.g. 'Duplicate of another lead' or 'Test entry'. "
        "Timeline entries already on a contact or deal stay there.",
    )


@admin.action(description="Delete…", permissions=["delete"])
def delete_leads(model_admin, request, queryset):
    applying = _applying(request)
    form = DeleteForm(request.POST if applying else None)
    title = "Delete leads"
    if not applying or not form.is_valid():
        return _page(model_admin, request, queryset, action="delete_leads", title=title, form=form)
    deleted, refused = 0, []
    for lead in queryset.order_by("pk"):
        try:  # one transaction per lead (inside delete_lead): a refusal does not undo the others
            delete_lead(lead=lead, actor=request.user, reason=form.cleaned_data["reason"])
        except DeletionError as exc:  # alike for every lead: ask again, nothing was deleted
            form.add_error(exc.field, str(exc))
            model_admin.message_user(request, "Nothing was deleted: give a reason.", messages.ERROR)
            return _page(model_admin, request, queryset, action="delete_leads", title=title, form=form)
        except AccessDenied as exc:
            refused.append(f"{_label(lead)}: {exc}")
            continue
        deleted += 1
    if deleted:
        model_admin.message_user(request, f"Deleted {_plural(deleted)}; the reason is kept in the audit event.",
                                 messages.SUCCESS)
    if refused:
        model_admin.message_user(request, "Not deleted: " + "; ".join(refused), messages.WARNING)
    return None
