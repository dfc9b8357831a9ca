"""Soft fields read the way people write them: country names, employee ranges, amounts with units.

Each reader returns None when it cannot make sense of the text; the row parser then keeps the text
in custom_fields with a warning (a soft field never rejects a row).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import cast

import pycountry

MAX_EMPLOYEES = 2_147_483_647  # PositiveIntegerField
MAX_REVENUE = Decimal("1e14")  # 16 digits, 2 after the point

# Names exports use that the ISO list does not hold under that spelling.
COUNTRY_ALIASES = {
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "usa": "US", "u.s.": "US", "u.s.a.": "US", "us": "US",
    "america": "US", "united states of america": "US", "the united states": "US", "holland": "NL",
    "the netherlands": "NL", "south korea": "KR", "korea": "KR", "republic of korea": "KR", "north korea": "KP",
    "russia": "RU", "czech republic": "CZ", "vietnam": "VN", "iran": "IR", "syria": "SY", "laos": "LA",
    "taiwan": "TW", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "moldova": "MD", "uae": "AE",
    "turkey": "TR", "ivory coast": "CI", "macedonia": "MK", "brasil": "BR", "méxico": "MX", "deutschland": "DE",
    "españa": "ES", "espana": "ES", "italia": "IT", "schweiz": "CH", "suisse": "CH", "österreich": "AT",
    "sverige": "SE", "norge": "NO", "danmark": "DK", "suomi": "FI", "polska": "PL", "nederland": "NL",
    "belgië": "BE", "belgique": "BE", "éire": "IE", "hong kong sar": "HK", "mainland china": "CN", "prc": "CN",
}


@cache
def _names_from_phone_metadata() -> dict[str, str]:
    """Country names in many languages (phonenumbers' geocoding data, already a dependency)."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    names: dict[str, str] = {}
    for code, by_language in LOCALE_DATA.items():
        if len(code) != 2 or not code.isalpha():
            continue
        for name in by_language.values():
            if name and not name.startswith("*"):
                names.setdefault(name.lower(), code)
    return names


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """'United Kingdom', 'UK', 'deu', 'Deutschland', 'gb' -> an ISO 3166 alpha-2 code; None when unknown."""
    key = " ".join(text.strip().lower().split())
    if not key:
        return ""
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    if len(key) == 2 and key.isalpha():
        return key.upper() if pycountry.countries.get(alpha_2=key.upper()) else None
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        pass
    return _names_from_phone_metadata().get(key) or _names_from_phone_metadata().get(key.removeprefix("the "))


_NUMBER = r"(\d[\d,. ]*)\s*([kmb]|mm|mn|bn|million|billion|thousand)?"
_UNITS = {"k": 10**3, "thousand": 10**3, "m": 10**6, "mm": 10**6, "mn": 10**6, "million": 10**6,
          "b": 10**9, "bn": 10**9, "billion": 10**9}


def _plain_number(text: str) -> Decimal | None:
    """'1,200,000' / '1.200.000,50' / '1200.5' / '1 200' -> Decimal; None when it is not one number."""
    text = text.replace(" ", "").replace("\u00a0", "")
    if not text or not re.fullmatch(r"[\d.,]+", text):
        return None
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        text = text.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in text:
        text = text.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", text) else text.replace(",", ".")
    elif text.count(".") > 1:
        if not re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
            return None
        text = text.replace(".", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _quantity(text: str) -> Decimal | None:
    match = re.fullmatch(_NUMBER, text.strip().lower())
    if not match:
        return None
    number = _plain_number(match.group(1).strip())
    if number is None:
        return None
    return number * _UNITS[match.group(2)] if match.group(2) else number


def _low_end(text: str) -> tuple[Decimal, bool] | None:
    """A number, or a range's lower end ('11-50', '1,000+', '5k to 10k', 'more than 500'): (value, was a range)."""
    cleaned = text.strip().lower()
    cleaned = re.sub(r"^(more than|over|at least|>=?|<=?|less than|under|up to)\s*", "", cleaned)
    cleaned = cleaned.removesuffix("employees").strip()
    parts = re.split(r"\s*(?:-|–|—|to)\s*(?=[\d$€£])", cleaned)
    if len(parts) == 2 and parts[1]:
        low, high = _quantity(parts[0].strip("+ ")), _quantity(parts[1].strip("+ "))
        return (low, True) if low is not None and high is not None else None
    plus = cleaned.endswith("+")
    value = _quantity(cleaned.rstrip("+ "))
    if value is None:
        return None
    return value, plus or cleaned != text.strip().lower()


@lru_cache(maxsize=20_000)  # headcounts and amounts repeat (ranges above all): a million rows read them once
def employees(text: str) -> tuple[int, bool] | None:
    """'250' -> (250, False); '11-50' -> (11, True); '1,000+' -> (1000, True); None when not a headcount."""
    found = _low_end(text)
    if found is None:
        return None
    value, ranged = found
    if value != value.to_integral_value() or not 0 <= value <= MAX_EMPLOYEES:
        return None
    return int(value), ranged


# An amount as most exports write it ('1250000', '1250000.5', '1250000.50'): read as the full path reads it.
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,14}(?:\.[0-9]{1,2})?")


@lru_cache(maxsize=20_000)
def revenue(text: str) -> tuple[Decimal, bool] | None:
    """'$1.2M' -> 1200000; '1,200,000' -> 1200000; '€50M-100M' -> (50000000, range); None when not an amount."""
    if _PLAIN_AMOUNT.fullmatch(text):  # amounts are mostly unique: the cache rarely answers, so this path does
        amount = Decimal(text)
        return (amount, False) if amount < MAX_REVENUE else None
    cleaned = re.sub(r"(?i)\b(usd|eur|gbp|chf|cad|aud)\b|[$€£¥]", "", text).strip()
    found = _low_end(cleaned)
    if found is None:
        return None
    amount, ranged = found
    if not amount.is_finite() or amount < 0 or amount >= MAX_REVENUE:
        return None
    if cast(int, amount.as_tuple().exponent) < -2:
        amount = amount.normalize()  # '1.2M' is 1200000.0: fine; '1.234' (3 decimals, or a European thousand?) is not
    if cast(int, amount.as_tuple().exponent) < -2:
        return None
    return amount, ranged
