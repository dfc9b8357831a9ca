"""The admin's import pages (upload, preview, dry run, import), the ImportJob list and the export action."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from crm.choices import Role
from crm.models import User
from leads.models import ImportJob, Lead
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


def test_an_unreadable_upload_goes_back_to_the_form_with_the_reason(client, tenant, manager):
    client.force_login(manager)
    preview_url = upload(client, content="Name,Company\nAda,Engines\n")
    response = client.get(preview_url, follow=True)
    assert "holds an email or a phone number" in response.content.decode()


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
