"""One CSV row to the values of one lead, or the reasons it cannot be one (column and message each).

The rules are capture's (leads/intake.py, crm.normalize; the capture serializer calls them too): text
trimmed, a single name split, email lowercased and validated, phone in E.164 read in
PHONE_DEFAULT_REGION, country an uppercased ISO code, an email or a phone required; numbers and
lengths must fit the lead's columns. On top, what history needs: status (a disqualified row
without a reason gets one saying so), created_at / converted_at, and the owner by email or
username. A cell a spreadsheet-safe export escaped ("'=SUM...") is read back without the quote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from crm.normalize import split_name

from ..choices import LeadSource, LeadStatus, Priority
from ..exporting import unescape_cell
from ..intake import IntakeError, check_reachable, country_code, custom_field_errors
from ..models import Lead
from .headers import CUSTOM_PREFIX, ColumnPlan
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
MAX_EMPLOYEES = 2_147_483_647  # PositiveIntegerField
MAX_REVENUE = Decimal("1e14")  # 16 digits, 2 after the point
DISQUALIFIED_WITHOUT_REASON = "Disqualified before import (no reason given)"
STATUS_WORDS = {
    **{s.value: s.value for s in LeadStatus},
    **{s.label.lower(): s.value for s in LeadStatus},
    "open": LeadStatus.NEW, "working": LeadStatus.CONTACTED, "in progress": LeadStatus.CONTACTED,
    "nurturing": LeadStatus.CONTACTED, "won": LeadStatus.CONVERTED, "closed won": LeadStatus.CONVERTED,
    "lost": LeadStatus.DISQUALIFIED, "closed lost": LeadStatus.DISQUALIFIED, "unqualified": LeadStatus.DISQUALIFIED,
    "junk": LeadStatus.DISQUALIFIED,
}
SOURCE_WORDS = {**{s.value: s.value for s in LeadSource}, **{s.label.lower(): s.value for s in LeadSource}}
PRIORITY_WORDS = {**{p.value: p.value for p in Priority}, **{p.label.lower(): p.value for p in Priority}}


@dataclass(frozen=True)
class RowError:
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

    __slots__ = ("line", "key")
    line: int
    key: tuple[str, str]

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


class RowParser:
    """Turns the cells of one row into LeadValues, or a list of RowError naming column and reason."""

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
        self.users = users  # lowercased email or username -> user id
        self.channels = channels  # lowercased name -> channel id
        self.region = region or settings.PHONE_DEFAULT_REGION
        self.columns = [(i, target, header) for i, (header, target) in enumerate(zip(plan.header, plan.targets,
                                                                                    strict=True)) if target]
        self.width = len(plan.header)
        self.zone = timezone.get_default_timezone()

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
        values = LeadValues()

        def reject(name: str, message: str) -> None:
            header, text = raw.get(name, (name, ""))
            errors.append(RowError(line, header, text[:200], message))

        for name in TEXT_FIELDS:
            if name in raw:
                text = raw[name][1]
                if len(text) > MAX_LENGTH[name]:
                    reject(name, f"At most {MAX_LENGTH[name]} characters (this one has {len(text)}).")
                else:
                    values[name] = text
        if "name" in raw and not values.get("first_name") and not values.get("last_name"):
            first, last = split_name(raw["name"][1])
            if len(first) > MAX_LENGTH["first_name"] or len(last) > MAX_LENGTH["last_name"]:
                reject("name", "The name is too long (first and last name at most 100 characters each).")
            else:
                values["first_name"], values["last_name"] = first, last
        if "message" in raw:
            text = raw["message"][1]
            if len(text) > MAX_LENGTH["message"]:
                reject("message", f"At most {MAX_LENGTH['message']} characters (this one has {len(text)}).")
            else:
                values["message"] = text

        email = ""
        if "email" in raw:
            try:
                email = normalize_email(raw["email"][1])
            except ValidationError:
                reject("email", "Enter a valid email address.")
            else:
                if len(email) > MAX_LENGTH["email"]:
                    reject("email", f"At most {MAX_LENGTH['email']} characters.")
                    email = ""
        phone = ""
        if "phone" in raw:
            try:
                phone = normalize_phone_cached(raw["phone"][1], self.region)
            except ValidationError as exc:
                reject("phone", exc.messages[0])
        if not errors:
            try:
                check_reachable(email=email, phone=phone)
            except IntakeError as exc:
                errors.append(RowError(line, "email", "", str(exc)))
        values["email"], values["phone"] = email, phone

        if "country" in raw:
            try:
                values["country"] = country_code(raw["country"][1])
            except IntakeError as exc:
                reject("country", str(exc))
        for name in URL_FIELDS:
            if name in raw:
                url = raw[name][1]
                if name == "website" and "://" not in url:
                    url = "https://" + url  # as the admin assumes: exports often drop the scheme
                if len(url) > MAX_LENGTH[name]:
                    reject(name, f"At most {MAX_LENGTH[name]} characters.")
                elif not url_ok(url):
                    reject(name, "Enter a valid URL, e.g. https://www.example.com.")
                else:
                    values[name] = url
        if "employee_count" in raw:
            text = raw["employee_count"][1].replace(",", "").replace(" ", "").removesuffix(".0")
            if not text.isdigit() or int(text) > MAX_EMPLOYEES:
                reject("employee_count", "Enter a whole number of employees, e.g. 250.")
            else:
                values["employee_count"] = int(text)
        if "annual_revenue" in raw:
            revenue = _amount(raw["annual_revenue"][1])
            if revenue is None:
                reject("annual_revenue", "Enter an amount with at most 2 decimals, e.g. 1250000 or 1,250,000.00.")
            else:
                values["annual_revenue"] = revenue

        self._lookups(raw, values, custom, reject)
        self._history(raw, values, reject)

        if custom:
            for error in custom_field_errors(custom):
                key = error.key
                errors.append(RowError(line, key[:100], custom[key][:200] if key else "", str(error)))
            values["custom_fields"] = custom
        if errors:
            return errors
        values.line = line
        values.key = ("e", email) if email else ("p", phone)
        return values

    def _lookups(self, raw, values, custom, reject) -> None:
        if "source" in raw:
            source = SOURCE_WORDS.get(raw["source"][1].lower())
            if source is None:
                # Other CRMs name their sources freely ("Trade show"): kept word for word, filed as "other".
                custom[raw["source"][0]] = raw["source"][1]
                source = LeadSource.OTHER
            values["source"] = source
        else:
            values["source"] = self.defaults.source
        if "priority" in raw:
            priority = PRIORITY_WORDS.get(raw["priority"][1].lower())
            if priority is None:
                reject("priority", f"Use one of {', '.join(Priority.values)}.")
            else:
                values["priority"] = priority
        if "channel" in raw:
            channel = self.channels.get(raw["channel"][1].lower())
            if channel is None:
                reject("channel", "No channel with this name in the workspace.")
            values["channel_id"] = channel
        else:
            values["channel_id"] = self.defaults.channel_id
        if "owner" in raw:
            owner = self.users.get(raw["owner"][1].lower())
            if owner is None:
                reject("owner", "No active user with this email or username in the workspace: add them first, "
                                "or leave the owner empty to route the lead.")
            values["owner_id"] = owner
        else:
            values["owner_id"] = self.defaults.owner_id
        if "campaign" not in values and self.defaults.campaign:
            values["campaign"] = self.defaults.campaign

    def _history(self, raw, values, reject) -> None:
        status: str = LeadStatus.NEW
        if "status" in raw:
            found = STATUS_WORDS.get(raw["status"][1].lower())
            if found is None:
                reject("status", f"Use one of {', '.join(LeadStatus.values)}.")
            else:
                status = found
        values["status"] = status
        if status == LeadStatus.DISQUALIFIED and not values.get("disqualification_reason"):
            values["disqualification_reason"] = DISQUALIFIED_WITHOUT_REASON
        for name in ("created_at", "converted_at"):
            if name in raw:
                moment = self._moment(raw[name][1])
                if moment is None:
                    reject(name, "Enter a date or date and time as YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS][+00:00].")
                else:
                    values[name] = moment

    def _moment(self, text: str) -> dt.datetime | None:
        try:
            moment = dt.datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, self.zone)
        return moment


def _amount(text: str) -> Decimal | None:
    cleaned = text.replace(",", "").replace(" ", "").lstrip("$€£")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_REVENUE or cast(int, amount.as_tuple().exponent) < -2:
        return None
    return amount
