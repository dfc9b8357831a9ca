"""Annual revenue in an import is read the same whichever way the reader gets there: plain amounts
(most exports) take a quick path that must give what the full reading gives (a range's low end,
units, currency signs and thousands separators stay with the full reading)."""

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leads.importers import soft

WRITTEN = ["1250000", "1250000.5", "1250000.50", "0", "007", "0.01", "99999999999999.99", "100000000000000",
           "999999999999999", "1250000.505", "1,250,000", "1.250.000,50", "$1.2M", "€50M-100M", "1 200", "12e5",
           "-5", "1250000.", ".5", "١٢٣", "abc", ""]


def full_reading(text: str):
    """soft.revenue without its quick path and cache: the reading the import had before them."""
    quick = soft._PLAIN_AMOUNT
    soft._PLAIN_AMOUNT = re.compile(r"(?!)")
    try:
        return soft.revenue.__wrapped__(text)
    finally:
        soft._PLAIN_AMOUNT = quick


def same(a, b) -> bool:
    """Equal, and written alike (Decimal('1.50') is not Decimal('1.5') on the lead's page)."""
    return a == b and (a is None or (str(a[0]) == str(b[0]) and a[1] == b[1]))


@pytest.mark.parametrize("text", WRITTEN)
def test_every_way_of_writing_an_amount_reads_as_the_full_reading_does(text):
    assert same(soft.revenue(text), full_reading(text))


@settings(max_examples=400, deadline=None)
@given(st.decimals(min_value=0, max_value=Decimal("2e14"), places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from(["{}", "{:f}", "{:.0f}", "{:.1f}", "{:.3f}", "0{}"]))
def test_generated_amounts_read_as_the_full_reading_does(amount, pattern):
    text = pattern.format(amount)
    assert same(soft.revenue(text), full_reading(text))


def test_a_plain_amount_is_the_amount_it_names():
    assert soft.revenue("1250000.50") == (Decimal("1250000.50"), False)
    assert soft.revenue("100000000000000") is None  # over what the field holds
