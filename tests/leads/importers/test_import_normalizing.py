"""The importer's cached normalisers give exactly crm.normalize's answers."""

import pytest
from django.core.exceptions import ValidationError

from crm.normalize import normalize_email, normalize_phone
from leads.importers.normalizing import normalize_email as cached_email
from leads.importers.normalizing import normalize_phone_cached

EMAILS = [
    "Ada@Example.com", " bob@example.co.uk ", "x@localhost", "a@[127.0.0.1]", "a@[999.1.1.1]", "no-at-sign",
    "two@@example.com", "a b@example.com", "émile@exämple.de", "a@example", "a@-bad-.com", "a@example..com",
    '"quoted name"@example.com', "x" * 330 + "@example.com", "a@" + "b" * 64 + ".com", "@example.com", "a@",
    "dots..in@example.com", "ok+tag@sub.example.org",
]
PHONES = ["+1 415 555 0100", "(415) 555-0100", "+49 30 1234567", "12", "+44 020 7946 0018", "not a phone",
          "+999 123", "415.555.0100 ext 12", "0049301234567", "+39 06 1234 5678"]


def outcome(function, value, *args):
    try:
        return function(value, *args)
    except ValidationError as exc:
        return ("error", exc.messages[0])


@pytest.mark.parametrize("value", EMAILS)
def test_email(value):
    expected = outcome(normalize_email, value)
    assert outcome(cached_email, value) == (expected if not isinstance(expected, tuple) else ("error", expected[1]))
    assert outcome(cached_email, value) == expected  # and again, from the cache


@pytest.mark.parametrize("value", PHONES)
def test_phone(value):
    expected = outcome(normalize_phone, value, "US")
    assert outcome(normalize_phone_cached, value, "US") == expected
    assert outcome(normalize_phone_cached, value, "US") == expected
