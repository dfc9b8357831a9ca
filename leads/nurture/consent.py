"""Whether a lead may get nurture email: the one function every sender asks."""

from __future__ import annotations

from leads.models import Lead, NurturePolicy


def may_email(lead: Lead, policy: NurturePolicy | None = None) -> bool:
    """True when the lead has an email, did not unsubscribe and, where the workspace requires marketing
    consent, gave it.

    Marketing consent itself is the privacy work's (issue 17); until its field exists a workspace that
    requires consent emails nobody. Wire the consent field in here, and only here.
    """
    if not lead.email or lead.unsubscribed_at is not None:
        return False
    if policy is not None and policy.requires_marketing_consent:
        return bool(getattr(lead, "marketing_consent", False))
    return True
