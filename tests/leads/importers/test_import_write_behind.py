"""Issue 18: on PostgreSQL a big file's batches are written and committed by a third thread while the run
decides the next one. What a user sees must not change: the same leads, owners, counts and report as
the one-thread run, each person once across batches, reps' capacities held, a race with a capture
retried without losing the assignments, a cancel or a failure leaving whole batches and no thread."""

import threading

import pytest
from django.db import connection
from django.db.models import Count

from bench.import_file import generate
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.capture.service import capture_lead
from leads.choices import LeadSource
from leads.importers import ImportOptions, engine, import_leads
from leads.models import ImportJob, Lead
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COMPARED = ("email", "phone", "first_name", "last_name", "company", "country", "status", "source", "employee_count",
            "annual_revenue", "website", "custom_fields", "score_total", "disqualification_reason")


@pytest.fixture(autouse=True)
def _postgres():
    if connection.vendor != "postgresql":
        pytest.skip("the write-behind thread runs on PostgreSQL only")


def run(tenant, path, *, behind: bool, monkeypatch, batch_size=97, **options) -> ImportJob:
    monkeypatch.setattr(engine, "PARSE_AHEAD_BYTES", 0)
    monkeypatch.setattr(engine, "WRITE_BEHIND_BYTES", 0 if behind else None)
    return import_leads(tenant=tenant, path=path, options=ImportOptions(batch_size=batch_size, **options))


def workspace(slug: str, reps: int = 3, **rep_fields):
    tenant = TenantFactory(slug=slug)
    for i in range(reps):
        UserFactory(tenant=tenant, username=f"{slug}-rep{i}", **(rep_fields if i == 0 else {}))
    return tenant


def leads_of(tenant):
    rows = Lead.objects.filter(tenant=tenant).order_by("id").values_list(*COMPARED, "owner__username")
    return [(*row[:-1], row[-1].split("-", 1)[1] if row[-1] else None) for row in rows]


def threads_left():
    return [t.name for t in threading.enumerate() if t.name in ("import-write-behind", "import-parse-ahead")]


def test_a_file_written_behind_imports_what_the_one_thread_run_does_owners_included(tmp_path, monkeypatch):
    path = tmp_path / "leads.csv"
    generate(path, rows=700, seed=5)  # bad rows, repeated people across batches, converted leads
    here, behind = workspace("here"), workspace("behind")

    store, writers = engine._Run._store, set()

    def store_noting_the_thread(self, batch):
        writers.add((self.tenant.slug, threading.current_thread().name))
        store(self, batch)

    monkeypatch.setattr(engine._Run, "_store", store_noting_the_thread)
    one = run(here, path, behind=False, monkeypatch=monkeypatch)
    other = run(behind, path, behind=True, monkeypatch=monkeypatch)

    assert writers == {("here", "MainThread"), ("behind", "import-write-behind")}

    counts = ("status", "rows_read", "created", "updated", "skipped", "rejected", "warned", "last_line", "bytes_read")
    assert [getattr(other, c) for c in counts] == [getattr(one, c) for c in counts]
    assert one.created > 500 and one.skipped > 0 and one.rejected > 0
    assert other.findings == one.findings and other.error_report == one.error_report
    # Each rep's count, and who got which lead: batch N+1 was routed knowing batch N's owners before they were committed.
    assert leads_of(behind) == leads_of(here)
    assigned = Activity.objects.filter(tenant=behind, kind=ActivityKind.ASSIGNED).count()
    assert assigned == Lead.objects.filter(tenant=behind, owner__isnull=False).count() > 0
    assert threads_left() == []


def test_each_person_is_created_once_when_they_repeat_in_the_next_batch(tmp_path, monkeypatch, caplog):
    path = tmp_path / "people.csv"
    # Every person twice, 50 rows apart: the second time they are in the batch after, not committed yet.
    # Half are known by a phone alone, which no unique index guards: only the run can see they repeat.
    def person(n):
        return f"p{n}@repeat.example," if n % 2 else f",+1 415 555 {n:04d}"

    lines = [f"{person(i % 50 + 50 * (i // 100))},P{i}\n" for i in range(400)]
    path.write_text("Email,Phone,First Name\n" + "".join(lines))
    tenant = workspace("repeat")

    job = run(tenant, path, behind=True, monkeypatch=monkeypatch, batch_size=50)

    assert (job.created, job.skipped, job.rows_read) == (200, 200, 400)
    by_email = Lead.objects.filter(tenant=tenant).exclude(email="").values("email").annotate(n=Count("id"))
    by_phone = Lead.objects.filter(tenant=tenant, email="").values("phone").annotate(n=Count("id"))
    assert len(by_email) == len(by_phone) == 100
    assert {row["n"] for row in by_email} == {row["n"] for row in by_phone} == {1}
    assert "raced another write" not in caplog.text  # known as repeats, not found out by the unique index


def test_a_reps_capacity_holds_across_batches_written_behind(tmp_path, monkeypatch):
    path = tmp_path / "people.csv"
    path.write_text("Email\n" + "".join(f"c{i}@capacity.example\n" for i in range(300)))
    tenant = workspace("capacity", lead_capacity=40)

    job = run(tenant, path, behind=True, monkeypatch=monkeypatch, batch_size=50)

    assert job.created == 300
    owners = dict(Lead.objects.filter(tenant=tenant).values_list("owner__username").annotate(n=Count("id")))
    assert owners == {"capacity-rep0": 40, "capacity-rep1": 130, "capacity-rep2": 130}


@pytest.mark.parametrize("behind", [True, False], ids=["written-behind", "one-thread"])
def test_a_capture_racing_a_batch_keeps_one_lead_and_every_assignment(tmp_path, monkeypatch, behind):
    path = tmp_path / "people.csv"
    path.write_text("Email\n" + "".join(f"r{i}@race.example\n" for i in range(120)))
    tenant = workspace("race")
    insert = engine.insert
    raced = []

    def capture_first_in_between(table, rows, **kwargs):
        # The website captures one of the batch's people after the duplicate check, before its COPY.
        if table.model is Lead and not raced:
            rows = list(rows)
            email = rows[0][table.keys.index("email")]

            def website():
                capture_lead(tenant=tenant, data={"email": email}, source=LeadSource.API)
                connection.close()

            other = threading.Thread(target=website)
            other.start()
            other.join()
            raced.append(email)
        return insert(table, rows, **kwargs)

    monkeypatch.setattr(engine, "insert", capture_first_in_between)
    job = run(tenant, path, behind=behind, monkeypatch=monkeypatch, batch_size=50)

    assert job.status == "finished" and (job.created, job.skipped) == (119, 1)
    assert Lead.objects.filter(tenant=tenant, email=raced[0]).count() == 1
    imported = Lead.objects.filter(tenant=tenant).exclude(email=raced[0])
    assert imported.count() == 119 and not imported.filter(owner__isnull=True).exists()
    # The retried batch keeps its owners' "assigned" entries and LeadAssigned events.
    assigned = Activity.objects.filter(lead__in=imported, kind=ActivityKind.ASSIGNED)
    assert assigned.count() == 119
    assert Event.objects.filter(tenant=tenant, type=EventType.LEAD_ASSIGNED).count() == 120


def test_a_run_written_behind_and_cancelled_keeps_its_first_batch_and_leaves_no_thread(tmp_path, monkeypatch):
    path = tmp_path / "leads.csv"
    generate(path, rows=500, seed=5)
    tenant = workspace("cancelled")

    def cancel_after_the_first_batch(job, _read, _size):
        ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    monkeypatch.setattr(engine, "PARSE_AHEAD_BYTES", 0)
    monkeypatch.setattr(engine, "WRITE_BEHIND_BYTES", 0)
    job = import_leads(tenant=tenant, path=path, options=ImportOptions(batch_size=97),
                       progress=cancel_after_the_first_batch)

    assert job.status == "cancelled" and job.rows_read == 97 and job.last_line > 0
    assert Lead.objects.filter(tenant=tenant).count() == job.created > 0
    assert threads_left() == []


def test_a_failure_in_the_writing_thread_fails_the_job_and_keeps_the_batches_before(tmp_path, monkeypatch):
    path = tmp_path / "people.csv"
    path.write_text("Email\n" + "".join(f"f{i}@fail.example\n" for i in range(200)))
    tenant = workspace("fail")
    record = engine._Run._record

    def breaks_on_the_third_batch(self, batch):
        if batch.last_line > 101:
            raise RuntimeError("the disk is full")
        record(self, batch)

    monkeypatch.setattr(engine._Run, "_record", breaks_on_the_third_batch)
    with pytest.raises(RuntimeError, match="the disk is full"):
        run(tenant, path, behind=True, monkeypatch=monkeypatch, batch_size=50)

    job = ImportJob.objects.get(tenant=tenant)
    assert job.status == "failed" and "the disk is full" in job.message
    assert (job.rows_read, job.created, job.last_line) == (100, 100, 101)
    assert Lead.objects.filter(tenant=tenant).count() == 100
    assert threads_left() == []
