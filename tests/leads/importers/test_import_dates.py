"""Dates in an import are read the same whichever way the reader gets there: the quick path for plain
ISO dates (most exports) and the cache give each text the moment the full reading gives it."""

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leads.importers import dates

WRITTEN = [
    "2025-11-23", "2025-11-23 14:05", "2025-11-23T14:05:09", "2025-11-23T14:05:09.123456", "2025-11-23 14:05+02:00",
    "2025-11-23T14:05:09Z", "2025-11-23T14:05:09z", "2025-11-23 14:05 UTC", "2025/11/23", "2025/11/23 14:05",
    "2025-1-3", "2025-1-3 9:05", "2025-02-30", "2025-13-01", "2025-11-23 25:00", "2025-11-23 garbage",
    "2025-W01-1", "20251123", " 2025-11-23 ", "2025-11-23T14:05:09+0530", "2025-11-23 02:05 PM",
    "11/23/2025", "23/11/2025", "03/04/2025", "03.04.25 14:05", "11/23/2025 2:05 pm", "11/23/2025 14:05 +01:00",
    "Nov 23, 2025", "23 November 2025", "23-Nov-25", "Sun Nov 23 14:05:09 2025", "tomorrow", "", "2025",
    "٢٠٢٥-١١-٢٣",
]


def full_reading(text: str, order: str):
    """dates.parse without its quick path and cache: the reading the import had before them."""
    quick = dates._ISO_START
    dates._ISO_START = re.compile(r"(?!)")
    try:
        return dates.parse.__wrapped__(text, order)
    finally:
        dates._ISO_START = quick


@pytest.mark.parametrize("order", ["mdy", "dmy"])
@pytest.mark.parametrize("text", WRITTEN)
def test_every_way_of_writing_a_date_reads_as_the_full_reading_does(text, order):
    assert dates.parse(text, order) == full_reading(text, order)
    assert dates.parse(text, order) == full_reading(text, order)  # from the cache now


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%-m-%-d",
                     "%Y-%m-%dT%H:%MZ", "%Y-%m-%d %H:%M UTC", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M+01:00"]),
    st.sampled_from(["", " ", "x", ":99"]),
)
def test_generated_iso_dates_read_as_the_full_reading_does(moment, pattern, tail):
    text = moment.strftime(pattern) + tail
    assert dates.parse(text, "mdy") == full_reading(text, "mdy")


def test_a_plain_iso_date_is_the_moment_it_names():
    assert dates.parse("2025-11-23 14:05", "dmy") == dt.datetime(2025, 11, 23, 14, 5)
    assert dates.parse("2025-11-23T14:05:09Z", "mdy") == dt.datetime(2025, 11, 23, 14, 5, 9, tzinfo=dt.UTC)
