"""Admin actions for data-subject requests on the lead list (workspace admins): export and erase the people
of the selected leads (docs/privacy.md). The services are leads/privacy/."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils import timezone

from crm.models import Tenant

from ..privacy.erase import privacy_erase
from ..privacy.export import privacy_export
from .actions import _applying, _page


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
