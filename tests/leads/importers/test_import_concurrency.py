"""Imports racing other writers on PostgreSQL: still one lead per person, and the import finishes."""

import pytest
from django.db.models import Count

from leads.capture.service import capture_lead
from leads.choices import LeadSource
from leads.importers import ImportFileError, ImportOptions, import_leads
from leads.models import ImportJob, Lead
from tests.concurrency import run_together
from tests.factories import TenantFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def people_file(tmp_path, n):
    path = tmp_path / "people.csv"
    path.write_text("Email,First Name\n" + "".join(f"p{i}@race.example,P{i}\n" for i in range(n)))
    return path


def test_two_runs_of_one_file_at_once_create_each_person_once(tmp_path):
    tenant = TenantFactory(slug="race")
    path = people_file(tmp_path, 300)

    results = run_together(
        lambda i: import_leads(tenant=tenant, path=path, options=ImportOptions(batch_size=50)), n=2
    )

    assert all(isinstance(r, ImportJob | ImportFileError) for r in results), results
    assert Lead.objects.filter(tenant=tenant).count() == 300
    refused = [r for r in results if isinstance(r, ImportFileError)]
    assert all("is being imported into" in str(r) for r in refused)


def test_captures_racing_an_import_leave_one_open_lead_per_email(tmp_path):
    tenant = TenantFactory(slug="race")
    path = people_file(tmp_path, 400)

    def worker(i):
        if i == 0:
            return import_leads(tenant=tenant, path=path, options=ImportOptions(batch_size=40))
        for j in range(i, 400, 7):  # the website captures some of the same people meanwhile
            capture_lead(tenant=tenant, data={"email": f"p{j}@race.example"}, source=LeadSource.API)
        return None

    results = run_together(worker, n=7)

    assert isinstance(results[0], ImportJob), results[0]
    per_email = Lead.objects.filter(tenant=tenant).values("email").annotate(n=Count("id"))
    assert len(per_email) == 400 and {row["n"] for row in per_email} == {1}
    job = results[0]
    assert job.created + job.skipped == 400
