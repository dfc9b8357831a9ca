"""Admin imports on the engine: the upload queues an ImportJob, a task runs the same engine on it.

The job is created "queued" with its upload's path and options; once the request commits, the
task `leads.tasks.run_import` runs `import_leads` on that job. The task is idempotent: each batch
commits with the job's `last_line`, so a retried task (a worker died, the broker redelivered)
resumes after it and never writes a batch twice; a job that already ended is left alone. The
uploaded file is removed when the job ends (finished, failed or cancelled), not before.

Nothing is left half-way for good: a worker that starts queues every job not ended (its own worker is gone,
or the broker lost its message), and beat re-queues, every few minutes, queued jobs no worker picked up for a
while (`resume_unfinished_imports`). Running a job twice is safe: sequentially it resumes or does nothing, and
concurrently PostgreSQL's advisory lock lets one run (ImportBusy for the other).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from celery import current_app
from django.db import transaction
from django.utils import timezone

from crm.models import Tenant, User

from ..choices import ImportStatus
from ..models import Channel, ImportJob
from .engine import ImportBusy, ImportFileError, ImportOptions, import_leads, inspect_file

log = logging.getLogger(__name__)
RUN_IMPORT_TASK = "leads.tasks.run_import"


def queue_import(*, tenant: Tenant, path: str | Path, options: ImportOptions, actor: User | None,
                 file_name: str) -> ImportJob:
    """Create the queued job for an uploaded file and queue its run once the caller's transaction commits.

    Raises ImportFileError when the file cannot be imported as it stands (no job is created).
    """
    csv_file, _plan = inspect_file(path=path, mapping=options.mapping, value_mapping=options.value_mapping,
                                   profile=options.profile, date_order=options.date_order)
    job = ImportJob.objects.create(
        tenant=tenant, created_by=actor, file_name=file_name[:255], checksum=csv_file.checksum,
        options=options.as_json(), dry_run=False, status=ImportStatus.QUEUED, encoding=csv_file.encoding_label,
        delimiter=csv_file.delimiter, upload_path=str(path), bytes_total=csv_file.size,
    )
    job_id = job.pk
    transaction.on_commit(lambda: queue_run(job_id))
    return job


def queue_run(job_id: int) -> None:
    current_app.tasks[RUN_IMPORT_TASK].delay(job_id)


def resume_unfinished_imports(*, queued_for: dt.timedelta | None = None) -> list[int]:
    """Queue a run of each job not ended; returns their ids. With `queued_for`, only jobs still queued (never
    started) that long after their upload: a message the broker lost, not one waiting behind another import."""
    jobs = ImportJob.objects.filter(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING], dry_run=False) \
        .exclude(upload_path="")
    if queued_for is not None:
        jobs = jobs.filter(status=ImportStatus.QUEUED, started_at__lt=timezone.now() - queued_for)
    job_ids = list(jobs.order_by("pk").values_list("pk", flat=True))
    for job_id in job_ids:
        log.warning("Import job %s was left unfinished; queueing it again (it resumes after its last batch).", job_id)
        queue_run(job_id)
    return job_ids


def options_of(job: ImportJob, *, batch_size: int | None = None) -> ImportOptions:
    """The job's options as the engine takes them (owner by username, channel by name, in its workspace)."""
    data = job.options
    owner = User.objects.filter(tenant_id=job.tenant_id, username=data["owner"]).first() if data.get("owner") else None
    channel = (
        Channel.objects.filter(tenant_id=job.tenant_id, name=data["channel"]).first() if data.get("channel") else None
    )
    options = ImportOptions(
        source=data.get("source", ImportOptions.source), owner=owner, channel=channel,
        campaign=data.get("campaign", ""), mapping=list(data.get("mapping", [])),
        value_mapping=list(data.get("value_mapping", [])), profile=data.get("profile", ""),
        date_order=data.get("date_order", ""),
        on_duplicate=data.get("on_duplicate", ImportOptions.on_duplicate),
    )
    if batch_size is not None:
        options.batch_size = batch_size
    return options


def run_queued_import(job_id: int, *, batch_size: int | None = None) -> str:
    """Run (or resume) a queued import; returns the job's status. Safe to run again for the same job."""
    job = ImportJob.objects.select_related("tenant", "created_by").filter(pk=job_id).first()
    if job is None:
        return "gone"
    if job.ended:
        _remove_upload(job)
        return job.status
    if job.cancel_requested:  # cancelled before it started: nothing to read
        job.status, job.finished_at = ImportStatus.CANCELLED, timezone.now()
        job.save(update_fields=["status", "finished_at"])
        _remove_upload(job)
        return job.status
    try:
        job = import_leads(tenant=job.tenant, path=job.upload_path, options=options_of(job, batch_size=batch_size),
                           actor=job.created_by, file_name=job.file_name, job=job)
    except ImportBusy:
        log.info("Import job %s is being run by another worker; leaving it to that one.", job_id)
        return "running elsewhere"
    except ImportFileError:
        pass  # recorded on the job as failed
    finally:
        job.refresh_from_db()
        if job.ended:
            _remove_upload(job)
    return job.status


def _remove_upload(job: ImportJob) -> None:
    if job.upload_path:
        Path(job.upload_path).unlink(missing_ok=True)


def unfinished_uploads() -> set[str]:
    """Paths of uploads whose queued job has not ended: the retention sweep keeps them."""
    return set(
        ImportJob.objects.filter(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
        .exclude(upload_path="")
        .values_list("upload_path", flat=True)
    )
