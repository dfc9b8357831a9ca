"""Admin pages that show personal data leave access records (crm/audit.py): a change page its row,
a list page the rows on it and its filter. Mixed into the lead, contact, company and deal admins."""

from typing import Any

from . import audit

_AdminHooks: Any = object


class AuditedAdmin(_AdminHooks):
    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200 and object_id:
            obj = (response.context_data or {}).get("original") if hasattr(response, "context_data") else None
            if obj is not None:
                audit.record_access(request=request, door="admin", model=self.model, rows=[obj])
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if request.method == "GET" and response.status_code == 200 and changelist is not None:
            rows = list(changelist.result_list)  # the page; the template reuses the evaluated rows
            audit.record_access(
                request=request, door="admin", model=self.model, rows=rows, query=audit.query_of(request)
            )
        return response
