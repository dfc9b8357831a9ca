"""The admin's import runs on the engine: a queued job, its progress page, cancel, retries, the file's end."""

import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from leads.importers import engine
from leads.importers.queued import run_queued_import
from leads.importers.retention import purge_abandoned_uploads
from leads.models import ImportJob, Lead

pytestmark = pytest.mark.django_db

URL = "/admin/leads/lead/import/"
TEN = "Email,First Name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(10))


@pytest.fixture
def uploads(settings, tmp_path) -> Path:
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def queue(client, content: str = TEN) -> tuple[ImportJob, list]:
    """Upload and press "Import now"; returns the queued job and its on-commit callbacks (not yet run)."""
    response = client.post(URL, {"file": SimpleUploadedFile("ten.csv", content.encode(), "text/csv"),
                                 "on_duplicate": "skip", "source": "import"})
    assert response.status_code == 302
    with TestCase.captureOnCommitCallbacks() as callbacks:
        run = client.post(response["Location"] + "run/", {"run": "1"})
    job = ImportJob.objects.filter(dry_run=False).latest("pk")  # the one just queued
    assert run.status_code == 302 and run["Location"] == f"/admin/leads/importjob/{job.pk}/progress/"
    return job, callbacks


def test_an_upload_queues_a_job_and_its_page_shows_progress_and_counts(client, manager, uploads):
    client.force_login(manager)
    job, callbacks = queue(client)

    assert job.status == "queued" and len(callbacks) == 1 and not Lead.objects.exists()
    assert Path(job.upload_path).is_file(), "the file waits for the task"
    page = client.get(f"/admin/leads/importjob/{job.pk}/progress/").content.decode()
    assert "queued, waiting for a worker" in page and 'http-equiv="refresh"' in page
    assert "Cancel the import" in page

    callbacks[0]()  # the task, eager

    page = client.get(f"/admin/leads/importjob/{job.pk}/progress/").content.decode()
    assert "<strong>Finished</strong>" in page and 'http-equiv="refresh"' not in page
    assert "<th>Rows read</th><td>10</td>" in page and "<th>Created</th><td>10</td>" in page
    assert 'value="100.0"' in page
    facts = client.get(f"/admin/leads/importjob/{job.pk}/progress.json").json()
    assert facts["status"] == "finished" and facts["rows_read"] == 10 and facts["created"] == 10
    assert facts["percent"] == 100.0 and facts["rows_per_second"] > 0
    assert Lead.objects.count() == 10
    assert not Path(job.upload_path).exists(), "the file goes when the job ends"


def test_cancel_stops_at_a_batch_boundary_and_keeps_the_committed_batches(client, manager, uploads, monkeypatch):
    client.force_login(manager)
    job, _callbacks = queue(client)
    batch = engine._Run._batch
    batches = []

    def batch_then_cancel(run, rows):
        batch(run, rows)
        batches.append(len(rows))
        if len(batches) == 1:
            page = client.get(f"/admin/leads/importjob/{job.pk}/progress/").content.decode()
            assert "<strong>Running</strong>" in page and "<th>Rows read</th><td>3</td>" in page
            assert "rows/s" in page
            client.post(f"/admin/leads/importjob/{job.pk}/cancel/")

    monkeypatch.setattr(engine._Run, "_batch", batch_then_cancel)
    assert run_queued_import(job.pk, batch_size=3) == "cancelled"

    job.refresh_from_db()
    assert batches == [3]
    assert (job.status, job.rows_read, job.created, job.last_line) == ("cancelled", 3, 3, 4)
    assert Lead.objects.count() == 3
    assert not Path(job.upload_path).exists()
    page = client.get(f"/admin/leads/importjob/{job.pk}/progress/").content.decode()
    assert "Cancelled: the batches written before it stopped stay." in page and "Cancel the import" not in page


class WorkerDied(BaseException):
    """What a killed worker looks like to the code after it: nothing (the run just stops)."""


def test_a_retried_task_resumes_after_the_last_committed_batch(client, manager, uploads, monkeypatch):
    client.force_login(manager)
    job, _callbacks = queue(client)
    batch = engine._Run._batch
    calls = []

    def die_on_the_third(run, rows):
        calls.append(rows[0][0])
        if len(calls) == 3:
            raise WorkerDied
        batch(run, rows)

    monkeypatch.setattr(engine._Run, "_batch", die_on_the_third)
    with pytest.raises(WorkerDied):
        run_queued_import(job.pk, batch_size=3)
    job.refresh_from_db()
    assert (job.status, job.rows_read, job.last_line) == ("running", 6, 7)
    assert Path(job.upload_path).is_file(), "kept for the retry"

    monkeypatch.setattr(engine._Run, "_batch", batch)
    assert run_queued_import(job.pk, batch_size=3) == "finished"  # the broker redelivered the task

    job.refresh_from_db()
    assert (job.rows_read, job.created, job.skipped) == (10, 10, 0)
    assert Lead.objects.count() == 10 and Lead.objects.values("email").distinct().count() == 10
    assert not Path(job.upload_path).exists()
    assert run_queued_import(job.pk, batch_size=3) == "finished"  # once more: nothing happens
    assert Lead.objects.count() == 10


def test_the_retention_sweep_keeps_the_file_of_a_queued_job(client, manager, uploads, settings):
    client.force_login(manager)
    job, callbacks = queue(client)
    old = time.time() - 48 * 3600
    os.utime(job.upload_path, (old, old))

    assert purge_abandoned_uploads() == 0
    assert Path(job.upload_path).is_file()

    callbacks[0]()
    assert ImportJob.objects.get(pk=job.pk).status == "finished" and not Path(job.upload_path).exists()


def test_a_job_cancelled_before_it_started_reads_nothing(client, manager, uploads):
    client.force_login(manager)
    job, callbacks = queue(client)
    client.post(f"/admin/leads/importjob/{job.pk}/cancel/")

    callbacks[0]()

    job.refresh_from_db()
    assert (job.status, job.rows_read) == ("cancelled", 0)
    assert not Lead.objects.exists() and not Path(job.upload_path).exists()


def test_jobs_left_unfinished_by_a_lost_message_or_a_dead_worker_are_resumed(client, manager, uploads, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    from leads.importers import queued

    client.force_login(manager)
    lost, _never_run = queue(client)  # its message never reached a worker (the broker was down)
    ImportJob.objects.filter(pk=lost.pk).update(started_at=timezone.now() - dt.timedelta(minutes=30))
    died, _callbacks = queue(client, TEN.replace("@example.com", "@example.org"))
    batch = engine._Run._batch

    def die_on_the_second(run, rows):
        if run.job.rows_read:
            raise WorkerDied
        batch(run, rows)

    monkeypatch.setattr(engine._Run, "_batch", die_on_the_second)
    with pytest.raises(WorkerDied):
        run_queued_import(died.pk, batch_size=3)
    monkeypatch.setattr(engine._Run, "_batch", batch)
    fresh, _callbacks = queue(client, TEN.replace("@example.com", "@example.net"))  # queued a moment ago
    sent: list[int] = []
    monkeypatch.setattr(queued, "queue_run", sent.append)

    # Every few minutes: only queued jobs nobody picked up for a while (a fresh one may be waiting its turn).
    assert queued.resume_unfinished_imports(queued_for=dt.timedelta(minutes=10)) == [lost.pk]
    # When a worker starts: everything not ended, running ones included (their worker is gone).
    assert sorted(queued.resume_unfinished_imports()) == sorted([lost.pk, died.pk, fresh.pk])

    for job_id in sorted(set(sent)):
        assert run_queued_import(job_id, batch_size=3) == "finished"
    assert Lead.objects.count() == 30 and Lead.objects.values("email").distinct().count() == 30
    assert ImportJob.objects.get(pk=died.pk).created == 10  # resumed after its committed batch, nothing twice


def test_a_starting_worker_resumes_every_unfinished_import_and_beat_checks_every_few_minutes(monkeypatch, settings):
    from celery.signals import worker_ready

    from leads import tasks

    calls = []
    monkeypatch.setattr(tasks.resume_imports, "delay", lambda **kwargs: calls.append(kwargs))

    worker_ready.send(sender=None)

    assert calls == [{"everything": True}]
    entry = settings.CELERY_BEAT_SCHEDULE["resume-imports"]
    assert entry["task"] == "leads.tasks.resume_imports" and entry["schedule"] <= 600
