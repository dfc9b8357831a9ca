"""Google Ads lead form webhooks: the body's lead, its answers and where it came from."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field


class BodyInvalid(ValueError):
    """The body is not a lead form webhook; `field` names what is missing or wrong."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class GoogleLead:
    lead_id: str
    google_key: str
    form_id: str = ""
    campaign_id: str = ""
    adgroup_id: str = ""
    creative_id: str = ""
    gcl_id: str = ""
    is_test: bool = False
    answers: list[tuple[str, str]] = field(default_factory=list)


def parse(body: object) -> GoogleLead:
    if not isinstance(body, dict):
        raise BodyInvalid("non_field_errors", "Send the lead form's JSON object.")
    lead_id = _text(body.get("lead_id"))
    if not lead_id:
        raise BodyInvalid("lead_id", "This field is required.")
    columns = body.get("user_column_data") or []
    if not isinstance(columns, list):
        raise BodyInvalid("user_column_data", "Expected a list of columns.")
    answers = []
    for column in columns:
        if not isinstance(column, dict):
            continue
        # Standard questions by their column id; a form's own questions by their name.
        name = _text(column.get("column_id")) or _text(column.get("column_name"))
        if column.get("column_id") and _text(column.get("column_id")).upper() not in STANDARD_COLUMNS:
            name = _text(column.get("column_name")) or name
        if name:
            answers.append((name, str(column.get("string_value") or "")))
    return GoogleLead(
        lead_id=lead_id, google_key=str(body.get("google_key") or ""), form_id=_text(body.get("form_id")),
        campaign_id=_text(body.get("campaign_id")), adgroup_id=_text(body.get("adgroup_id")),
        creative_id=_text(body.get("creative_id")), gcl_id=_text(body.get("gcl_id")),
        is_test=body.get("is_test") is True, answers=answers,
    )


STANDARD_COLUMNS = frozenset({
    "FULL_NAME", "FIRST_NAME", "LAST_NAME", "EMAIL", "WORK_EMAIL", "PHONE_NUMBER", "WORK_PHONE", "COMPANY_NAME",
    "JOB_TITLE", "POSTAL_CODE", "ZIP_CODE", "COUNTRY", "CITY", "STATE", "PROVINCE", "STREET_ADDRESS",
})


def key_matches(*, sent: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def _text(value: object) -> str:
    return str(value).strip()[:200] if value not in (None, "") else ""
