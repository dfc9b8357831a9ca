"""How people's details are stored, so the same person always looks the same to a lookup."""

import re
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Mailbox providers: their domain says nothing about the company a person works for.
FREE_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "hotmail.com", "outlook.com",
        "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mail.com", "gmx.com", "gmx.de",
        "web.de", "proton.me", "protonmail.com", "yandex.ru", "mail.ru", "zoho.com", "fastmail.com",
    }
)


def normalize_email(value: str | None) -> str:
    """Trimmed, lowercased and validated; '' for no email. Raises ValidationError when malformed."""
    email = (value or "").strip().lower()
    if not email:
        return ""
    validate_email(email)
    return email


def normalize_phone(value: str | None, region: str | None = None) -> str:
    """E.164 ('+14155550100'); '' for no phone. Raises ValidationError when not a possible number."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"Enter a valid phone number ({exc}).") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError("Enter a valid phone number, with its country code if it is not local.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def split_name(name: str | None) -> tuple[str, str]:
    """'Ada King Lovelace' -> ('Ada King', 'Lovelace'); 'Lovelace, Ada' -> ('Ada', 'Lovelace')."""
    text = re.sub(r"\s+", " ", (name or "").strip())
    if not text:
        return "", ""
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    first, _, last = text.rpartition(" ")
    if not first:
        return last, ""
    return first, last


def domain_from_url(value: str | None) -> str:
    """'https://www.Acme.com/about' -> 'acme.com'; '' when there is no host."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    if "://" not in text:
        text = "http://" + text
    host = urlsplit(text).hostname or ""
    return host.removeprefix("www.")


def company_domain_from_email(email: str) -> str:
    """The email's domain when it belongs to a company, '' for free mailbox providers."""
    domain = email.rpartition("@")[2].lower()
    return "" if domain in FREE_EMAIL_DOMAINS else domain
