"""Which company a person's details point to: one matcher for conversion and for every preview of it.

A company is the same organisation when it has the domain of the person's website (else of their
work email; free mailboxes say nothing), or, failing that, the same name ignoring case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from crm.normalize import company_domain_from_email, domain_from_url

from .models import Company


class CompanyKey(NamedTuple):
    domain: str
    name: str

    def __bool__(self) -> bool:
        return bool(self.domain or self.name)


def company_key(*, website: str, email: str, name: str) -> CompanyKey:
    """The domain and name a lead's (or any person's) details give for their company."""
    return CompanyKey(domain_from_url(website) or company_domain_from_email(email), name.strip())


def find_companies(*, tenant_id: int, keys: Iterable[CompanyKey]) -> dict[CompanyKey, Company]:
    """The existing company of each key that has one: same domain, else same name (two queries at most)."""
    keys = {key for key in keys if key}
    companies = Company.objects.filter(tenant_id=tenant_id)
    domains = {key.domain for key in keys if key.domain}
    by_domain = {c.domain: c for c in companies.filter(domain__in=domains)} if domains else {}
    found = {key: by_domain[key.domain] for key in keys if key.domain in by_domain}
    names = {key.name.lower() for key in keys if key.name and key not in found}
    if names:
        by_name = {c.name.lower(): c for c in companies.named(*names)}
        found.update({key: by_name[key.name.lower()] for key in keys if key not in found and key.name.lower() in by_name})
    return found
