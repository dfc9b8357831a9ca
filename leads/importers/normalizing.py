"""crm.normalize's rules at import speed: the same checks, with the expensive halves cached.

A million rows cannot afford Django's email validator (about 20 µs, most of it the domain
regex) or a phonenumbers parse (50-80 µs) per row. Domains repeat (company domains, the big
mailbox providers), so the domain half of the email check is cached per domain; phone numbers
and URLs are cached by their raw text, which pays off on repeated values (switchboard numbers,
company websites). tests/leads/importers/test_import_normalizing.py holds these to crm.normalize.
"""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from crm.normalize import normalize_phone

_EMAIL_MESSAGE = "Enter a valid email address."


@lru_cache(maxsize=200_000)
def _domain_ok(domain: str) -> bool:
    return domain in validate_email.domain_allowlist or validate_email.validate_domain_part(domain)


def normalize_email(value: str) -> str:
    """crm.normalize.normalize_email: EmailValidator.__call__'s steps, its domain check cached."""
    email = value.strip().lower()
    if not email:
        return ""
    if "@" not in email or len(email) > 320:
        raise ValidationError(_EMAIL_MESSAGE)
    user_part, domain_part = email.rsplit("@", 1)
    if not validate_email.user_regex.match(user_part) or not _domain_ok(domain_part):
        raise ValidationError(_EMAIL_MESSAGE)
    return email


@lru_cache(maxsize=100_000)
def _phone(raw: str, region: str) -> tuple[str, str]:
    """(E.164, '') or ('', why not)."""
    try:
        return normalize_phone(raw, region), ""
    except ValidationError as exc:
        return "", exc.messages[0]


def normalize_phone_cached(value: str, region: str) -> str:
    """crm.normalize.normalize_phone, cached by the raw text (an E.164 number maps to itself)."""
    raw = value.strip()
    if not raw:
        return ""
    number, problem = _phone(raw, region)
    if problem:
        raise ValidationError(problem)
    return number


_url_validator = URLValidator()


@lru_cache(maxsize=100_000)
def url_ok(value: str) -> bool:
    try:
        _url_validator(value)
    except ValidationError:
        return False
    return True
