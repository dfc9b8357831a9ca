"""What an import leaves behind, and for how long: uploaded files and error reports.

An uploaded file lives under `upload_dir()` from the admin's upload until its queued import job
ends (finished, failed or cancelled: then the task removes it). A file nobody imports is removed
after IMPORT_UPLOAD_TTL_HOURS (default 24); the file of a job still queued or running is kept. An import's error report holds rejected rows as they came,
personal data included, so it is cleared IMPORT_REPORT_DAYS (default 30) after the run; the
counts stay. `manage.py purge_imports` does both; run it daily.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from leads.models import ImportJob

from .queued import unfinished_uploads


def upload_dir() -> Path:
    """Where the admin keeps uploaded CSV files between the upload and the import (created on first use)."""
    directory = Path(getattr(settings, "IMPORT_UPLOAD_DIR", "") or Path(tempfile.gettempdir()) / "crm-imports")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def upload_ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.IMPORT_UPLOAD_TTL_HOURS)


def report_retention() -> dt.timedelta:
    return dt.timedelta(days=settings.IMPORT_REPORT_DAYS)


def purge_abandoned_uploads(*, now: float | None = None) -> int:
    """Remove uploaded files older than IMPORT_UPLOAD_TTL_HOURS, except those of unfinished jobs; returns how many."""
    cutoff = (now if now is not None else time.time()) - upload_ttl().total_seconds()
    removed = 0
    waiting = {str(Path(p).resolve()) for p in unfinished_uploads()}
    for path in upload_dir().glob("*.csv"):
        if str(path.resolve()) in waiting:
            continue  # its job is queued or running: the task removes it when the job ends
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile by the import that used it
            continue
    return removed


def report_expired(job: ImportJob, *, now: dt.datetime | None = None) -> bool:
    """Whether the job's error report is past its retention (cleared, or due to be)."""
    finished = job.finished_at or job.started_at
    return finished < (now or timezone.now()) - report_retention()


def purge_old_error_reports(*, now: dt.datetime | None = None) -> int:
    """Clear the error reports of imports finished more than IMPORT_REPORT_DAYS ago; returns how many."""
    cutoff = (now or timezone.now()) - report_retention()
    return ImportJob.objects.filter(finished_at__lt=cutoff).exclude(error_report="").update(error_report="")
