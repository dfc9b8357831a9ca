"""The providers: the offline rules, and the HTTP provider against a fake service on 127.0.0.1."""

from decimal import Decimal

import pytest

from leads.enrichment.providers import (
    HttpProvider,
    OfflineProvider,
    ProviderError,
    Query,
    get_provider,
    read_answer,
)
from tests.factories import CompanyFactory, ContactFactory

from .fake_provider import FakeProvider

pytestmark = pytest.mark.django_db


def ask_offline(tenant, **details):
    return OfflineProvider().lookup(Query(tenant_id=tenant.pk, **details)).fields


# --- offline -----------------------------------------------------------------------------------


def test_a_work_email_gives_the_company_domain_and_its_website(tenant):
    found = ask_offline(tenant, email="ada@initech.io")
    assert found["company_domain"] == "initech.io"
    assert found["website"] == "https://initech.io"


def test_a_free_mailbox_says_nothing_about_the_company(tenant):
    CompanyFactory(tenant=tenant, name="Google", domain="gmail.com")
    found = ask_offline(tenant, email="ada@gmail.com")
    assert "company_domain" not in found
    assert "company" not in found and "website" not in found


def test_the_workspace_company_with_that_domain_gives_its_name_and_details(tenant):
    CompanyFactory(tenant=tenant, name="Initech", domain="initech.io", industry="Software", employee_count=250,
                   annual_revenue=Decimal("1200000.00"), website="https://www.initech.io", country="US")
    found = ask_offline(tenant, email="ada@initech.io")
    assert found["company"] == "Initech"
    assert found["industry"] == "Software"
    assert found["employee_count"] == 250
    assert found["annual_revenue"] == Decimal("1200000.00")
    assert found["website"] == "https://www.initech.io"  # the company's own, not one made from the domain
    assert found["company_country"] == "US"


def test_another_workspace_company_is_not_used(tenant, other_tenant):
    CompanyFactory(tenant=other_tenant, name="Initech", domain="initech.io", industry="Software")
    found = ask_offline(tenant, email="ada@initech.io")
    assert "company" not in found and "industry" not in found


def test_a_contact_at_that_domain_leads_to_their_company(tenant):
    company = CompanyFactory(tenant=tenant, name="Umbrella", domain="", industry="Pharma")
    ContactFactory(tenant=tenant, email="bob@umbrella.example", company=company)
    found = ask_offline(tenant, email="carol@umbrella.example")
    assert found["company"] == "Umbrella"
    assert found["industry"] == "Pharma"


def test_the_phone_number_gives_the_country_and_the_kind_of_number(tenant):
    found = ask_offline(tenant, phone="+4915123456789")
    assert found["country"] == "DE"
    assert found["phone_country"] == "DE"
    assert found["phone_type"] == "mobile"
    assert ask_offline(tenant, phone="+442071838750")["country"] == "GB"


def test_nothing_to_go_on_finds_nothing(tenant):
    assert ask_offline(tenant, email="", phone="") == {}


def test_the_setting_chooses_the_provider_by_short_name_or_dotted_path(settings):
    settings.ENRICHMENT_PROVIDER = "offline"
    assert isinstance(get_provider(), OfflineProvider)
    settings.ENRICHMENT_PROVIDER = "http"
    assert isinstance(get_provider(), HttpProvider)
    settings.ENRICHMENT_PROVIDER = "leads.enrichment.providers.OfflineProvider"
    assert isinstance(get_provider(), OfflineProvider)


# --- http --------------------------------------------------------------------------------------

CLEARBIT = {
    "person": {
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "employment": {"title": "CTO", "name": "Initech", "domain": "initech.io"},
        "geo": {"countryCode": "GB"},
        "linkedin": {"handle": "in/ada"},
    },
    "company": {
        "name": "Initech", "domain": "initech.io", "category": {"industry": "Software"},
        "metrics": {"employees": 250, "annualRevenue": 5000000},
    },
}


@pytest.fixture
def fake():
    server = FakeProvider().start()
    yield server
    server.stop()


def test_http_reads_a_clearbit_answer_and_sends_the_key(tenant, fake):
    fake.answers = [(200, CLEARBIT)]
    found = HttpProvider(url=fake.url, key="sk_test", timeout=2).lookup(
        Query(tenant_id=tenant.pk, email="ada@initech.io", phone="+442071838750")
    ).fields
    assert found["first_name"] == "Ada" and found["last_name"] == "Lovelace"
    assert found["job_title"] == "CTO"
    assert found["company"] == "Initech" and found["industry"] == "Software"
    assert found["employee_count"] == 250 and found["annual_revenue"] == 5000000
    assert found["website"] == "https://initech.io"
    assert found["country"] == "GB"
    assert fake.asked[0].query == {"email": "ada@initech.io", "phone": "+442071838750"}
    assert fake.asked[0].headers["authorization"] == "Bearer sk_test"


def test_http_reads_a_people_data_labs_answer():
    found = read_answer({"status": 200, "data": {
        "first_name": "ada", "job_title": "cto", "job_company_name": "initech", "job_company_website": "initech.io",
        "job_company_industry": "computer software", "job_company_size": "201-500", "linkedin_url": "linkedin.com/in/ada",
    }})
    assert found == {
        "first_name": "ada", "job_title": "cto", "company": "initech", "website": "initech.io",
        "industry": "computer software", "company_size": "201-500", "linkedin": "linkedin.com/in/ada",
    }


def test_http_not_found_is_no_match_rather_than_an_error(tenant, fake):
    fake.answers = [(404, {"error": {"type": "unknown_record"}})]
    assert HttpProvider(url=fake.url, key="k").lookup(Query(tenant_id=tenant.pk, email="x@y.io")).fields == {}


def test_http_5xx_and_429_are_worth_asking_again(tenant, fake):
    fake.answers = [(503, "down for maintenance"), (429, {"error": "slow down"})]
    provider = HttpProvider(url=fake.url, key="k")
    for expected in ("HTTP 503: down for maintenance", "HTTP 429"):
        with pytest.raises(ProviderError, match=expected) as caught:
            provider.lookup(Query(tenant_id=tenant.pk, email="x@y.io"))
        assert caught.value.retryable


def test_http_a_refused_key_is_not_retried(tenant, fake):
    fake.answers = [(401, {"error": "invalid api key"})]
    with pytest.raises(ProviderError, match="refused the lookup \\(HTTP 401\\)") as caught:
        HttpProvider(url=fake.url, key="wrong").lookup(Query(tenant_id=tenant.pk, email="x@y.io"))
    assert not caught.value.retryable
    assert "wrong" not in str(caught.value)  # the key is never in a message shown on a lead


def test_http_a_timeout_is_a_retryable_error(tenant, fake):
    fake.answers = ["hang"]
    with pytest.raises(ProviderError, match="did not answer within 0.3 s") as caught:
        HttpProvider(url=fake.url, key="k", timeout=0.3).lookup(Query(tenant_id=tenant.pk, email="x@y.io"))
    assert caught.value.retryable


def test_http_bad_json_is_an_error_not_retried(tenant, fake):
    fake.answers = [(200, "<html>oops</html>")]
    with pytest.raises(ProviderError, match="not JSON: <html>oops</html>") as caught:
        HttpProvider(url=fake.url, key="k").lookup(Query(tenant_id=tenant.pk, email="x@y.io"))
    assert not caught.value.retryable


def test_http_without_a_url_says_which_setting_is_missing(tenant):
    with pytest.raises(ProviderError, match="ENRICHMENT_HTTP_URL"):
        HttpProvider(url="", key="k").lookup(Query(tenant_id=tenant.pk, email="x@y.io"))
