"""What two spellings of one header, or of one word, have in common."""

from __future__ import annotations

import re


def fold(header: str) -> str:
    """'E-mail Address' -> 'emailaddress': case, spaces and punctuation ignored ('&' reads as 'and')."""
    return re.sub(r"[^0-9a-z]+", "", header.lower().replace("&", "and"))
