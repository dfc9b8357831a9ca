"""A nurture email: merge fields filled, links tracked, unsubscribe link and RFC 8058 headers."""

from __future__ import annotations

import re
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape

from leads.models import Lead, NurturePolicy, SequenceStep
from leads.nurture_models import MERGE_FIELDS, render_template

from . import links

METADATA_RUN, METADATA_LEAD = "nurture_run", "nurture_lead"
URL = re.compile(r"https?://[^\s<>\"')]+")


def merge_context(lead: Lead) -> dict:
    """Only the listed fields of the lead, its owner and the workspace: a template reads nothing else."""
    owner = lead.owner

    def pick(row, names) -> dict:
        if row is None:
            return {name: "" for name in names}
        values = {name: getattr(row, name, "") for name in names if name != "full_name"}
        if "full_name" in names:
            values["full_name"] = (row.get_full_name() if hasattr(row, "get_full_name") else row.full_name) or ""
        return {k: "" if v is None else v for k, v in values.items()}

    return {
        "lead": pick(lead, MERGE_FIELDS["lead"]),
        "owner": pick(owner, MERGE_FIELDS["owner"]),
        "workspace": {"name": lead.tenant.name},
    }


def sender(lead: Lead, policy: NurturePolicy) -> str:
    address = policy.sender_email or settings.DEFAULT_FROM_EMAIL
    return formataddr((policy.sender_name or lead.tenant.name, address))


def build_email(*, lead: Lead, step: SequenceStep, policy: NurturePolicy, run_id: int) -> EmailMultiAlternatives:
    """The email of an email step for this lead (run_id: the step run its open and click links report)."""
    context = merge_context(lead)
    subject = " ".join(render_template(step.settings["subject"], context).split())[:200]
    body = render_template(step.settings["body"], context)
    lead_id = str(lead.public_id)
    unsubscribe = links.unsubscribe_url(lead_id)
    text = f"{body}\n\n--\nUnsubscribe: {unsubscribe}\n"

    def tracked(match: re.Match) -> str:
        return links.click_url(lead_id, run_id, match.group(0))

    html_body = URL.sub(lambda m: f'<a href="{escape(tracked(m))}">{escape(m.group(0))}</a>', escape(body))
    html = (
        f"<div>{html_body.replace(chr(10), '<br>')}</div>"
        f'<p style="font-size:small"><a href="{escape(unsubscribe)}">Unsubscribe</a></p>'
        f'<img src="{escape(links.open_url(lead_id, run_id))}" width="1" height="1" alt="">'
    )
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=sender(lead, policy), to=[lead.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    # Read back by django-anymail's tracking webhooks (a bounce names the run and the lead: leads/tracking/bounces.py);
    # other backends ignore them. Short values: some providers cap metadata at 80 characters.
    message.metadata = {METADATA_RUN: str(run_id), METADATA_LEAD: lead_id}  # type: ignore[attr-defined]
    message.tags = ["nurture"]  # type: ignore[attr-defined]
    return message
