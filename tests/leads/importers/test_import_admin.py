"""The admin's import pages (upload, preview, dry run, import), the ImportJob list and the export action."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from crm.choices import Role
from crm.models import User
from leads.models import ImportJob, ImportMapping, Lead
from tests.factories import ChannelFactory, LeadFactory, UserFactory

URL = "/admin/leads/lead/import/"


def chosen(page: str, header: str) -> str:
    """The option selected in the preview's dropdown for the column `header`."""
    select = re.search(rf'<select name="column_\d+" aria-label="Field for {re.escape(header)}">(.*?)</select>', page,
                       re.S)
    assert select, header
    return re.search(r'<option value="([^"]*)" selected>', select.group(1)).group(1)
FILE = (
    "First Name,Last Name,E-mail Address,Company / Account,Fav colour\n"
    "Ada,Lovelace,ada@example.com,Engines,teal\n"
    "Bob,Bad,not-an-email,,\n"
    "Cy,Known,known@example.com,,\n"
)


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")


@pytest.fixture
def tenant_admin(tenant):
    return UserFactory(tenant=tenant, username="ada-admin", role=Role.ADMIN)


def upload(client, content=FILE, **fields):
    data = {"file": SimpleUploadedFile("expo.csv", content.encode(), "text/csv"), "on_duplicate": "skip",
            "source": "import", **fields}
    response = client.post(URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def run_import(client, preview_url, data=None) -> str:
    """Import now (confirmed when the page asks: more than 10% would be rejected): the upload queues a job
    whose task runs once the request commits; the job's page."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(preview_url + "run/", {"run": "1", **(data or {})})
        if response.status_code == 200:
            assert "Import anyway?" in response.content.decode()
            response = client.post(preview_url + "run/", {"run": "1", "confirm": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "/admin/leads/importjob/" in response["Location"]
    return client.get(response["Location"]).content.decode()


def test_manager_uploads_previews_dry_runs_then_imports(client, tenant, manager):
    LeadFactory(tenant=tenant, email="known@example.com")
    client.force_login(manager)
    assert 'href="/admin/leads/lead/import/"' in client.get("/admin/leads/lead/").content.decode()
    assert client.get(URL).status_code == 200

    preview_url = upload(client)
    preview = client.get(preview_url).content.decode()

    assert "UTF-8, comma-separated" in preview
    assert chosen(preview, "E-mail Address") == "email"
    assert chosen(preview, "Fav colour") == "custom"
    assert "<td>Ada</td>" in preview and "<td>Lovelace</td>" in preview

    dry = client.post(preview_url + "run/", {"dry_run": "1"}).content.decode()

    assert "Dry run: nothing was written" in dry
    assert "<th>Would be created</th><td>1</td>" in dry and "<th>Rejected</th><td>1</td>" in dry
    # Grouped by reason (issue 18): the column, why, how many rows, the first examples.
    assert ("<td>E-mail Address</td><td>Enter a valid email address.</td><td>1</td>\n          "
            "<td>line 3: not-an-email</td>") in dry
    assert Lead.objects.count() == 1

    done = run_import(client, preview_url)

    assert "<th>Created</th><td>1</td>" in done and "<th>Skipped (already known)</th><td>1</td>" in done
    ada = Lead.objects.get(email="ada@example.com")
    assert ada.tenant == tenant and ada.custom_fields == {"Fav colour": "teal"}
    job = ImportJob.objects.get(dry_run=False)
    assert job.created_by == manager and job.file_name == "expo.csv"
    # The upload is gone once imported: the same token cannot import twice.
    assert client.post(preview_url + "run/", {"run": "1"}).status_code == 403


def test_import_job_list_and_report_download(client, tenant, tenant_admin):
    client.force_login(tenant_admin)
    preview_url = upload(client)
    run_import(client, preview_url)
    job = ImportJob.objects.get()

    assert "expo.csv" in client.get("/admin/leads/importjob/").content.decode()
    page = client.get(f"/admin/leads/importjob/{job.pk}/change/").content.decode()
    assert "3,E-mail Address,not-an-email,Enter a valid email address." in page
    report = client.get(f"/admin/leads/importjob/{job.pk}/errors.csv")
    assert report["Content-Type"].startswith("text/csv")
    assert report.content.decode().startswith("line,column,value,message")


def test_a_rep_cannot_import(client, tenant, rep):
    client.force_login(rep)
    assert 'href="/admin/leads/lead/import/"' not in client.get("/admin/leads/lead/").content.decode()
    assert client.get(URL).status_code == 403
    response = client.post(URL, {"file": SimpleUploadedFile("x.csv", FILE.encode()), "on_duplicate": "skip",
                                 "source": "import"})
    assert response.status_code == 403
    assert client.get("/admin/leads/importjob/").status_code == 403
    assert not Lead.objects.exists()


def test_imports_stay_in_the_users_workspace(client, tenant, other_tenant, manager):
    theirs = ChannelFactory(tenant=other_tenant, name="Their form")
    stranger = UserFactory(tenant=other_tenant, username="stranger")
    LeadFactory(tenant=other_tenant, email="ada@example.com")  # known there, not here
    client.force_login(manager)

    form = client.get(URL).content.decode()
    assert "Their form" not in form and "stranger" not in form
    refused = client.post(URL, {"file": SimpleUploadedFile("x.csv", FILE.encode()), "on_duplicate": "skip",
                                "source": "import", "channel": theirs.pk, "owner": stranger.pk})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()

    preview_url = upload(client)
    run_import(client, preview_url)
    assert Lead.objects.get(tenant=tenant, email="ada@example.com")

    # Another workspace's manager cannot use this upload or see this import.
    job = ImportJob.objects.get(tenant=tenant)
    other_manager = UserFactory(tenant=other_tenant, username="olga", role=Role.MANAGER)
    client.force_login(other_manager)
    assert client.get(preview_url).status_code == 403
    assert "expo.csv" not in client.get("/admin/leads/importjob/").content.decode()
    assert client.get(f"/admin/leads/importjob/{job.pk}/errors.csv").status_code == 403


def test_a_file_without_an_email_column_is_mapped_on_the_preview_without_uploading_again(client, tenant, manager):
    """Issue 18: the mapping is changed on the preview (it used to mean uploading again)."""
    client.force_login(manager)
    preview_url = upload(client, content="Name,Work Mail,Company\nAda Lovelace,ada@example.com,Engines\n")
    page = client.get(preview_url).content.decode()
    assert "No column feeds email or phone" in page and chosen(page, "Work Mail") == "custom"

    client.post(preview_url, {"column_0": "name", "column_1": "email", "column_2": "company", "apply": "1"})

    page = client.get(preview_url).content.decode()
    assert chosen(page, "Work Mail") == "email" and "No column feeds email" not in page
    run_import(client, preview_url)
    assert Lead.objects.get().email == "ada@example.com"


def test_export_selected_action(client, tenant, other_tenant, rep):
    mine = LeadFactory(tenant=tenant, email="mine@example.com", company="=evil()")
    theirs = LeadFactory(tenant=other_tenant, email="theirs@example.com")
    client.force_login(rep)

    response = client.post("/admin/leads/lead/", {"action": "export_selected_csv",
                                                   "_selected_action": [mine.pk, theirs.pk]})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [(r["email"], r["company"]) for r in rows] == [("mine@example.com", "'=evil()")]


def test_a_superuser_picks_the_workspace(client, tenant, other_tenant):
    root = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-123")
    client.force_login(root)
    preview_url = upload(client, tenant=other_tenant.pk)
    run_import(client, preview_url)
    assert Lead.objects.get(email="ada@example.com").tenant == other_tenant


SALESFORCE_WORDS = "Lead ID,Email,Lead Status,Lead Source,Created Date\n"


@pytest.mark.parametrize("crm", ["salesforce", "hubspot", "pipedrive", "zoho", "dynamics"])
def test_each_crms_default_export_through_the_admin(crm, client, tenant, manager):
    from tests.leads.importers.crm_exports import CRMS, build, path_of

    UserFactory(tenant=tenant, username="rita", email="rita@acme.example", first_name="Rita", last_name="Alvarez")
    UserFactory(tenant=tenant, username="sokafor", first_name="Sam", last_name="Okafor")
    client.force_login(manager)
    _text, expects = build(crm)
    preview_url = upload(client, content=path_of(crm).read_text(encoding="utf-8"))

    preview = client.get(preview_url).content.decode()
    assert f"Recognised as a {CRMS[crm].name}".lower() in preview.lower()
    done = run_import(client, preview_url)

    created = {e.email: e for e in expects if e.outcome == "created"}
    assert f"<th>Created</th><td>{len(created)}</td>" in done
    for lead in Lead.objects.select_related("owner"):
        expect = created[lead.email]
        assert (lead.status, lead.source, lead.country, lead.created_at) == (
            expect.status, expect.source, expect.country or "", expect.created)
        if expect.owner:
            assert lead.owner.username == expect.owner


def test_a_salesforce_export_through_the_admin(client, tenant, manager):
    from tests.leads.importers.crm_exports import build, path_of

    UserFactory(tenant=tenant, username="rita", email="rita@acme.example", first_name="Rita", last_name="Alvarez")
    UserFactory(tenant=tenant, username="sokafor", first_name="Sam", last_name="Okafor")
    client.force_login(manager)
    preview_url = upload(client, content=path_of("salesforce").read_text(encoding="utf-8"))

    preview = client.get(preview_url).content.decode()
    assert "Recognised as a Salesforce (lead export or report) export." in preview
    assert chosen(preview, "Lead Owner") == "owner" and chosen(preview, "Lead Status") == "status"
    assert re.search(r'Open - Not Contacted<input[^>]*></td><td>\d+</td>\s*<td><select[^>]*>.*?'
                     r'<option value="new" selected>', preview, re.S)
    assert "Created Date: dates read as month/day/year (US)" in preview

    dry = client.post(preview_url + "run/", {"dry_run": "1"}).content.decode()
    assert "<th>Would be created</th><td>189</td>" in dry and "<th>Rejected</th><td>8</td>" in dry
    assert "Rejected rows, by reason" in dry and "Imported with a warning, by reason" in dry
    assert "<td>Country</td><td>Not a country we know" in dry

    done = run_import(client, preview_url)  # 4% rejected: no confirmation asked

    assert "<th>Created</th><td>189</td>" in done and "Imported with a warning, by reason" in done
    assert "line 15: =cmd|" in done  # shown as text (HTML-escaped); the CSV report escapes it as a formula
    expects = {e.email: e for e in build("salesforce")[1] if e.outcome == "created"}
    assert set(Lead.objects.values_list("email", flat=True)) == set(expects)


def test_words_of_a_status_column_are_mapped_on_the_preview_and_the_mapping_saved(client, tenant, manager):
    client.force_login(manager)
    content = "Email,Lead Status\na@example.com,Hot prospect\nb@example.com,Working - Contacted\n"
    preview_url = upload(client, content=content)
    page = client.get(preview_url).content.decode()
    assert re.search(r'Hot prospect<input type="hidden" name="word-status-(\d)"', page)
    n = re.search(r'Hot prospect<input type="hidden" name="word-status-(\d)"', page).group(1)

    client.post(preview_url, {"column_0": "email", "column_1": "status", f"word-status-{n}": "Hot prospect",
                              f"value-status-{n}": "qualified", "save_as": "Old CRM", "apply": "1"})
    run_import(client, preview_url)

    assert Lead.objects.get(email="a@example.com").status == "qualified"
    assert Lead.objects.get(email="b@example.com").status == "contacted"
    saved = ImportMapping.objects.get(tenant=tenant, name="Old CRM")
    assert saved.values == {"status": {"Hot prospect": "qualified"}}

    # The next file from the same system: the saved mapping is offered and applied, nothing to redo.
    second = upload(client, content="Email,Lead Status\nc@example.com,Hot prospect\n")
    page = client.get(second).content.decode()
    assert '<option value="%d">Old CRM</option>' % saved.pk in page
    client.post(second, {"saved_mapping": saved.pk, "load_mapping": "1"})
    page = client.get(second).content.decode()
    assert re.search(r'Hot prospect<input[^>]*></td><td>1</td>\s*<td><select[^>]*>.*?'
                     r'<option value="qualified" selected>', page, re.S)
    run_import(client, second)
    assert Lead.objects.get(email="c@example.com").status == "qualified"


def test_import_now_asks_first_when_more_than_a_tenth_would_be_rejected(client, tenant, manager):
    client.force_login(manager)
    preview_url = upload(client, content="Email\na@example.com\nnope\nnope2\n")

    asked = client.post(preview_url + "run/", {"run": "1"})

    page = asked.content.decode()
    assert asked.status_code == 200 and "2 of the 3 rows (67% of them) would be rejected" in page
    assert "<td>Email</td><td>Enter a valid email address.</td><td>2</td>" in page
    assert not ImportJob.objects.exists() and not Lead.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        done = client.post(preview_url + "run/", {"run": "1", "confirm": "1"})
    assert done.status_code == 302 and Lead.objects.get().email == "a@example.com"
    job_page = client.get(done["Location"]).content.decode()
    assert "<td>Email</td><td>Enter a valid email address.</td><td>2</td>" in job_page


def test_the_job_record_shows_the_grouped_findings(client, tenant, manager):
    client.force_login(manager)
    preview_url = upload(client, content="Email,Country\na@example.com,Narnia\nnope,DE\n")
    run_import(client, preview_url)
    job = ImportJob.objects.get()

    page = client.get(f"/admin/leads/importjob/{job.pk}/change/").content.decode()

    assert "Imported with a warning, by reason" in page and "line 2: Narnia" in page
    assert "<td>Email</td><td>Enter a valid email address.</td><td>1</td>" in page
