"""Dates as exports write them, each column read in one order settled by its own values.

`11/23/2025` can only be month/day, `23/11/2025` only day/month; `03/04/2025` could be either.
Before the run, a sample of each date column is looked at: the first value that only one order
reads settles the column; when none does, the export's profile (or month/day, the big CRMs'
US default) decides, and the plan says so, so the person importing can change it
(`--date-order dmy`, or the admin's choice). ISO dates (2025-11-23, with or without a time and
offset) are read as they are, whatever the column's order.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

ORDERS = {"mdy": "month/day/year (US)", "dmy": "day/month/year"}
SAMPLE_ROWS = 2000

_NUMERIC = re.compile(
    r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?)?\s*(z|utc|gmt|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
_WORDY = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y %I:%M %p", "%B %d, %Y %I:%M %p",
          "%d %b %Y %H:%M", "%Y-%m-%d %I:%M %p", "%a %b %d %H:%M:%S %Y", "%d-%b-%Y", "%d-%b-%y")


def _iso(text: str) -> dt.datetime | None:
    candidate = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if re.match(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}", candidate):
        try:
            return dt.datetime.fromisoformat(re.sub(r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"\1-\2-\3", candidate)
                                             .replace(" UTC", "+00:00"))
        except ValueError:
            parts = re.match(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", candidate)
            if parts and len(candidate) == parts.end():
                try:
                    return dt.datetime(int(parts[1]), int(parts[2]), int(parts[3]))
                except ValueError:
                    return None
    return None


def possible_orders(text: str) -> set[str] | None:
    """Which orders read this value ({'mdy'}, {'dmy'}, both); None when it is no numeric d/m date."""
    match = _NUMERIC.fullmatch(text.strip())
    if not match:
        return None
    first, second = int(match[1]), int(match[2])
    orders = set()
    if 1 <= first <= 12 and 1 <= second <= 31:
        orders.add("mdy")
    if 1 <= second <= 12 and 1 <= first <= 31:
        orders.add("dmy")
    return orders


def settle(values: list[str], default: str) -> tuple[str, bool, bool]:
    """(order, settled by the values, the values disagree) for one column's sample."""
    seen: set[str] = set()
    for value in values:
        orders = possible_orders(value)
        if orders and len(orders) == 1:
            seen |= orders
    if len(seen) == 1:
        return seen.pop(), True, False
    return default, False, len(seen) > 1


_ISO_START = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@lru_cache(maxsize=20_000)  # date-only columns repeat a few thousand values over a million rows
def parse(text: str, order: str) -> dt.datetime | None:
    """A naive or aware datetime, or None when the text is no date we can read."""
    text = text.strip()
    if _ISO_START.match(text) and not ("Z" in text or "z" in text or "/" in text or "UTC" in text):
        # The common case, read as _iso reads it (none of its rewrites applies to this text), without them.
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass
    moment = _iso(text)
    if moment is not None:
        return moment
    match = _NUMERIC.fullmatch(text)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        month, day = (first, second) if order == "mdy" else (second, first)
        if year < 100:
            year += 2000 if year < 70 else 1900
        hour, minute, second_ = int(match[4] or 0), int(match[5] or 0), int(match[6] or 0)
        meridiem = (match[7] or "").lower().replace(".", "")
        if meridiem == "pm" and hour < 12:
            hour += 12
        elif meridiem == "am" and hour == 12:
            hour = 0
        try:
            moment = dt.datetime(year, month, day, hour, minute, second_)
        except ValueError:
            return None
        zone = (match[8] or "").lower()
        if zone in ("z", "utc", "gmt"):
            moment = moment.replace(tzinfo=dt.UTC)
        elif zone:
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            moment = moment.replace(tzinfo=dt.timezone(sign * offset))
        return moment
    for pattern in _WORDY:
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None
