"""Row locks of the lead services, taken here so their order is decided once.

A transaction that changes leads takes its locks in this order, and never one from earlier in
the list while it holds one from later:

1. `claim_email`: the (workspace, email) a lead is about to be created for, or an open lead's
   email is about to become. Capture takes it before it looks the email up; editing before it
   locks the lead whose email it changes. (An Idempotency-Key's row, leads/capture/idempotency.py,
   comes before even this: it is a request's first write.)
2. `lock_lead`: the lead row (capture merging a submission, editing, status changes, routing and
   assignment of an existing lead, conversion).
3. `lock_rep`: a user's row as routing gives them a lead. Routing skips a rep whose row is locked
   (SKIP LOCKED) and waits only when every candidate is locked, for one of them.
4. What a conversion attaches or creates (its deal, contact, company), under the lead's lock.

Why the email comes first: a capture that finds no lead for an email routes it (3) and then
inserts the lead, whose open-email unique index makes it wait for any other uncommitted lead
with that email. Without the claim, two captures of one new email (or a capture beside one that
adds a submission to the lead) each held what the other wanted, a rep row and the index entry,
and PostgreSQL killed one as a deadlock (issue 12). With it, the second capture of an email waits
before it holds anything, then finds the first one's lead and adds its submission there.

Rep rows are locked FOR NO KEY UPDATE, which is all routing needs (it only writes
`last_assigned_at`): unlike FOR UPDATE it does not block the foreign-key checks of rows that
point at the rep (a lead they own, an activity they wrote), which PostgreSQL runs at COMMIT.

SQLite has no row or advisory locks: its transactions are IMMEDIATE (crm/settings.py), so writers
queue for the database's write lock at BEGIN and the order above holds trivially; these functions
then cost nothing but the plain read.
"""

from __future__ import annotations

import hashlib

from django.db import connection

from crm.models import User

from .models import Lead

# pg_advisory_xact_lock's single 64-bit key space is shared with every other advisory lock of the
# database (an import's run lock, leads/importers/engine.py); the prefix keeps these apart by hash.
_EMAIL_CLAIM = b"lead-email\0"


def claim_email(*, tenant_id: int, email: str) -> None:
    """Hold (workspace, email) until the transaction ends: one creator or changer of its open lead at a time.

    Call inside transaction.atomic(), before any lock below it in the module's order. An empty
    email claims nothing (phone-only leads have no unique email to race on).
    """
    if not email or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [email_claim_key(tenant_id=tenant_id, email=email)])


def email_claim_key(*, tenant_id: int, email: str) -> int:
    """The claim's advisory lock key: a signed 64-bit hash of the workspace and the (normalised) email."""
    digest = hashlib.blake2b(_EMAIL_CLAIM + f"{tenant_id}\0{email}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_lead(pk: int) -> Lead:
    """The lead, its row locked (not its tenant's: of=self), with its tenant read; raises Lead.DoesNotExist."""
    return _leads_locked().get(pk=pk)


def lock_open_lead(pk: int) -> Lead | None:
    """As lock_lead, for a lead that must still be open: None once it is converted, disqualified or gone."""
    return _leads_locked().open().filter(pk=pk).first()


def _leads_locked():
    return Lead.objects.select_for_update(of=("self",)).select_related("tenant")


def lock_rep(pk: int, *, skip_locked: bool) -> User | None:
    """The user's row, locked for routing; None when `skip_locked` and another routing holds it (or it is gone)."""
    no_key = connection.features.has_select_for_no_key_update
    return User.objects.select_for_update(no_key=no_key, skip_locked=skip_locked).filter(pk=pk).first()
