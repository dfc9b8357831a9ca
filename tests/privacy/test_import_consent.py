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
