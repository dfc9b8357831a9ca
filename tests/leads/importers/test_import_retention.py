"""Uploaded import files and error reports do not outlive their use."""

import datetime as dt
import os
import time
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from leads.importers.retention import purge_abandoned_uploads, purge_old_error_reports
from leads.models import ImportJob

pytestmark = pytest.mark.django_db

URL = "/admin/leads/lead/import/"
GOOD = "Email,First Name\nada@example.com,Ada\nnot-an-email,Bob\n"


@pytest.fixture
def uploads(settings, tmp_path) -> Path:
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def upload(client, content: bytes) -> str:
    response = client.post(URL, {"file": SimpleUploadedFile("x.csv", content, "text/csv"), "on_duplicate": "skip",
                                 "source": "import"})
    assert response.status_code == 302
    return response["Location"]


def test_an_imported_file_is_removed(client, manager, uploads):
    client.force_login(manager)
    preview = upload(client, GOOD.encode())
    client.post(preview + "run/", {"dry_run": "1"})
    assert len(list(uploads.glob("*.csv"))) == 1, "a dry run keeps the file for the real run"

    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(preview + "run/", {"run": "1", "confirm": "1"})  # half the rows are rejected: confirmed

    assert ImportJob.objects.get(dry_run=False).status == "finished"
    assert list(uploads.glob("*.csv")) == []


def test_a_file_that_cannot_be_read_is_removed(client, manager, uploads):
    client.force_login(manager)
    preview = upload(client, b"\x00\x01\x02 not a csv \x00")

    client.get(preview)

    assert list(uploads.glob("*.csv")) == []


def test_an_import_that_crashes_leaves_no_file(client, manager, uploads):
    client.force_login(manager)
    preview = upload(client, GOOD.encode())

    with mock.patch("leads.importers.engine._Run._batch", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError), TestCase.captureOnCommitCallbacks(execute=True):
            client.post(preview + "run/", {"run": "1", "confirm": "1"})  # half the rows are rejected: confirmed

    job = ImportJob.objects.get(dry_run=False)
    assert job.status == "failed" and "disk full" in job.message
    assert list(uploads.glob("*.csv")) == []


def test_abandoned_uploads_are_removed_after_their_ttl(settings, uploads):
    settings.IMPORT_UPLOAD_TTL_HOURS = 24
    uploads.mkdir(parents=True)
    old, fresh = uploads / "old.csv", uploads / "fresh.csv"
    old.write_text(GOOD)
    fresh.write_text(GOOD)
    day_and_a_bit = time.time() - 25 * 3600
    os.utime(old, (day_and_a_bit, day_and_a_bit))

    assert purge_abandoned_uploads() == 1

    assert not old.exists() and fresh.exists()


def test_error_reports_are_cleared_after_their_retention_and_the_admin_says_so(client, settings, tenant, manager):
    settings.IMPORT_REPORT_DAYS = 30
    now = timezone.now()
    old = ImportJob.objects.create(tenant=tenant, file_name="old.csv", checksum="a", rejected=1,
                                   error_report="line,column,value,message\n2,Email,eve@x,Bad\n",
                                   started_at=now - dt.timedelta(days=31), finished_at=now - dt.timedelta(days=31))
    recent = ImportJob.objects.create(tenant=tenant, file_name="new.csv", checksum="b", rejected=1,
                                      error_report="line,column,value,message\n2,Email,eve@x,Bad\n",
                                      started_at=now - dt.timedelta(days=2), finished_at=now - dt.timedelta(days=2))

    assert purge_old_error_reports() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.error_report == "" and old.rejected == 1, "the counts stay"
    assert "eve@x" in recent.error_report
    client.force_login(manager)
    page = client.get(f"/admin/leads/importjob/{old.pk}/change/").content.decode()
    assert "Removed 30 days after the import" in page


def test_purge_imports_command_reports_what_it_removed(settings, uploads, tenant):
    uploads.mkdir(parents=True)
    stale = uploads / "stale.csv"
    stale.write_text(GOOD)
    os.utime(stale, (0, 0))

    out = call_command_output("purge_imports")

    assert "Removed 1 abandoned upload(s)" in out and "cleared 0 error report(s)" in out


def test_beat_removes_abandoned_uploads_daily(settings, uploads, tenant):
    from crm.celery import app as celery_app

    uploads.mkdir(parents=True)
    stale = uploads / "stale.csv"
    stale.write_text(GOOD)
    os.utime(stale, (0, 0))
    entry = settings.CELERY_BEAT_SCHEDULE["purge-imports"]

    celery_app.tasks[entry["task"]].delay()  # what beat sends (run in-process in tests)

    assert not stale.exists()


def call_command_output(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
