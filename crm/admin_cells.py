"""List cells that keep a list within a laptop's width: a record's name (the link) over a quiet line of what
else identifies it, instead of a column each; a person's name; how long ago. Styles in static/crm/admin.css."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString


def two_lines(url: str, name: str, *details: str | None) -> SafeString:
    """<a>name</a> over "detail · detail" (the empty ones left out)."""
    return format_html('<a href="{}" class="crm-person-name">{}</a><span class="crm-person-details">{}</span>',
                       url, name, " · ".join(part for part in details if part))


def person_name(user) -> str:
    """A colleague as the lists name them: full name, else username; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.username


def owner_cell(user) -> SafeString | str:
    """A record's owner in a list: their name, or a muted "Unassigned"."""
    return person_name(user) or format_html('<span class="crm-muted">{}</span>', "Unassigned")


def ago(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago, in the largest whole unit: "45 min", "3 h", "2 d", "5 w"."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    for size, unit in ((7 * 86400, "w"), (86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size and (unit != "w" or seconds >= 2 * size):
            return f"{seconds // size} {unit}"
    return "just now"


def when(moment: dt.datetime | None) -> SafeString | str:
    """A short age with the exact time on hover: "3 d" (title "2 Dec 2026 09:14")."""
    if moment is None:
        return ""
    return format_html('<span title="{}">{}</span>', timezone.localtime(moment).strftime("%-d %b %Y %H:%M"),
                       ago(moment))
