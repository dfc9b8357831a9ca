"""Saved mappings: saved once, reused by the command (--mapping) with what is given on top winning."""

import pytest
from django.core.management import CommandError

from leads.importers.headers import MappingError
from leads.importers.mappings import save_mapping
from leads.models import ImportMapping, Lead
from tests.leads.importers.support import run_import, write_csv

pytestmark = pytest.mark.django_db

FILE = "Mail,Stage,Origin\na@example.com,Hot prospect,Booth\nb@example.com,Dead,Booth\n"


def test_a_saved_mapping_is_applied_by_name(tenant, tmp_path):
    save_mapping(tenant=tenant, name="Old CRM", columns={"Mail": "email", "Stage": "status", "Origin": "source"},
                 values={"status": {"Hot prospect": "qualified", "Dead": "disqualified"},
                         "source": {"Booth": "scanner"}})

    run_import(write_csv(tmp_path, FILE), "--mapping", "Old CRM")

    a, b = Lead.objects.get(email="a@example.com"), Lead.objects.get(email="b@example.com")
    assert (a.status, a.source, b.status) == ("qualified", "scanner", "disqualified")


def test_what_is_given_on_the_command_wins_over_the_saved_mapping(tenant, tmp_path):
    save_mapping(tenant=tenant, name="Old CRM", columns={"Mail": "email", "Stage": "status"},
                 values={"status": {"Hot prospect": "qualified"}})

    run_import(write_csv(tmp_path, FILE), "--mapping", "Old CRM", "--map-value", "status:Hot prospect=contacted")

    assert Lead.objects.get(email="a@example.com").status == "contacted"


def test_saving_under_a_name_replaces_and_bad_mappings_are_refused(tenant, other_tenant):
    save_mapping(tenant=tenant, name="X", columns={"Mail": "email"}, values={})
    save_mapping(tenant=tenant, name="X", columns={"Mail": "phone"}, values={})
    assert ImportMapping.objects.get(tenant=tenant, name="X").columns == {"Mail": "phone"}
    with pytest.raises(MappingError, match="'mail_address' is not a lead field"):
        save_mapping(tenant=tenant, name="Y", columns={"Mail": "mail_address"}, values={})
    with pytest.raises(MappingError, match="status takes one of new, contacted"):
        save_mapping(tenant=tenant, name="Y", columns={}, values={"status": {"Hot": "warm"}})


def test_an_unknown_saved_mapping_profile_or_value_map_is_explained(tenant, other_tenant, tmp_path):
    save_mapping(tenant=other_tenant, name="Theirs", columns={"Mail": "email"}, values={})
    path = write_csv(tmp_path, FILE)
    with pytest.raises(CommandError, match="No saved mapping 'Theirs' in acme; its mappings: none yet"):
        run_import(path, "--mapping", "Theirs")
    with pytest.raises(CommandError, match='Write a value mapping as "field:Their word=our value"'):
        run_import(path, "--map", "Mail=email", "--map-value", "Hot prospect=qualified")


def test_a_profile_can_be_named_when_the_header_does_not_say(tenant, tmp_path):
    text = "First Name,Last Name,Email,Lead Status,Rating\nAda,Lovelace,ada@example.com,Working - Contacted,Hot\n"

    out = run_import(write_csv(tmp_path, text), "--profile", "salesforce")

    assert "Recognised as a Salesforce" in out
    lead = Lead.objects.get()
    assert (lead.status, lead.priority, lead.custom_fields) == ("contacted", "high",
                                                                {"Lead Status": "Working - Contacted"})


def test_a_phone_that_cannot_be_dialled_says_so_in_plain_words(tenant, tmp_path):
    errors = tmp_path / "e.csv"
    run_import(write_csv(tmp_path, "Name,Phone,Email\nAda,not a number,\nBob,also not,bob@example.com\n"),
               "--errors", str(errors))
    report = errors.read_text()
    assert "the person cannot be reached" in report and "string supplied" not in report.lower()
    assert Lead.objects.get().custom_fields == {"Phone": "also not"}
