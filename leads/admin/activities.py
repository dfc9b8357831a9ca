"""The Activities page logs and edits through the timeline services (leads.activities), as the lead page does: a
call logged here moves the lead's last activity, its first contact and its score. crm registers the page; leads,
which owns those services, takes the registration over (crm may not import leads)."""

from __future__ import annotations

from django.contrib import admin

from crm.admin import ActivityAdmin
from crm.models import Activity
from leads.activities import edit_activity, log_activity

EDITABLE = ("kind", "subject", "body", "lead", "contact", "deal", "occurred_at", "due_at", "done_at")


class TimelineActivityAdmin(ActivityAdmin):
    def save_model(self, request, obj, form, change):
        if change:
            stored = Activity.objects.get(pk=obj.pk)
            edit_activity(activity=stored, actor=request.user,
                          changes={name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE})
            return
        logged = log_activity(
            tenant=obj.tenant, kind=obj.kind, actor=request.user, lead=obj.lead, contact=obj.contact, deal=obj.deal,
            subject=obj.subject, body=obj.body, occurred_at=obj.occurred_at, due_at=obj.due_at, done_at=obj.done_at,
        )
        obj.pk, obj.actor = logged.pk, logged.actor


admin.site.unregister(Activity)
admin.site.register(Activity, TimelineActivityAdmin)
