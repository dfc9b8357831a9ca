"""Done when (issue 17): after privacy_erase a full dump of the database names the person zero times."""

import pytest
from django.core.management import call_command

from contacts.models import Contact, Deal
from crm.models import Activity, Event, PrivacyRequest, Suppression
from leads.models import IdempotencyRecord, ImportJob, Lead
from tests.privacy.support import EMAIL, NAME, database_dump, mentions, place_person_everywhere


@pytest.mark.django_db(transaction=True)
def test_after_erasure_a_full_dump_names_the_person_zero_times(tenant, channel, manager, anon_api, tmp_path):
    lead = place_person_everywhere(tenant=tenant, channel=channel, manager=manager, anon_api=anon_api,
                                   tmp_path=tmp_path)
    _, before = database_dump()
    assert all(mentions(before).values()), mentions(before)
    assert IdempotencyRecord.objects.exists() and ImportJob.objects.get().error_report.count(NAME)
    figures = (Lead.objects.count(), Contact.objects.count(), Deal.objects.count(), Activity.objects.count())

    call_command("privacy_erase", "--tenant", tenant.slug, "--email", EMAIL, "--yes")

    how, after = database_dump()
    assert mentions(after) == dict.fromkeys(mentions(after), 0), f"{how}: {mentions(after)}"
    # The figures stay: same rows (one erasure entry more per lead and contact), same statuses and amounts.
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.company == "Northwind Traders" and lead.converted_deal_id
    assert (Lead.objects.count(), Contact.objects.count(), Deal.objects.count()) == figures[:3]
    assert Activity.objects.count() == figures[3] + 2
    request = PrivacyRequest.objects.get(kind="erase")
    assert request.counts["leads"] == 1 and EMAIL not in str(request.counts)
    assert Suppression.objects.filter(tenant=tenant).count() == 1
    assert Event.objects.filter(type="PersonErased").exists()


@pytest.mark.django_db(transaction=True)
def test_a_name_with_accents_is_erased_from_json_columns_too(tenant, manager):
    # SQLite keeps JSON text with non-ASCII letters escaped ("Zo\u00eb"): the scrub must find those rows too.
    import json

    from tests.factories import LeadFactory

    person = LeadFactory(tenant=tenant, first_name="Zoë", last_name="Müllerová", email="zoe.m@example.org")
    LeadFactory(tenant=tenant, email="colleague@example.org", custom_fields={"referred_by": "Zoë Müllerová"})
    escaped = json.dumps("Zoë Müllerová")[1:-1]
    _, before = database_dump()
    assert "Zoë Müllerová" in before or escaped in before

    call_command("privacy_erase", "--tenant", tenant.slug, "--email", person.email, "--yes")

    how, after = database_dump()
    for text in ("Zoë Müllerová", escaped, "Müllerová", json.dumps("Müllerová")[1:-1], "zoe.m@example.org"):
        assert text.lower() not in after.lower(), f"{how}: {text!r} is still in the dump"
