"""Admin actions for data-subject requests on the lead list (workspace admins): export and erase the people
of the selected leads (docs/privacy.md). The services are leads/privacy/."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from crm.models import Tenant

from ..privacy.erase import privacy_erase
from ..privacy.export import privacy_export
from ..privacy.retention import retention_plan
from .actions import _applying, _page

PREVIEW = 20


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: the people of these leads are erased everywhere in the workspace, for good.",
    )


def _emails(queryset) -> list[str]:
    return sorted({email for email in queryset.values_list("email", flat=True) if email})


@admin.action(description="Data-subject request: export the people's data (JSON)", permissions=["privacy"])
def privacy_export_selected(model_admin, request, queryset):
    tenant = Tenant.objects.get(pk=request.user.tenant_id)
    answers = [privacy_export(tenant=tenant, email=email, actor=request.user, door="admin", request=request)
               for email in _emails(queryset)]
    body = {"summaries": [a.summary for a in answers], "people": [a.document for a in answers]}
    response = HttpResponse(json.dumps(body, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="privacy-export-{timezone.now():%Y%m%d-%H%M}.json"'
    return response


@admin.action(description="Data-subject request: erase the people…", permissions=["privacy"])
def privacy_erase_selected(model_admin, request, queryset):
    applying = _applying(request)
    form = EraseForm(request.POST if applying else None)
    title = "Erase these people (data-subject request)"
    if not applying or not form.is_valid():
        return _page(model_admin, request, queryset, action="privacy_erase_selected", title=title, form=form)
    tenant = Tenant.objects.get(pk=request.user.tenant_id)
    emails = _emails(queryset)
    for email in emails:
        privacy_erase(tenant=tenant, email=email, actor=request.user, door="admin")
    model_admin.message_user(
        request, f"Erased {len(emails)} {'person' if len(emails) == 1 else 'people'}; the erasure is logged under "
        "Privacy requests without their data.", messages.SUCCESS,
    )
    return None


def retention_view(model_admin, request):
    """`/admin/leads/lead/retention/`: the dry run of the workspace's retention policies (what the next nightly
    run would anonymise, clear and delete), for workspace admins."""
    if not model_admin.has_privacy_permission(request):
        raise PermissionDenied
    tenant = Tenant.objects.get(pk=request.user.tenant_id)
    plan = retention_plan(tenant=tenant)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Retention: what the next nightly run would do",
        "tenant": tenant,
        "counts": plan.counts(),
        "disqualified": list(plan.disqualified.order_by("closed_at")[:PREVIEW]),
        "inactive": list(plan.inactive.order_by("updated_at")[:PREVIEW]),
    }
    return TemplateResponse(request, "admin/leads/lead/retention.html", context)


def privacy_urls(model_admin):
    view = model_admin.admin_site.admin_view(lambda request: retention_view(model_admin, request))
    return [path("retention/", view, name="leads_lead_retention")]
