"""CSV import and export in the admin: upload -> preview and column mapping -> dry-run report -> import.

The pages are LeadAdmin's (through `LeadImportMixin.get_urls`), for tenant admins and managers
(and platform superusers); a rep gets 403. The import always goes into the signed-in user's own
workspace (a superuser without one picks it), the owner and channel choices are that workspace's,
and the uploaded file is kept under IMPORT_UPLOAD_DIR by a random token remembered in the user's
session only, until its import runs or fails (leads/importers/retention.py removes abandoned ones). Imports run through the same engine as `manage.py import_leads`, in the request
(there are no background workers yet). ImportJob rows are listed read-only, with their report.
"""

from __future__ import annotations

import csv
import io
import itertools
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from crm.admin_tenancy import TenantScopedAdmin
from crm.models import Tenant, User

from leads.choices import DuplicatePolicy, LeadSource
from leads.exporting import stream_leads_csv
from leads.importers import ImportFileError, ImportOptions, import_leads, inspect_file
from leads.importers.retention import report_expired, upload_dir
from leads.models import Channel, ImportJob

PREVIEW_ROWS = 5
SESSION_KEY = "lead_imports"
REPORT_LINES_SHOWN = 200


def may_import(user) -> bool:
    """Tenant admins, managers and platform superusers import; reps do not."""
    return user.is_active and user.is_staff and user.is_manager


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV: UTF-8 (with or without BOM) or Windows-1252; comma, semicolon, tab or pipe.")
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.none(), required=False,
                                    help_text="Platform superusers: the workspace to import into.")
    on_duplicate = forms.ChoiceField(choices=DuplicatePolicy.choices, initial=DuplicatePolicy.SKIP,
                                     help_text="A row whose email (or phone) is already known.")
    source = forms.ChoiceField(choices=LeadSource.choices, initial=LeadSource.IMPORT,
                               help_text="For rows without a source.")
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                   help_text="For rows without an owner; empty: the assignment rules decide.")
    channel = forms.ModelChoiceField(queryset=Channel.objects.none(), required=False)
    campaign = forms.CharField(required=False, max_length=200)
    mapping = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='One per line, "Column Name=field", on top of automatic matching; e.g. "Work Mail=email".',
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.tenant_id is None:
            tenant = cast(forms.ModelChoiceField, self.fields["tenant"])
            tenant.queryset = Tenant.objects.all()
            tenant.required = True
        else:
            del self.fields["tenant"]
        tenant_id = user.tenant_id
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        channel = cast(forms.ModelChoiceField, self.fields["channel"])
        if tenant_id is not None:
            owner.queryset = User.objects.filter(tenant_id=tenant_id, is_active=True).order_by("username")
            channel.queryset = Channel.objects.filter(tenant_id=tenant_id)
        else:  # a superuser's choices: any workspace's, checked against the chosen one in clean()
            owner.queryset = User.objects.filter(is_active=True, tenant__isnull=False)
            channel.queryset = Channel.objects.all()

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        tenant_id = self.user.tenant_id or (tenant.pk if (tenant := cleaned.get("tenant")) else None)
        for name in ("owner", "channel"):
            if cleaned.get(name) is not None and cleaned[name].tenant_id != tenant_id:
                self.add_error(name, "Not in the workspace you import into.")
        return cleaned

    def mapping_entries(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("mapping", "").splitlines() if line.strip()]


# Mixed into LeadAdmin, a ModelAdmin.
if TYPE_CHECKING:
    _LeadAdminBase = admin.ModelAdmin
else:
    _LeadAdminBase = object


class LeadImportMixin(_LeadAdminBase):
    """Mix into LeadAdmin: the import pages, the "Import CSV" button and the export action."""

    change_list_template = "admin/leads/import/lead_change_list.html"

    def get_urls(self):
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_upload_view), name=f"{prefix}_import"),
            path("import/<str:token>/", wrap(self.import_preview_view), name=f"{prefix}_import_preview"),
            path("import/<str:token>/run/", wrap(self.import_run_view), name=f"{prefix}_import_run"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "may_import": may_import(request.user) and self.has_add_permission(request),
            # Extends whatever lead change list is in place (a project override, else Django's).
            "lead_change_list_base": select_template(["admin/leads/lead/change_list.html", "admin/change_list.html"]),
        }
        return super().changelist_view(request, extra_context={**extra, **(extra_context or {})})

    # --- pages ---------------------------------------------------------------------------

    def import_upload_view(self, request):
        self._check_import_permission(request)
        form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            token = secrets.token_urlsafe(16)
            target = upload_dir() / f"{token}.csv"
            with open(target, "wb") as out:
                for chunk in form.cleaned_data["file"].chunks():
                    out.write(chunk)
            data = form.cleaned_data
            tenant = request.user.tenant_id or data["tenant"].pk
            uploads = request.session.get(SESSION_KEY, {})
            uploads[token] = {
                "path": str(target), "name": Path(data["file"].name).name, "tenant": tenant,
                "on_duplicate": data["on_duplicate"], "source": data["source"],
                "owner": data["owner"].pk if data["owner"] else None,
                "channel": data["channel"].pk if data["channel"] else None,
                "campaign": data["campaign"], "mapping": form.mapping_entries(),
            }
            request.session[SESSION_KEY] = uploads
            return redirect(reverse("admin:leads_lead_import_preview", args=[token]))
        return self._render(request, "upload.html", "Import leads from CSV", form=form)

    def import_preview_view(self, request, token):
        upload = self._upload(request, token)
        try:
            csv_file, plan = inspect_file(path=upload["path"], mapping=upload["mapping"])
        except ImportFileError as exc:
            self._forget(request, token)  # an unreadable file cannot be imported: nothing to keep it for
            self.message_user(request, f"{upload['name']}: {exc}", messages.ERROR)
            return redirect(reverse("admin:leads_lead_import"))
        rows = []
        for _line, cells in csv_file.records():
            if isinstance(cells, list):
                rows.append([cells[i] if i < len(cells) else "" for i in range(len(csv_file.header))])
            if len(rows) >= PREVIEW_ROWS:
                break
        return self._render(
            request, "preview.html", f"Import {upload['name']}: check the columns",
            upload=upload, token=token, csv_file=csv_file, columns=plan.matched, rows=rows,
        )

    def import_run_view(self, request, token):
        if request.method != "POST":
            return redirect(reverse("admin:leads_lead_import_preview", args=[token]))
        upload = self._upload(request, token)
        dry_run = "dry_run" in request.POST
        tenant = Tenant.objects.get(pk=upload["tenant"])
        options = ImportOptions(
            dry_run=dry_run, source=upload["source"], on_duplicate=upload["on_duplicate"],
            owner=User.objects.filter(pk=upload["owner"], tenant=tenant).first() if upload["owner"] else None,
            channel=Channel.objects.filter(pk=upload["channel"], tenant=tenant).first() if upload["channel"] else None,
            campaign=upload["campaign"], mapping=upload["mapping"],
        )
        try:
            job = import_leads(tenant=tenant, path=upload["path"], options=options, actor=request.user,
                               file_name=upload["name"])
        except ImportFileError as exc:
            self._forget(request, token)
            self.message_user(request, f"{upload['name']}: {exc}", messages.ERROR)
            return redirect(reverse("admin:leads_lead_import"))
        finally:
            if not dry_run:  # imported or failed, the file has done its work (a dry run keeps it for the real run)
                self._forget(request, token)
        report = list(itertools.islice(csv.reader(io.StringIO(job.error_report)), 1, REPORT_LINES_SHOWN + 1))
        return self._render(
            request, "result.html", f"{'Dry run of' if dry_run else 'Imported'} {upload['name']}",
            job=job, token=token, dry_run=dry_run, report_head=report,
            report_more=max(0, job.rejected - len({row[0] for row in report})),
        )

    # --- export --------------------------------------------------------------------------

    @admin.action(description="Export selected leads to CSV", permissions=["view"])
    def export_selected_csv(self, request, queryset):
        response = StreamingHttpResponse(stream_leads_csv(queryset=queryset), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
        return response

    # --- helpers -------------------------------------------------------------------------

    def _check_import_permission(self, request):
        if not (may_import(request.user) and self.has_add_permission(request)):
            raise PermissionDenied("Importing leads is for managers and tenant admins.")

    def _upload(self, request, token) -> dict:
        self._check_import_permission(request)
        upload = request.session.get(SESSION_KEY, {}).get(token)
        if upload is None or not Path(upload["path"]).is_file():
            raise PermissionDenied("No such upload in your session: upload the file again.")
        if request.user.tenant_id is not None and upload["tenant"] != request.user.tenant_id:
            raise PermissionDenied("That upload belongs to another workspace.")
        return upload

    def _forget(self, request, token) -> None:
        uploads = request.session.get(SESSION_KEY, {})
        upload = uploads.pop(token, None)
        request.session[SESSION_KEY] = uploads
        if upload:
            Path(upload["path"]).unlink(missing_ok=True)

    def _render(self, request, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/leads/import/{template}",
            {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **context},
        )


@admin.register(ImportJob)
class ImportJobAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """Every import run, read-only: who, what file, options, counts, timing and the row-level report."""

    list_display = ("file_name", "started_at", "status", "dry_run", "rows_read", "created", "updated", "skipped",
                    "rejected", "created_by")
    list_filter = ("status", "dry_run")
    list_select_related = ("created_by",)
    search_fields = ("file_name", "checksum")
    fields = ("file_name", "checksum", "status", "dry_run", "created_by", "options", "encoding", "delimiter",
              "rows_read", "created", "updated", "skipped", "rejected", "last_line", "started_at", "finished_at",
              "message", "report")
    readonly_fields = fields

    def has_module_permission(self, request):
        return may_import(request.user)

    def has_view_permission(self, request, obj=None):
        return may_import(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_urls(self):
        return [
            path("<int:pk>/errors.csv", self.admin_site.admin_view(self.errors_csv_view),
                 name="leads_importjob_errors"),
            *super().get_urls(),
        ]

    def errors_csv_view(self, request, pk):
        job = self.get_queryset(request).filter(pk=pk).first()
        if job is None or not self.has_view_permission(request, job):
            raise PermissionDenied
        response = HttpResponse(job.error_report, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response

    @admin.display(description="error report")
    def report(self, job):
        lines = job.error_report.splitlines()
        if not lines and job.rejected and report_expired(job):
            return f"Removed {settings.IMPORT_REPORT_DAYS:g} days after the import (it held the rejected rows)."
        if len(lines) <= 1:
            return "No rejected rows."
        shown = "\n".join(lines[: REPORT_LINES_SHOWN + 1])
        more = len(lines) - 1 - REPORT_LINES_SHOWN
        link = reverse("admin:leads_importjob_errors", args=[job.pk])
        suffix = f" ({more:,} more lines in the file)" if more > 0 else ""
        return format_html('<a href="{}">Download the full report</a>{}<pre>{}</pre>', link, suffix, shown)
