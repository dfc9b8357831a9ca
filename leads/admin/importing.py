"""CSV import and export in the admin: upload -> preview and mapping -> dry-run report -> import.

The preview shows the CRM the file was recognised as (or none), a dropdown per column (the field it
feeds, a custom field, or left out), a dropdown per word found in its status, lifecycle stage,
source and rating columns, the date order of each date column, and the workspace's saved
mappings; "Apply" re-reads the same upload with the choices (no re-upload), and they can be saved
under a name for the next file. Dry run and import report rejections and warnings grouped by
column and reason (count and first examples). "Import now" first dry-runs a sample of the file and
asks for confirmation when more than 10% of its rows would be rejected.

The pages are LeadAdmin's (through `LeadImportMixin.get_urls`), for tenant admins and managers
(and platform superusers); a rep gets 403. The import always goes into the signed-in user's own
workspace (a superuser without one picks it), the owner and channel choices are that workspace's,
and the uploaded file is kept under IMPORT_UPLOAD_DIR by a random token remembered in the user's
session only, until its import job ends (leads/importers/retention.py removes abandoned ones).

"Import now" queues an ImportJob that the engine runs with the same code as `manage.py
import_leads` (leads/importers/queued.py) and shows the job's progress page: a bar, rows done,
rows/s and an estimate, refreshing itself until the job ends, with a "Cancel" button the engine
honours between batches. A dry run stays in the request: it writes nothing but the job record,
and its report is what the page shows. ImportJob rows are listed read-only, with their report.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string, select_template
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from crm.admin_cells import person_name, two_lines, when
from crm.models import Tenant, User
from leads.admin.engine_work import ManagersReadOnlyAdmin, may_manage
from leads.choices import DuplicatePolicy, ImportStatus, LeadSource
from leads.exporting import stream_leads_csv
from leads.importers import ImportFileError, ImportOptions, import_leads, inspect_file
from leads.importers.dates import ORDERS
from leads.importers.headers import CUSTOM_PREFIX, FIELDS, IGNORE, VALUE_FIELDS, MappingError, fold
from leads.importers.mappings import save_mapping, saved_mapping_options
from leads.importers.profiles import PROFILES
from leads.importers.queued import queue_import
from leads.importers.retention import report_expired, upload_dir
from leads.importers.rows import BASE_WORDS
from leads.importers.values import choices_for
from leads.models import Channel, ImportJob, ImportMapping, Lead

log = logging.getLogger(__name__)
PREVIEW_ROWS = 5
VALUE_SAMPLE_ROWS = 5000  # rows read for the distinct words of a status/source column
MAX_WORDS = 40  # distinct words offered per column
CONFIRM_SAMPLE_ROWS = 2000  # rows "Import now" dry-runs first
CONFIRM_ABOVE = 0.10  # share of rejected rows that asks for a confirmation
CUSTOM_CHOICE = "custom"
SESSION_KEY = "lead_imports"
REPORT_LINES_SHOWN = 200


may_import = may_manage  # tenant admins, managers and platform superusers import; reps do not


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
                "campaign": data["campaign"], "mapping": [], "value_mapping": [], "profile": "", "date_order": "",
            }
            request.session[SESSION_KEY] = uploads
            return redirect(reverse("admin:leads_lead_import_preview", args=[token]))
        return self._render(request, "upload.html", "Import leads from CSV", form=form)

    def import_preview_view(self, request, token):
        upload = self._upload(request, token)
        if request.method == "POST":
            problem = self._apply_choices(request, token, upload)
            if problem:
                self.message_user(request, problem, messages.ERROR)
            elif request.POST.get("save_as", "").strip():
                self.message_user(request, f"Saved the mapping \u201c{request.POST['save_as'].strip()}\u201d.")
            return redirect(reverse("admin:leads_lead_import_preview", args=[token]))
        try:
            csv_file, plan = self._inspect(upload, require_reach=False)  # a column can be mapped to email here
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
        field_choices = [(name, name) for name in FIELDS] + [(CUSTOM_CHOICE, "custom field"), (IGNORE, "leave out")]
        columns = []
        for i, (header, target) in enumerate(zip(plan.header, plan.targets, strict=True)):
            chosen = IGNORE if target is None else CUSTOM_CHOICE if target.startswith(CUSTOM_PREFIX) else target
            columns.append({"index": i, "header": header, "target": target or IGNORE, "chosen": chosen})
        return self._render(
            request, "preview.html", f"Import {upload['name']}: check the mapping",
            upload=upload, token=token, csv_file=csv_file, columns=columns, rows=rows, field_choices=field_choices,
            plan=plan, value_columns=self._value_columns(csv_file, plan), reaches_people=plan.reaches_people,
            profiles=[("", "Recognise it from the header"), *((p.name, p.label) for p in PROFILES.values()),
                      ("none", "No CRM profile")],
            date_orders=[("", "Settled per column from its dates"), *ORDERS.items()],
            saved_mappings=ImportMapping.objects.filter(tenant_id=upload["tenant"]),
        )

    def _inspect(self, upload, *, require_reach: bool = True):
        return inspect_file(path=upload["path"], mapping=upload.get("mapping", []),
                            value_mapping=upload.get("value_mapping", []), profile=upload.get("profile", ""),
                            date_order=upload.get("date_order", ""), require_reach=require_reach)

    def _value_columns(self, csv_file, plan) -> list[dict]:
        """For each status / lifecycle stage / source / rating column: its distinct words and what each reads as."""
        wanted = {i: target for i, target in enumerate(plan.targets) if target in VALUE_FIELDS}
        if not wanted:
            return []
        words: dict[int, dict[str, int]] = {i: {} for i in wanted}
        for count, (_line, cells) in enumerate(csv_file.records()):
            if count >= VALUE_SAMPLE_ROWS:
                break
            if isinstance(cells, list):
                for i in wanted:
                    if i < len(cells) and (word := cells[i].strip()):
                        found = words[i]
                        if word in found or len(found) < MAX_WORDS:
                            found[word] = found.get(word, 0) + 1
        columns = []
        for i, name in wanted.items():
            table = {**BASE_WORDS[name], **plan.values.get(name, {})}
            columns.append({
                "header": plan.header[i], "field": name, "choices": choices_for(name),
                "words": [{"word": word, "count": n, "value": table.get(fold(word), "")}
                          for word, n in sorted(words[i].items(), key=lambda item: -item[1])],
            })
        return columns

    def _apply_choices(self, request, token, upload) -> str:
        """The preview's choices (profile, date order, columns, words, a saved mapping to load or to save)
        into the upload in the session; returns what is wrong, or ''."""
        post = request.POST
        if post.get("load_mapping"):
            saved = ImportMapping.objects.filter(tenant_id=upload["tenant"], pk=post.get("saved_mapping") or 0).first()
            if saved is None:
                return "Choose one of the workspace's saved mappings."
            upload["mapping"], upload["value_mapping"], upload["profile"] = saved_mapping_options(saved)
            self._keep(request, token, upload)
            return ""
        profile = post.get("profile", upload.get("profile", ""))
        date_order = post.get("date_order", upload.get("date_order", ""))
        if profile and profile != "none" and profile not in PROFILES or date_order and date_order not in ORDERS:
            return "Choose a profile and a date order from the lists."
        try:
            # What the file reads as with this profile and no choices of the person: their choices are the changes.
            _csv, auto = inspect_file(path=upload["path"], profile=profile, date_order=date_order,
                                      require_reach=False)
        except ImportFileError as exc:
            return str(exc)
        columns: dict[str, str] = {}
        for i, header in enumerate(auto.header):
            chosen = post.get(f"column_{i}")
            if chosen is None:
                continue
            target = CUSTOM_PREFIX + header if chosen == CUSTOM_CHOICE else chosen
            automatic = auto.targets[i] or IGNORE
            if chosen == CUSTOM_CHOICE and automatic.startswith(CUSTOM_PREFIX):
                continue
            if target != automatic:
                if chosen not in FIELDS and chosen not in (CUSTOM_CHOICE, IGNORE):
                    return f"Column {header}: choose a field from the list."
                columns[header] = target
        values: dict[str, dict[str, str]] = {}
        for key in post:  # word-<field>-<n> holds a word, value-<field>-<n> what it reads as
            parts = key.split("-")
            if len(parts) != 3 or parts[0] != "word":
                continue
            name = parts[1]
            word, value = post[key], post.get(f"value-{name}-{parts[2]}", "")
            if name not in VALUE_FIELDS or not value:
                continue
            automatic = {**BASE_WORDS[name], **auto.values.get(name, {})}.get(fold(word), "")
            if value != automatic:
                values.setdefault(name, {})[word] = value
        upload["profile"], upload["date_order"] = profile, date_order
        upload["mapping"] = [f"{header}={target}" for header, target in columns.items()]
        upload["value_mapping"] = [f"{name}:{word}={value}" for name, words in values.items()
                                   for word, value in words.items()]
        try:
            self._inspect(upload, require_reach=False)
            if post.get("save_as", "").strip():
                tenant = Tenant.objects.get(pk=upload["tenant"])
                save_mapping(tenant=tenant, name=post["save_as"], columns=columns, values=values, profile=profile,
                             actor=request.user)
        except (ImportFileError, MappingError) as exc:
            return str(exc)
        self._keep(request, token, upload)
        return ""

    def _keep(self, request, token, upload) -> None:
        uploads = request.session.get(SESSION_KEY, {})
        uploads[token] = upload
        request.session[SESSION_KEY] = uploads

    def import_run_view(self, request, token):
        if request.method != "POST":
            return redirect(reverse("admin:leads_lead_import_preview", args=[token]))
        upload = self._upload(request, token)
        if any(key.startswith("column_") for key in request.POST):  # the preview's choices, as they stand
            problem = self._apply_choices(request, token, upload)
            if problem:
                self.message_user(request, problem, messages.ERROR)
                return redirect(reverse("admin:leads_lead_import_preview", args=[token]))
        dry_run = "dry_run" in request.POST
        tenant = Tenant.objects.get(pk=upload["tenant"])
        options = ImportOptions(
            dry_run=dry_run, source=upload["source"], on_duplicate=upload["on_duplicate"],
            owner=User.objects.filter(pk=upload["owner"], tenant=tenant).first() if upload["owner"] else None,
            channel=Channel.objects.filter(pk=upload["channel"], tenant=tenant).first() if upload["channel"] else None,
            campaign=upload["campaign"], mapping=upload.get("mapping", []),
            value_mapping=upload.get("value_mapping", []), profile=upload.get("profile", ""),
            date_order=upload.get("date_order", ""),
        )
        if not dry_run and not request.POST.get("confirm"):
            try:
                sample = import_leads(tenant=tenant, path=upload["path"], actor=request.user,
                                      file_name=upload["name"],
                                      options=replace(options, dry_run=True, sample_rows=CONFIRM_SAMPLE_ROWS))
            except Exception:  # the check is advice: the run itself reports what goes wrong, on its job
                log.warning("The rejection check of %s failed; importing without it", upload["name"], exc_info=True)
                sample = None
            if sample is not None and sample.rows_read and sample.rejected > CONFIRM_ABOVE * sample.rows_read:
                return self._render(
                    request, "confirm.html", f"Import {upload['name']}: many rows would be rejected",
                    job=sample, token=token, percent=round(100 * sample.rejected / sample.rows_read),
                    findings=sample.findings, sampled=sample.rows_read >= CONFIRM_SAMPLE_ROWS,
                )
        if not dry_run:
            try:
                job = queue_import(tenant=tenant, path=upload["path"], options=options, actor=request.user,
                                   file_name=upload["name"])
            except ImportFileError as exc:
                self._forget(request, token)
                self.message_user(request, f"{upload['name']}: {exc}", messages.ERROR)
                return redirect(reverse("admin:leads_lead_import"))
            # The token leaves the session (it cannot be imported twice); the file stays for the job,
            # whose task removes it when the job ends.
            self._forget(request, token, keep_file=True)
            return redirect(reverse("admin:leads_importjob_progress", args=[job.pk]))
        try:
            job = import_leads(tenant=tenant, path=upload["path"], options=options, actor=request.user,
                               file_name=upload["name"])
        except ImportFileError as exc:
            self._forget(request, token)
            self.message_user(request, f"{upload['name']}: {exc}", messages.ERROR)
            return redirect(reverse("admin:leads_lead_import"))
        return self._render(
            request, "result.html", f"{'Dry run of' if dry_run else 'Imported'} {upload['name']}",
            job=job, token=token, dry_run=dry_run, findings=job.findings,
            share=job.rejected / job.rows_read if job.rows_read else 0, confirm_above=CONFIRM_ABOVE,
            percent=round(100 * job.rejected / job.rows_read) if job.rows_read else 0,
        )

    # --- export --------------------------------------------------------------------------

    @admin.action(description="Export selected leads to CSV", permissions=["view"])
    def export_selected_csv(self, request, queryset):
        response = StreamingHttpResponse(
            stream_leads_csv(queryset=queryset, request=request), content_type="text/csv; charset=utf-8"
        )
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

    def _forget(self, request, token, *, keep_file: bool = False) -> None:
        uploads = request.session.get(SESSION_KEY, {})
        upload = uploads.pop(token, None)
        request.session[SESSION_KEY] = uploads
        if upload and not keep_file:
            Path(upload["path"]).unlink(missing_ok=True)

    def _render(self, request, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/leads/import/{template}",
            {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **context},
        )


@admin.register(ImportJob)
class ImportJobAdmin(ManagersReadOnlyAdmin):
    """Every import run, read-only: who, what file, options, counts, timing and the row-level report."""

    list_display = ("job", "status", "started", "rows", "outcome")
    list_display_links = None  # the job cell links the file name itself
    list_filter = ("status", "dry_run")
    list_select_related = ("created_by",)
    search_fields = ("file_name", "checksum")
    fields = ("file_name", "checksum", "status", "dry_run", "created_by", "options", "encoding", "delimiter",
              "progress", "rows_read", "created", "updated", "skipped", "rejected", "warned", "last_line",
              "cancel_requested", "started_at", "finished_at", "message", "grouped", "report")
    readonly_fields = fields

    @admin.display(description="import", ordering="file_name")
    def job(self, job):
        return two_lines(reverse("admin:leads_importjob_change", args=[job.pk]), job.file_name,
                         "dry run" if job.dry_run else "", f"by {person_name(job.created_by)}" if job.created_by else "")

    @admin.display(description="started", ordering="-started_at")
    def started(self, job):
        return when(job.started_at)

    @admin.display(description="rows read", ordering="-rows_read")
    def rows(self, job):
        return f"{job.rows_read:,}"

    @admin.display(description="outcome")
    def outcome(self, job):
        """Only the counts that happened: "188,008 created · 10,005 skipped · 1,987 rejected · 991 with warnings"."""
        parts = [(job.created, "created"), (job.updated, "updated"), (job.skipped, "skipped"),
                 (job.rejected, "rejected"), (job.warned, "with warnings")]
        return " · ".join(f"{n:,} {what}" for n, what in parts if n) or "nothing imported"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/errors.csv", wrap(self.errors_csv_view), name="leads_importjob_errors"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="leads_importjob_progress"),
            path("<int:pk>/progress.json", wrap(self.progress_json_view), name="leads_importjob_progress_json"),
            path("<int:pk>/cancel/", wrap(self.cancel_view), name="leads_importjob_cancel"),
            *super().get_urls(),
        ]

    def _job_or_403(self, request, pk) -> ImportJob:
        job = self.get_queryset(request).filter(pk=pk).first()
        if job is None or not self.has_view_permission(request, job):
            raise PermissionDenied
        return job

    def progress_view(self, request, pk):
        """The job's page while the engine runs it: a bar, rows done, rows/s and an estimate; reloads itself."""
        job = self._job_or_403(request, pk)
        return TemplateResponse(request, "admin/leads/import/job.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "lead_opts": Lead._meta,
            "title": f"Import of {job.file_name}", "job": job, "progress": job_progress(job),
            "findings": job.findings,
        })

    def progress_json_view(self, request, pk):
        job = self._job_or_403(request, pk)
        return JsonResponse(job_progress(job))

    def cancel_view(self, request, pk):
        """Ask the engine to stop the job after the batch it is writing (committed batches stay)."""
        job = self._job_or_403(request, pk)
        if request.method != "POST":
            return redirect(reverse("admin:leads_importjob_progress", args=[job.pk]))
        if job.created_by_id != request.user.pk and not may_import(request.user):
            raise PermissionDenied
        asked = ImportJob.objects.filter(
            pk=job.pk, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
        ).update(cancel_requested=True)
        if asked:
            self.message_user(request, "The import stops after the batch it is writing; what it wrote stays.")
        else:
            self.message_user(request, "This import had already ended.", messages.WARNING)
        return redirect(reverse("admin:leads_importjob_progress", args=[job.pk]))

    @admin.display(description="progress")
    def progress(self, job):
        facts = job_progress(job)
        link = reverse("admin:leads_importjob_progress", args=[job.pk])
        return format_html('<a href="{}">{}</a>', link, facts["summary"])

    def errors_csv_view(self, request, pk):
        job = self.get_queryset(request).filter(pk=pk).first()
        if job is None or not self.has_view_permission(request, job):
            raise PermissionDenied
        response = HttpResponse(job.error_report, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response

    @admin.display(description="rejections and warnings, by reason")
    def grouped(self, job):
        return render_to_string("admin/leads/import/findings.html", {"findings": job.findings}) or "None."

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


def job_progress(job: ImportJob, *, now=None) -> dict:
    """What the progress page and its JSON show: share of the file, rows done, rows/s and time left."""
    now = now or timezone.now()
    ended = job.ended
    share = 1.0 if job.status == ImportStatus.FINISHED else (
        min(job.bytes_read / job.bytes_total, 1.0) if job.bytes_total else 0.0)
    seconds = max(((job.finished_at or now) - job.started_at).total_seconds(), 1e-3)
    rate = job.rows_read / seconds if job.status != ImportStatus.QUEUED else 0.0
    rows_estimate = round(job.rows_read / share) if 0 < share else None
    left = None
    if not ended and rate > 0 and rows_estimate is not None:
        left = max(rows_estimate - job.rows_read, 0) / rate
    if job.status == ImportStatus.QUEUED:
        summary = "queued, waiting for a worker"
    elif not ended:
        summary = f"{share:.0%} of the file, {job.rows_read:,} rows ({rate:,.0f} rows/s)"
        if left is not None:
            summary += f", about {_duration(left)} left"
    else:
        summary = f"{job.get_status_display().lower()}: {job.rows_read:,} rows ({rate:,.0f} rows/s)"
    return {
        "status": job.status, "ended": ended, "cancel_requested": job.cancel_requested,
        "percent": round(share * 100, 1), "rows_read": job.rows_read, "rows_estimate": rows_estimate,
        "rows_per_second": round(rate, 1), "seconds_left": None if left is None else round(left),
        "created": job.created, "updated": job.updated, "skipped": job.skipped, "rejected": job.rejected,
        "warned": job.warned, "message": job.message, "summary": summary,
    }


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


@admin.register(ImportMapping)
class ImportMappingAdmin(ManagersReadOnlyAdmin):
    """The workspace's saved import mappings (saved from the import preview): listed, and removable by managers."""

    list_display = ("name", "profile", "updated_at", "created_by")
    list_select_related = ("created_by",)
    search_fields = ("name",)
    fields = ("name", "profile", "columns", "values", "created_by", "updated_at")
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return may_import(request.user)
