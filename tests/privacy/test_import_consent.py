"""Imports carry marketing consent: a consent column, or another CRM's opt-out column read the other way round,
becomes the lead's consent with source "import" and its date (docs/privacy.md, "Marketing consent")."""

import datetime as dt

import pytest
from django.utils import timezone

from leads.models import Lead
from leads.privacy.consent import may_market
from tests.leads.importers.support import run_import, write_csv

pytestmark = pytest.mark.django_db


def consent_of(email):
    lead = Lead.objects.get(email=email)
    return lead.marketing_consent, lead.consent_source


def test_a_consent_column_gives_or_withdraws_consent_with_source_import(tenant, tmp_path):
    before = timezone.now()
    path = write_csv(tmp_path, "Email,Marketing consent\n"
                               "yes@example.com,Yes\nno@example.com,no\nblank@example.com,\n"
                               "opted@example.com,Opted in\n")

    run_import(path)

    assert consent_of("yes@example.com") == ("given", "import")
    assert consent_of("no@example.com") == ("withdrawn", "import")
    assert consent_of("blank@example.com") == ("", "")  # never asked
    assert consent_of("opted@example.com") == ("given", "import")
    lead = Lead.objects.get(email="yes@example.com")
    assert lead.consent_at >= before
    assert may_market(lead) and not may_market(Lead.objects.get(email="no@example.com"))
    assert "Marketing consent" not in lead.custom_fields  # read, not kept as a custom field


@pytest.mark.parametrize("header", ["HasOptedOutOfEmail", "Email Opt Out", "Unsubscribed from all email"])
def test_an_opt_out_column_is_read_the_other_way_round(tenant, tmp_path, header):
    path = write_csv(tmp_path, f"Email,{header}\nout@example.com,true\nin@example.com,false\nsf@example.com,1\n")

    run_import(path)

    assert consent_of("out@example.com") == ("withdrawn", "import")
    assert consent_of("in@example.com") == ("given", "import")
    assert consent_of("sf@example.com") == ("withdrawn", "import")


def test_salesforce_export_with_opt_out_and_a_consent_date(tenant, tmp_path):
    path = write_csv(tmp_path, "Lead ID,First Name,Last Name,Email,Lead Status,Created Date,Email Opt Out,Consent Date\n"
                               "00Q1,Ada,Lovelace,ada@example.com,Open - Not Contacted,03/04/2024,0,03/05/2024\n"
                               "00Q2,Bob,Smith,bob@example.com,Open - Not Contacted,03/04/2024,1,\n")

    out = run_import(path)

    assert "Salesforce" in out
    ada = Lead.objects.get(email="ada@example.com")
    assert (ada.marketing_consent, ada.consent_source) == ("given", "import")
    assert timezone.localtime(ada.consent_at).date() == dt.date(2024, 3, 5)
    assert consent_of("bob@example.com") == ("withdrawn", "import")


def test_a_no_in_either_column_wins(tenant, tmp_path):
    path = write_csv(tmp_path, "Email,Email opt-in,Unsubscribed\nboth@example.com,yes,true\n")

    run_import(path)

    assert consent_of("both@example.com") == ("withdrawn", "import")


def test_an_unknown_consent_word_is_a_warning_and_leaves_consent_unknown(tenant, tmp_path):
    path = write_csv(tmp_path, "Email,Marketing consent\nmaybe@example.com,perhaps later\n")

    out = run_import(path)

    lead = Lead.objects.get(email="maybe@example.com")
    assert lead.marketing_consent == "" and not may_market(lead)
    assert lead.custom_fields["Marketing consent"] == "perhaps later"
    assert "Not a consent answer we know" in out


def test_an_explicit_mapping_can_point_a_column_at_consent(tenant, tmp_path):
    path = write_csv(tmp_path, "Email,Newsletter?\nnews@example.com,Subscribed\n")

    run_import(path, "--map", "Newsletter?=marketing_consent")

    assert consent_of("news@example.com") == ("given", "import")


def test_an_update_import_carries_an_opt_out_to_a_lead_we_already_have_but_never_revives_consent(tenant, tmp_path):
    from tests.factories import LeadFactory

    LeadFactory(tenant=tenant, email="out@example.com", marketing_consent="given", consent_source="form")
    LeadFactory(tenant=tenant, email="asked@example.com", marketing_consent="")
    LeadFactory(tenant=tenant, email="gone@example.com", marketing_consent="withdrawn", consent_source="unsubscribe")
    path = write_csv(tmp_path, "Email,Email Opt Out\nout@example.com,true\nasked@example.com,false\n"
                               "gone@example.com,false\n")

    run_import(path, "--on-duplicate", "update")

    assert consent_of("out@example.com") == ("withdrawn", "import")  # the old CRM's opt-out comes along
    assert consent_of("asked@example.com") == ("given", "import")  # never asked here: the file's answer
    assert consent_of("gone@example.com") == ("withdrawn", "unsubscribe")  # a file never undoes a withdrawal
    assert not may_market(Lead.objects.get(email="out@example.com"))


def test_a_converted_rows_contact_keeps_the_rows_consent(tenant, tmp_path):
    from contacts.models import Contact

    path = write_csv(tmp_path, "Email,Status,Marketing consent\nwon@example.com,Converted,yes\n"
                               "lost@example.com,Converted,no\n")

    run_import(path)

    assert Contact.objects.get(email="won@example.com").marketing_consent == "given"
    assert Contact.objects.get(email="lost@example.com").marketing_consent == "withdrawn"
