"""Which column feeds which lead field: the operator's `--map`, then the detected CRM's profile, then
the usual export headers; and which of a column's words mean which of our values (`--map-value`).

Headers compare case- and punctuation-insensitively ("E-mail Address", "email_address" and
"EMAIL ADDRESS" are one header). A column that matches nothing goes to `custom_fields` under its
header; a header "custom:plan" goes to custom_fields["plan"] (what the exporter writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .folding import fold
from .profiles import COMMON_VALUES, Profile
from .values import allowed_values

CUSTOM_PREFIX = "custom:"
IGNORE = "ignore"

# Every field a column may feed, with the headers other systems' exports use for it.
# fmt: off
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "contact name", "lead name", "contact", "person"),
    "first_name": ("first name", "firstname", "first", "given name", "forename", "fname"),
    "last_name": ("last name", "lastname", "last", "surname", "family name", "lname"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "work email", "business email",
              "primary email", "email 1", "emailaddress"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell", "cell phone",
              "work phone", "business phone", "phone 1", "primary phone", "direct phone"),
    "job_title": ("title", "job title", "position", "job", "role", "designation", "job role"),
    "company": ("company", "company name", "company / account", "account", "account name", "organization",
                "organisation", "organization name", "employer", "business name"),
    "industry": ("industry", "sector", "vertical"),
    "employee_count": ("employee count", "employees", "no. of employees", "number of employees", "num employees",
                       "company size", "headcount", "staff"),
    "annual_revenue": ("annual revenue", "revenue", "yearly revenue"),
    "website": ("website", "web site", "url", "company website", "web", "homepage", "site", "website url"),
    "country": ("country", "country code", "country/region", "country region"),
    "message": ("message", "notes", "note", "comments", "comment", "description", "remarks"),
    "source": ("source", "lead source", "original source"),
    "channel": ("channel", "form"),
    "campaign": ("campaign", "campaign name"),
    "source_url": ("source url", "landing page", "page url"),
    "referrer": ("referrer", "referer", "referring url"),
    "utm_source": ("utm source",),
    "utm_medium": ("utm medium",),
    "utm_campaign": ("utm campaign",),
    "utm_term": ("utm term",),
    "utm_content": ("utm content",),
    "external_id": ("external id", "lead id", "record id", "crm id"),
    "status": ("status", "lead status"),
    "lifecycle_stage": ("lifecycle stage", "lifecyclestage"),
    "priority": ("priority", "rating"),
    "disqualification_reason": ("disqualification reason", "disqualified reason", "lost reason", "reason"),
    "owner": ("owner", "lead owner", "owner email", "assigned to", "sales rep", "rep", "contact owner",
              "account owner", "owner name"),
    "created_at": ("created at", "created", "created date", "date created", "created on", "create date",
                   "created time", "creation date"),
    "converted_at": ("converted at", "converted date", "conversion date"),
    # Marketing consent (docs/privacy.md): a yes/no column, or an opt-out column read the other way round.
    "marketing_consent": ("consent", "marketing consent", "email opt in", "opt in", "opted in", "marketing opt in",
                          "email consent", "gdpr consent", "accepts marketing", "email marketing consent",
                          "marketing status", "subscribed"),
    "marketing_opt_out": ("email opt out", "opt out", "opted out", "has opted out of email", "marketing opt out",
                          "unsubscribed", "unsubscribed from all email", "opted out of all email", "do not email",
                          "email opted out", "do not allow bulk emails"),
    "consent_at": ("consent date", "consent at", "consent given at", "consent timestamp", "consent time",
                   "opt in date", "opt-in date", "consent updated"),
}
# fmt: on
FIELDS = tuple(SYNONYMS)


_BY_FOLDED = {fold(synonym): name for name, synonyms in SYNONYMS.items() for synonym in (name, *synonyms)}


VALUE_FIELDS = ("status", "lifecycle_stage", "source", "priority")  # fields whose words a mapping may translate
DATE_FIELDS = ("created_at", "converted_at", "consent_at")


class MappingError(ValueError):
    """A --map entry that cannot be applied; the message says how to write it."""


def parse_mapping(entries: list[str] | None) -> dict[str, str]:
    """["Column Name=field", ...] -> {folded column: field}. Raises MappingError."""
    mapping = {}
    for entry in entries or []:
        column, sep, target = entry.rpartition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column or not target:
            raise MappingError(f'Write --map as "Column Name=field" (got {entry!r}).')
        if target not in FIELDS and target != IGNORE and not (target.startswith(CUSTOM_PREFIX) and len(target) > 7):
            raise MappingError(
                f"--map {entry!r}: {target!r} is not a lead field. Use one of {', '.join(FIELDS)}, "
                f"'custom:<name>' for a custom field, or '{IGNORE}' to leave the column out."
            )
        mapping[fold(column)] = target
    return mapping


def parse_value_mapping(entries: list[str] | None) -> dict[str, dict[str, str]]:
    """["status:Working - Contacted=contacted", ...] -> {field: {folded word: value}}. Raises MappingError."""
    mapping: dict[str, dict[str, str]] = {}
    for entry in entries or []:
        left, sep, value = entry.rpartition("=")
        name, colon, word = left.partition(":")
        name, word, value = name.strip(), word.strip(), value.strip()
        if not sep or not colon or not word or name not in VALUE_FIELDS:
            raise MappingError(
                f'Write a value mapping as "field:Their word=our value", the field one of {", ".join(VALUE_FIELDS)} '
                f"(got {entry!r})."
            )
        allowed = allowed_values(name)
        if value not in allowed:
            raise MappingError(f"{entry!r}: {name} takes one of {', '.join(allowed)}.")
        mapping.setdefault(name, {})[fold(word)] = value
    return mapping


@dataclass
class ColumnPlan:
    """For each column of the file, the field it feeds (None: ignored), and how its words and dates read."""

    header: list[str]
    targets: list[str | None]
    unused_mapping: list[str] = field(default_factory=list)
    profile: Profile | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> folded word -> our value
    date_orders: dict[str, str] = field(default_factory=dict)  # header of a date column -> "mdy" / "dmy"
    notes: list[str] = field(default_factory=list)  # what the person importing should know before the run

    def columns_for(self, target: str) -> list[int]:
        return [i for i, t in enumerate(self.targets) if t == target]

    @property
    def matched(self) -> list[tuple[str, str]]:
        """(header, field) for every column, custom fields shown as custom:<header>."""
        return [(h, t or IGNORE) for h, t in zip(self.header, self.targets, strict=True)]

    @property
    def reaches_people(self) -> bool:
        return "email" in self.targets or "phone" in self.targets


def plan_columns(
    header: list[str],
    mapping: dict[str, str] | None = None,
    *,
    profile: Profile | None = None,
    values: dict[str, dict[str, str]] | None = None,
) -> ColumnPlan:
    """Each column's field: --map first, then the profile's columns, then the known headers; the first
    column wins a field. Words: the operator's value mapping, then the profile's, then every profile's."""
    mapping = mapping or {}
    by_profile = profile.folded_columns() if profile else {}
    targets: list[str | None] = []
    taken: set[str] = set()
    used: set[str] = set()
    for name in header:
        folded = fold(name)
        if folded in mapping:
            target: str | None = mapping[folded]
            used.add(folded)
        elif folded in by_profile:
            target = by_profile[folded]
        elif name.lower().startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX):
            target = CUSTOM_PREFIX + name[len(CUSTOM_PREFIX) :].strip()
        else:
            target = _BY_FOLDED.get(folded) or (CUSTOM_PREFIX + name if name else None)
        if target == IGNORE:
            target = None
        if target in taken and target is not None and not target.startswith(CUSTOM_PREFIX):
            target = CUSTOM_PREFIX + name  # a second "Email" column is kept, not merged
        if target is not None:
            taken.add(target)
        targets.append(target)
    unused = [column for column in mapping if column not in used]
    words: dict[str, dict[str, str]] = {}
    for layer in (COMMON_VALUES, profile.folded_values() if profile else {}, values or {}):
        for name, table in layer.items():
            words.setdefault(name, {}).update(table)
    return ColumnPlan(header=header, targets=targets, unused_mapping=unused, profile=profile, values=words)
