"""Issue 18's speed work keeps the import's results: a big file parsed one batch ahead in a second
thread imports exactly what the same file parsed in the run's own thread does; a failure there fails the job;
on PostgreSQL the run keeps the lead table's statistics current (the commit's foreign-key checks
are planned from them)."""

import threading

import pytest
from django.db import connection

from bench.import_file import generate
from leads.importers import ImportOptions, engine, import_leads
from leads.importers.rows import RowParser
from leads.models import ImportJob, Lead
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

COMPARED = ("email", "phone", "first_name", "last_name", "company", "country", "status", "source", "employee_count",
            "annual_revenue", "website", "created_at", "custom_fields", "score_total", "disqualification_reason")


def imported(tenant, path, *, ahead: bool, monkeypatch) -> ImportJob:
    monkeypatch.setattr(engine, "PARSE_AHEAD_BYTES", 0 if ahead else None)
    return import_leads(tenant=tenant, path=path, options=ImportOptions(batch_size=97))


def test_a_file_parsed_ahead_in_a_second_thread_imports_what_the_one_thread_run_does(tmp_path, monkeypatch):
    path = tmp_path / "leads.csv"
    made = generate(path, rows=700, seed=5)  # bad rows, repeated people, ranges, notes with line breaks
    here, ahead = TenantFactory(slug="here"), TenantFactory(slug="ahead")

    one = imported(here, path, ahead=False, monkeypatch=monkeypatch)
    other = imported(ahead, path, ahead=True, monkeypatch=monkeypatch)

    counts = ("status", "rows_read", "created", "updated", "skipped", "rejected", "warned", "last_line")
    assert [getattr(other, c) for c in counts] == [getattr(one, c) for c in counts]
    assert one.rows_read == 700 and one.rejected > 0 and one.skipped >= made["duplicates"] - 5
    assert other.findings == one.findings and other.error_report == one.error_report
    assert other.bytes_read == one.bytes_read == path.stat().st_size

    def leads(tenant):
        return list(Lead.objects.filter(tenant=tenant).order_by("id").values_list(*COMPARED))

    assert leads(ahead) == leads(here) and len(leads(here)) == one.created


def test_a_failure_in_the_parsing_thread_fails_the_job(tmp_path, monkeypatch):
    path = tmp_path / "leads.csv"
    generate(path, rows=300, seed=5)
    parse = RowParser.parse

    def breaks_on_line_250(self, line, cells):
        if line == 250:
            raise ValueError("a parser bug")
        return parse(self, line, cells)

    monkeypatch.setattr(RowParser, "parse", breaks_on_line_250)
    tenant = TenantFactory(slug="broken")
    with pytest.raises(RuntimeError, match="a parser bug"):
        imported(tenant, path, ahead=True, monkeypatch=monkeypatch)

    job = ImportJob.objects.get(tenant=tenant)
    assert job.status == "failed" and "a parser bug" in job.message
    assert job.last_line < 250 and Lead.objects.filter(tenant=tenant).count() == job.created > 0


def test_a_run_parsed_ahead_and_cancelled_keeps_its_first_batch_and_leaves_no_parsing_thread(tmp_path, monkeypatch):
    path = tmp_path / "leads.csv"
    generate(path, rows=500, seed=5)
    tenant = TenantFactory(slug="cancelled")

    def cancel_after_the_first_batch(job, _read, _size):
        ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    monkeypatch.setattr(engine, "PARSE_AHEAD_BYTES", 0)
    job = import_leads(tenant=tenant, path=path, options=ImportOptions(batch_size=97),
                       progress=cancel_after_the_first_batch)

    assert job.status == "cancelled" and job.rows_read == 97
    assert Lead.objects.filter(tenant=tenant).count() == job.created > 0
    assert not [t for t in threading.enumerate() if t.name == "import-parse-ahead"]


@pytest.mark.postgres
def test_the_run_refreshes_the_lead_tables_statistics_as_it_grows_them(tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    monkeypatch.setattr(engine, "ANALYZE_AFTER_ROWS", 50)
    path = tmp_path / "people.csv"
    path.write_text("Email,First Name\n" + "".join(f"p{i}@stats.example,P{i}\n" for i in range(300)))

    import_leads(tenant=TenantFactory(slug="stats"), path=path, options=ImportOptions(batch_size=100))

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'leads_lead'::regclass")
        assert cursor.fetchone()[0] >= 100  # analysed with the run's rows, not "never" (-1) or empty
