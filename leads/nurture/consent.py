"""Whether a lead may get nurture email: the one function every sender asks."""

from __future__ import annotations

from crm.choices import ConsentStatus
from leads.models import Lead, NurturePolicy
from leads.privacy.consent import may_market


def may_email(lead: Lead, policy: NurturePolicy | None = None) -> bool:
    """True when the lead has an email that has not bounced, did not unsubscribe, did not withdraw marketing
    consent and, where the workspace requires consent, gave it (docs/privacy.md)."""
    if not lead.email or lead.unsubscribed_at is not None or lead.email_bounced_at is not None:
        return False
    if lead.marketing_consent == ConsentStatus.WITHDRAWN:
        return False
    if policy is not None and policy.requires_marketing_consent:
        return may_market(lead)
    return True
