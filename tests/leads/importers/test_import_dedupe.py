"""Never a duplicate: known people, repeated rows, re-runs, --on-duplicate update, dry runs and resumed runs."""

import pytest
from django.core.management import CommandError

from contacts.models import Contact
from crm.choices import ActivityKind
from crm.models import Activity, Event
from leads.choices import ImportStatus, LeadStatus
from leads.importers import ImportOptions, engine, import_leads
from leads.models import ImportJob, Lead
from tests.factories import ContactFactory, LeadFactory
from tests.leads.importers.support import run_import, write_csv

pytestmark = pytest.mark.django_db

FILE = (
    "Email,Phone,First Name,Company,Job Title\n"
    "new@example.com,,Nina,,\n"
    "NEW@example.com,,Nina again,Acme,\n"  # same person, later row
    "open@example.com,,Olga,Olga Corp,Buyer\n"
    "closed@example.com,,Carl,,\n"
    "contact@example.com,,Cora,,\n"
    ",+1 415 555 0199,Phil,,\n"
    ",(415) 555-0199,Phil twice,,\n"
)


@pytest.fixture
def known(tenant):
    LeadFactory(tenant=tenant, email="open@example.com", first_name="Olga", company="", job_title="")
    LeadFactory(tenant=tenant, email="closed@example.com", first_name="Clara", status=LeadStatus.DISQUALIFIED,
                disqualification_reason="No budget", company="")
    ContactFactory(tenant=tenant, email="contact@example.com")


def counts(out):
    return out.splitlines()[-2] if "Rejected" in out.splitlines()[-1] else out.splitlines()[-1]


def test_known_people_and_repeated_rows_are_skipped(tenant, known, tmp_path):
    out = run_import(write_csv(tmp_path, FILE))

    assert "created 2, updated 0, skipped 5 (already known), rejected 0" in out
    assert Lead.objects.get(email="new@example.com").first_name == "Nina"
    assert Lead.objects.get(phone="+14155550199").first_name == "Phil"
    assert Lead.objects.get(email="open@example.com").company == ""  # skip leaves it alone
    assert not Lead.objects.filter(email="contact@example.com").exists()
    assert Lead.objects.count() == 4


def test_re_running_the_same_file_creates_nothing(tenant, known, tmp_path):
    path = write_csv(tmp_path, FILE)
    run_import(path)
    before = (Lead.objects.count(), Activity.objects.count(), Event.objects.count(), Contact.objects.count())

    out = run_import(path)

    assert "created 0, updated 0, skipped 7 (already known), rejected 0" in out
    assert (Lead.objects.count(), Activity.objects.count(), Event.objects.count(), Contact.objects.count()) == before
    assert ImportJob.objects.count() == 2  # both runs are on record
    assert all(job.status == ImportStatus.FINISHED for job in ImportJob.objects.all())


def test_on_duplicate_update_fills_only_empty_fields_of_open_leads(tenant, known, tmp_path):
    out = run_import(write_csv(tmp_path, FILE), "--on-duplicate", "update")

    assert "created 2, updated 2, skipped 3 (already known), rejected 0" in out
    olga = Lead.objects.get(email="open@example.com")
    assert (olga.first_name, olga.company, olga.job_title) == ("Olga", "Olga Corp", "Buyer")
    nina = Lead.objects.get(email="new@example.com")
    assert (nina.first_name, nina.company) == ("Nina", "Acme")  # the later row filled what the first left empty
    closed = Lead.objects.get(email="closed@example.com")
    assert closed.first_name != "Carl"  # history is not rewritten
    filled = Activity.objects.get(lead=olga, kind=ActivityKind.IMPORTED)
    assert sorted(filled.data["filled"]) == ["company", "job_title"]

    again = run_import(write_csv(tmp_path, FILE), "--on-duplicate", "update")
    assert "created 0, updated 0, skipped 7" in again  # nothing left to fill


def test_dry_run_writes_nothing_but_reports_the_same(tenant, known, tmp_path):
    path = write_csv(tmp_path, FILE + "bad,,,,\n")
    before = (Lead.objects.count(), Activity.objects.count(), Event.objects.count(), Contact.objects.count())

    out = run_import(path, "--dry-run", "--batch-size", "2")

    assert out.startswith("Dry run") or "Dry run (nothing written)" in out
    assert "created 2, updated 0, skipped 5 (already known), rejected 1" in out
    assert (Lead.objects.count(), Activity.objects.count(), Event.objects.count(), Contact.objects.count()) == before
    job = ImportJob.objects.get()
    assert job.dry_run and job.status == ImportStatus.FINISHED
    assert "9,Email,bad,Enter a valid email address." in job.error_report

    real = run_import(path)
    assert "created 2, updated 0, skipped 5 (already known), rejected 1" in real


def test_an_interrupted_import_resumes_without_duplicates(tenant, tmp_path, monkeypatch):
    rows = "".join(f"p{i}@example.com,Person {i}\n" for i in range(10))
    path = write_csv(tmp_path, "Email,Name\n" + rows)
    batches = []
    real_record = engine._Run._record

    def killed_on_third_batch(self, *args, **kwargs):
        batches.append(1)
        if len(batches) == 3:
            raise KeyboardInterrupt  # as a kill: nothing after it runs, the batch's transaction rolls back
        return real_record(self, *args, **kwargs)

    monkeypatch.setattr(engine._Run, "_record", killed_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run_import(path, "--batch-size", "3")
    job = ImportJob.objects.get()
    assert (job.status, job.last_line, job.created, job.rows_read) == (ImportStatus.RUNNING, 7, 6, 6)
    assert Lead.objects.count() == 6  # two whole batches, nothing of the third
    assert Activity.objects.filter(kind=ActivityKind.IMPORTED).count() == 6

    monkeypatch.setattr(engine._Run, "_record", real_record)
    out = run_import(path, "--batch-size", "3")

    assert ImportJob.objects.get() == job  # the same job, picked up where it stopped
    assert f"Import {job.pk} of leads.csv" in out and "created 10, updated 0, skipped 0" in out
    assert sorted(Lead.objects.values_list("email", flat=True)) == sorted(f"p{i}@example.com" for i in range(10))
    assert Activity.objects.filter(kind=ActivityKind.IMPORTED).count() == 10


def test_a_failed_batch_marks_the_job_failed_and_a_rerun_finishes_it(tenant, tmp_path, monkeypatch):
    path = write_csv(tmp_path, "Email\n" + "".join(f"f{i}@example.com\n" for i in range(4)))
    real_write = engine._Run._write
    calls = []

    def broken(self, parsed):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_write(self, parsed)

    monkeypatch.setattr(engine._Run, "_write", broken)
    with pytest.raises(RuntimeError):
        run_import(path, "--batch-size", "2")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and job.message == "RuntimeError: disk full"
    assert Lead.objects.count() == 2

    monkeypatch.setattr(engine._Run, "_write", real_write)
    run_import(path, "--batch-size", "2")
    job.refresh_from_db()
    assert (job.status, job.created, job.rows_read) == (ImportStatus.FINISHED, 4, 4)
    assert Lead.objects.count() == 4


def test_the_job_records_file_checksum_options_counts_and_who(tenant, manager, tmp_path):
    path = write_csv(tmp_path, "Email,Owner\na@example.com,\nbad,\n", name="expo.csv")
    job = import_leads(tenant=tenant, path=path, actor=manager,
                       options=ImportOptions(campaign="Expo", mapping=["Owner=ignore"]))

    import hashlib

    assert job.file_name == "expo.csv" and job.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert job.created_by == manager and job.started_at <= job.finished_at
    assert job.options == {"source": "import", "owner": None, "channel": None, "campaign": "Expo",
                           "mapping": ["Owner=ignore"], "on_duplicate": "skip",
                           "value_mapping": [], "profile": "", "date_order": ""}
    assert (job.rows_read, job.created, job.rejected) == (2, 1, 1)
    assert Activity.objects.get(kind=ActivityKind.IMPORTED).actor == manager


def test_a_bad_duplicate_policy_is_refused(tenant, tmp_path):
    with pytest.raises(CommandError):
        run_import(write_csv(tmp_path, "Email\na@example.com\n"), "--on-duplicate", "merge")


def test_an_update_import_and_a_capture_fill_the_same_fields_of_an_open_lead(tenant, tmp_path):
    """One rule for both doors: empty (None or "") fields are filled, a 0 or a given value is kept, new custom
    fields are added. A capture used to overwrite a 0 employee count, an import did not."""
    from leads.capture.service import capture_lead

    def known(email):
        return LeadFactory(tenant=tenant, email=email, employee_count=0, industry="", job_title="Buyer",
                           custom_fields={"size": "S"})

    by_import, by_capture = known("i@example.com"), known("c@example.com")
    incoming = {"employee_count": 50, "industry": "Retail", "job_title": "CEO"}
    run_import(write_csv(tmp_path, "Email,No. of Employees,Industry,Job Title,custom:tier\n"
                                   "i@example.com,50,Retail,CEO,gold\n"), "--on-duplicate", "update")
    capture_lead(tenant=tenant, data={"email": "c@example.com", **incoming, "custom_fields": {"tier": "gold"}},
                 source="api")

    for lead in (by_import, by_capture):
        lead.refresh_from_db()
        assert (lead.employee_count, lead.industry, lead.job_title) == (0, "Retail", "Buyer"), lead.email
        assert lead.custom_fields == {"size": "S", "tier": "gold"}, lead.email
