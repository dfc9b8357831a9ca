"""Who is asked about a lead: providers behind one interface, chosen by the setting ENRICHMENT_PROVIDER.

A provider takes a `Query` (what the lead says about the person) and answers `Found`: a flat dict
of what it knows, keyed by the lead's field names where one fits (`company`, `industry`,
`employee_count`, `annual_revenue`, `website`, `country`, `first_name`, `last_name`, `job_title`)
and by descriptive names for the rest (`company_domain`, `phone_type`, `linkedin`...). It never
writes: the service (service.py) decides what reaches the lead. A failed lookup raises
ProviderError, `retryable` when asking again later may help (timeouts, 5xx, 429).

- `offline` (the default): no network. The company's domain from the email (free mailboxes say
  nothing, crm.normalize.FREE_EMAIL_DOMAINS), else from the lead's website; the company's name and
  details from the workspace's own companies with that domain, else from a contact of theirs with
  an email at that domain; the website from the domain; the country and number type (mobile, fixed
  line...) from the phone number.
- `http`: a Clearbit- or People Data Labs-style JSON service at ENRICHMENT_HTTP_URL, asked with
  GET ?email=&phone=&... and the key ENRICHMENT_HTTP_KEY as a bearer token. Clearbit's combined
  answer ({"person": ..., "company": ...}), People Data Labs' ({"data": {...}}) and a flat object
  of our field names are all read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import phonenumbers
import requests
from django.conf import settings
from django.utils.module_loading import import_string

from contacts.models import Company, Contact
from crm.normalize import company_domain_from_email, domain_from_url


@dataclass(frozen=True)
class Query:
    """What a lead says about the person, as a provider is asked."""

    tenant_id: int
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    website: str = ""

    @classmethod
    def of(cls, lead: Any) -> Query:
        return cls(
            tenant_id=lead.tenant_id, email=lead.email, phone=lead.phone, first_name=lead.first_name,
            last_name=lead.last_name, company=lead.company, website=lead.website,
        )


@dataclass(frozen=True)
class Found:
    """What a provider knows; empty when it knows nobody by these details (not an error)."""

    fields: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """A lookup that failed; the message is shown on the lead's page (never holds the key)."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class Provider(Protocol):
    name: str
    # Calls allowed when ENRICHMENT_RATE_LIMITS does not name this provider: "n/s", "n/m", "n/h"; "" for no limit.
    default_rate: str

    def lookup(self, query: Query) -> Found: ...


PROVIDERS = {
    "offline": "leads.enrichment.providers.OfflineProvider",
    "http": "leads.enrichment.providers.HttpProvider",
}


def get_provider(name: str | None = None) -> Provider:
    """The provider ENRICHMENT_PROVIDER names: a short name (offline, http) or a class's dotted path."""
    name = (name or settings.ENRICHMENT_PROVIDER or "offline").strip()
    return import_string(PROVIDERS.get(name, name))()


# --- offline -----------------------------------------------------------------------------------


class OfflineProvider:
    name = "offline"
    default_rate = ""  # reads the workspace's own rows: nobody to overload

    def lookup(self, query: Query) -> Found:
        fields: dict[str, Any] = {}
        domain = company_domain_from_email(query.email) if "@" in query.email else ""
        domain = domain or domain_from_url(query.website)
        if domain:
            fields["company_domain"] = domain
            company = self.company_for(tenant_id=query.tenant_id, domain=domain)
            if company is not None:
                fields.update(self.company_fields(company))
            fields.setdefault("website", f"https://{domain}")
        fields.update(self.phone_fields(query.phone))
        return Found(fields=fields)

    @staticmethod
    def company_for(*, tenant_id: int, domain: str) -> Company | None:
        """The workspace's company with this domain, else the company of a contact with an email at it."""
        company = Company.objects.filter(tenant_id=tenant_id, domain=domain).first()
        if company is not None:
            return company
        contact = (
            Contact.objects.filter(tenant_id=tenant_id, email__endswith=f"@{domain}", company__isnull=False)
            .select_related("company").order_by("-updated_at", "-id").first()
        )
        return contact.company if contact is not None else None

    @staticmethod
    def company_fields(company: Company) -> dict[str, Any]:
        values = {
            "company": company.name, "industry": company.industry, "employee_count": company.employee_count,
            "annual_revenue": company.annual_revenue, "website": company.website,
            "company_country": company.country, "company_id": str(company.public_id),
        }
        return {name: value for name, value in values.items() if value not in (None, "")}

    @staticmethod
    def phone_fields(phone: str) -> dict[str, Any]:
        if not phone:
            return {}
        try:
            number = phonenumbers.parse(phone, settings.PHONE_DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            return {}
        fields: dict[str, Any] = {}
        region = phonenumbers.region_code_for_number(number)
        if region and region != "001":  # 001: non-geographic numbers
            fields["country"] = region
            fields["phone_country"] = region
        kind = phonenumbers.number_type(number)
        if kind != phonenumbers.PhoneNumberType.UNKNOWN:
            # PhoneNumberType's constants by value: 1 -> "mobile", 0 -> "fixed_line"...
            names = {value: key.lower() for key, value in vars(phonenumbers.PhoneNumberType).items()
                     if key.isupper() and isinstance(value, int)}
            fields["phone_type"] = names.get(kind, str(kind))
        return fields


# --- http --------------------------------------------------------------------------------------


class HttpProvider:
    name = "http"
    default_rate = "60/m"

    def __init__(self, *, url: str | None = None, key: str | None = None, timeout: float | None = None):
        self.url = settings.ENRICHMENT_HTTP_URL if url is None else url
        self.key = settings.ENRICHMENT_HTTP_KEY if key is None else key
        self.timeout = settings.ENRICHMENT_TIMEOUT_SECONDS if timeout is None else timeout

    def lookup(self, query: Query) -> Found:
        if not self.url:
            raise ProviderError("ENRICHMENT_HTTP_URL is not set: the HTTP provider has nobody to ask.", retryable=False)
        params = {
            "email": query.email, "phone": query.phone, "first_name": query.first_name,
            "last_name": query.last_name, "company": query.company, "domain": domain_from_url(query.website),
        }
        headers = {"accept": "application/json", "user-agent": "lead-crm-enrichment/1"}
        if self.key:
            headers["authorization"] = f"Bearer {self.key}"
        try:
            response = requests.get(
                self.url, params={k: v for k, v in params.items() if v}, headers=headers, timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise ProviderError(f"The provider did not answer within {self.timeout:g} s.", retryable=True) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"Could not reach the provider: {type(exc).__name__}.", retryable=True) from exc
        code = response.status_code
        if code == 404:
            return Found()  # nobody known by these details
        if code == 202:
            raise ProviderError("The provider is still looking (HTTP 202); asking again later.", retryable=True)
        if code == 429 or code >= 500:
            raise ProviderError(f"The provider answered HTTP {code}: {_excerpt(response.text)}", retryable=True)
        if not 200 <= code < 300:
            raise ProviderError(f"The provider refused the lookup (HTTP {code}): {_excerpt(response.text)}",
                                retryable=False)
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(
                f"The provider's answer is not JSON: {_excerpt(response.text)}", retryable=False
            ) from exc
        if not isinstance(body, dict):
            raise ProviderError("The provider's answer is not a JSON object.", retryable=False)
        return Found(fields=read_answer(body))


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return (text[:limit] + "...") if len(text) > limit else (text or "(empty)")


def read_answer(body: dict) -> dict[str, Any]:
    """Our field names from a Clearbit combined answer, a People Data Labs answer, or a flat object."""
    if isinstance(body.get("data"), dict):
        return _people_data_labs(body["data"])
    if isinstance(body.get("person"), dict) or isinstance(body.get("company"), dict):
        return _clearbit(body.get("person") or {}, body.get("company") or {})
    return {name: value for name, value in body.items() if isinstance(value, (str, int, float)) and value != ""}


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _clearbit(person: dict, company: dict) -> dict[str, Any]:
    domain = company.get("domain") or _get(person, "employment", "domain")
    values = {
        "first_name": _get(person, "name", "givenName"),
        "last_name": _get(person, "name", "familyName"),
        "job_title": _get(person, "employment", "title"),
        "country": _get(person, "geo", "countryCode"),
        "company": company.get("name") or _get(person, "employment", "name"),
        "company_domain": domain,
        "website": f"https://{domain}" if domain else None,
        "industry": _get(company, "category", "industry"),
        "employee_count": _get(company, "metrics", "employees"),
        "annual_revenue": _get(company, "metrics", "annualRevenue"),
        "company_country": _get(company, "geo", "countryCode"),
        "linkedin": _get(person, "linkedin", "handle"),
    }
    return {name: value for name, value in values.items() if value not in (None, "")}


def _people_data_labs(data: dict) -> dict[str, Any]:
    country = data.get("location_country_code") or data.get("job_company_location_country_code")
    values = {
        "first_name": data.get("first_name"),
        "last_name": data.get("last_name"),
        "job_title": data.get("job_title"),
        "country": country,
        "company": data.get("job_company_name"),
        "website": data.get("job_company_website"),
        "industry": data.get("job_company_industry"),
        "employee_count": data.get("job_company_employee_count"),
        "company_size": data.get("job_company_size"),
        "linkedin": data.get("linkedin_url"),
    }
    return {name: value for name, value in values.items() if value not in (None, "")}
