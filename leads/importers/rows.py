"""One CSV row to the values of one lead with its warnings, or the reasons it cannot be one.

The rules are capture's (leads/intake.py, crm.normalize; the capture serializer calls them too): text
trimmed, a single name split, email lowercased and validated, phone in E.164 read in
PHONE_DEFAULT_REGION, an email or a phone required. A row is rejected only when the person cannot
be reached (no valid email and no valid phone) or its email is invalid. Every other field is soft:
normalised when it can be (country names to ISO codes, "11-50" employees, "$1.2M" revenue, dates
in the column's settled order, status and source words through the plan's value maps, owners by
email, username or full name), and otherwise kept word for word in custom_fields with a warning
(an unknown owner: the lead is routed). Warnings and rejections are RowErrors: the column, the
value, and a plain sentence saying what happened and what to do, never a library's message.
A cell a spreadsheet-safe export escaped ("'=SUM...") is read back without the quote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from crm.normalize import split_name
from leads.privacy.consent import consent_answer, imported_consent

from ..choices import LeadSource, LeadStatus, Priority
from ..exporting import unescape_cell
from ..intake import CUSTOM_FIELD_NAME_MAX, CUSTOM_FIELDS_MAX_KEYS, CUSTOM_FIELDS_MAX_VALUE
from ..models import Lead
from . import dates, soft
from .headers import CUSTOM_PREFIX, ColumnPlan, fold
from .normalizing import normalize_email, normalize_phone_cached, url_ok

TEXT_FIELDS = (
    "first_name", "last_name", "job_title", "company", "industry", "campaign", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content", "external_id", "disqualification_reason",
)


def _max_length(name: str) -> int:
    field = Lead._meta.get_field(name)
    # CharFields (email and URL fields too), and the message's TextField, which states its limit too.
    assert isinstance(field, models.CharField | models.TextField) and field.max_length is not None
    return field.max_length


MAX_LENGTH = {
    name: _max_length(name) for name in (*TEXT_FIELDS, "email", "website", "source_url", "referrer", "message")
}
URL_FIELDS = ("website", "source_url", "referrer")
DISQUALIFIED_WITHOUT_REASON = "Disqualified before import (no reason given)"
# Our own words, folded; the plan's value maps (profiles, the operator's) come on top.
STATUS_WORDS = {
    **{fold(s.value): s.value for s in LeadStatus},
    **{fold(s.label): s.value for s in LeadStatus},
    **{fold(word): value for word, value in {
        "open": LeadStatus.NEW, "working": LeadStatus.CONTACTED, "in progress": LeadStatus.CONTACTED,
        "nurturing": LeadStatus.CONTACTED, "won": LeadStatus.CONVERTED, "closed won": LeadStatus.CONVERTED,
        "lost": LeadStatus.DISQUALIFIED, "closed lost": LeadStatus.DISQUALIFIED,
        "unqualified": LeadStatus.DISQUALIFIED, "junk": LeadStatus.DISQUALIFIED}.items()},
}
SOURCE_WORDS = {**{fold(s.value): s.value for s in LeadSource}, **{fold(s.label): s.value for s in LeadSource}}
PRIORITY_WORDS = {**{fold(p.value): p.value for p in Priority}, **{fold(p.label): p.value for p in Priority}}
BASE_WORDS = {"status": STATUS_WORDS, "source": SOURCE_WORDS, "priority": PRIORITY_WORDS, "lifecycle_stage": {}}
KEPT = "It is kept as it was in the lead's custom fields."


@dataclass(frozen=True)
class RowError:
    """A rejection or a warning: the file line, the column's header, the value, what happened."""

    line: int
    column: str
    value: str
    message: str


@dataclass
class Defaults:
    """What a row without its own value gets (the command's --source, --owner, --channel, --campaign)."""

    source: str = LeadSource.IMPORT
    owner_id: int | None = None
    channel_id: int | None = None
    campaign: str = ""


class LeadValues(dict):
    """A row's lead values; attribute reads (for the condition evaluator) fall back to None."""

    __slots__ = ("line", "key", "warnings")
    line: int
    key: tuple[str, str]
    warnings: list[RowError]

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


class RowParser:
    """Turns the cells of one row into LeadValues (with .warnings), or a list of RowError: why not."""

    def __init__(
        self,
        *,
        plan: ColumnPlan,
        defaults: Defaults,
        users: dict[str, int],
        channels: dict[str, int],
        region: str | None = None,
    ):
        self.plan = plan
        self.defaults = defaults
        self.users = users  # lowercased email, username or full name -> user id
        self.channels = channels  # lowercased name -> channel id
        self.region = region or settings.PHONE_DEFAULT_REGION
        self.columns = [(i, target, header) for i, (header, target) in enumerate(zip(plan.header, plan.targets,
                                                                                    strict=True)) if target]
        self.width = len(plan.header)
        self.zone = timezone.get_default_timezone()
        self.words = {name: {**BASE_WORDS[name], **plan.values.get(name, {})} for name in BASE_WORDS}

    def parse(self, line: int, cells: list[str]) -> LeadValues | list[RowError]:
        raw: dict[str, tuple[str, str]] = {}  # field -> (header, trimmed text)
        custom: dict[str, str] = {}
        for i, target, header in self.columns:
            if i >= len(cells):
                break
            text = cells[i]
            text = unescape_cell(text).strip()
            if not text:
                continue
            if target.startswith(CUSTOM_PREFIX):
                custom[target[len(CUSTOM_PREFIX) :]] = text
            else:
                raw[target] = (header, text)
        for position in range(self.width, len(cells)):  # cells beyond the header: kept, not dropped
            extra = cells[position].strip()
            if extra:
                custom[f"column {position + 1}"] = extra
        return self._values(line, raw, custom)

    def _values(self, line: int, raw: dict[str, tuple[str, str]], custom: dict[str, str]):
        errors: list[RowError] = []
        warnings: list[RowError] = []
        values = LeadValues()

        def reject(name: str, message: str) -> None:
            header, text = raw.get(name, (name, ""))
            errors.append(RowError(line, header, text[:200], message))

        def warn(name: str, message: str, *, keep: bool = True) -> None:
            """A soft problem: the row is imported; the raw text stays in custom_fields when `keep`."""
            header, text = raw[name]
            if keep:
                custom[header] = text
            warnings.append(RowError(line, header, text[:200], f"{message} {KEPT}" if keep else message))

        for name in TEXT_FIELDS:
            if name in raw:
                text = raw[name][1]
                if len(text) > MAX_LENGTH[name]:
                    values[name] = text[: MAX_LENGTH[name]]
                    warn(name, f"Longer than the {MAX_LENGTH[name]} characters the field holds; the start "
                               "is in the field.", keep=len(text) <= CUSTOM_FIELDS_MAX_VALUE)
                else:
                    values[name] = text
        if "name" in raw and not values.get("first_name") and not values.get("last_name"):
            first, last = split_name(raw["name"][1])
            values["first_name"] = first[: MAX_LENGTH["first_name"]]
            values["last_name"] = last[: MAX_LENGTH["last_name"]]
            if len(first) > MAX_LENGTH["first_name"] or len(last) > MAX_LENGTH["last_name"]:
                warn("name", "The name is longer than 100 characters for the first or last name; it was cut.")
        if "message" in raw:
            text = raw["message"][1]
            values["message"] = text[: MAX_LENGTH["message"]]
            if len(text) > MAX_LENGTH["message"]:
                warn("message", f"Longer than {MAX_LENGTH['message']} characters; the rest was cut.", keep=False)

        email = ""
        if "email" in raw:
            try:
                email = normalize_email(raw["email"][1])
            except ValidationError:
                reject("email", "Enter a valid email address.")
            else:
                if len(email) > MAX_LENGTH["email"]:
                    reject("email", f"The email address is longer than {MAX_LENGTH['email']} characters.")
                    email = ""
        phone = ""
        if "phone" in raw:
            try:
                phone = normalize_phone_cached(raw["phone"][1], self.region)
            except ValidationError:
                if email:
                    warn("phone", "Not a phone number we can dial (give the country code, e.g. +44 20 7946 0000).")
                elif not errors:
                    reject("phone", "Not a phone number we can dial, and the row has no email: the person cannot "
                                    "be reached. Give the country code (e.g. +44 20 7946 0000) or an email.")
        if not errors and not email and not phone:
            errors.append(RowError(line, "email", "", "Give an email or a phone number so the lead can be reached."))
        values["email"], values["phone"] = email, phone
        if errors:
            return errors  # the soft fields of a rejected row are not worth a warning

        if "country" in raw:
            code = soft.country_code(raw["country"][1])
            if code is None:
                warn("country", "Not a country we know by name or ISO code.")
            else:
                values["country"] = code
        for name in URL_FIELDS:
            if name in raw:
                url = raw[name][1]
                if name == "website" and "://" not in url:
                    url = "https://" + url  # as the admin assumes: exports often drop the scheme
                if len(url) > MAX_LENGTH[name] or not url_ok(url):
                    warn(name, "Not a web address we can use (e.g. https://www.example.com).")
                else:
                    values[name] = url
        if "employee_count" in raw:
            text = raw["employee_count"][1]
            count = soft.employees(text)
            if count is None:
                warn("employee_count", "Not a number of employees (e.g. 250, 11-50 or 1,000+).")
            else:
                values["employee_count"] = count[0]
                if count[1]:
                    custom[raw["employee_count"][0]] = text  # a range: its lower end, the range itself kept
        if "annual_revenue" in raw:
            text = raw["annual_revenue"][1]
            amount = soft.revenue(text)
            if amount is None:
                warn("annual_revenue", "Not an amount we can read (e.g. 1250000, 1,250,000.00 or $1.2M).")
            else:
                values["annual_revenue"] = amount[0]
                if amount[1]:
                    custom[raw["annual_revenue"][0]] = text

        self._lookups(raw, values, custom, warn)
        self._history(raw, values, custom, warn)
        self._consent(raw, values, custom, warn)
        self._custom(line, values, custom, warnings)
        values.line = line
        values.key = ("e", email) if email else ("p", phone)
        values.warnings = warnings
        return values

    def _word(self, name: str, text: str) -> str | None:
        return self.words[name].get(fold(text))

    def _lookups(self, raw, values, custom, warn) -> None:
        if "source" in raw:
            header, text = raw["source"]
            source = self._word("source", text)
            if source is None:
                # Other CRMs name their sources freely ("Trade show"): kept word for word, filed as "other".
                warn("source", "Not a source we know; the lead's source is \"other\".")
                source = LeadSource.OTHER
            elif source == LeadSource.OTHER and fold(text) not in SOURCE_WORDS:
                custom[header] = text  # "Trade Show" read as other: the word is kept, silently
            values["source"] = source
        else:
            values["source"] = self.defaults.source
        if "priority" in raw:
            priority = self._word("priority", raw["priority"][1])
            if priority is None:
                warn("priority", f"Not a priority or rating we know (use {', '.join(Priority.values)} or "
                                 "Hot, Warm, Cold).")
            else:
                values["priority"] = priority
        values["channel_id"] = self.defaults.channel_id
        if "channel" in raw:
            channel = self.channels.get(raw["channel"][1].lower())
            if channel is None:
                warn("channel", "No channel with this name in the workspace; add it, or the lead has the "
                                "default channel.")
            else:
                values["channel_id"] = channel
        values["owner_id"] = self.defaults.owner_id
        if "owner" in raw:
            text = raw["owner"][1]
            owner = self.users.get(text.lower()) or self.users.get(" ".join(text.lower().split()))
            if owner is None:
                warn("owner", "No active user in the workspace has this email, username or full name; the "
                              "lead was routed by the assignment rules instead.")
            else:
                values["owner_id"] = owner
        if "campaign" not in values and self.defaults.campaign:
            values["campaign"] = self.defaults.campaign

    def _history(self, raw, values, custom, warn) -> None:
        status: str | None = None
        if "status" in raw:
            status = self._word("status", raw["status"][1])
            if status is None:
                warn("status", f"Not a lead status we know; the lead starts as new (map the word to one of "
                               f"{', '.join(LeadStatus.values)} to keep it).")
            elif fold(raw["status"][1]) not in STATUS_WORDS:
                custom[raw["status"][0]] = raw["status"][1]  # the CRM's own word, for whoever reads the lead
        if "lifecycle_stage" in raw:
            custom[raw["lifecycle_stage"][0]] = raw["lifecycle_stage"][1]
            if status is None:
                status = self._word("lifecycle_stage", raw["lifecycle_stage"][1])
        status = status or LeadStatus.NEW
        values["status"] = status
        if status == LeadStatus.DISQUALIFIED and not values.get("disqualification_reason"):
            values["disqualification_reason"] = DISQUALIFIED_WITHOUT_REASON
        for name in ("created_at", "converted_at"):
            if name in raw:
                header, text = raw[name]
                moment = dates.parse(text, self.plan.date_orders.get(header, "mdy"))
                if moment is None:
                    warn(name, "Not a date we can read (e.g. 2025-11-23 or 11/23/2025); the import time is "
                               "used instead." if name == "created_at" else "Not a date we can read.")
                    continue
                if timezone.is_naive(moment):
                    moment = timezone.make_aware(moment, self.zone)
                values[name] = moment

    def _consent(self, raw, values, custom, warn) -> None:
        """A consent column (or an opt-out one, read the other way round) gives the lead's marketing consent,
        source "import", when: the row's consent date or the import's time (leads/privacy/consent.py)."""
        answers = []
        for name, opt_out in (("marketing_consent", False), ("marketing_opt_out", True)):
            if name in raw:
                answer = consent_answer(raw[name][1], opt_out=opt_out)
                if answer is None:
                    warn(name, "Not a consent answer we know (yes or no, true or false, opted in or out); the "
                               "lead's marketing consent stays unknown, so it gets no marketing email.")
                else:
                    answers.append(answer)
        if not answers:
            if "consent_at" in raw:  # a date of no consent we know: kept for whoever reads the lead
                custom[raw["consent_at"][0]] = raw["consent_at"][1]
            return
        when = None
        if "consent_at" in raw:
            header, text = raw["consent_at"]
            when = dates.parse(text, self.plan.date_orders.get(header, "mdy"))
            if when is None:
                warn("consent_at", "Not a date we can read; the consent is dated at the import.")
            elif timezone.is_naive(when):
                when = timezone.make_aware(when, self.zone)
        values.update(imported_consent(answers=answers, when=when))

    def _custom(self, line: int, values: LeadValues, custom: dict[str, str], warnings: list[RowError]) -> None:
        if not custom:
            return
        kept: dict[str, str] = {}
        for key, text in custom.items():
            name = key[:CUSTOM_FIELD_NAME_MAX]
            if len(kept) >= CUSTOM_FIELDS_MAX_KEYS:
                warnings.append(RowError(line, key, text[:200], f"A lead holds at most {CUSTOM_FIELDS_MAX_KEYS} "
                                         "custom fields; this column was left out (map it or ignore it)."))
                continue
            if len(text) > CUSTOM_FIELDS_MAX_VALUE:
                warnings.append(RowError(line, key, text[:200], f"Longer than the {CUSTOM_FIELDS_MAX_VALUE} "
                                         "characters a custom field holds; the rest was cut."))
                text = text[:CUSTOM_FIELDS_MAX_VALUE]
            kept[name] = text
        values["custom_fields"] = kept
