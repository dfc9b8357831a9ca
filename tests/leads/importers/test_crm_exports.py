"""Each big CRM's default export imports as it comes: every reachable person created with the right
status, source, owner, country and date; soft problems are warnings; only true rejects are rejected."""

import csv
import io
from decimal import Decimal

import pytest

from leads.importers import ImportOptions, import_leads, inspect_file
from leads.models import ImportJob, Lead
from tests.factories import UserFactory
from tests.leads.importers.crm_exports import CRMS, build, path_of
from tests.leads.importers.support import run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def reps(tenant):
    return {
        "rita": UserFactory(tenant=tenant, username="rita", email="rita@acme.example", first_name="Rita",
                            last_name="Alvarez"),
        "sokafor": UserFactory(tenant=tenant, username="sokafor", email="sam@acme.example", first_name="Sam",
                               last_name="Okafor"),
    }


@pytest.mark.parametrize("crm", list(CRMS))
def test_the_committed_sample_is_what_the_generator_writes(crm):
    assert path_of(crm).read_bytes().decode() == build(crm)[0]


@pytest.mark.parametrize("crm", list(CRMS))
def test_the_export_is_recognised_by_its_header(crm):
    _csv_file, plan = inspect_file(path=path_of(crm))
    assert plan.profile is not None and plan.profile.name == crm
    assert "email" in plan.targets and "owner" in plan.targets and "created_at" in plan.targets


@pytest.mark.parametrize("crm", list(CRMS))
def test_a_default_export_imports_every_reachable_person_as_it_was(crm, tenant, reps, tmp_path):
    _text, expects = build(crm)
    errors = tmp_path / "errors.csv"

    out = run_import(path_of(crm), "--errors", str(errors))

    created = [e for e in expects if e.outcome == "created"]
    rejected = [e for e in expects if e.outcome == "rejected"]
    skipped = [e for e in expects if e.outcome == "skipped"]
    assert f"created {len(created)}, updated 0, skipped {len(skipped)} (already known), rejected {len(rejected)}" in out
    leads = {lead.email: lead for lead in Lead.objects.filter(tenant=tenant).select_related("owner")}
    assert len(leads) == len(created)
    for expect in created:
        lead = leads[expect.email]
        assert (lead.status, lead.source) == (expect.status, expect.source), expect
        assert lead.created_at == expect.created, expect
        assert lead.country == (expect.country or ""), expect
        if expect.owner:
            assert lead.owner == reps[expect.owner], expect
        if expect.employees is not None:
            assert lead.employee_count == expect.employees, expect
        if "Annual Revenue" in CRMS[crm].header and expect.revenue is not None:
            assert lead.annual_revenue == Decimal(expect.revenue), expect
        assert lead.first_name and lead.last_name  # accents and all

    # Only true rejects are in the report: an invalid email or nobody to reach; formulas come back escaped.
    report = list(csv.reader(io.StringIO(errors.read_text(encoding="utf-8"))))[1:]
    assert sorted({int(row[0]) for row in report}) == [e.line for e in rejected]
    formula = [row for row in report if row[0] == "15"]
    assert formula and formula[0][2].startswith("'=")

    job = ImportJob.objects.get()
    reasons = {(g["column"], g["message"]): g for g in job.findings["rejected"]}
    assert sum(g["count"] for g in reasons.values()) == len(rejected) and len(reasons) == 2
    warnings = job.findings["warnings"]
    owner_warning = next(g for g in warnings if "routed" in g["message"])
    assert owner_warning["examples"][0][1] == "Pat Departed"
    assert all(len(g["examples"]) <= 5 for g in warnings)
    assert not any("string supplied" in g["message"].lower() for g in warnings + job.findings["rejected"])


def test_a_narnian_is_imported_with_the_country_kept_raw(tenant, reps):
    run_import(path_of("salesforce"))
    lead = Lead.objects.get(email="jurgen.rossi2@example2.com")
    assert lead.country == "" and lead.custom_fields["Country"] == "Narnia"
    assert lead.employee_count == 11 and lead.custom_fields["No. of Employees"] == "11-50"
    warning = next(g for g in ImportJob.objects.get().findings["warnings"] if g["column"] == "Country")
    assert warning["message"].startswith("Not a country we know")


def test_us_dates_are_settled_for_the_column_and_said(tenant):
    _csv_file, plan = inspect_file(path=path_of("salesforce"))
    assert plan.date_orders == {"Created Date": "mdy"}
    assert any(note.startswith("Created Date: dates read as month/day/year (US)") for note in plan.notes)


def test_european_dates_are_settled_the_other_way(tenant, tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("Email,Created Date\na@example.com,03/04/2025\nb@example.com,23/11/2025\n", encoding="utf-8")

    job = import_leads(tenant=tenant, path=path, options=ImportOptions())

    assert job.created == 2
    assert Lead.objects.get(email="a@example.com").created_at.date().isoformat() == "2025-04-03"


def test_an_ambiguous_date_column_follows_the_order_asked_for(tenant, tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("Email,Created Date\na@example.com,03/04/2025\n", encoding="utf-8")
    _csv_file, plan = inspect_file(path=path)
    assert "could be month/day or day/month" in " ".join(plan.notes)

    run_import(path, "--date-order", "dmy")

    assert Lead.objects.get().created_at.date().isoformat() == "2025-04-03"
