"""A person present in every place the workspace can hold them, and full dumps of the database."""

from __future__ import annotations

import os
import shutil
import subprocess

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from crm.models import Activity
from crm.webhook_models import WebhookDelivery, WebhookEndpoint
from leads.conversion import convert_lead
from leads.importers.engine import ImportOptions, import_leads
from leads.models import Lead
from tests.factories import LeadFactory

EMAIL = "zebulon.quartermaine@example.org"
PHONE = "+14155550199"
FIRST, LAST = "Zebulon", "Quartermaine"
NAME = f"{FIRST} {LAST}"
NEEDLES = (EMAIL, PHONE, PHONE.lstrip("+"), NAME, FIRST, LAST)


def place_person_everywhere(*, tenant, channel, manager, anon_api, tmp_path) -> Lead:
    """The person as a form capture (with an Idempotency-Key), its events, a webhook delivery, a converted
    contact with company and deal, notes, an import error report, the admin's history and another lead's text."""
    response = anon_api.post("/api/v1/leads", {
        "email": EMAIL, "first_name": FIRST, "last_name": LAST, "phone": PHONE, "company": "Northwind Traders",
        "message": f"Please call {NAME} on {PHONE}", "job_title": "Chief Cartographer",
    }, format="json", HTTP_X_FORM_KEY=channel.form_key, HTTP_IDEMPOTENCY_KEY="zq-1")
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(email=EMAIL)
    Activity.objects.create(tenant=tenant, lead=lead, kind="note", body=f"Spoke to {FIRST}; mobile {PHONE}")
    result = convert_lead(lead=lead, actor=manager, deal_name=f"{NAME} renewal")
    Activity.objects.create(tenant=tenant, contact_id=result.contact_id, kind="call", subject=f"Call {NAME}")
    LeadFactory(tenant=tenant, email="colleague@example.org", message=f"Referred by {EMAIL}")
    endpoint = WebhookEndpoint.objects.create(tenant=tenant, url="https://hooks.example.com/x", secret="whsec_x",
                                              active=False)
    from crm.models import Event
    WebhookDelivery.objects.create(tenant=tenant, endpoint=endpoint, event=Event.objects.filter(tenant=tenant).first(),
                                   error=f"400 Bad Request: duplicate contact {EMAIL}")
    csv_path = tmp_path / "old-list.csv"
    # Rejected (issue 18 rejects a row only for an invalid email or no way to reach the person), and the
    # report keeps the rejected cell: here it holds the person's name and email.
    csv_path.write_text(f"Email,First name,Last name,Phone\n{NAME} <{EMAIL},{FIRST},{LAST},{PHONE}\n")
    import_leads(tenant=tenant, path=csv_path, options=ImportOptions(), actor=manager)
    LogEntry.objects.create(
        user=manager, content_type=ContentType.objects.get_for_model(Lead), object_id=str(lead.pk),
        object_repr=str(lead), action_flag=CHANGE, change_message=f"Changed phone to {PHONE}",
    )
    lead.refresh_from_db()
    return lead


def database_dump() -> tuple[str, str]:
    """(how, the whole database as text): pg_dump on PostgreSQL, SQLite's .dump (iterdump) on SQLite."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return "sqlite iterdump", "\n".join(connection.connection.iterdump())
    settings = connection.settings_dict
    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    args = [pg_dump, "--no-owner", "-h", settings.get("HOST") or "127.0.0.1", "-p", str(settings.get("PORT") or 5432),
            "-U", settings.get("USER") or "postgres", settings["NAME"]]
    return "pg_dump", subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


def mentions(dump: str) -> dict[str, int]:
    lowered = dump.lower()
    return {needle: lowered.count(needle.lower()) for needle in NEEDLES}
