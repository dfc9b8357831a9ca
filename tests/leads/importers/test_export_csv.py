"""export_leads and the admin action write CSV spreadsheets open safely and import_leads reads back unchanged."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from crm.choices import Role
from leads.choices import LeadStatus
from leads.exporting import safe_cell, unescape_cell
from leads.models import ImportJob, Lead
from tests.factories import ChannelFactory, ContactFactory, LeadFactory, UserFactory
from tests.leads.importers.support import run_import

pytestmark = pytest.mark.django_db

NASTY = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1 234", "-2+3", "@SUM(A1)", "\tTab", "'quoted", "''x",
         "plain", "a=b"]


def export(*args, tenant="acme") -> str:
    out = io.StringIO()
    call_command("export_leads", "-", "--tenant", tenant, *args, stdout=out)
    return out.getvalue()


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_formula_like_cells_are_escaped():
    assert [safe_cell(v) for v in NASTY] == [
        "'=HYPERLINK(\"http://evil.example\",\"click\")", "'+1 234", "'-2+3", "'@SUM(A1)", "'\tTab", "''quoted",
        "'''x", "plain", "a=b",
    ]


def test_export_escapes_what_a_spreadsheet_would_run(tenant):
    LeadFactory(tenant=tenant, email="eve@example.com", first_name="=cmd|' /C calc'!A0", company="@evil",
                phone="+14155550100", custom_fields={"note": "-1+1"})

    (row,) = rows(export())

    assert row["first_name"] == "'=cmd|' /C calc'!A0"
    assert (row["company"], row["phone"], row["custom:note"]) == ("'@evil", "'+14155550100", "'-1+1")


def test_round_trip_export_import_export_is_unchanged(tenant, other_tenant, tmp_path):
    rita = UserFactory(tenant=tenant, username="rita", email="rita@acme.example")
    ChannelFactory(tenant=tenant, name="Website")
    contact = ContactFactory(tenant=tenant, email="won@example.com")
    old = dt.datetime(2023, 5, 17, 9, 30, 12, 345678, tzinfo=dt.UTC)
    LeadFactory(tenant=tenant, email="ada@example.com", first_name="Ada", last_name="O'Neil, \"Jr\"",
                phone="+14155550100", employee_count=1200, annual_revenue=Decimal("2500000.50"),
                website="https://ada.example", country="GB", message="Line one\nLine two, with comma",
                owner=rita, campaign="=1+1", custom_fields={"plan": "Pro", "seats": "12", "Title": "x"},
                utm_source="news", external_id="SF-001", priority="high", created_at=old)
    LeadFactory(tenant=tenant, email="", phone="+4930123456", first_name="Phone", company="-only")
    LeadFactory(tenant=tenant, email="lost@example.com", status=LeadStatus.DISQUALIFIED,
                disqualification_reason="No budget", created_at=old)
    LeadFactory(tenant=tenant, email="won@example.com", status=LeadStatus.CONVERTED, converted_contact=contact,
                converted_at=old + dt.timedelta(days=3), created_at=old)
    first = export()
    path = tmp_path / "export.csv"
    path.write_text(first, encoding="utf-8")

    # Into another workspace with the same people and channel (no reps, so no routing): the same file again.
    UserFactory(tenant=other_tenant, username="rita2", email="rita@acme.example", role=Role.MANAGER)
    ChannelFactory(tenant=other_tenant, name="Website")
    out = run_import(path, tenant="globex")
    assert "created 4, updated 0, skipped 0 (already known), rejected 0" in out
    second = export(tenant="globex")

    assert second == first
    ada = Lead.objects.get(tenant=other_tenant, email="ada@example.com")
    assert ada.custom_fields == {"plan": "Pro", "seats": "12", "Title": "x"} and ada.campaign == "=1+1"


def test_filters_and_file_output(tenant, tmp_path):
    rita = UserFactory(tenant=tenant, username="rita")
    LeadFactory(tenant=tenant, email="a@example.com", owner=rita)
    LeadFactory(tenant=tenant, email="b@example.com", status=LeadStatus.CONTACTED, source="referral")
    LeadFactory(tenant=tenant, email="c@example.com", created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

    assert [r["email"] for r in rows(export("--owner", "rita"))] == ["a@example.com"]
    assert [r["email"] for r in rows(export("--status", "contacted"))] == ["b@example.com"]
    assert [r["email"] for r in rows(export("--source", "referral"))] == ["b@example.com"]
    assert [r["email"] for r in rows(export("--created-to", "2020-12-31"))] == ["c@example.com"]
    target = tmp_path / "out.csv"
    out = io.StringIO()
    call_command("export_leads", str(target), "--tenant", "acme", stdout=out)
    assert "Exported 3 leads" in out.getvalue()
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8


def test_export_only_reads_the_tenant_and_explains_mistakes(tenant, other_tenant):
    LeadFactory(tenant=other_tenant, email="theirs@example.com")
    assert rows(export()) == []
    with pytest.raises(CommandError, match="No workspace with slug 'nope'"):
        export(tenant="nope")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        export("--created-from", "yesterday")


@pytest.mark.parametrize("value", [" =1+2", "\t=cmd", "  @SUM(A1)", " -2", "\n+1"])
def test_whitespace_before_a_formula_is_escaped_and_reads_back(value):
    cell = safe_cell(value)

    assert cell == "'" + value
    assert unescape_cell(cell) == value


def test_every_value_reads_back_as_it_was_written():
    for value in [*NASTY, " =1", "'", "' =1", "''", " plain"]:
        assert unescape_cell(safe_cell(value)) == value


def test_the_import_error_report_escapes_rejected_cells(tenant, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text('Email,First Name\n"=HYPERLINK(""http://evil.example"",""x"")",Eve\n" @cmd",Mal\n')

    run_import(path, tenant=tenant.slug)

    job = ImportJob.objects.latest("id")
    report = list(csv.reader(io.StringIO(job.error_report)))
    assert [row[2] for row in report[1:]] == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'@cmd"]
